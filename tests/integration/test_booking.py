from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.core.errors import StaleEdit
from backoffice.core.extensions import db
from backoffice.practice import services as practice
from backoffice.practice.services import ScheduleData
from backoffice.scheduling import services
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.availability_rules import PartOfDay
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import CancelReason, Status

from .scheduling_helpers import (
    LIMITS,
    MONDAY,
    NOW,
    PHYSICIAN,
    SCHEDULER,
    book,
    office,
    patients,
    physician,
    procedure,
)

pytestmark = pytest.mark.usefixtures("demo", "app_context")


def test_a_booking_holds_its_room_physician_and_patient_and_is_audited():
    appointment = book()
    assert (appointment.status, appointment.region, appointment.side) == ("scheduled", "lumbar", "right")
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert appointment.blocked_until - appointment.ends_at == timedelta(minutes=15)
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "appointment")).one()
    assert (created.action, created.username, created.patient_id) == ("create", "scheduler", appointment.patient_id)


def test_overlapping_the_same_room_is_refused_with_what_is_in_the_way_and_alternatives():
    book()
    with pytest.raises(services.BookingConflict) as conflict:
        book(patient=patients()[1], at=time(9, 15))
    messages = [p.message for p in conflict.value.problems]
    assert messages[0] == ("Procedure Room 1, Annapolis, is taken 09:00-09:30 by a medial branch block "
                           "with Dr. Reyes, then turned over until 09:45.")
    assert conflict.value.alternatives
    first = conflict.value.alternatives[0]
    assert first.physician.name == "Dr. Reyes" and first.start > conflict.value.problems[0].booked.start


def test_back_to_back_is_allowed_and_turnover_is_respected():
    book()
    with pytest.raises(services.BookingConflict):
        book(patient=patients()[1], at=time(9, 30))          # inside the 15 minutes' turnover
    assert book(patient=patients()[1], at=time(9, 45)).starts_at
    assert book(patient=patients()[2], room_name="Procedure Room 2", at=time(10, 15))


def test_the_same_physician_or_patient_is_refused_in_another_room():
    book()
    with pytest.raises(services.BookingConflict) as busy_physician:
        book(patient=patients()[1], room_name="Procedure Room 2", at=time(9, 15))
    assert busy_physician.value.problems[0].code == "physician_busy"
    with pytest.raises(services.BookingConflict) as busy_patient:
        book(doctor="Okafor", slug="glen-burnie", room_name="Procedure Room 1", at=time(9, 15))
    assert [p.code for p in busy_patient.value.problems] == ["patient_busy"]


def test_a_physician_cannot_be_booked_at_glen_burnie_ten_minutes_after_annapolis():
    doctor = physician("Natarajan")
    friday = MONDAY + timedelta(days=4)
    practice.remove_schedule_block(doctor.id, next(b.id for b in doctor.schedules if b.weekday == 4), by=SCHEDULER)
    for slug, starts, ends in (("annapolis", time(7, 30), time(12, 0)), ("glen-burnie", time(12, 0), time(16, 30))):
        practice.add_schedule_block(doctor.id, ScheduleData(office(slug).id, 4, starts, ends, None, None),
                                    by=SCHEDULER)
    book(doctor="Natarajan", day=friday, at=time(11, 30))
    with pytest.raises(services.BookingConflict) as too_soon:
        book(doctor="Natarajan", slug="glen-burnie", day=friday, at=time(12, 10), patient=patients()[1])
    assert too_soon.value.problems[0].code == "travel"
    assert "allow 30 minutes to travel" in too_soon.value.problems[0].message
    assert book(doctor="Natarajan", slug="glen-burnie", day=friday, at=time(12, 30), patient=patients()[1])


def test_a_fifth_epidural_in_a_region_needs_a_physicians_override_with_a_reason():
    patient = patients()[3]
    for weeks in (0, 3, 6, 9):
        book(code="ILESI", patient=patient, day=MONDAY + timedelta(weeks=weeks), side=None, levels=None)
    fifth = {"code": "ILESI", "patient": patient, "day": MONDAY + timedelta(weeks=12), "side": None,
             "levels": None}
    with pytest.raises(services.BookingConflict) as refused:
        book(**fifth)
    assert refused.value.overridable
    assert "limit is 4" in refused.value.problems[0].message
    with pytest.raises(services.BookingConflict):
        book(**fifth, override="Flare after a fall")             # a scheduler cannot override
    with pytest.raises(services.BookingConflict):
        book(**fifth, by=PHYSICIAN)                               # a physician needs a reason
    appointment = book(**fifth, by=PHYSICIAN, override="Flare after a fall; relief documented")
    assert appointment.override_reason == "Flare after a fall; relief documented"
    override = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "override")).one()
    assert override.username == "physician" and "limit is 4" in override.changes["refused"][1]
    # Another region has its own yearly count, but any epidural counts for the 14 days between.
    with pytest.raises(services.BookingConflict) as too_close:
        book(code="ILESI", patient=patient, day=MONDAY + timedelta(weeks=12, days=7), region="cervical",
             side=None, levels=None)
    assert [p.code for p in too_close.value.problems] == ["interval"]
    assert book(code="ILESI", patient=patient, day=MONDAY + timedelta(weeks=14), region="cervical",
                side=None, levels=None)


def test_cancelled_and_no_show_appointments_do_not_count_against_limits():
    patient = patients()[4]
    first = book(code="ILESI", patient=patient, side=None, levels=None)
    services.cancel_appointment(first.id, CancelReason.WEATHER, None, expected_version=first.version,
                                by=SCHEDULER, now=NOW)
    assert book(code="ILESI", patient=patient, day=MONDAY + timedelta(days=7), side=None, levels=None)


def test_reschedule_links_old_and_new_and_may_overlap_its_own_old_time():
    old = book()
    new = services.reschedule_appointment(
        old.id, services.Move(old.physician_id, old.office_id, old.room_id, MONDAY, time(9, 15)),
        expected_version=old.version, by=SCHEDULER, now=NOW, limits=LIMITS)
    db.session.expire_all()
    old = db.session.get(Appointment, old.id)
    assert old.status == "rescheduled" and new.replaces_id == old.id and old.replaced_by.id == new.id
    assert (new.region, new.side, new.levels_count) == (old.region, old.side, old.levels_count)
    assert book(patient=patients()[1], at=time(8, 0))    # the old time no longer holds the room


def test_a_second_edit_from_an_old_page_is_refused_with_who_changed_it():
    appointment = book()
    loaded_version = appointment.version
    services.change_status(appointment.id, Status.CONFIRMED, expected_version=loaded_version, by=SCHEDULER, now=NOW)
    with pytest.raises(StaleEdit) as stale:
        services.cancel_appointment(appointment.id, CancelReason.PATIENT_REQUEST, None,
                                    expected_version=loaded_version, by=PHYSICIAN, now=NOW)
    assert stale.value.changed_by == "Dana Whitaker"
    assert db.session.get(Appointment, appointment.id).status == "confirmed"


def test_cancelling_needs_a_reason_and_frees_the_time():
    appointment = book()
    with pytest.raises(Exception, match="Say why"):
        services.cancel_appointment(appointment.id, CancelReason.OTHER, None, expected_version=appointment.version,
                                    by=SCHEDULER, now=NOW)
    services.cancel_appointment(appointment.id, CancelReason.OTHER, "Moved out of state",
                                expected_version=appointment.version, by=SCHEDULER, now=NOW)
    assert book(patient=patients()[1])


def test_the_status_flow_refuses_skipped_steps():
    appointment = book()
    start = appointment.starts_at
    with pytest.raises(services.StatusRefused):
        services.change_status(appointment.id, Status.COMPLETED, expected_version=appointment.version,
                               by=SCHEDULER, now=start)
    for target in (Status.CONFIRMED, Status.CHECKED_IN, Status.IN_ROOM, Status.COMPLETED):
        appointment = services.change_status(appointment.id, target, expected_version=appointment.version,
                                             by=SCHEDULER, now=start)
    assert appointment.status == "completed"
    with pytest.raises(services.StatusRefused):
        services.cancel_appointment(appointment.id, CancelReason.WEATHER, None, expected_version=appointment.version,
                                    by=SCHEDULER, now=start)


def test_in_room_and_complete_before_the_start_are_refused_with_the_start_and_nothing_changes():
    appointment = book()
    start = appointment.starts_at
    early = start - timedelta(hours=2)
    for target in (Status.CONFIRMED, Status.CHECKED_IN):    # arriving early is fine
        appointment = services.change_status(appointment.id, target, expected_version=appointment.version,
                                             by=SCHEDULER, now=early)
    with pytest.raises(services.BeforeTheStart) as refused:
        services.change_status(appointment.id, Status.IN_ROOM, expected_version=appointment.version,
                               by=SCHEDULER, now=start - timedelta(minutes=1))
    assert (refused.value.target, refused.value.starts_at) == (Status.IN_ROOM, start)
    assert "possible from the appointment's start, 09:00" in refused.value.message
    assert isinstance(refused.value, services.StatusRefused)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == "checked_in"
    appointment = services.change_status(appointment.id, Status.IN_ROOM, expected_version=appointment.version,
                                         by=SCHEDULER, now=start)
    assert appointment.status == "in_room"


def test_next_available_for_rfa_with_a_named_physician_offers_only_their_hours_with_a_fluoroscopy_room():
    doctor = physician("Reyes")
    book(code="RFA", at=time(7, 30), by=PHYSICIAN, override="Two qualifying blocks at the referring practice")
    slots = find_next_available(procedure("RFA").id, physician_id=doctor.id,
                                earliest=NOW, now=NOW, limits=LIMITS, count=10)
    assert len(slots) == 10
    for slot in slots:
        local = slot.local_start
        blocks = [b for b in doctor.schedules if b.weekday == local.weekday() and b.office_id == slot.office.id]
        assert any(b.starts <= local.time() and (local + timedelta(minutes=60)).time() <= b.ends for b in blocks)
        assert "fluoroscopy" in slot.room.capabilities
    afternoons = find_next_available(procedure("RFA").id, physician_id=doctor.id, earliest=NOW,
                                     now=NOW, limits=LIMITS, part=PartOfDay.AFTERNOON)
    assert all(slot.local_start.hour >= 12 for slot in afternoons)


def test_a_closed_day_and_leave_are_never_offered():
    doctor = physician("Whitfield")
    slots = find_next_available(procedure("MBB").id, physician_id=doctor.id,
                                earliest=NOW.replace(year=2026, month=12, day=20), now=NOW, limits=LIMITS,
                                count=10)
    assert all(not date(2026, 12, 21) <= s.local_start.date() <= date(2026, 12, 31) for s in slots)


def test_next_available_looks_past_a_first_week_with_nothing_free():
    doctor = physician("Whitfield")   # on leave 12/21-12/31: nothing in the week from 12/20
    slots = find_next_available(procedure("MBB").id, physician_id=doctor.id,
                                earliest=NOW.replace(year=2026, month=12, day=20), now=NOW, limits=LIMITS,
                                count=10)
    assert len(slots) == 10
    assert slots[0].local_start.date() > date(2026, 12, 31)
    assert slots == sorted(slots, key=lambda s: s.start)


def test_alternatives_keep_to_the_patients_limits_and_never_repeat_the_refused_time():
    patient = patients()[5]
    book(code="ILESI", patient=patient, side=None, levels=None)
    with pytest.raises(services.BookingConflict) as refused:
        book(code="ILESI", patient=patient, day=MONDAY + timedelta(days=7), side=None, levels=None)
    assert [p.code for p in refused.value.problems] == ["interval"]
    assert all((slot.local_start.date() - MONDAY).days >= 14 for slot in refused.value.alternatives)


def test_a_scheduler_may_move_an_appointment_a_physician_booked_over_a_limit():
    patient = patients()[6]
    for weeks in (0, 3, 6, 9):
        book(code="ILESI", patient=patient, day=MONDAY + timedelta(weeks=weeks), side=None, levels=None)
    fifth = book(code="ILESI", patient=patient, day=MONDAY + timedelta(weeks=12), side=None, levels=None,
                 by=PHYSICIAN, override="Flare after a fall")
    moved = services.reschedule_appointment(
        fifth.id, services.Move(fifth.physician_id, fifth.office_id, fifth.room_id, MONDAY + timedelta(weeks=12),
                                time(11, 0)), expected_version=fifth.version, by=SCHEDULER, now=NOW, limits=LIMITS)
    assert moved.override_reason == "Flare after a fall"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "override")).all()
    assert [e.username for e in events] == ["physician", "scheduler"]


def test_alternatives_for_a_move_treat_the_old_time_as_free():
    old = book(at=time(9, 0))
    book(patient=patients()[1], room_name="Procedure Room 1", doctor="Reyes", at=time(8, 0))
    with pytest.raises(services.BookingConflict) as refused:
        services.reschedule_appointment(
            old.id, services.Move(old.physician_id, old.office_id, old.room_id, MONDAY, time(8, 15)),
            expected_version=old.version, by=SCHEDULER, now=NOW, limits=LIMITS)
    offered = [(slot.local_start.strftime("%H:%M"), slot.room.name) for slot in refused.value.alternatives]
    assert ("08:45", "Procedure Room 1") in offered   # would overlap the old 09:00 if it still counted

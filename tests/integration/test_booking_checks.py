"""One list of booking checks: booking, moving and next available ask the same ones, the slot
rules and the checks packages above scheduling register (the candidacy rules), on both engines."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from backoffice.audit.models import AuditEvent
from backoffice.catalog.rules import ProcedureKind, months_after
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import FieldErrors
from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from backoffice.patients.services import allocate_mrn
from backoffice.practice.models import Office, OfficeHours, Physician, PhysicianSchedule, Room
from backoffice.procedures.booking_checks import candidacy_check
from backoffice.procedures.followups import OutcomeEntry, outcome_columns
from backoffice.procedures.models import FollowUp, Outcome, PsychEvaluation
from backoffice.procedures.rules import Contact, ReliefUnit
from backoffice.scheduling import services
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.booking_checks import BookingCase, no_problems, registered_checks
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Status

from .course_helpers import done, follow_ups_of, record
from .scheduling_helpers import LIMITS, MONDAY, PHYSICIAN, SCHEDULER, patients, physician, procedure, room

pytestmark = pytest.mark.usefixtures("demo", "app_context")
RFA_OVERRIDE = "Two qualifying blocks at the referring practice"
EARLY_OVERRIDE = "Flare of pain, relief documented; physician's decision"


def test_procedures_registers_its_candidacy_check_with_scheduling():
    assert registered_checks()["candidacy"] is candidacy_check


def test_the_candidacy_check_reads_nothing_for_a_procedure_the_rules_do_not_speak_about():
    case = BookingCase(patients()[0].id, ProcedureKind.DIAGNOSTIC_FACET, "lumbar", "right", MONDAY)
    assert candidacy_check(case) is no_problems


def test_the_candidacy_check_refuses_a_rhizotomy_without_blocks_on_any_day():
    case = BookingCase(patients()[0].id, ProcedureKind.ABLATION, "lumbar", "right", MONDAY)
    on = candidacy_check(case)
    for day in (MONDAY, MONDAY + timedelta(days=365)):
        [problem] = on(day)
        assert (problem.code, problem.field, problem.overridable) == ("candidacy", "procedure_type_id", True)
        assert "needs two diagnostic medial branch blocks" in problem.message


def _repeat_rfa_eligible_from(patient: Patient) -> date:
    """A lumbar right RFA on MONDAY with relief still going on: a repeat is eligible six calendar months on."""
    rfa = done("RFA", MONDAY, patient=patient, override=RFA_OVERRIDE)
    record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    return months_after(rfa.starts_at.astimezone(ZoneInfo("America/New_York")).date(), 6)


def _request_at_annapolis(code: str, patient: Patient, day: date, levels: str) -> services.BookingRequest:
    """Dr. Reyes in Procedure Room 1 at 09:00, lumbar right."""
    where = room("annapolis", "Procedure Room 1")
    return services.BookingRequest(patient.id, procedure(code).id, physician("Reyes").id, where.office_id, where.id,
                                   day, time(9, 0), "lumbar", "right", len(levels.split(",")), levels)


def _rfa_request(patient: Patient, day: date) -> services.BookingRequest:
    return _request_at_annapolis("RFA", patient, day, "L4-L5, L5-S1")


def test_moving_a_repeat_rhizotomy_before_its_eligible_date_is_refused_like_booking_it_unless_a_physician_overrides():
    patient = patients()[0]
    eligible_from = _repeat_rfa_eligible_from(patient)
    too_early = eligible_from - timedelta(days=eligible_from.weekday() + 7)   # a Monday, Dr. Reyes at Annapolis
    on_time = eligible_from + timedelta(days=7 - eligible_from.weekday())     # the Monday after
    now = datetime.combine(too_early - timedelta(days=14), time(12), UTC)
    with pytest.raises(services.BookingConflict) as booking_refused:
        services.book_appointment(_rfa_request(patient, too_early), by=SCHEDULER, now=now, limits=LIMITS)
    repeat = services.book_appointment(_rfa_request(patient, on_time), by=SCHEDULER, now=now, limits=LIMITS)
    move = services.Move(repeat.physician_id, repeat.office_id, repeat.room_id, too_early, time(9, 0))

    with pytest.raises(services.BookingConflict) as move_refused:
        services.reschedule_appointment(repeat.id, move, expected_version=repeat.version, by=SCHEDULER, now=now,
                                        limits=LIMITS)
    assert [p.message for p in move_refused.value.problems] == [p.message for p in booking_refused.value.problems]
    problems = {problem.code: problem for problem in move_refused.value.problems}
    assert list(problems) == ["interval", "candidacy"] and move_refused.value.overridable
    assert "Eligible from" in problems["candidacy"].message
    assert db.session.get(Appointment, repeat.id).status == Status.SCHEDULED.value

    with pytest.raises(services.BookingConflict):   # a scheduler's reason overrides nothing
        services.reschedule_appointment(repeat.id, replace(move, override_reason=EARLY_OVERRIDE),
                                        expected_version=repeat.version, by=SCHEDULER, now=now, limits=LIMITS)
    moved = services.reschedule_appointment(repeat.id, replace(move, override_reason=EARLY_OVERRIDE),
                                            expected_version=repeat.version, by=PHYSICIAN, now=now, limits=LIMITS)
    assert moved.override_reason == EARLY_OVERRIDE and moved.replaces_id == repeat.id
    override = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "override",
                                                           AuditEvent.entity_id == moved.id)).one()
    assert override.username == "physician" and "Eligible from" in override.changes["refused"][1]


def test_moving_a_repeat_epidural_before_the_relief_has_lasted_is_refused_for_that_alone():
    patient = patients()[0]
    epidural = done("TFESI", MONDAY, patient=patient, levels="L5-S1")
    record(follow_ups_of(epidural)[0], 70, 4, ReliefUnit.WEEKS, ongoing=True)
    eligible_from = months_after(MONDAY, 2)
    on_time = eligible_from + timedelta(days=7 - eligible_from.weekday())   # a Monday after it
    now = datetime.combine(MONDAY + timedelta(days=21), time(12), UTC)
    repeat = services.book_appointment(_request_at_annapolis("TFESI", patient, on_time, "L5-S1"), by=SCHEDULER,
                                       now=now, limits=LIMITS)
    with pytest.raises(services.BookingConflict) as refused:
        services.reschedule_appointment(
            repeat.id, services.Move(repeat.physician_id, repeat.office_id, repeat.room_id, MONDAY + timedelta(weeks=5),
                                     time(9, 0)), expected_version=repeat.version, by=SCHEDULER, now=now, limits=LIMITS)
    [problem] = refused.value.problems
    assert problem.code == "candidacy" and "relief must last 2 months" in problem.message


def test_a_repeat_rhizotomy_182_days_on_is_refused_until_six_calendar_months_have_passed():
    patient = patients()[0]
    rfa = done("RFA", date(2026, 3, 2), patient=patient, override=RFA_OVERRIDE)   # a Monday
    record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    after_182_days = date(2026, 8, 31)   # also a Monday; six calendar months on is 09/02
    now = datetime.combine(date(2026, 8, 3), time(12), UTC)
    with pytest.raises(services.BookingConflict) as refused:
        services.book_appointment(_rfa_request(patient, after_182_days), by=SCHEDULER, now=now, limits=LIMITS)
    problems = {problem.code: problem.message for problem in refused.value.problems}
    assert "less than 6 months away (allowed from 09/02/2026)" in problems["interval"]
    assert "09/02/2026" in problems["candidacy"]
    repeat = services.book_appointment(_rfa_request(patient, date(2026, 9, 7)), by=SCHEDULER, now=now, limits=LIMITS)
    assert repeat.status == Status.SCHEDULED.value


def test_next_available_for_the_patient_offers_a_repeat_rhizotomy_from_its_eligible_date_only():
    patient = patients()[0]
    eligible_from = _repeat_rfa_eligible_from(patient)
    now = datetime.combine(eligible_from - timedelta(days=30), time(12), UTC)
    slots = find_next_available(procedure("RFA").id, physician_id=physician("Reyes").id, earliest=now, now=now,
                                limits=LIMITS, count=3, patient_id=patient.id, region="lumbar", side="right")
    assert slots and all(slot.local_day >= eligible_from for slot in slots)
    for slot in slots:   # each would book, the patient's other offered times aside
        local = slot.local_start
        booked = services.book_appointment(services.BookingRequest(
            patient.id, procedure("RFA").id, slot.physician.id, slot.office.id, slot.room.id, local.date(),
            local.time(), "lumbar", "right", 2), by=SCHEDULER, now=now, limits=LIMITS)
        db.session.execute(delete(Appointment).where(Appointment.id == booked.id))
        db.session.commit()


def test_moving_the_only_booked_repeat_does_not_count_it_as_already_booked():
    patient = patients()[0]
    eligible_from = _repeat_rfa_eligible_from(patient)
    first = eligible_from + timedelta(days=7 - eligible_from.weekday())
    now = datetime.combine(first - timedelta(days=14), time(12), UTC)
    repeat = services.book_appointment(_rfa_request(patient, first), by=SCHEDULER, now=now, limits=LIMITS)
    moved = services.reschedule_appointment(
        repeat.id, services.Move(repeat.physician_id, repeat.office_id, repeat.room_id, first + timedelta(days=7),
                                 time(9, 0)), expected_version=repeat.version, by=SCHEDULER, now=now, limits=LIMITS)
    assert moved.override_reason is None


# The property: for random practices and patients, next available offers only times that book,
# and a move is accepted exactly when booking the same time (the old appointment out of the way)
# would be, for the same reasons, and likewise with a physician's override. Run with
# --hypothesis-show-statistics to see how often the booking checks changed what was offered.

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SETUP = Actor.system("property test")
ZONES = ("America/New_York", "America/Chicago")
HISTORY_CODES = ("MBB", "RFA", "TFESI", "ILESI", "FJI", "SCS-TRIAL", "SCS-IMPLANT")
BOOKED_CODES = ("RFA", "TFESI", "ILESI", "FJI", "MBB", "SCS-IMPLANT", "TPI", "CESI")
REGIONS = ("lumbar", "cervical")
SIDES = ("left", "right")
MOSTLY_LUMBAR = ("lumbar", "lumbar", "lumbar", "cervical")
MOSTLY_RIGHT = ("right", "right", "right", "left")
L45 = "L4-L5, L5-S1"
_names = itertools.count(1)

FULLY_EQUIPPED = (True, True, True)
rooms_ = st.lists(st.sampled_from((FULLY_EQUIPPED, FULLY_EQUIPPED, (True, False, True), (True, False, False),
                                   (False, False, False))), min_size=1, max_size=2)
offices_ = st.lists(st.fixed_dictionaries({
    "timezone": st.sampled_from(ZONES),
    "hours": st.tuples(st.sampled_from((time(7), time(8))), st.sampled_from((time(15), time(17)))),
    "weekdays": st.sets(st.integers(0, 5), min_size=2, max_size=5),
    "rooms": rooms_,
}), min_size=1, max_size=2)


@st.composite
def practices(draw: st.DrawFn) -> tuple[list[dict], list[list[tuple]]]:
    """Offices with their hours and rooms, and one or two physicians working blocks there, on the
    days the office is open but now and then on one it is not."""
    offices = draw(offices_)
    physicians = []
    for _ in range(draw(st.integers(1, 2))):
        blocks = []
        for _ in range(draw(st.integers(1, 3))):
            which = draw(st.integers(0, len(offices) - 1))
            open_days = sorted(offices[which]["weekdays"])
            weekday = draw(st.sampled_from(open_days) if draw(st.integers(0, 9)) else st.integers(0, 5))
            starts = draw(st.sampled_from((time(7), time(8), time(12))))
            ends = draw(st.sampled_from((time(12), time(16), time(17))))
            if starts < ends:
                blocks.append((which, weekday, starts, ends))
        physicians.append(blocks or [(0, min(offices[0]["weekdays"]), time(8), time(16))])
    return offices, physicians


results_ = st.one_of(st.none(), st.tuples(st.sampled_from((30, 60, 85, 95)), st.integers(1, 8),
                                          st.sampled_from((ReliefUnit.HOURS, ReliefUnit.WEEKS, ReliefUnit.MONTHS)),
                                          st.booleans()))
noise_ = st.lists(st.tuples(st.sampled_from(HISTORY_CODES), st.integers(3, 420), st.sampled_from(MOSTLY_LUMBAR),
                            st.sampled_from(MOSTLY_RIGHT), results_),
                  max_size=3, unique_by=lambda prior: prior[1])


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[tuple], dict]:
    """A patient's past procedures and what is booked for them next. The past is a course that
    makes the candidacy rules say yes, or yes from a day near the search (at 13:00), among random
    other procedures (at 09:00); the booking is mostly the procedure that course leads to, in its
    region and on its side."""
    region, side = draw(st.sampled_from(MOSTLY_LUMBAR)), draw(st.sampled_from(MOSTLY_RIGHT))
    weeks_of_relief = (draw(st.sampled_from((85, 60, 30))), draw(st.integers(4, 30)), ReliefUnit.WEEKS,
                       draw(st.sampled_from((True, False))))
    good_block = (draw(st.sampled_from((85, 95, 75))), draw(st.integers(1, 8)), ReliefUnit.HOURS, False)
    first_block = draw(st.integers(30, 90))
    epidural = draw(st.sampled_from(("TFESI", "ILESI")))
    courses = {  # what was done, and what it leads to
        "none": ([], draw(st.sampled_from(BOOKED_CODES))),
        "blocks for a rhizotomy": ([("MBB", first_block, good_block),
                                    ("MBB", first_block - draw(st.integers(7, 25)), good_block)], "RFA"),
        "a rhizotomy to repeat": ([("RFA", draw(st.integers(165, 200)), weeks_of_relief)], "RFA"),
        "an epidural to repeat": ([(epidural, draw(st.integers(40, 75)), weeks_of_relief)], epidural),
        "a facet injection to repeat": ([("FJI", draw(st.integers(80, 100)), weeks_of_relief)], "FJI"),
        "a stimulator trial": ([("SCS-TRIAL", draw(st.integers(7, 40)), weeks_of_relief)], "SCS-IMPLANT"),
    }
    course, leads_to = courses[draw(st.sampled_from(sorted(courses)))]
    history = ([(code, days_ago, region, side, result, time(13)) for code, days_ago, result in course]
               + [(*prior, time(9)) for prior in draw(noise_)])
    booking = {
        "code": draw(st.sampled_from((leads_to, leads_to, *BOOKED_CODES))),
        "region": draw(st.sampled_from((region, region, region, *REGIONS))),
        "side": draw(st.sampled_from((side, side, side, *SIDES))),
        "psych_cleared": draw(st.booleans()),
        # Where the move goes: a physician, one of their blocks, which week, how far into the block,
        # and now and then 07:00 plus that instead.
        "move": draw(st.tuples(st.integers(0, 1), st.integers(0, 3), st.integers(0, 3), st.integers(0, 39),
                               st.integers(0, 9))),
    }
    return history, booking


@dataclass
class Practice:
    offices: list[Office]
    rooms: list[list[Room]]
    physicians: list[Physician]


def _practice(offices: list[dict], blocks: list[list[tuple]]) -> Practice:
    """New offices, rooms and physicians; everything else stops being bookable."""
    db.session.execute(update(Office).values(active=False))
    db.session.execute(update(Physician).values(active=False))
    db.session.commit()
    with transaction(db.session, SETUP):
        made = Practice([], [], [])
        for spec in offices:
            number = next(_names)
            office = Office(name=f"Office {number}", slug=f"office-{number}", address="1 Main St", city="Annapolis",
                            state="MD", postal_code="21401", phone="410-555-0100", timezone=spec["timezone"])
            office.hours = [OfficeHours(weekday=weekday, opens=spec["hours"][0], closes=spec["hours"][1])
                            for weekday in sorted(spec["weekdays"])]
            made.rooms.append([Room(office=office, name=f"Room {index}", fluoroscopy=fluoroscopy,
                                    sterile_implant=sterile, sedation=sedation)
                               for index, (fluoroscopy, sterile, sedation) in enumerate(spec["rooms"], 1)])
            made.offices.append(office)
            db.session.add(office)
        for own_blocks in blocks:
            doctor = Physician(first_name="Pat", last_name=f"Doctor{next(_names)}", credentials="MD")
            doctor.schedules = [PhysicianSchedule(office=made.offices[which % len(made.offices)], weekday=weekday,
                                                  starts=starts, ends=ends)
                                for which, weekday, starts, ends in own_blocks]
            made.physicians.append(doctor)
            db.session.add(doctor)
    return made


def _patient_with_history(practice: Practice, history: list[tuple], psych_cleared: bool) -> Patient:
    """A new patient with these past procedures, completed, and their outcomes."""
    codes = {p.code: p for p in (procedure(code) for code in HISTORY_CODES)}
    with transaction(db.session, SETUP):
        number = next(_names)
        patient = Patient(mrn=allocate_mrn(), first_name="Sam", last_name=f"Patient{number}",
                          date_of_birth=date(1960, 1, 1), first_name_key="sam", last_name_key=f"patient{number}")
        db.session.add(patient)
        db.session.flush()
        office, where, doctor = practice.offices[0], practice.rooms[0][0], practice.physicians[0]
        for code, days_ago, region, side, result, at in history:
            kind = codes[code]
            day = NOW.date() - timedelta(days=days_ago)
            start = datetime.combine(day, at, ZoneInfo(office.timezone)).astimezone(UTC)
            end = start + timedelta(minutes=kind.duration_minutes)
            done_ = Appointment(patient=patient, procedure_type=kind, physician=doctor, office=office, room=where,
                                starts_at=start, ends_at=end, blocked_until=end, status=Status.COMPLETED.value,
                                status_changed_at=end, region=region if kind.asks_region else None,
                                side=side if kind.asks_side else None,
                                levels=L45 if kind.asks_levels else None, levels_count=2 if kind.asks_levels else None)
            db.session.add(done_)
            db.session.flush()
            if result is not None:
                relief, amount, unit, ongoing = result
                follow_up = FollowUp(appointment=done_, patient=patient, physician=doctor, office=office, delay="1d",
                                     due_at=end + timedelta(days=1), status="done")
                entry = OutcomeEntry(recorded_on=day + timedelta(days=1), contact=Contact.PHONE,
                                     percent_relief=relief, relief_amount=amount, relief_unit=unit,
                                     relief_ongoing=ongoing)
                db.session.add(Outcome(follow_up=follow_up, appointment_id=done_.id, patient_id=patient.id,
                                       **outcome_columns(entry, decision=None)))
        if psych_cleared:
            db.session.add(PsychEvaluation(patient_id=patient.id, evaluated_on=NOW.date() - timedelta(days=30),
                                           cleared=True, evaluator="Dr. Test"))
    return patient


def _request(patient_id: int, code: str, region: str, side: str, *, office_id: int, room_id: int,
             physician_id: int, at: datetime, zone: str) -> services.BookingRequest:
    kind = procedure(code)
    local = at.astimezone(ZoneInfo(zone))
    return services.BookingRequest(patient_id, kind.id, physician_id, office_id, room_id, local.date(), local.time(),
                                   region if kind.asks_region else None, side if kind.asks_side else None,
                                   1 if kind.asks_levels else None)


def _forget(appointment_id: int) -> None:
    db.session.execute(delete(Appointment).where(Appointment.id == appointment_id))
    db.session.commit()
    db.session.expire_all()


def _decision(attempt) -> list[str] | None:
    """None when accepted (and the appointment made is forgotten), else the codes of what stood in
    the way. FieldErrors (a time the clocks skip, the place and time it has already) propagate."""
    try:
        made = attempt()
    except services.BookingConflict as refused:
        return [problem.code for problem in refused.problems]
    _forget(made.id)
    return None


def _booking(request: services.BookingRequest, by: Actor) -> list[str] | None:
    return _decision(lambda: services.book_appointment(request, by=by, now=NOW, limits=LIMITS))


def _check_moves(practice: Practice, patient: Patient, booking: dict, slot) -> None:
    code, region, side = booking["code"], booking["region"], booking["side"]
    old = services.book_appointment(
        _request(patient.id, code, region, side, office_id=slot.office.id, room_id=slot.room.id,
                 physician_id=slot.physician.id, at=slot.start, zone=slot.office.timezone), by=SCHEDULER, now=NOW,
        limits=LIMITS)
    which_doctor, which_block, week, quarter, own_time = booking["move"]
    doctor = practice.physicians[which_doctor % len(practice.physicians)]
    block = doctor.schedules[which_block % len(doctor.schedules)]
    office = block.office
    target_room = office.rooms[quarter % len(office.rooms)]
    today = NOW.astimezone(ZoneInfo(office.timezone)).date()
    day = today + timedelta(days=(block.weekday - today.weekday()) % 7 + 7 * week)
    start = time(7) if own_time == 0 else block.starts
    at = datetime.combine(day, start, ZoneInfo(office.timezone)) + timedelta(minutes=15 * quarter)
    target = _request(patient.id, code, region, side, office_id=office.id, room_id=target_room.id,
                      physician_id=doctor.id, at=at, zone=office.timezone)

    def moved(by: Actor, reason: str | None) -> Appointment:
        return services.reschedule_appointment(
            old.id, services.Move(doctor.id, office.id, target_room.id, target.day, target.time, reason),
            expected_version=db.session.get(Appointment, old.id).version, by=by, now=NOW, limits=LIMITS)

    try:
        as_move = _decision(lambda: moved(SCHEDULER, None))
        overridden_move = None if as_move is None else _decision(lambda: moved(PHYSICIAN, EARLY_OVERRIDE))
    except FieldErrors:   # the time and place it has already
        return
    # The old appointment out of the way, as a move takes it out of the way.
    db.session.execute(update(Appointment).where(Appointment.id == old.id).values(status=Status.CANCELLED.value))
    db.session.commit()
    db.session.expire_all()
    assert _booking(target, SCHEDULER) == as_move
    event(f"move: {as_move}")
    if as_move is not None:
        assert _booking(replace(target, override_reason=EARLY_OVERRIDE), PHYSICIAN) == overridden_move


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                  HealthCheck.too_slow])
@given(setting=practices(), case=cases())
def test_next_available_offers_only_times_that_book_and_a_move_is_decided_as_a_new_booking(setting, case):
    history, booking = case
    practice = _practice(*setting)
    patient = _patient_with_history(practice, history, booking["psych_cleared"])
    code, region, side = booking["code"], booking["region"], booking["side"]
    kind = procedure(code)
    slots = find_next_available(kind.id, earliest=NOW, now=NOW, limits=LIMITS, count=3, days=28,
                                patient_id=patient.id, region=region if kind.asks_region else None,
                                side=side if kind.asks_side else None)
    unchecked = find_next_available(kind.id, earliest=NOW, now=NOW, limits=LIMITS, count=3, days=28,
                                    patient_id=patient.id, region=region if kind.asks_region else None,
                                    side=side if kind.asks_side else None, apply_booking_checks=False)
    event(f"slots: {len(slots)}, {'same' if slots == unchecked else 'moved by the checks'}")
    for slot in slots:
        request = _request(patient.id, code, region, side, office_id=slot.office.id, room_id=slot.room.id,
                           physician_id=slot.physician.id, at=slot.start, zone=slot.office.timezone)
        assert _booking(request, SCHEDULER) is None, (slot, request)
    if slots:
        _check_moves(practice, patient, booking, slots[0])

"""What the scheduling services tell the packages above them, and how procedures reacts: the
events each action publishes inside its transaction, the follow-ups handler and the appointment
page's follow-ups section, each on its own, on both engines."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select, update

from backoffice.core.db import transaction
from backoffice.core.events import handlers_of
from backoffice.core.extensions import db
from backoffice.procedures.appointment_page import follow_ups_section
from backoffice.procedures.followups import create_follow_ups_when_completed
from backoffice.procedures.models import FollowUp
from backoffice.scheduling import services
from backoffice.scheduling.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCompleted,
    AppointmentMoved,
    AppointmentStatusChanged,
)
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.queries import appointment_sections
from backoffice.scheduling.rules import CancelReason, Status

from .course_helpers import NURSE, complete
from .scheduling_helpers import LIMITS, MONDAY, NOW, PHYSICIAN, SCHEDULER, book, patients

pytestmark = pytest.mark.usefixtures("demo", "app_context")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The events the scheduling services publish, in order (still handed to their handlers)."""
    seen: list[object] = []

    def record_then_publish(event: object) -> None:
        seen.append(event)
        publish(event)

    publish = services.publish
    monkeypatch.setattr(services, "publish", record_then_publish)
    return seen


def test_a_booking_publishes_what_was_booked_where_and_when(published):
    appointment = book()
    assert published == [AppointmentBooked(
        appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.physician_id,
        appointment.office_id, appointment.room_id, appointment.starts_at, appointment.ends_at, overridden=False,
        by=SCHEDULER, at=NOW)]
    assert published[0].starts_at.utcoffset() == timedelta(0)


def test_a_refused_booking_publishes_nothing(published):
    book()
    with pytest.raises(services.BookingConflict):
        book(patient=patients()[1])
    assert [type(event) for event in published] == [AppointmentBooked]


def test_a_move_publishes_the_old_appointment_rescheduled_and_where_the_new_one_is(published):
    old = book()
    new = services.reschedule_appointment(
        old.id, services.Move(old.physician_id, old.office_id, old.room_id, MONDAY, time(10, 0)),
        expected_version=old.version, by=SCHEDULER, now=NOW, limits=LIMITS)
    changed, moved = published[1:]
    assert changed == AppointmentStatusChanged(old.id, old.patient_id, old.procedure_type_id, old.physician_id,
                                               old.office_id, old.starts_at, Status.SCHEDULED, Status.RESCHEDULED,
                                               by=SCHEDULER, at=NOW)
    assert (moved.old_appointment_id, moved.new_appointment_id, moved.starts_at, moved.old_starts_at) == (
        old.id, new.id, new.starts_at, old.starts_at)
    assert isinstance(moved, AppointmentMoved) and moved.by == SCHEDULER


def test_a_cancellation_publishes_the_status_change_and_the_reason(published):
    appointment = book()
    services.cancel_appointment(appointment.id, CancelReason.WEATHER, None, expected_version=appointment.version,
                                by=SCHEDULER, now=NOW)
    changed, cancelled = published[1:]
    assert (changed.from_status, changed.to_status) == (Status.SCHEDULED, Status.CANCELLED)
    assert isinstance(cancelled, AppointmentCancelled)
    assert (cancelled.appointment_id, cancelled.reason, cancelled.at) == (appointment.id, CancelReason.WEATHER, NOW)


def test_each_step_of_the_day_publishes_a_status_change_and_the_last_one_a_completion(published):
    appointment = complete(book())
    steps = [(e.from_status, e.to_status) for e in published if isinstance(e, AppointmentStatusChanged)]
    assert steps == [(Status.SCHEDULED, Status.CONFIRMED), (Status.CONFIRMED, Status.CHECKED_IN),
                     (Status.CHECKED_IN, Status.IN_ROOM), (Status.IN_ROOM, Status.COMPLETED)]
    [completed] = [e for e in published if isinstance(e, AppointmentCompleted)]
    assert (completed.appointment_id, completed.ends_at, completed.by) == (appointment.id, appointment.ends_at, NURSE)
    assert published[-1] is completed


def test_procedures_creates_follow_ups_when_an_appointment_is_completed():
    assert create_follow_ups_when_completed in handlers_of(AppointmentCompleted)


def test_the_follow_ups_handler_creates_the_procedures_follow_ups_in_the_completing_transaction():
    appointment = book()   # a medial branch block: follow-ups 6 hours and a day after it
    db.session.execute(update(Appointment).where(Appointment.id == appointment.id)
                       .values(status=Status.COMPLETED.value))
    db.session.commit()
    done_at = appointment.ends_at + timedelta(minutes=5)
    with transaction(db.session, NURSE):
        create_follow_ups_when_completed(AppointmentCompleted(
            appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.physician_id,
            appointment.office_id, appointment.starts_at, appointment.ends_at, by=NURSE, at=done_at))
    follow_ups = db.session.scalars(select(FollowUp).where(FollowUp.appointment_id == appointment.id)
                                    .order_by(FollowUp.due_at)).all()
    assert [(f.delay, f.due_at - appointment.ends_at, f.updated_by_id, f.created_at) for f in follow_ups] == [
        ("6h", timedelta(hours=6), NURSE.user_id, done_at), ("1d", timedelta(days=1), NURSE.user_id, done_at)]


def test_a_completion_whose_follow_ups_fail_is_rolled_back_whole(monkeypatch):
    appointment = book()
    for target in (Status.CONFIRMED, Status.CHECKED_IN, Status.IN_ROOM):
        appointment = services.change_status(appointment.id, target, expected_version=appointment.version,
                                             by=NURSE, now=appointment.starts_at)

    def failing(*args: object) -> None:
        raise RuntimeError("follow-ups could not be made")

    monkeypatch.setattr("backoffice.procedures.followups.create_follow_ups", failing)
    with pytest.raises(RuntimeError):
        services.change_status(appointment.id, Status.COMPLETED, expected_version=appointment.version, by=NURSE,
                               now=appointment.starts_at)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == Status.IN_ROOM.value


def test_the_appointment_page_shows_the_follow_ups_to_nurses_and_physicians_only():
    appointment = complete(book())
    section = follow_ups_section(appointment, by=NURSE)
    assert section is not None and section.template == "procedures/_appointment_follow_ups.html"
    assert [f.delay for f in section.context["follow_ups"]] == ["6h", "1d"]
    assert follow_ups_section(appointment, by=PHYSICIAN) is not None
    assert follow_ups_section(appointment, by=SCHEDULER) is None
    assert [s.template for s in appointment_sections(appointment, by=NURSE)] == [section.template]
    assert appointment_sections(appointment, by=SCHEDULER) == []

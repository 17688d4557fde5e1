"""A patient's course in the demo practice, built through the services as staff would: book a
procedure, take it through check-in to completed, record its follow-ups' outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.history import services as history
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import OutsideEntry
from backoffice.patients.models import Patient
from backoffice.procedures import followups
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.procedures.rules import Contact, PlanDecision, ReliefUnit
from backoffice.scheduling import services
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Limits, Status

from .scheduling_helpers import PHYSICIAN, SCHEDULER, physician, procedure

NURSE = Actor(2, "nurse", frozenset({"nurse"}), "192.0.2.22")
FLOW = (Status.CONFIRMED, Status.CHECKED_IN, Status.IN_ROOM, Status.COMPLETED)


def complete(appointment: Appointment, *, baseline: int | None = None) -> Appointment:
    """Take a booked appointment through the day's flow to completed, on its own day."""
    at = appointment.starts_at + timedelta(minutes=5)
    for target in FLOW:
        current = db.session.get(Appointment, appointment.id)
        assert current is not None
        appointment = services.change_status(appointment.id, target, expected_version=current.version, by=NURSE,
                                             now=at, baseline_nrs=baseline if target is Status.CHECKED_IN else None)
    return appointment


def book(code: str, on_or_after: date, *, patient: Patient, region: str | None = "lumbar",
         side: str | None = "right", levels: str | None = "L4-L5, L5-S1", doctor: str = "Reyes",
         override: str | None = None) -> Appointment:
    """A procedure booked a day ahead in the first free slot from `on_or_after`."""
    earliest = datetime.combine(on_or_after, time(0), UTC)
    booked_at = earliest - timedelta(days=1)
    slot = find_next_available(procedure(code).id, physician_id=physician(doctor).id, earliest=earliest,
                               now=booked_at, limits=Limits(), count=1, days=21)[0]
    local = slot.local_start
    request = services.BookingRequest(
        patient.id, procedure(code).id, slot.physician.id, slot.office.id, slot.room.id, local.date(), local.time(),
        region, side, len(levels.split(",")) if levels else None, levels, override_reason=override)
    return services.book_appointment(request, by=PHYSICIAN if override else SCHEDULER, now=booked_at,
                                     limits=Limits())


def done(code: str, on_or_after: date, *, patient: Patient, region: str | None = "lumbar",
         side: str | None = "right", levels: str | None = "L4-L5, L5-S1", doctor: str = "Reyes",
         baseline: int | None = 8, override: str | None = None) -> Appointment:
    """A procedure booked a day ahead in the first free slot from `on_or_after`, then done."""
    return complete(book(code, on_or_after, patient=patient, region=region, side=side, levels=levels, doctor=doctor,
                         override=override), baseline=baseline)


def follow_ups_of(appointment: Appointment) -> list[FollowUp]:
    return list(db.session.scalars(select(FollowUp).where(FollowUp.appointment_id == appointment.id)
                                   .order_by(FollowUp.due_at)))


def record(follow_up: FollowUp, relief: int, amount: int | None = None, unit: ReliefUnit | None = ReliefUnit.HOURS,
           *, ongoing: bool = False, decision: PlanDecision | None = None, by: Actor = PHYSICIAN,
           post: int | None = None, on: date | None = None) -> Outcome:
    recorded_on = on or follow_up.due_at.date()
    entry = OutcomeEntry(recorded_on=recorded_on, contact=Contact.PHONE, baseline_nrs=8, post_nrs=post,
                         percent_relief=None if post is not None else relief, relief_amount=amount,
                         relief_unit=unit if amount else None, relief_ongoing=ongoing, decision=decision)
    return followups.record_outcome(follow_up.id, entry, expected_version=follow_up.version, by=by,
                                    now=datetime.combine(recorded_on, time(15), UTC), today=recorded_on)


def block_with_relief(on_or_after: date, relief: int, hours: int, *, patient: Patient,
                      **where: str | None) -> Appointment:
    """A medial branch block whose next-day call found `relief` percent for `hours` hours."""
    appointment = done("MBB", on_or_after, patient=patient, **where)
    record(follow_ups_of(appointment)[-1], relief, hours)
    return appointment


def outside_done(code: str, on: date, *, patient: Patient, region: str | None = "lumbar",
                 side: str | None = "right", levels: str | None = "L4-L5, L5-S1", facility: str = "Valley Pain",
                 performed_by: str | None = "Dr Lee", percent_relief: int | None = None,
                 relief_amount: int | None = None, relief_unit: str | None = None) -> OutsideProcedure:
    """A procedure done elsewhere on day `on`, recorded by a nurse (with only the details its
    procedure asks for)."""
    kind = procedure(code)
    entry = OutsideEntry(
        procedure_type_id=kind.id, performed_on=on, facility=facility, performed_by=performed_by,
        region=region, side=side, levels_count=len(levels.split(",")) if levels and kind.asks_levels else None,
        levels=levels, percent_relief=percent_relief, relief_amount=relief_amount,
        relief_unit=ReliefUnit(relief_unit) if relief_unit else None)
    return history.record_outside_procedure(patient.id, entry, by=NURSE, now=datetime.combine(on, time(18), UTC),
                                            today=max(on, date.today()))

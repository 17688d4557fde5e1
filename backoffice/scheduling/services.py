"""Scheduling actions: book, move (reschedule), cancel, and move an appointment along the day's
flow. Each public function is one user action and one transaction, and publishes what happened
(`scheduling.events`) inside it. Reading an appointment is in `queries`, next available in
`availability`.

A booking and a move ask the same checks (`_problems`): the slot rules, then the booking checks
packages above scheduling registered (`booking_checks`); the next-available search applies both.

Double bookings are kept out three times over: the rules check what is booked (and say what is
in the way); on SQLite the check and the insert run inside one BEGIN IMMEDIATE transaction, so
no other writer can slip in between; on PostgreSQL the physician, patient and room rows are
locked for the transaction and exclusion constraints refuse any overlap that still gets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import true

from backoffice.audit.trail import record_event
from backoffice.auth.editing import ensure_current, mark_changed, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, transaction
from backoffice.core.errors import ConcurrentChange, DomainError, FieldErrors, Refused
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician, Room
from backoffice.scheduling import booking_checks, requests, rules, slot_rules
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.availability_rules import Slot
from backoffice.scheduling.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCompleted,
    AppointmentMoved,
    AppointmentStatusChanged,
)
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.queries import get_appointment
from backoffice.scheduling.rule_inputs import (
    busy_and_history,
    office_spec,
    offices_query,
    physician_spec,
    physicians_query,
    procedure_spec,
    room_spec,
)
from backoffice.scheduling.rules import (
    CancelReason,
    Limits,
    OfficeSpec,
    PhysicianSpec,
    Problem,
    ProcedureSpec,
    RoomSpec,
    SlotRequest,
    Status,
)
from backoffice.scheduling.slot_rules import BusyIndex

ALTERNATIVES = 3


@dataclass(frozen=True)
class BookingRequest:
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    room_id: int
    day: date
    time: time
    region: str | None = None
    side: str | None = None
    levels_count: int | None = None
    levels: str | None = None
    prior_auth_ref: str | None = None
    notes: str | None = None
    override_reason: str | None = None
    scheduling_request_id: int | None = None  # the request it is booked from, which it closes


@dataclass(frozen=True)
class Move:
    """Where a rescheduled appointment goes."""

    physician_id: int
    office_id: int
    room_id: int
    day: date
    time: time
    override_reason: str | None = None


class BookingConflict(DomainError):
    """The slot cannot be booked: what is in the way, field by field, and free alternatives."""

    def __init__(self, problems: Sequence[Problem], alternatives: Sequence[Slot] = ()) -> None:
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems = list(problems)
        self.alternatives = list(alternatives)

    @property
    def field_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for problem in self.problems:
            errors[problem.field] = " ".join(filter(None, [errors.get(problem.field), problem.message]))
        return errors

    @property
    def overridable(self) -> bool:
        return all(problem.overridable for problem in self.problems)


class StatusRefused(DomainError):
    """A status change the flow or the clock does not allow now."""


class BeforeTheStart(StatusRefused):
    """In room or complete asked for before the appointment's start: possible from `starts_at`."""

    def __init__(self, message: str, target: Status, starts_at: datetime) -> None:
        super().__init__(message)
        self.target = target
        self.starts_at = starts_at


def _status_refusal(problem: rules.StatusProblem, target: Status) -> StatusRefused:
    if problem.not_before is not None:
        return BeforeTheStart(problem.message, target, problem.not_before)
    return StatusRefused(problem.message)


# Loading what the rules need.

@dataclass(frozen=True)
class Setting:
    """Everything the rules need for one slot, loaded in a fixed number of queries."""

    procedure: ProcedureSpec
    office: OfficeSpec
    room: RoomSpec
    physician: PhysicianSpec


def _load_setting(request: BookingRequest, *, lock: bool = False) -> Setting:
    """The procedure, office, room and physician of a booking, in two statements. Raises FieldErrors
    when one of them, or the patient, does not exist.

    With `lock`, the first statement also locks the physician, patient and room rows for the rest
    of the transaction, so that bookings of the same physician, patient or room queue up behind
    one another (PostgreSQL row locks; SQLite's BEGIN IMMEDIATE already serialises every writer)."""
    # One row of each table, picked by its id: side by side (joined on nothing), they are one row.
    query = (offices_query(request.day).add_columns(Physician.id, Patient.id, Room, ProcedureType)
             .join_from(Office, Physician, true()).join(Patient, true()).join(Room, true())
             .join(ProcedureType, true())
             .where(Office.id == request.office_id, Physician.id == request.physician_id,
                    Patient.id == request.patient_id, Room.id == request.room_id,
                    ProcedureType.id == request.procedure_type_id))
    found = db.session.execute(for_update(query, of=[Physician, Patient, Room]) if lock else query).unique().first()
    # The physician's schedule and leave are read after the lock, as changing them takes it too.
    physician = db.session.scalars(physicians_query(request.day).where(Physician.id == request.physician_id)
                                   .execution_options(populate_existing=True)).unique().first()
    if found is None or physician is None:
        raise _missing(request)
    office, _, _, room, procedure = found
    return Setting(procedure_spec(procedure), office_spec(office), room_spec(room), physician_spec(physician))


def _missing(request: BookingRequest) -> FieldErrors:
    """What a booking names that does not exist: the patient, else the procedure, office, room or physician."""
    if db.session.get(Patient, request.patient_id) is None:
        return FieldErrors({"patient": "Choose a patient."})
    wanted: list[tuple[str, type[Any], int, str]] = [
        ("procedure_type_id", ProcedureType, request.procedure_type_id, "Choose a procedure."),
        ("office_id", Office, request.office_id, "Choose an office."),
        ("room_id", Room, request.room_id, "Choose a room."),
        ("physician_id", Physician, request.physician_id, "Choose a physician.")]
    return FieldErrors({name: message for name, model, entity_id, message in wanted
                        if db.session.get(model, entity_id) is None})


def _start(setting: Setting, day: date, wall: time) -> datetime:
    start = rules.local_to_utc(day, wall, setting.office.timezone)
    if start is None:
        raise FieldErrors({"time": f"{wall:%H:%M} does not exist on {day:%m/%d/%Y}: the clocks change."})
    return start


# The checks: the same for a booking and a move, and those the next-available search applies.

def _problems(request: SlotRequest, *, now: datetime, limits: Limits,
              ignore: int | None = None) -> list[Problem]:
    """What stands in the way of booking `request`, leaving out appointment `ignore` (one being
    moved): the slot checks, then the booking checks packages above scheduling registered."""
    window = timedelta(days=1)
    day = request.start.astimezone(ZoneInfo(request.office.timezone)).date()
    busy, history = busy_and_history(request.start - window, request.blocked_until + window,
                                     room_id=request.room.id, physician_id=request.physician.id,
                                     patient_id=request.patient_id, around=day, ignore=ignore)
    problems = slot_rules.slot_problems(request, BusyIndex(busy, ignore=ignore), now=now, limits=limits,
                                        history=history)
    return problems + _checked_problems(request, day, now=now, ignore=ignore)


def _checked_problems(request: SlotRequest, day: date, *, now: datetime, ignore: int | None) -> list[Problem]:
    """What the registered booking checks (a procedure the candidacy rules say should wait) find."""
    if request.patient_id is None:
        return []
    case = booking_checks.case_of(request.procedure, patient_id=request.patient_id, region=request.region,
                                  side=request.side, now=now, timezone=request.office.timezone, moving=ignore)
    return booking_checks.prepare(case)(day)


class _NotBookable(Exception):
    """Raised inside the write transaction; the refusal, with its alternatives, is worked out
    after the transaction has ended so that the search does not hold the write lock."""

    def __init__(self, slot: SlotRequest, problems: list[Problem]) -> None:
        super().__init__("not bookable")
        self.slot = slot
        self.problems = problems


def _refusal(request: SlotRequest, problems: Sequence[Problem], *, now: datetime, limits: Limits,
             ignore: int | None = None) -> BookingConflict:
    """The problems, with the next free slots for the same procedure, physician, patient, region
    and side (at this office first, then anywhere) when the time or place is the trouble."""
    alternatives: list[Slot] = []
    if any(problem.field in ("time", "room_id", "date", "physician_id") for problem in problems):
        earliest = max(request.start, now)
        for office_id in (request.office.id, None):
            alternatives = find_next_available(
                request.procedure.id, physician_id=request.physician.id, office_id=office_id,
                earliest=earliest, now=now, limits=limits, count=ALTERNATIVES, days=14,
                patient_id=request.patient_id, region=request.region, side=request.side, ignore=ignore)
            if alternatives:
                break
    return BookingConflict(problems, alternatives)


def _after_race(request: BookingRequest, *, now: datetime, limits: Limits,
                ignore: int | None = None) -> DomainError:
    """Someone booked the same time a moment earlier: say what they booked."""
    slot = _slot_request(_load_setting(request), request)
    problems = _problems(slot, now=now, limits=limits, ignore=ignore)
    if not problems:
        return ConcurrentChange()
    return _refusal(slot, problems, now=now, limits=limits, ignore=ignore)


def _check_or_override(problems: list[Problem], override_reason: str | None, by: Actor) -> bool:
    """True when the problems are limits a physician overrides with a reason."""
    return slot_rules.is_overridden(problems, override_reason=override_reason,
                                    by_physician=by.can(Permission.OVERRIDE_BOOKING_RULES))


def _ensure_booker(by: Actor) -> None:
    if not by.can(Permission.BOOK_APPOINTMENTS):
        raise Refused("Booking, moving and cancelling procedures is for schedulers and physicians.")


def book_appointment(request: BookingRequest, *, by: Actor, now: datetime, limits: Limits) -> Appointment:
    """Book one procedure, closing the scheduling request it fulfils (the one it was booked
    from, or the open one for the same patient, procedure, region and side). Raises
    BookingConflict (what is in the way, and alternatives), FieldErrors."""
    _ensure_booker(by)
    try:
        with transaction(db.session, by):
            return _book(request, by=by, now=now, limits=limits)
    except _NotBookable as refused:
        raise _refusal(refused.slot, refused.problems, now=now, limits=limits) from None
    except ConcurrentChange as race:
        raise _after_race(request, now=now, limits=limits) from race


def _slot_request(setting: Setting, request: BookingRequest) -> SlotRequest:
    return SlotRequest(setting.procedure, setting.office, setting.room, setting.physician,
                       _start(setting, request.day, request.time), request.patient_id,
                       request.region, request.side, request.levels_count)


def _book(request: BookingRequest, *, by: Actor, now: datetime, limits: Limits) -> Appointment:
    setting = _load_setting(request, lock=True)
    slot = _slot_request(setting, request)
    missing = slot_rules.detail_problems(slot)
    if missing:  # what the form lacks, not what is in the way: no alternatives to offer
        raise FieldErrors({problem.field: problem.message for problem in missing})
    problems = _problems(slot, now=now, limits=limits)
    overridden = _check_or_override(problems, request.override_reason, by)
    if problems and not overridden:
        raise _NotBookable(slot, problems)
    region = request.region if setting.procedure.asks_region else None
    side = request.side if setting.procedure.asks_side else None
    fulfilled = requests.request_to_close(request.scheduling_request_id, patient_id=request.patient_id,
                                          procedure_type_id=request.procedure_type_id, region=region, side=side)
    appointment = Appointment(
        patient_id=request.patient_id, procedure_type_id=request.procedure_type_id,
        physician_id=request.physician_id, office_id=request.office_id, room_id=request.room_id,
        starts_at=slot.start, ends_at=slot.end, blocked_until=slot.blocked_until, region=region, side=side,
        levels_count=request.levels_count if setting.procedure.asks_levels else None,
        levels=request.levels if setting.procedure.asks_levels else None,
        status=Status.SCHEDULED, status_changed_at=now, prior_auth_ref=request.prior_auth_ref,
        notes=request.notes, override_reason=request.override_reason if overridden else None,
        created_by_id=by.user_id, **stamps(by, now))
    db.session.add(appointment)
    db.session.flush()
    if fulfilled is not None:
        requests.close_by_booking(fulfilled, appointment, by=by, now=now)
    if overridden:
        _record_override(appointment, problems, request.override_reason or "", by)
    publish(AppointmentBooked(
        appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.physician_id,
        appointment.office_id, appointment.room_id, appointment.starts_at, appointment.ends_at,
        overridden=overridden, by=by, at=now))
    return appointment


def _record_override(appointment: Appointment, problems: Sequence[Problem], reason: str, by: Actor) -> None:
    record_event(db.session, by, "override", "appointment", appointment.id,
                 patient_id=appointment.patient_id, office_id=appointment.office_id,
                 subject="Refused booking overridden", details={"override_reason": reason},
                 changes={"refused": [None, " ".join(p.message for p in problems)],
                          "override_reason": [None, reason]})


# Changes.

def _locked_for_change(appointment_id: int, expected_version: int, by: Actor) -> Appointment:
    appointment = get_appointment(appointment_id, by=by, lock=True)
    ensure_current(db.session, appointment, expected_version,
                   f"The {appointment.procedure_type.name.lower()} appointment")
    return appointment


def change_status(appointment_id: int, target: Status, *, expected_version: int, by: Actor,
                  now: datetime, baseline_nrs: int | None = None) -> Appointment:
    """Confirm, check in (with the pain score then, when given), send to the room, complete (which
    creates the procedure's follow-ups), or mark a no-show."""
    if target in (Status.CANCELLED, Status.RESCHEDULED):
        raise StatusRefused("Cancel or reschedule from the appointment's page.")
    with transaction(db.session, by):
        appointment = _locked_for_change(appointment_id, expected_version, by)
        problem = rules.status_move_problem(appointment.status, target, start=appointment.starts_at,
                                            now=now, timezone=appointment.office.timezone)
        if problem:
            raise _status_refusal(problem, target)
        was = appointment.status
        appointment.status = target
        appointment.status_changed_at = now
        if target is Status.CHECKED_IN and baseline_nrs is not None:
            appointment.baseline_nrs = baseline_nrs
        mark_changed(appointment, by, now)
        publish(_status_changed(appointment, was, by=by, now=now))
        if target is Status.COMPLETED:
            publish(AppointmentCompleted(
                appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.physician_id,
                appointment.office_id, appointment.starts_at, appointment.ends_at, by=by, at=now))
    return appointment


def cancel_appointment(appointment_id: int, reason: CancelReason, note: str | None, *,
                       expected_version: int, by: Actor, now: datetime) -> Appointment:
    _ensure_booker(by)
    with transaction(db.session, by):
        appointment = _locked_for_change(appointment_id, expected_version, by)
        problem = rules.status_move_problem(appointment.status, Status.CANCELLED,
                                            start=appointment.starts_at, now=now,
                                            timezone=appointment.office.timezone)
        if problem:
            raise StatusRefused(problem.message)
        if reason is CancelReason.OTHER and not note:
            raise FieldErrors({"note": "Say why, when the reason is “other”."})
        was = appointment.status
        appointment.status = Status.CANCELLED
        appointment.cancel_reason = reason
        appointment.cancel_note = note
        appointment.status_changed_at = now
        mark_changed(appointment, by, now)
        publish(_status_changed(appointment, was, by=by, now=now))
        publish(AppointmentCancelled(
            appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.physician_id,
            appointment.office_id, appointment.starts_at, reason, by=by, at=now))
    return appointment


def _status_changed(appointment: Appointment, was: Status, *, by: Actor, now: datetime) -> AppointmentStatusChanged:
    return AppointmentStatusChanged(
        appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.physician_id,
        appointment.office_id, appointment.starts_at, from_status=was, to_status=appointment.status, by=by,
        at=now)


def reschedule_appointment(appointment_id: int, move: Move, *, expected_version: int, by: Actor,
                           now: datetime, limits: Limits) -> Appointment:
    """Move an open appointment: a new appointment takes its place and points back at it."""
    _ensure_booker(by)
    try:
        with transaction(db.session, by):
            return _reschedule(appointment_id, move, expected_version=expected_version, by=by, now=now,
                               limits=limits)
    except _NotBookable as refused:
        raise _refusal(refused.slot, refused.problems, now=now, limits=limits, ignore=appointment_id) from None
    except ConcurrentChange as race:
        old = get_appointment(appointment_id, by=by)
        raise _after_race(_move_request(old, move), now=now, limits=limits, ignore=appointment_id) from race


def _reschedule(appointment_id: int, move: Move, *, expected_version: int, by: Actor, now: datetime,
                limits: Limits) -> Appointment:
    old = _locked_for_change(appointment_id, expected_version, by)
    if not old.is_open or old.status is Status.IN_ROOM:
        state = old.status.label.lower()
        raise StatusRefused(f"An appointment that is {state} cannot be moved.")
    request = _move_request(old, move)
    slot = _slot_request(_load_setting(request, lock=True), request)
    if (slot.start, move.room_id, move.physician_id) == (old.starts_at, old.room_id, old.physician_id):
        raise FieldErrors({"time": "This is where and when it is booked now: choose another time, room or "
                                   "physician to move it."})
    problems = _problems(slot, now=now, limits=limits, ignore=old.id)
    # A limit a physician overrode for this appointment stays overridden when it merely moves.
    carried = bool(problems and old.override_reason and all(p.overridable for p in problems))
    overridden = carried or _check_or_override(problems, move.override_reason, by)
    if problems and not overridden:
        raise _NotBookable(slot, problems)
    reason = move.override_reason if problems and not carried else old.override_reason
    new = Appointment(
        patient_id=old.patient_id, procedure_type_id=old.procedure_type_id,
        physician_id=move.physician_id, office_id=move.office_id, room_id=move.room_id,
        starts_at=slot.start, ends_at=slot.end, blocked_until=slot.blocked_until,
        region=old.region, side=old.side, levels_count=old.levels_count, levels=old.levels,
        status=Status.SCHEDULED, status_changed_at=now, prior_auth_ref=old.prior_auth_ref,
        notes=old.notes, replaces_id=old.id, override_reason=reason, created_by_id=by.user_id,
        **stamps(by, now))
    was = old.status
    old.status = Status.RESCHEDULED
    old.status_changed_at = now
    mark_changed(old, by, now)
    db.session.flush()  # the old one stops holding its time before the new one takes it
    db.session.add(new)
    db.session.flush()
    if problems:
        _record_override(new, problems, reason or "", by)
    publish(_status_changed(old, was, by=by, now=now))
    publish(AppointmentMoved(
        old.id, new.id, new.patient_id, new.procedure_type_id, new.physician_id, new.office_id, new.room_id,
        new.starts_at, new.ends_at, old_physician_id=old.physician_id, old_office_id=old.office_id,
        old_starts_at=old.starts_at, by=by, at=now))
    return new


def _move_request(old: Appointment, move: Move) -> BookingRequest:
    return BookingRequest(old.patient_id, old.procedure_type_id, move.physician_id, move.office_id,
                          move.room_id, move.day, move.time, old.region, old.side, old.levels_count,
                          old.levels)


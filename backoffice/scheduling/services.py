"""Scheduling actions. Each public function is one user action and one transaction.

Double bookings are kept out three times over: the rules check what is booked (and say what is
in the way); on SQLite the check and the insert run inside one BEGIN IMMEDIATE transaction, so
no other writer can slip in between; on PostgreSQL the physician, patient and room rows are
locked for the transaction and exclusion constraints refuse any overlap that still gets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, SQLColumnExpression, literal, literal_column, or_, select, true, union_all
from sqlalchemy.orm import joinedload

from backoffice.audit.trail import record_event
from backoffice.auth.editing import ensure_current, mark_changed, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, transaction
from backoffice.core.errors import ConcurrentChange, DomainError, FieldErrors, NotFound, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, OfficeClosure, Physician, PhysicianLeave, Room
from backoffice.practice.rules import WorkBlock, physician_short_name
from backoffice.procedures import candidacy
from backoffice.procedures.followups import create_follow_ups
from backoffice.scheduling import rules
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import (
    ACTIVE_STATUS_VALUES,
    Booked,
    BusyIndex,
    CancelReason,
    Limits,
    OfficeSpec,
    PhysicianSpec,
    PriorProcedure,
    Problem,
    ProcedureSpec,
    RoomSpec,
    Slot,
    SlotRequest,
    Status,
)

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
    pass


# Specs: the rules' view of the practice.

def procedure_spec(procedure: ProcedureType) -> ProcedureSpec:
    return ProcedureSpec(
        id=procedure.id, name=procedure.name, code=procedure.code,
        duration=timedelta(minutes=procedure.duration_minutes),
        turnover=timedelta(minutes=procedure.turnover_minutes), needs=procedure.capabilities,
        asks_region=procedure.asks_region, asks_side=procedure.asks_side,
        asks_levels=procedure.asks_levels, max_levels=procedure.max_levels,
        frequency_group=procedure.frequency_group, max_per_year=procedure.max_per_year,
        min_days_between=procedure.min_days_between, interval_scope=procedure.interval_scope,
        active=procedure.active, kind=procedure.kind)


def office_spec(office: Office) -> OfficeSpec:
    return OfficeSpec(office.id, office.name, office.timezone,
                      {row.weekday: (row.opens, row.closes) for row in office.hours},
                      {closure.day: closure.reason for closure in office.closures}, office.active)


def room_spec(room: Room) -> RoomSpec:
    return RoomSpec(room.id, room.office_id, room.name, room.capabilities, room.active)


def physician_spec(physician: Physician) -> PhysicianSpec:
    blocks = tuple(WorkBlock(b.weekday, b.starts, b.ends, b.office_id, b.effective_from, b.effective_until)
                   for b in physician.schedules)
    leave = tuple(rules.Leave(item.first_day, item.last_day, item.reason) for item in physician.leaves)
    return PhysicianSpec(physician.id, physician.short_name, blocks, leave, physician.active)


def offices_query(from_day: date | None = None) -> Select[Office]:
    """Offices with their hours and closed days in one query (read the result with .unique()):
    the closed days from `from_day` on when given, as years of past ones would multiply the rows."""
    closures = Office.closures.and_(OfficeClosure.day >= from_day) if from_day else Office.closures
    return select(Office).options(joinedload(Office.hours), joinedload(closures))


def physicians_query(from_day: date | None = None) -> Select[Physician]:
    """Physicians with their schedules and leave in one query (read with .unique()): the leave
    that has not ended before `from_day` when given."""
    leaves = Physician.leaves.and_(PhysicianLeave.last_day >= from_day) if from_day else Physician.leaves
    return select(Physician).options(joinedload(Physician.schedules), joinedload(leaves))


def _with_labels(query: Select[Appointment]) -> Select[Appointment]:
    return query.options(joinedload(Appointment.procedure_type), joinedload(Appointment.physician),
                         joinedload(Appointment.room), joinedload(Appointment.office))


LONGEST_BOOKING = timedelta(days=1)  # no procedure with its turnover holds a room longer
AppointmentRows = Select[*tuple[Any, ...]]


def _appointment_rows() -> AppointmentRows:
    """Appointments as plain rows with the names the rules quote, not ORM objects: two months of a
    practice's bookings are a thousand or more."""
    return (select(Appointment.id, Appointment.office_id, Appointment.room_id, Appointment.physician_id,
                   Appointment.patient_id, Appointment.starts_at, Appointment.ends_at, Appointment.blocked_until,
                   Appointment.status, Appointment.region, Appointment.side, ProcedureType.frequency_group,
                   ProcedureType.name.label("procedure"), Physician.last_name.label("physician"),
                   Room.name.label("room"), Office.name.label("office"), Office.timezone)
            .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
            .join(Physician, Appointment.physician_id == Physician.id)
            .join(Room, Appointment.room_id == Room.id).join(Office, Appointment.office_id == Office.id))


def _active_query(start: datetime, end: datetime, *, room_ids: Sequence[int] = (),
                  physician_ids: Sequence[int] = (), patient_ids: Sequence[int] = (),
                  by_start: bool = False) -> AppointmentRows | None:
    """Active appointments touching [start, end) of these rooms, physicians or patients (None
    when no one is named), ordered `by_start` for a reader that stops early."""
    columns: tuple[SQLColumnExpression[int], ...] = (Appointment.room_id, Appointment.physician_id,
                                                      Appointment.patient_id)
    if by_start:
        # Read through the index on the start alone, which gives the rows in order as they are
        # fetched: SQLite would otherwise combine the room, physician and patient indexes and sort
        # every row of the window before returning the first ("+ 0" keeps a column off its index).
        columns = tuple(column + literal_column("0") for column in columns)
    who = [column.in_(ids) for column, ids in zip(columns, (room_ids, physician_ids, patient_ids), strict=True)
           if ids]
    if not who:
        return None
    query = _appointment_rows().where(Appointment.status.in_(ACTIVE_STATUS_VALUES), Appointment.starts_at < end,
                                      # A lower bound on the start keeps this an index range, not a scan of
                                      # all history.
                                      Appointment.starts_at > start - LONGEST_BOOKING,
                                      Appointment.blocked_until > start, or_(*who))
    return query.order_by(Appointment.starts_at) if by_start else query


def _history_query(patient_id: int, around: date) -> AppointmentRows:
    """The patient's procedures that count against limits, two years either side of `around`."""
    start = datetime.combine(around - timedelta(days=730), time(0), UTC)
    end = datetime.combine(around + timedelta(days=730), time(0), UTC)
    return _appointment_rows().where(Appointment.patient_id == patient_id, Appointment.starts_at >= start,
                                     Appointment.starts_at < end, ProcedureType.frequency_group.is_not(None))


def _booked(row: Sequence[Any]) -> Booked:
    # Unpacked in the order _appointment_rows selects: a search reads hundreds of rows.
    (appointment_id, office_id, room_id, physician_id, patient_id, starts_at, ends_at, blocked_until,
     _, _, _, _, procedure, physician, room, office, timezone) = row[:17]
    return Booked(appointment_id, office_id, room_id, physician_id, patient_id, starts_at, ends_at, blocked_until,
                  rules.procedure_label(procedure), physician_short_name(physician), room, office, timezone)


def _prior(row: Row[Any]) -> PriorProcedure:
    local_day = row.starts_at.astimezone(ZoneInfo(row.timezone)).date()
    return PriorProcedure(row.id, local_day, row.frequency_group, row.region, row.procedure, Status(row.status),
                          row.side)


def _active_between(start: datetime, end: datetime, *, room_ids: Sequence[int] = (),
                    physician_ids: Sequence[int] = (), patient_ids: Sequence[int] = ()) -> list[Booked]:
    query = _active_query(start, end, room_ids=room_ids, physician_ids=physician_ids, patient_ids=patient_ids)
    return [] if query is None else [_booked(row) for row in db.session.execute(query)]


def _history(patient_id: int | None, around: date, *, ignore: int | None = None) -> list[PriorProcedure]:
    if patient_id is None:
        return []
    return [_prior(row) for row in db.session.execute(_history_query(patient_id, around)) if row.id != ignore]


def _busy_and_history(start: datetime, end: datetime, *, room_id: int, physician_id: int, patient_id: int | None,
                      around: date, ignore: int | None = None) -> tuple[list[Booked], list[PriorProcedure]]:
    """`_active_between` for one room, physician and patient, and the patient's `_history`, in one
    statement: the two queries joined by UNION ALL, each row saying which one it answers."""
    if patient_id is None:
        return _active_between(start, end, room_ids=[room_id], physician_ids=[physician_id]), []
    busy = _active_query(start, end, room_ids=[room_id], physician_ids=[physician_id], patient_ids=[patient_id])
    assert busy is not None
    history = _history_query(patient_id, around)
    rows = db.session.execute(union_all(busy.add_columns(literal(True).label("busy")),
                                        history.add_columns(literal(False).label("busy")))).all()
    return ([_booked(row) for row in rows if row.busy],
            [_prior(row) for row in rows if not row.busy and row.id != ignore])


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


def _problems(request: SlotRequest, *, now: datetime, limits: Limits,
              ignore: int | None = None) -> list[Problem]:
    window = timedelta(days=1)
    day = request.start.astimezone(ZoneInfo(request.office.timezone)).date()
    busy, history = _busy_and_history(request.start - window, request.blocked_until + window,
                                      room_id=request.room.id, physician_id=request.physician.id,
                                      patient_id=request.patient_id, around=day, ignore=ignore)
    return rules.slot_problems(request, BusyIndex(busy, ignore=ignore), now=now, limits=limits, history=history)


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
    return rules.is_overridden(problems, override_reason=override_reason,
                               by_physician=by.can(Permission.OVERRIDE_BOOKING_RULES))


def _ensure_booker(by: Actor) -> None:
    if not by.can(Permission.BOOK_APPOINTMENTS):
        raise Refused("Booking, moving and cancelling procedures is for schedulers and physicians.")


def book_appointment(request: BookingRequest, *, by: Actor, now: datetime, limits: Limits) -> Appointment:
    """Book one procedure. Raises BookingConflict (what is in the way, and alternatives)."""
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
    missing = rules.detail_problems(slot)
    if missing:  # what the form lacks, not what is in the way: no alternatives to offer
        raise FieldErrors({problem.field: problem.message for problem in missing})
    problems = _problems(slot, now=now, limits=limits) + _candidacy_problems(slot, now)
    overridden = _check_or_override(problems, request.override_reason, by)
    if problems and not overridden:
        raise _NotBookable(slot, problems)
    appointment = Appointment(
        patient_id=request.patient_id, procedure_type_id=request.procedure_type_id,
        physician_id=request.physician_id, office_id=request.office_id, room_id=request.room_id,
        starts_at=slot.start, ends_at=slot.end, blocked_until=slot.blocked_until,
        region=request.region if setting.procedure.asks_region else None,
        side=request.side if setting.procedure.asks_side else None,
        levels_count=request.levels_count if setting.procedure.asks_levels else None,
        levels=request.levels if setting.procedure.asks_levels else None,
        status=Status.SCHEDULED.value, status_changed_at=now, prior_auth_ref=request.prior_auth_ref,
        notes=request.notes, override_reason=request.override_reason if overridden else None,
        created_by_id=by.user_id, **stamps(by, now))
    db.session.add(appointment)
    db.session.flush()
    if overridden:
        _record_override(appointment, problems, request.override_reason or "", by)
    return appointment


def _candidacy_problems(slot: SlotRequest, now: datetime) -> list[Problem]:
    """A new booking of a repeat procedure, a rhizotomy or an implant the rules say should wait."""
    if slot.patient_id is None:
        return []
    zone = ZoneInfo(slot.office.timezone)
    message = candidacy.booking_refusal(slot.patient_id, ProcedureKind(slot.procedure.kind), region=slot.region,
                                        side=slot.side, day=slot.start.astimezone(zone).date(),
                                        today=now.astimezone(zone).date())
    if message is None:
        return []
    return [Problem("candidacy", "procedure_type_id", f"{message} A physician can override with a reason.",
                    overridable=True)]


def _record_override(appointment: Appointment, problems: Sequence[Problem], reason: str, by: Actor) -> None:
    record_event(db.session, by, "override", "appointment", appointment.id,
                 patient_id=appointment.patient_id, office_id=appointment.office_id,
                 subject="Refused booking overridden", details={"override_reason": reason},
                 changes={"refused": [None, " ".join(p.message for p in problems)],
                          "override_reason": [None, reason]})


# Reading.

def _visible(by: Actor) -> bool:
    """An appointment's page names its patient: clinical roles only."""
    return by.can(Permission.OPEN_APPOINTMENTS)


def get_appointment(appointment_id: int, *, by: Actor, lock: bool = False) -> Appointment:
    if not _visible(by):
        raise NotFound("appointment", appointment_id)
    query = _with_labels(select(Appointment).where(Appointment.id == appointment_id)).options(
        joinedload(Appointment.patient), joinedload(Appointment.replaces),
        joinedload(Appointment.replaced_by))
    appointment = db.session.scalars(for_update(query, of=Appointment) if lock else query).unique().first()
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    return appointment


def open_appointment(appointment_id: int, *, by: Actor) -> Appointment:
    """An appointment's page shows its patient: the opening is audited like a patient record's."""
    with transaction(db.session, by):
        appointment = get_appointment(appointment_id, by=by)
        record_event(db.session, by, "view", "appointment", appointment.id,
                     patient_id=appointment.patient_id, office_id=appointment.office_id)
    return appointment


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
        problem = rules.status_move_problem(appointment.status_enum, target, start=appointment.starts_at,
                                            now=now, timezone=appointment.office.timezone)
        if problem:
            raise StatusRefused(problem)
        appointment.status = target.value
        appointment.status_changed_at = now
        if target is Status.CHECKED_IN and baseline_nrs is not None:
            appointment.baseline_nrs = baseline_nrs
        mark_changed(appointment, by, now)
        if target is Status.COMPLETED:
            create_follow_ups(appointment, by, now)
    return appointment


def cancel_appointment(appointment_id: int, reason: CancelReason, note: str | None, *,
                       expected_version: int, by: Actor, now: datetime) -> Appointment:
    _ensure_booker(by)
    with transaction(db.session, by):
        appointment = _locked_for_change(appointment_id, expected_version, by)
        problem = rules.status_move_problem(appointment.status_enum, Status.CANCELLED,
                                            start=appointment.starts_at, now=now,
                                            timezone=appointment.office.timezone)
        if problem:
            raise StatusRefused(problem)
        if reason is CancelReason.OTHER and not note:
            raise FieldErrors({"note": "Say why, when the reason is “other”."})
        appointment.status = Status.CANCELLED.value
        appointment.cancel_reason = reason.value
        appointment.cancel_note = note
        appointment.status_changed_at = now
        mark_changed(appointment, by, now)
    return appointment


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
    if not old.is_movable:
        state = old.status_enum.label.lower()
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
        status=Status.SCHEDULED.value, status_changed_at=now, prior_auth_ref=old.prior_auth_ref,
        notes=old.notes, replaces_id=old.id, override_reason=reason, created_by_id=by.user_id,
        **stamps(by, now))
    old.status = Status.RESCHEDULED.value
    old.status_changed_at = now
    mark_changed(old, by, now)
    db.session.flush()  # the old one stops holding its time before the new one takes it
    db.session.add(new)
    db.session.flush()
    if problems:
        _record_override(new, problems, reason or "", by)
    return new


def _move_request(old: Appointment, move: Move) -> BookingRequest:
    return BookingRequest(old.patient_id, old.procedure_type_id, move.physician_id, move.office_id,
                          move.room_id, move.day, move.time, old.region, old.side, old.levels_count,
                          old.levels)


# Next available.

def find_next_available(procedure_type_id: int, *, physician_id: int | None = None,
                        office_id: int | None = None, earliest: datetime, now: datetime, limits: Limits,
                        part: rules.PartOfDay = rules.PartOfDay.ANY, count: int = 10, days: int = 60,
                        patient_id: int | None = None, region: str | None = None, side: str | None = None,
                        ignore: int | None = None) -> list[Slot]:
    """The first free slots for a procedure, for a patient and region when given (so that their
    own bookings and limits count), leaving out appointment `ignore` (one being moved):
    a fixed number of queries, then pure rules."""
    procedure = db.session.get(ProcedureType, procedure_type_id)
    if procedure is None:
        raise FieldErrors({"procedure_type_id": "Choose a procedure."})
    earliest = max(earliest, now)  # the search starts there, and the bookings read must too
    from_day = (earliest - timedelta(days=1)).date()
    which_offices = offices_query(from_day).where(Office.active.is_(True)).order_by(Office.name)
    if office_id is not None:
        which_offices = which_offices.where(Office.id == office_id)
    offices = [office_spec(office) for office in db.session.scalars(which_offices).unique()]
    which_physicians = physicians_query(from_day).where(Physician.active.is_(True)).order_by(Physician.last_name)
    if physician_id is not None:
        which_physicians = which_physicians.where(Physician.id == physician_id)
    physicians = [physician_spec(physician) for physician in db.session.scalars(which_physicians).unique()]
    rooms = [room_spec(room) for room in db.session.scalars(
        select(Room).where(Room.active.is_(True), Room.office_id.in_([o.id for o in offices])))]
    history = _history(patient_id, earliest.date(), ignore=ignore)
    bookings = _active_query(earliest - timedelta(days=1), earliest + timedelta(days=days + 1),
                             room_ids=[r.id for r in rooms], physician_ids=[p.id for p in physicians],
                             patient_ids=[patient_id] if patient_id else [], by_start=True)
    if bookings is None:  # no physician (nor room), so no slot
        return []
    # One statement for the whole search, its rows read only as far as the search goes: a full
    # week costs more rows, never another query. Through the connection, as the ORM would fetch
    # every row before handing over the first.
    with db.session.connection().execute(bookings) as rows:
        busy = BusyIndex(map(_booked, rows), ignore=ignore, in_start_order=True)
        return rules.find_slots(procedure_spec(procedure), offices=offices, rooms=rooms, physicians=physicians,
                                busy=busy, earliest=earliest, days=days, now=now, limits=limits, part=part,
                                count=count, patient_id=patient_id, history=history, region=region, side=side)

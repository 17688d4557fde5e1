"""What the scheduling rules are given, read from the database: the practice as specs (offices
with their hours and closed days, rooms, physicians with their schedules and leave, procedures),
the bookings in the way, and the patient's history that counts against limits (their
appointments and the procedures they had elsewhere). Booking, moving and the next-available
search read through these, in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Row, Select, String, cast, literal, null, or_, select, union_all
from sqlalchemy.orm import joinedload

from backoffice.catalog.models import ProcedureType
from backoffice.core.db import UTCDateTime
from backoffice.core.extensions import db
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import done_elsewhere
from backoffice.practice.models import Office, OfficeClosure, Physician, PhysicianLeave, Room
from backoffice.practice.rules import WorkBlock, physician_short_name
from backoffice.scheduling import rules
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import (
    ACTIVE_STATUSES,
    Booked,
    OfficeSpec,
    PhysicianSpec,
    PriorProcedure,
    ProcedureSpec,
    RoomSpec,
    Status,
)

# Specs: the rules' view of the practice.

def procedure_spec(procedure: ProcedureType) -> ProcedureSpec:
    return ProcedureSpec(
        id=procedure.id, name=procedure.name, code=procedure.code,
        duration=timedelta(minutes=procedure.duration_minutes),
        turnover=timedelta(minutes=procedure.turnover_minutes), needs=procedure.capabilities,
        asks_region=procedure.asks_region, asks_side=procedure.asks_side,
        asks_levels=procedure.asks_levels, max_levels=procedure.max_levels,
        frequency_group=procedure.frequency_group, max_per_year=procedure.max_per_year,
        min_interval=procedure.minimum_interval, interval_scope=procedure.interval_scope,
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


def active_query(start: datetime, end: datetime, *, room_ids: Sequence[int] = (),
                 physician_ids: Sequence[int] = (), patient_ids: Sequence[int] = (),
                 by_start: bool = False) -> AppointmentRows | None:
    """Active appointments touching [start, end) of these rooms, physicians or patients (None
    when no one is named), ordered `by_start` for a reader that stops early."""
    columns = (Appointment.room_id, Appointment.physician_id, Appointment.patient_id)
    who = [column.in_(ids) for column, ids in zip(columns, (room_ids, physician_ids, patient_ids), strict=True)
           if ids]
    if not who:
        return None
    query = _appointment_rows().where(Appointment.status.in_(ACTIVE_STATUSES), Appointment.starts_at < end,
                                      # A lower bound on the start keeps this an index range, not a scan of
                                      # all history.
                                      Appointment.starts_at > start - LONGEST_BOOKING,
                                      Appointment.blocked_until > start, or_(*who))
    return query.order_by(Appointment.starts_at) if by_start else query


# The columns only a procedure done elsewhere has (its day, where and by whom), empty on an
# appointment's row, so that both kinds of row come back from one UNION ALL.
NOT_OUTSIDE = (cast(null(), Date).label("performed_on"), cast(null(), String).label("facility"),
               cast(null(), String).label("performed_by"))
HISTORY_DAYS = 730


def _history_queries(patient_id: int, around: date) -> tuple[AppointmentRows, AppointmentRows]:
    """The patient's procedures that count against limits, two years either side of `around`:
    their appointments, and the procedures they had elsewhere (as rows of the same columns)."""
    start = datetime.combine(around - timedelta(days=HISTORY_DAYS), time(0), UTC)
    end = datetime.combine(around + timedelta(days=HISTORY_DAYS), time(0), UTC)
    here = _appointment_rows().add_columns(*NOT_OUTSIDE).where(
        Appointment.patient_id == patient_id, Appointment.starts_at >= start, Appointment.starts_at < end,
        ProcedureType.frequency_group.is_not(None))
    no_id, no_time, no_name = cast(null(), Integer), cast(null(), UTCDateTime), cast(null(), String)
    elsewhere = (
        select(OutsideProcedure.id, no_id.label("office_id"), no_id.label("room_id"), no_id.label("physician_id"),
               OutsideProcedure.patient_id, no_time.label("starts_at"), no_time.label("ends_at"),
               no_time.label("blocked_until"), literal(Status.COMPLETED.value, String).label("status"),
               OutsideProcedure.region, OutsideProcedure.side, ProcedureType.frequency_group,
               ProcedureType.name.label("procedure"), no_name.label("physician"), no_name.label("room"),
               no_name.label("office"), no_name.label("timezone"), OutsideProcedure.performed_on,
               OutsideProcedure.facility, OutsideProcedure.performed_by)
        .join(ProcedureType, OutsideProcedure.procedure_type_id == ProcedureType.id)
        .where(OutsideProcedure.patient_id == patient_id,
               OutsideProcedure.performed_on >= around - timedelta(days=HISTORY_DAYS),
               OutsideProcedure.performed_on < around + timedelta(days=HISTORY_DAYS),
               ProcedureType.frequency_group.is_not(None)))
    return here, elsewhere


def as_booked(row: Row[Any]) -> Booked:
    return Booked(row.id, row.office_id, row.room_id, row.physician_id, row.patient_id, row.starts_at, row.ends_at,
                  row.blocked_until, rules.procedure_label(row.procedure), physician_short_name(row.physician),
                  row.room, row.office, row.timezone)


def as_prior(row: Row[Any]) -> PriorProcedure:
    """A row of `_history_queries`: an appointment, on its office's day, or one done elsewhere."""
    if row.performed_on is not None:
        return PriorProcedure(None, row.performed_on, row.frequency_group, row.region, row.procedure,
                              Status.COMPLETED, row.side, outside=done_elsewhere(row.facility, row.performed_by))
    local_day = row.starts_at.astimezone(ZoneInfo(row.timezone)).date()
    return PriorProcedure(row.id, local_day, row.frequency_group, row.region, row.procedure, row.status,
                          row.side)


def _counts(row: Row[Any], ignore: int | None) -> bool:
    """Whether a history row counts: all but appointment `ignore` (one being moved)."""
    return row.performed_on is not None or row.id != ignore


def _active_between(start: datetime, end: datetime, *, room_ids: Sequence[int] = (),
                    physician_ids: Sequence[int] = (), patient_ids: Sequence[int] = ()) -> list[Booked]:
    query = active_query(start, end, room_ids=room_ids, physician_ids=physician_ids, patient_ids=patient_ids)
    return [] if query is None else [as_booked(row) for row in db.session.execute(query)]


def patient_history(patient_id: int | None, around: date, *, ignore: int | None = None) -> list[PriorProcedure]:
    """The patient's procedures that count against limits (those done elsewhere too), but
    appointment `ignore` (one being moved)."""
    if patient_id is None:
        return []
    rows = db.session.execute(union_all(*_history_queries(patient_id, around)))
    return [as_prior(row) for row in rows if _counts(row, ignore)]


def busy_and_history(start: datetime, end: datetime, *, room_id: int, physician_id: int, patient_id: int | None,
                     around: date, ignore: int | None = None) -> tuple[list[Booked], list[PriorProcedure]]:
    """`_active_between` for one room, physician and patient, and the patient's `patient_history`,
    in one statement: the queries joined by UNION ALL, each row saying which one it answers."""
    if patient_id is None:
        return _active_between(start, end, room_ids=[room_id], physician_ids=[physician_id]), []
    busy = active_query(start, end, room_ids=[room_id], physician_ids=[physician_id], patient_ids=[patient_id])
    assert busy is not None
    here, elsewhere = _history_queries(patient_id, around)
    rows = db.session.execute(union_all(busy.add_columns(*NOT_OUTSIDE, literal(True).label("busy")),
                                        here.add_columns(literal(False).label("busy")),
                                        elsewhere.add_columns(literal(False).label("busy")))).all()
    return ([as_booked(row) for row in rows if row.busy],
            [as_prior(row) for row in rows if not row.busy and _counts(row, ignore)])

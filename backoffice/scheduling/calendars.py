"""The calendars' read model: what the calendars, the day board and the day sheet show. Each
page's data comes from a fixed number of queries, however many appointments there are; showing it
to someone who sees patient names adds one audit row. The services that book and change
appointments are in `services.py`."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from backoffice.audit.readings import record_reading
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import Category, Region, Side
from backoffice.core.actor import Actor
from backoffice.core.errors import NotFound
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import TIME_FORMAT
from backoffice.patients.flags import PatientFlag, known_flags
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, OfficeClosure, OfficeHours, Physician, PhysicianSchedule, Room
from backoffice.practice.rules import periods_overlap, physician_short_name
from backoffice.scheduling import grid
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    CancelReason,
    Status,
    one_click_moves,
    status_move_problem,
)

SHOWN_ON_BOARD = [status for status in Status if status is not Status.RESCHEDULED]
OFF_GRID = (Status.CANCELLED, Status.NO_SHOW)


def may_see_patient_names(by: Actor) -> bool:
    """Clinical staff see who is booked; managers see the calendar's use, not the patients."""
    return by.can(Permission.SEE_PATIENT_NAMES)


def _record_shown(by: Actor, page: str, office_id: int | None, shown: int) -> None:
    """A page that names the patients booked is an opening of patient data: audited."""
    if may_see_patient_names(by):
        record_reading(by, "appointment", office_id=office_id,
                       subject=f"{page}: {shown} appointment{'' if shown == 1 else 's'}")


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants of the local midnight starting `day` and the next one (23 or 25 hours
    apart when the clocks change)."""
    zone = ZoneInfo(timezone)
    return (datetime.combine(day, time(0), zone).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC))


def office_by_slug(slug: str) -> Office:
    """The office alone: a calendar reads the rooms, hours and closed days it shows on its own
    (loading every collection with the office costs more than the rest of the page's queries)."""
    office = db.session.scalars(select(Office).where(Office.slug == slug)).first()
    if office is None:
        raise NotFound("office", slug)
    return office


def _rooms_in_use(office_id: int) -> list[Room]:
    return list(db.session.scalars(select(Room).where(Room.office_id == office_id, Room.active.is_(True))
                                   .order_by(Room.name)))


def _hours(office_id: int) -> dict[int, tuple[time, time]]:
    """Opening and closing time by weekday (0 = Monday); a weekday missing is closed."""
    query = select(OfficeHours.weekday, OfficeHours.opens, OfficeHours.closes).where(OfficeHours.office_id == office_id)
    return {weekday: (opens, closes) for weekday, opens, closes in db.session.execute(query)}


def _closures(office_id: int, first: date, last: date) -> dict[date, str]:
    """Why the office is closed, by day, from `first` to `last`."""
    query = select(OfficeClosure.day, OfficeClosure.reason).where(OfficeClosure.office_id == office_id,
                                                                  OfficeClosure.day.between(first, last))
    return {day: reason for day, reason in db.session.execute(query)}


@dataclass(frozen=True)
class CalendarEntry:
    """An appointment as the calendars, the board and the day sheet show it: one flat row of what
    they print about it, its patient, procedure, physician, room and office, its times in its
    office's local time and the flags its patient carries (MRI unsafe)."""

    id: int
    version: int
    status: Status
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    local_start: datetime
    local_end: datetime
    region: Region | None
    side: Side | None
    levels_count: int | None
    levels: str | None
    prior_auth_ref: str | None
    notes: str | None
    cancel_reason: CancelReason | None
    patient_id: int
    patient_first_name: str
    patient_last_name: str
    patient_date_of_birth: date
    patient_mrn: str
    patient_phone: str | None  # E.164, as stored; the templates format it (`|phone`)
    patient_flags: tuple[PatientFlag, ...]
    procedure_code: str
    procedure_name: str
    procedure_category: Category
    procedure_needs_prior_auth: bool
    physician_last_name: str
    room_id: int
    room_name: str
    office_id: int
    office_name: str

    @property
    def patient_name(self) -> str:
        """"Reyes, Ana", as the calendars list patients."""
        return f"{self.patient_last_name}, {self.patient_first_name}"

    @property
    def physician_name(self) -> str:
        return physician_short_name(self.physician_last_name)

    @property
    def is_open(self) -> bool:
        """Booked and not yet done: its details may still change."""
        return self.status in OPEN_STATUSES

    @property
    def start_time(self) -> str:
        return self.local_start.strftime(TIME_FORMAT)

    @property
    def end_time(self) -> str:
        return self.local_end.strftime(TIME_FORMAT)


def _calendar_rows(flags: Collection[PatientFlag]) -> Select[*tuple[Any, ...]]:
    """The columns a calendar shows of each appointment, named as `CalendarEntry` names them."""
    return (select(Appointment.id, Appointment.version, Appointment.status, Appointment.starts_at,
                   Appointment.ends_at, Appointment.blocked_until, Appointment.region, Appointment.side,
                   Appointment.levels_count, Appointment.levels, Appointment.prior_auth_ref, Appointment.notes,
                   Appointment.cancel_reason, Appointment.patient_id,
                   Patient.first_name.label("patient_first_name"), Patient.last_name.label("patient_last_name"),
                   Patient.date_of_birth.label("patient_date_of_birth"), Patient.mrn.label("patient_mrn"),
                   Patient.phone.label("patient_phone"),
                   ProcedureType.code.label("procedure_code"), ProcedureType.name.label("procedure_name"),
                   ProcedureType.category.label("procedure_category"),
                   ProcedureType.prior_authorization.label("procedure_needs_prior_auth"),
                   Physician.last_name.label("physician_last_name"),
                   Appointment.room_id, Room.name.label("room_name"),
                   Appointment.office_id, Office.name.label("office_name"), Office.timezone.label("office_timezone"),
                   *(flag.carried_by(Appointment.patient_id).label(flag.name) for flag in flags))
            .join(Appointment.patient).join(Appointment.procedure_type).join(Appointment.physician)
            .join(Appointment.room).join(Appointment.office))


def _entry(row: Row[Any], flags: Collection[PatientFlag]) -> CalendarEntry:
    zone = ZoneInfo(row.office_timezone)
    return CalendarEntry(
        id=row.id, version=row.version, status=row.status, starts_at=row.starts_at, ends_at=row.ends_at,
        blocked_until=row.blocked_until, local_start=row.starts_at.astimezone(zone),
        local_end=row.ends_at.astimezone(zone), region=row.region, side=row.side, levels_count=row.levels_count,
        levels=row.levels, prior_auth_ref=row.prior_auth_ref, notes=row.notes, cancel_reason=row.cancel_reason,
        patient_id=row.patient_id, patient_first_name=row.patient_first_name,
        patient_last_name=row.patient_last_name, patient_date_of_birth=row.patient_date_of_birth,
        patient_mrn=row.patient_mrn, patient_phone=row.patient_phone,
        patient_flags=tuple(flag for flag in flags if getattr(row, flag.name)),
        procedure_code=row.procedure_code, procedure_name=row.procedure_name,
        procedure_category=row.procedure_category, procedure_needs_prior_auth=row.procedure_needs_prior_auth,
        physician_last_name=row.physician_last_name, room_id=row.room_id, room_name=row.room_name,
        office_id=row.office_id, office_name=row.office_name)


def _entries(office_id: int | None, start: datetime, end: datetime, statuses: Collection[Status],
             physician_id: int | None = None) -> list[CalendarEntry]:
    """The appointments starting in [start, end) in these statuses, at an office or of a physician,
    in start order (one query, their patients' flags included)."""
    flags = known_flags()
    query = (_calendar_rows(flags)
             .where(Appointment.starts_at >= start, Appointment.starts_at < end, Appointment.status.in_(statuses))
             .order_by(Appointment.starts_at))
    if office_id is not None:
        query = query.where(Appointment.office_id == office_id)
    if physician_id is not None:
        query = query.where(Appointment.physician_id == physician_id)
    return [_entry(row, flags) for row in db.session.execute(query)]


@dataclass(frozen=True)
class OfficeDay:
    office: Office
    day: date
    rooms: list[Room]
    rows: list[grid.Row]
    appointments: list[CalendarEntry]
    hours: tuple[time, time] | None
    closed_because: str | None
    physicians: list[Physician]
    off_grid: list[CalendarEntry]  # cancelled and no-shows: their slots are free, but the desk asks about them

    @property
    def is_open(self) -> bool:
        return self.hours is not None and self.closed_because is None


def office_day(slug: str, day: date, *, by: Actor, page: str = "office calendar") -> OfficeDay:
    """An office's day by room (the calendar's day view; the day sheet, named by `page`)."""
    office = office_by_slug(slug)
    rooms = _rooms_in_use(office.id)
    start, end = local_day_bounds(day, office.timezone)
    everything = _entries(office.id, start, end, [*ACTIVE_STATUSES, *OFF_GRID])
    on_grid = [entry for entry in everything if entry.status not in OFF_GRID]
    zone = ZoneInfo(office.timezone)
    placed = [grid.Entry(entry.room_id, entry.local_start, entry.local_end,
                         entry.blocked_until.astimezone(zone), entry) for entry in on_grid]
    hours = _hours(office.id).get(day.weekday())
    closure = _closures(office.id, day, day).get(day)
    shown_hours = hours or (time(8), time(17))
    rows = grid.day_rows(day, shown_hours[0], shown_hours[1], [room.id for room in rooms], placed)
    _record_shown(by, f"{page}, {day.isoformat()}", office.id, len(everything))
    return OfficeDay(office, day, rooms, rows, on_grid, hours, closure, working_at(office.id, day),
                     [entry for entry in everything if entry.status in OFF_GRID])


def active_count(office_id: int, day: date) -> int:
    """Appointments still booked at an office on a day (to warn when the day is closed)."""
    office = db.session.get(Office, office_id)
    if office is None:
        return 0
    start, end = local_day_bounds(day, office.timezone)
    return db.session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.office_id == office_id, Appointment.starts_at >= start, Appointment.starts_at < end,
        Appointment.status.in_(ACTIVE_STATUSES))) or 0


def working_at(office_id: int, day: date) -> list[Physician]:
    """The physicians scheduled at the office that day (one query), by last name."""
    blocks = db.session.scalars(
        select(PhysicianSchedule).where(PhysicianSchedule.office_id == office_id,
                                        PhysicianSchedule.weekday == day.weekday())
        .options(joinedload(PhysicianSchedule.physician))).all()
    working = {b.physician.id: b.physician for b in blocks
               if b.physician.active and periods_overlap(b.effective_from, b.effective_until, day, day)}
    return sorted(working.values(), key=lambda p: p.last_name)


@dataclass(frozen=True)
class OfficeWeek:
    office: Office
    days: list[date]
    rooms: list[Room]
    by_day_and_room: dict[tuple[date, int], list[CalendarEntry]]
    open_days: set[date]
    closures: dict[date, str]


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=offset) for offset in range(7)]


def office_week(slug: str, day: date, *, by: Actor) -> OfficeWeek:
    office = office_by_slug(slug)
    days = week_of(day)
    start, _ = local_day_bounds(days[0], office.timezone)
    _, end = local_day_bounds(days[-1], office.timezone)
    cells: dict[tuple[date, int], list[CalendarEntry]] = defaultdict(list)
    entries = _entries(office.id, start, end, ACTIVE_STATUSES)
    for entry in entries:
        cells[(entry.local_start.date(), entry.room_id)].append(entry)
    open_weekdays = set(_hours(office.id))
    closures = _closures(office.id, days[0], days[-1])
    open_days = {d for d in days if d.weekday() in open_weekdays and d not in closures}
    # A weekend the office does not open is left out, unless something is booked on it.
    booked_days = {d for d, _ in cells}
    shown = [d for d in days if d.weekday() < 5 or d in open_days or d in booked_days]
    _record_shown(by, f"office calendar, week of {days[0].isoformat()}", office.id, len(entries))
    return OfficeWeek(office, shown, _rooms_in_use(office.id), dict(cells), open_days, closures)


@dataclass(frozen=True)
class PhysicianDay:
    physician: Physician
    day: date
    blocks: list[PhysicianSchedule]
    appointments: list[CalendarEntry]
    on_leave: str | None


def physician_day(physician_id: int, day: date, practice_timezone: str, *, by: Actor) -> PhysicianDay:
    physician = db.session.scalars(
        select(Physician).where(Physician.id == physician_id)
        .options(selectinload(Physician.schedules).joinedload(PhysicianSchedule.office),
                 selectinload(Physician.leaves))).first()
    if physician is None:
        raise NotFound("physician", physician_id)
    blocks = sorted((b for b in physician.schedules if b.weekday == day.weekday()
                     and periods_overlap(b.effective_from, b.effective_until, day, day)), key=lambda b: b.starts)
    # The day is the local day of the office the physician starts at (of the practice when they
    # do not work that day).
    timezone = blocks[0].office.timezone if blocks else practice_timezone
    start, end = local_day_bounds(day, timezone)
    leave = next((item.reason for item in physician.leaves if item.first_day <= day <= item.last_day), None)
    entries = _entries(None, start, end, ACTIVE_STATUSES, physician_id)
    _record_shown(by, f"day of {physician.display_name}, {day.isoformat()}", None, len(entries))
    return PhysicianDay(physician, day, blocks, entries, leave)


def patient_appointments(patient_id: int) -> list[Appointment]:
    """Every appointment of a patient, newest first (one query)."""
    query = (select(Appointment).where(Appointment.patient_id == patient_id)
             .options(joinedload(Appointment.procedure_type), joinedload(Appointment.physician),
                      joinedload(Appointment.room), joinedload(Appointment.office))
             .order_by(Appointment.starts_at.desc()))
    return list(db.session.scalars(query).unique())


@dataclass(frozen=True)
class BoardLine:
    entry: CalendarEntry
    moves: list[Status]         # the one-click moves possible now
    at_the_start: list[Status]  # those possible from the appointment's start, still to come


def moves_now(status: Status, start: datetime, timezone: str, now: datetime) -> list[Status]:
    """The one-click status moves an appointment in `status` starting at `start` allows now (no
    check-in on another day, no no-show before the appointment time, nothing in the room before it)."""
    return [move for move in one_click_moves(status)
            if status_move_problem(status, move, start=start, now=now, timezone=timezone) is None]


def moves_at_the_start(status: Status, start: datetime, timezone: str, now: datetime) -> list[Status]:
    """The one-click moves that wait only for the appointment's start (in room, complete)."""
    return [move for move in one_click_moves(status)
            if (problem := status_move_problem(status, move, start=start, now=now, timezone=timezone))
            and problem.not_before is not None]


@dataclass(frozen=True)
class OfficeBoard:
    office: Office
    day: date
    lines: list[BoardLine]
    closed_because: str | None

    @property
    def digest(self) -> str:
        """A fingerprint of everything the board shows, the same in every process: a page that
        shows the board with this digest has nothing to refresh."""
        shown: list[tuple[object, ...]] = [(self.office.name, self.day, self.closed_because)]
        for line in self.lines:
            entry = line.entry
            values = [getattr(entry, name.name) for name in fields(entry) if name.name != "patient_flags"]
            shown.append((*values, [flag.name for flag in entry.patient_flags], line.moves, line.at_the_start))
        return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


def _read_board(slug: str, day: date, now: datetime) -> OfficeBoard:
    office = office_by_slug(slug)
    start, end = local_day_bounds(day, office.timezone)
    lines = [BoardLine(entry, moves_now(entry.status, entry.starts_at, office.timezone, now),
                       moves_at_the_start(entry.status, entry.starts_at, office.timezone, now))
             for entry in _entries(office.id, start, end, SHOWN_ON_BOARD)]
    return OfficeBoard(office, day, lines, _closures(office.id, day, day).get(day))


def office_board(slug: str, day: date, now: datetime, *, by: Actor) -> OfficeBoard:
    """The day's appointments at an office with the status moves each one allows now."""
    board = _read_board(slug, day, now)
    _record_shown(by, f"day board, {day.isoformat()}", board.office.id, len(board.lines))
    return board


def changed_board(slug: str, day: date, now: datetime, shown: Collection[str], *, by: Actor) -> OfficeBoard | None:
    """The board for a page that shows the one whose digest is among `shown`: None when nothing on
    it would change (and nothing new was shown, so nothing is audited)."""
    board = _read_board(slug, day, now)
    if board.digest in shown:
        return None
    _record_shown(by, f"day board, {day.isoformat()}, refreshed", board.office.id, len(board.lines))
    return board

"""What the calendars, the day board and the day sheet show. Read-only; each page's data comes
from a fixed number of queries, however many appointments there are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from backoffice.audit.actor import Actor
from backoffice.auth.roles import CLINICAL_ROLES
from backoffice.errors import NotFound
from backoffice.extensions import db
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician, PhysicianSchedule, Room
from backoffice.practice.rules import periods_overlap
from backoffice.scheduling import grid
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUS_VALUES, Status, one_click_moves, status_move_problem

SHOWN_ON_BOARD = [status.value for status in Status if status is not Status.RESCHEDULED]
OFF_GRID = (Status.CANCELLED.value, Status.NO_SHOW.value)


def may_see_patient_names(by: Actor) -> bool:
    """Clinical staff see who is booked; managers see the calendar's use, not the patients."""
    return by.has_any_role(*CLINICAL_ROLES)


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants of the local midnight starting `day` and the next one (23 or 25 hours
    apart when the clocks change)."""
    zone = ZoneInfo(timezone)
    return (datetime.combine(day, time(0), zone).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC))


def office_by_slug(slug: str) -> Office:
    office = db.session.scalars(
        select(Office).where(Office.slug == slug)
        .options(selectinload(Office.hours), selectinload(Office.closures), selectinload(Office.rooms))
    ).first()
    if office is None:
        raise NotFound("office", slug)
    return office


def _appointments(office_id: int | None, start: datetime, end: datetime, statuses: list[str],
                  physician_id: int | None = None) -> list[Appointment]:
    query = (select(Appointment)
             .where(Appointment.starts_at >= start, Appointment.starts_at < end, Appointment.status.in_(statuses))
             .options(joinedload(Appointment.procedure_type), joinedload(Appointment.physician),
                      joinedload(Appointment.room), joinedload(Appointment.office),
                      # What calendars and the board show of a patient, not the whole record.
                      joinedload(Appointment.patient).load_only(Patient.first_name, Patient.last_name,
                                                                Patient.mrn, Patient.date_of_birth))
             .order_by(Appointment.starts_at))
    if office_id is not None:
        query = query.where(Appointment.office_id == office_id)
    if physician_id is not None:
        query = query.where(Appointment.physician_id == physician_id)
    return list(db.session.scalars(query).unique())


@dataclass(frozen=True)
class OfficeDay:
    office: Office
    day: date
    rooms: list[Room]
    rows: list[grid.Row]
    appointments: list[Appointment]
    hours: tuple[time, time] | None
    closed_because: str | None
    physicians: list[Physician]
    off_grid: list[Appointment]  # cancelled and no-shows: their slots are free, but the desk asks about them

    @property
    def is_open(self) -> bool:
        return self.hours is not None and self.closed_because is None


def office_day(slug: str, day: date) -> OfficeDay:
    office = office_by_slug(slug)
    rooms = [room for room in office.rooms if room.active]
    start, end = local_day_bounds(day, office.timezone)
    everything = _appointments(office.id, start, end, [*ACTIVE_STATUS_VALUES, *OFF_GRID])
    appointments = [a for a in everything if a.status not in OFF_GRID]
    zone = ZoneInfo(office.timezone)
    entries = [grid.Entry(a.room_id, a.starts_at.astimezone(zone), a.ends_at.astimezone(zone),
                          a.blocked_until.astimezone(zone), a) for a in appointments]
    hours = next(((h.opens, h.closes) for h in office.hours if h.weekday == day.weekday()), None)
    closure = next((c.reason for c in office.closures if c.day == day), None)
    shown_hours = hours or (time(8), time(17))
    rows = grid.day_rows(day, shown_hours[0], shown_hours[1], [room.id for room in rooms], entries)
    return OfficeDay(office, day, rooms, rows, appointments, hours, closure, working_at(office.id, day),
                     [a for a in everything if a.status in OFF_GRID])


def active_count(office_id: int, day: date) -> int:
    """Appointments still booked at an office on a day (to warn when the day is closed)."""
    office = db.session.get(Office, office_id)
    if office is None:
        return 0
    start, end = local_day_bounds(day, office.timezone)
    return db.session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.office_id == office_id, Appointment.starts_at >= start, Appointment.starts_at < end,
        Appointment.status.in_(ACTIVE_STATUS_VALUES))) or 0


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
    by_day_and_room: dict[tuple[date, int], list[Appointment]]
    open_days: set[date]
    closures: dict[date, str]


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=offset) for offset in range(7)]


def office_week(slug: str, day: date) -> OfficeWeek:
    office = office_by_slug(slug)
    days = week_of(day)
    start, _ = local_day_bounds(days[0], office.timezone)
    _, end = local_day_bounds(days[-1], office.timezone)
    zone = ZoneInfo(office.timezone)
    cells: dict[tuple[date, int], list[Appointment]] = defaultdict(list)
    for appointment in _appointments(office.id, start, end, ACTIVE_STATUS_VALUES):
        cells[(appointment.starts_at.astimezone(zone).date(), appointment.room_id)].append(appointment)
    open_weekdays = {h.weekday for h in office.hours}
    closures = {c.day: c.reason for c in office.closures if days[0] <= c.day <= days[-1]}
    open_days = {d for d in days if d.weekday() in open_weekdays and d not in closures}
    # A weekend the office does not open is left out, unless something is booked on it.
    booked_days = {d for d, _ in cells}
    shown = [d for d in days if d.weekday() < 5 or d in open_days or d in booked_days]
    return OfficeWeek(office, shown, [r for r in office.rooms if r.active], dict(cells), open_days, closures)


@dataclass(frozen=True)
class PhysicianDay:
    physician: Physician
    day: date
    blocks: list[PhysicianSchedule]
    appointments: list[Appointment]
    on_leave: str | None


def physician_day(physician_id: int, day: date, practice_timezone: str) -> PhysicianDay:
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
    appointments = _appointments(None, start, end, ACTIVE_STATUS_VALUES, physician_id)
    return PhysicianDay(physician, day, blocks, appointments, leave)


def patient_appointments(patient_id: int) -> list[Appointment]:
    """Every appointment of a patient, newest first (one query)."""
    query = (select(Appointment).where(Appointment.patient_id == patient_id)
             .options(joinedload(Appointment.procedure_type), joinedload(Appointment.physician),
                      joinedload(Appointment.room), joinedload(Appointment.office))
             .order_by(Appointment.starts_at.desc()))
    return list(db.session.scalars(query).unique())


@dataclass(frozen=True)
class BoardLine:
    appointment: Appointment
    moves: list[Status]


def moves_now(appointment: Appointment, now: datetime) -> list[Status]:
    """The one-click status moves the appointment allows now (no check-in on another day, no
    no-show before the appointment time)."""
    return [move for move in one_click_moves(appointment.status_enum)
            if status_move_problem(appointment.status_enum, move, start=appointment.starts_at, now=now,
                                   timezone=appointment.office.timezone) is None]


def office_board(slug: str, day: date, now: datetime) -> tuple[Office, list[BoardLine]]:
    """The day's appointments at an office with the status moves each one allows now."""
    office = office_by_slug(slug)
    start, end = local_day_bounds(day, office.timezone)
    return office, [BoardLine(a, moves_now(a, now)) for a in _appointments(office.id, start, end, SHOWN_ON_BOARD)]

"""Practice setup actions (admin). Each public function is one user action and one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from backoffice.auth.editing import apply_edit, ensure_current, mark_changed, stamps
from backoffice.auth.models import User
from backoffice.core.actor import Actor
from backoffice.core.db import another_with, for_update, get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Role
from backoffice.practice import rules
from backoffice.practice.events import OfficeChanged
from backoffice.practice.models import (
    WEEKDAYS,
    Office,
    OfficeClosure,
    OfficeHours,
    Physician,
    PhysicianLeave,
    PhysicianSchedule,
    Room,
)


@dataclass(frozen=True)
class OfficeData:
    name: str
    slug: str
    address: str
    city: str
    state: str
    postal_code: str
    phone: str
    timezone: str
    active: bool = True


@dataclass(frozen=True)
class RoomData:
    name: str
    fluoroscopy: bool
    sterile_implant: bool
    sedation: bool
    active: bool = True


@dataclass(frozen=True)
class PhysicianData:
    first_name: str
    last_name: str
    credentials: str
    npi: str | None
    user_id: int | None
    active: bool = True


@dataclass(frozen=True)
class ScheduleData:
    office_id: int
    weekday: int
    starts: time
    ends: time
    effective_from: date | None
    effective_until: date | None


# Offices

def list_offices(*, active_only: bool = False) -> list[Office]:
    """The offices by name, with their rooms (one query)."""
    query = select(Office).options(joinedload(Office.rooms)).order_by(Office.name)
    if active_only:
        query = query.where(Office.active.is_(True))
    return list(db.session.scalars(query).unique())


@dataclass(frozen=True)
class OfficeLink:
    id: int
    slug: str
    name: str


def office_links() -> list[OfficeLink]:
    """The offices open for booking, as the calendars' office tabs link them (one query)."""
    return [OfficeLink(office_id, slug, name) for office_id, slug, name in db.session.execute(
        select(Office.id, Office.slug, Office.name).where(Office.active.is_(True)).order_by(Office.name))]


def office_choices() -> list[tuple[str, str]]:
    """(id, name) of the offices open for booking, for select fields (one query)."""
    return [(str(office_id), name) for office_id, name in db.session.execute(
        select(Office.id, Office.name).where(Office.active.is_(True)).order_by(Office.name))]


def get_office(office_id: int, *, lock: bool = False) -> Office:
    query = (select(Office).where(Office.id == office_id)
             .options(selectinload(Office.hours), selectinload(Office.closures),
                      selectinload(Office.rooms)))
    office: Office | None = db.session.scalars(for_update(query) if lock else query).first()
    if office is None:
        raise NotFound("office", office_id)
    return office


def _office_clashes(data: OfficeData, office_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not rules.is_valid_slug(data.slug):
        errors["slug"] = "Use lower-case letters, digits and single hyphens (it appears in URLs)."
    for field, value in (("name", data.name), ("slug", data.slug)):
        if another_with(db.session, Office, getattr(Office, field) == value, besides=office_id):
            errors[field] = f"Another office already uses {value}."
    return errors


def create_office(data: OfficeData, *, by: Actor, now: datetime) -> Office:
    with transaction(db.session, by):
        errors = _office_clashes(data, None)
        if errors:
            raise FieldErrors(errors)
        office = Office(**vars(data), **stamps(by, now))
        db.session.add(office)
    return office


def update_office(office_id: int, data: OfficeData, *, expected_version: int, by: Actor,
                  now: datetime) -> Office:
    with transaction(db.session, by):
        office = get_one(db.session, Office, office_id, entity="office", lock=True)
        errors = _office_clashes(data, office_id)
        if errors:
            raise FieldErrors(errors)
        changed = apply_edit(db.session, office, vars(data), expected_version=expected_version, by=by,
                             now=now, what=f"The office {office.name}")
        if changed:
            publish(OfficeChanged(office.id, changed, by=by, at=now))
    return office


def _blocks_outside(office: Office, hours: dict[int, tuple[time, time] | None]) -> list[str]:
    """Schedule blocks at this office that the new opening hours would leave outside."""
    blocks = db.session.scalars(
        select(PhysicianSchedule).where(PhysicianSchedule.office_id == office.id)
        .options(selectinload(PhysicianSchedule.physician))).all()
    opening = {day: span for day, span in hours.items() if span is not None}
    return [f"{block.physician.short_name} works {WEEKDAYS[block.weekday]}s "
            f"{block.starts:%H:%M}-{block.ends:%H:%M} at {office.name}"
            for block in blocks if not rules.is_within_hours(_block(block), opening)]


def set_office_hours(office_id: int, hours: dict[int, tuple[time, time] | None], *,
                     expected_version: int, by: Actor, now: datetime) -> Office:
    """Replace the weekly opening hours; a weekday mapped to None is closed. Refused while a
    physician's schedule block would fall outside the new hours."""
    errors = {f"day_{weekday}": f"{WEEKDAYS[weekday]}: opening must be before closing."
              for weekday, span in hours.items() if span is not None and span[0] >= span[1]}
    if errors:
        raise FieldErrors(errors)
    with transaction(db.session, by):
        office = get_office(office_id, lock=True)
        ensure_current(db.session, office, expected_version, f"The office {office.name}")
        outside = _blocks_outside(office, hours)
        if outside:
            raise FieldErrors({"hours": "Change those schedules first: " + "; ".join(outside) + "."})
        current = {row.weekday: row for row in office.hours}
        for weekday, span in hours.items():
            row = current.get(weekday)
            if span is None:
                if row is not None:
                    office.hours.remove(row)
            elif row is None:
                office.hours.append(OfficeHours(weekday=weekday, opens=span[0], closes=span[1]))
            else:
                row.opens, row.closes = span
        mark_changed(office, by, now)
    return office


def add_closure(office_id: int, day: date, reason: str, *, by: Actor) -> OfficeClosure:
    with transaction(db.session, by):
        office = get_office(office_id, lock=True)
        if any(closure.day == day for closure in office.closures):
            raise FieldErrors({"day": f"{office.name} is already closed on that day."})
        closure = OfficeClosure(day=day, reason=reason)
        office.closures.append(closure)
    return closure


def remove_closure(office_id: int, closure_id: int, *, by: Actor) -> None:
    with transaction(db.session, by):
        closure = db.session.get(OfficeClosure, closure_id)
        if closure is None or closure.office_id != office_id:
            raise NotFound("closed day", closure_id)
        db.session.delete(closure)


# Rooms

def get_room(room_id: int) -> Room:
    return get_one(db.session, Room, room_id, entity="room")


def _room_name_taken(office_id: int, name: str, room_id: int | None) -> bool:
    return another_with(db.session, Room, Room.office_id == office_id, Room.name == name, besides=room_id) is not None


def create_room(office_id: int, data: RoomData, *, by: Actor, now: datetime) -> Room:
    with transaction(db.session, by):
        get_office(office_id, lock=True)
        if _room_name_taken(office_id, data.name, None):
            raise FieldErrors({"name": f"This office already has a room called {data.name}."})
        room = Room(office_id=office_id, **vars(data), **stamps(by, now))
        db.session.add(room)
    return room


def update_room(room_id: int, data: RoomData, *, expected_version: int, by: Actor,
                now: datetime) -> Room:
    with transaction(db.session, by):
        room = get_one(db.session, Room, room_id, entity="room", lock=True)
        if _room_name_taken(room.office_id, data.name, room_id):
            raise FieldErrors({"name": f"This office already has a room called {data.name}."})
        apply_edit(db.session, room, vars(data), expected_version=expected_version, by=by,
                   now=now, what=f"The room {room.name}")
    return room


# Physicians

def list_physicians(*, active_only: bool = False) -> list[Physician]:
    query = select(Physician).order_by(Physician.last_name, Physician.first_name)
    if active_only:
        query = query.where(Physician.active.is_(True))
    return list(db.session.scalars(query))


def physicians_working_at(office_id: int, day: date) -> list[tuple[Physician, bool]]:
    """The active physicians by name, each with whether a schedule block has them at the office
    that day (one query)."""
    scheduled = (select(PhysicianSchedule.id)
                 .where(PhysicianSchedule.physician_id == Physician.id, PhysicianSchedule.office_id == office_id,
                        PhysicianSchedule.weekday == day.weekday(),
                        # rules.periods_overlap(effective_from, effective_until, day, day)
                        or_(PhysicianSchedule.effective_from.is_(None), PhysicianSchedule.effective_from <= day),
                        or_(PhysicianSchedule.effective_until.is_(None), PhysicianSchedule.effective_until >= day))
                 .exists())
    query = (select(Physician, scheduled).where(Physician.active.is_(True))
             .order_by(Physician.last_name, Physician.first_name))
    return [(physician, bool(working)) for physician, working in db.session.execute(query)]


def physician_of_user(user_id: int | None) -> Physician | None:
    """The physician who signs in with this staff account, if any."""
    if user_id is None:
        return None
    return db.session.scalars(select(Physician).where(Physician.user_id == user_id)).first()


def get_physician(physician_id: int, *, lock: bool = False) -> Physician:
    query = (select(Physician).where(Physician.id == physician_id)
             .options(selectinload(Physician.schedules).selectinload(PhysicianSchedule.office),
                      selectinload(Physician.leaves)))
    physician: Physician | None = db.session.scalars(for_update(query) if lock else query).first()
    if physician is None:
        raise NotFound("physician", physician_id)
    return physician


def physician_accounts() -> list[User]:
    """Active accounts holding the physician role, for linking a physician to their sign-in."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.roles.contains(Role.PHYSICIAN.value))
        .order_by(User.full_name)))


def _physician_problems(data: PhysicianData, physician_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.npi is not None:
        if not rules.is_valid_npi(data.npi):
            errors["npi"] = "An NPI is 10 digits with a valid check digit."
        else:
            other = db.session.scalars(select(Physician).where(Physician.npi == data.npi)).first()
            if other is not None and other.id != physician_id:
                errors["npi"] = f"{other.display_name} already has this NPI."
    if data.user_id is not None:
        account = db.session.get(User, data.user_id)
        if account is None or Role.PHYSICIAN not in account.role_set:
            errors["user_id"] = "Choose an account that holds the physician role."
        else:
            other = db.session.scalars(
                select(Physician).where(Physician.user_id == data.user_id)).first()
            if other is not None and other.id != physician_id:
                errors["user_id"] = f"That account already belongs to {other.display_name}."
    return errors


def create_physician(data: PhysicianData, *, by: Actor, now: datetime) -> Physician:
    with transaction(db.session, by):
        errors = _physician_problems(data, None)
        if errors:
            raise FieldErrors(errors)
        physician = Physician(**vars(data), **stamps(by, now))
        db.session.add(physician)
    return physician


def update_physician(physician_id: int, data: PhysicianData, *, expected_version: int,
                     by: Actor, now: datetime) -> Physician:
    with transaction(db.session, by):
        physician = get_one(db.session, Physician, physician_id, entity="physician",
                            lock=True)
        errors = _physician_problems(data, physician_id)
        if errors:
            raise FieldErrors(errors)
        apply_edit(db.session, physician, vars(data), expected_version=expected_version, by=by,
                   now=now, what=physician.display_name)
    return physician


def _block(schedule: PhysicianSchedule | ScheduleData, label: str = "") -> rules.WorkBlock:
    return rules.WorkBlock(weekday=schedule.weekday, starts=schedule.starts, ends=schedule.ends,
                           office_id=schedule.office_id, effective_from=schedule.effective_from,
                           effective_until=schedule.effective_until, label=label)


def _schedule_problems(physician: Physician, data: ScheduleData,
                       office: Office) -> dict[str, str]:
    if data.starts >= data.ends:
        return {"ends": "The block must end after it starts."}
    if data.effective_from and data.effective_until and data.effective_from > data.effective_until:
        return {"effective_until": "The last day comes before the first day."}
    block = _block(data)
    hours = {row.weekday: (row.opens, row.closes) for row in office.hours}
    if not rules.is_within_hours(block, hours):
        opening = hours.get(data.weekday)
        when = (f"open {opening[0]:%H:%M}-{opening[1]:%H:%M}" if opening else "closed")
        return {"starts": f"{office.name} is {when} on {WEEKDAYS[data.weekday]}s."}
    existing = [_block(s, f"{s.office.name} {s.starts:%H:%M}-{s.ends:%H:%M}")
                for s in physician.schedules]
    clashes = rules.clashing_blocks(block, existing)
    if clashes:
        return {"starts": f"{physician.short_name} already works {WEEKDAYS[data.weekday]}s "
                          f"at {clashes[0].label}."}
    return {}


def add_schedule_block(physician_id: int, data: ScheduleData, *, by: Actor) -> PhysicianSchedule:
    with transaction(db.session, by):
        physician = get_physician(physician_id, lock=True)
        office = get_office(data.office_id)
        errors = _schedule_problems(physician, data, office)
        if errors:
            raise FieldErrors(errors)
        block = PhysicianSchedule(**vars(data))
        physician.schedules.append(block)
    return block


def remove_schedule_block(physician_id: int, block_id: int, *, by: Actor) -> None:
    with transaction(db.session, by):
        block = db.session.get(PhysicianSchedule, block_id)
        if block is None or block.physician_id != physician_id:
            raise NotFound("schedule block", block_id)
        db.session.delete(block)


def add_leave(physician_id: int, first_day: date, last_day: date, reason: str, *,
              by: Actor) -> PhysicianLeave:
    if first_day > last_day:
        raise FieldErrors({"last_day": "The last day comes before the first day."})
    with transaction(db.session, by):
        physician = get_physician(physician_id, lock=True)
        for leave in physician.leaves:
            if rules.periods_overlap(first_day, last_day, leave.first_day, leave.last_day):
                raise FieldErrors({"first_day": "This overlaps leave already recorded "
                                                f"({leave.first_day:%m/%d/%Y}-{leave.last_day:%m/%d/%Y})."})
        leave = PhysicianLeave(first_day=first_day, last_day=last_day, reason=reason)
        physician.leaves.append(leave)
    return leave


def remove_leave(physician_id: int, leave_id: int, *, by: Actor) -> None:
    with transaction(db.session, by):
        leave = db.session.get(PhysicianLeave, leave_id)
        if leave is None or leave.physician_id != physician_id:
            raise NotFound("leave", leave_id)
        db.session.delete(leave)

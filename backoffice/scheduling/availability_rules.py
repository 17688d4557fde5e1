"""The next-available search: the first free slots for a procedure, day by day, across offices,
physicians and rooms, each checked by `slot_rules.slot_problems` as a booking would be.

Pure: the practice, what is booked, the patient's history and the current time come in as plain
values; so does `refused_on`, which says on which days the checks other packages add to every
booking (`booking_checks`) refuse this one.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from backoffice.scheduling.rules import (
    Limits,
    OfficeSpec,
    PhysicianSpec,
    PriorProcedure,
    ProcedureSpec,
    RoomSpec,
    SlotRequest,
    local_to_utc,
    office_time,
    working_spans,
)
from backoffice.scheduling.slot_rules import GRID, BusyIndex, slot_problems


class PartOfDay(StrEnum):
    ANY = "any"
    MORNING = "morning"
    AFTERNOON = "afternoon"


NOON = time(12, 0)


@dataclass(frozen=True)
class Slot:
    start: datetime
    office: OfficeSpec
    room: RoomSpec
    physician: PhysicianSpec

    @property
    def local_start(self) -> datetime:
        return office_time(self.start, self.office)

    @property
    def local_day(self) -> date:
        return self.local_start.date()


def _steady_offset(day: date, timezone: str) -> timedelta | None:
    """The zone's offset from UTC all day long; None on a day the clocks change."""
    zone = ZoneInfo(timezone)
    offset = datetime.combine(day, time.min, zone).utcoffset()
    return offset if offset == datetime.combine(day, time.max, zone).utcoffset() else None


def _starts_for_day(office: OfficeSpec, physician: PhysicianSpec, day: date, procedure: ProcedureSpec,
                    part: PartOfDay, step: timedelta) -> Iterator[datetime]:
    hours = office.hours.get(day.weekday())
    if hours is None or day in office.closed or any(
            leave.first_day <= day <= leave.last_day for leave in physician.leave):
        return
    # Most days the offset holds all day, and each start is its wall time less the offset.
    offset = _steady_offset(day, office.timezone)
    for starts, ends in working_spans(physician, office.id, day):
        first = max(starts, hours[0])
        last_end = min(ends, hours[1])
        wall = datetime.combine(day, first)
        while (wall + procedure.duration).time() <= last_end and (wall + procedure.duration).date() == day:
            if part is PartOfDay.ANY or (wall.time() < NOON) == (part is PartOfDay.MORNING):
                instant = ((wall - offset).replace(tzinfo=UTC) if offset is not None
                           else local_to_utc(day, wall.time(), office.timezone))
                if instant is not None:
                    yield instant
            wall += step


def _starts_from(office: OfficeSpec, physician: PhysicianSpec, day: date, procedure: ProcedureSpec, part: PartOfDay,
                 step: timedelta, earliest: datetime, taken_until: Mapping[tuple[int, int], datetime],
                 ) -> Iterator[tuple[datetime, str, str, OfficeSpec, PhysicianSpec]]:
    """_starts_for_day from `earliest` on, in time order (the physician's spans there do not
    overlap), leaving out those before the instant up to which the search found the physician (or
    the patient) taken at this office: the search updates it as it goes."""
    key = (physician.id, office.id)
    for start in _starts_for_day(office, physician, day, procedure, part, step):
        if start >= earliest and start >= taken_until.get(key, start):
            yield start, office.name, physician.name, office, physician


def find_slots(procedure: ProcedureSpec, *, offices: Sequence[OfficeSpec], rooms: Sequence[RoomSpec],
               physicians: Sequence[PhysicianSpec], busy: BusyIndex, earliest: datetime, days: int,
               now: datetime, limits: Limits, part: PartOfDay = PartOfDay.ANY, step: timedelta = GRID * 3,
               count: int = 10, patient_id: int | None = None, history: Sequence[PriorProcedure] = (),
               region: str | None = None, side: str | None = None,
               refused_on: Callable[[OfficeSpec, date], bool] = lambda office, day: False) -> list[Slot]:
    """The first `count` bookable slots from `earliest`, day by day for `days` days, across the
    given offices and physicians, each in the least equipped free room that will do (so the
    implant suite stays free for implants). No slot on a day `refused_on` says a booking at that
    office would be refused whatever its time (the booking checks of `booking_checks`)."""
    found: list[Slot] = []
    rooms_by_office: dict[int, list[RoomSpec]] = defaultdict(list)
    for room in sorted(rooms, key=lambda r: (len(r.capabilities), r.name)):
        rooms_by_office[room.office_id].append(room)
    first_day = min(office_time(max(earliest, now), office).date() for office in offices) if offices else None
    if first_day is None:
        return []
    taken_until: dict[tuple[int, int], datetime] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        # The day's possible starts in the order the list shows them (by time, office, physician),
        # made and checked only until the list is full: most of a busy day's are never needed.
        starts = heapq.merge(*(_starts_from(office, physician, day, procedure, part, step, earliest, taken_until)
                               for office in offices if rooms_by_office[office.id] and not refused_on(office, day)
                               for physician in physicians),
                             key=lambda item: item[:3])
        for start, _, _, office, physician in starts:
            # Most times are taken by the physician: told apart before anything is made for them,
            # and the times up to the end of what takes one left out of `starts` from then on.
            until = _taken_until(physician.id, office.id, patient_id, start, start + procedure.duration, busy, limits)
            if until is not None:
                taken_until[physician.id, office.id] = until
                continue
            where = SlotRequest(procedure, office, rooms_by_office[office.id][0], physician, start, patient_id,
                                region, side)
            slot = _first_free_room(where, rooms_by_office[office.id], busy, now, limits, history)
            if slot is not None:
                found.append(slot)
                if len(found) >= count:
                    return found[:count]
    return found[:count]


def _taken_until(physician_id: int, office_id: int, patient_id: int | None, start: datetime, end: datetime,
                 busy: BusyIndex, limits: Limits) -> datetime | None:
    """None when the physician and the patient are both free for [start, end) (the yes or no of
    conflict_problems, without its messages, travel between offices included); otherwise the
    instant before which every later start is taken too, as what is in the way still is."""
    until = None
    for booked in busy.physician(physician_id, start - limits.travel, end + limits.travel):
        if booked.office_id != office_id:
            free_from = booked.end + limits.travel
        elif booked.start < end and start < booked.end:
            free_from = booked.end
        else:
            continue
        until = free_from if until is None else max(until, free_from)
    for booked in busy.patient(patient_id, start, end):
        until = booked.end if until is None else max(until, booked.end)
    return until


def _first_free_room(where: SlotRequest, rooms: Sequence[RoomSpec], busy: BusyIndex, now: datetime,
                     limits: Limits, history: Sequence[PriorProcedure]) -> Slot | None:
    """The least equipped room that takes the slot, the physician and patient being free then."""
    for room in rooms:
        if busy.room(room.id, where.start, where.blocked_until):
            continue
        request = replace(where, room=room)
        if not slot_problems(request, busy, now=now, limits=limits, history=history, check_details=False):
            return Slot(request.start, request.office, room, request.physician)
    return None

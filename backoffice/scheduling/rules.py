"""Scheduling rules: when a procedure may be booked, into which room, with whom.

Pure: offices, rooms, physicians, what is already booked, the patient's history, the current
time and the limits all come in as plain values. Booking, rescheduling and the next-available
search all ask `slot_problems`, so they cannot disagree. Times are aware UTC; intervals are
half-open [start, end), so back-to-back bookings do not clash.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from backoffice.catalog.rules import group_label, one_year_after, one_year_before
from backoffice.practice.rules import Capability, WorkBlock, periods_overlap


def _humanize(value: str) -> str:
    return value.replace("_", " ").capitalize()


class Status(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    IN_ROOM = "in_room"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"

    @property
    def label(self) -> str:
        return _humanize(self.value)

    @property
    def action(self) -> str:
        """The button that moves an appointment into this status."""
        return {"confirmed": "Confirm", "checked_in": "Check in", "in_room": "In room", "completed": "Complete",
                "no_show": "No-show", "cancelled": "Cancel"}.get(self.value, self.label)


OPEN_STATUSES = frozenset({Status.SCHEDULED, Status.CONFIRMED, Status.CHECKED_IN, Status.IN_ROOM})
# Appointments that hold their room, physician and patient (and count against limits).
ACTIVE_STATUSES = OPEN_STATUSES | {Status.COMPLETED}
ACTIVE_STATUS_VALUES = sorted(status.value for status in ACTIVE_STATUSES)
OPEN_STATUS_VALUES = sorted(status.value for status in OPEN_STATUSES)
NEXT_STATUS = {Status.SCHEDULED: Status.CONFIRMED, Status.CONFIRMED: Status.CHECKED_IN,
               Status.CHECKED_IN: Status.IN_ROOM, Status.IN_ROOM: Status.COMPLETED}


class CancelReason(StrEnum):
    PATIENT_REQUEST = "patient_request"
    PHYSICIAN_UNAVAILABLE = "physician_unavailable"
    INSURANCE = "insurance"
    WEATHER = "weather"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _humanize(self.value)


class PartOfDay(StrEnum):
    ANY = "any"
    MORNING = "morning"
    AFTERNOON = "afternoon"


NOON = time(12, 0)
GRID = timedelta(minutes=5)


def with_article(name: str) -> str:
    """"medial branch block" -> "a medial branch block"."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


@lru_cache(maxsize=256)  # a slot search labels every booking it reads, of a catalog's few names
def procedure_label(name: str) -> str:
    """"Medial branch block" -> "a medial branch block", as messages name procedures."""
    return with_article(name[:1].lower() + name[1:])


def local_to_utc(day: date, wall: time, timezone: str) -> datetime | None:
    """The instant a wall-clock time happens at an office, or None when the clocks skip it."""
    zone = ZoneInfo(timezone)
    local = datetime.combine(day, wall, zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


# What the rules know of the practice.

@dataclass(frozen=True)
class ProcedureSpec:
    id: int
    name: str
    code: str
    duration: timedelta
    turnover: timedelta
    needs: frozenset[Capability] = frozenset()
    asks_region: bool = False
    asks_side: bool = False
    asks_levels: bool = False
    max_levels: int = 1
    frequency_group: str | None = None
    max_per_year: int | None = None
    min_days_between: int | None = None
    interval_scope: str = "region"
    active: bool = True
    kind: str = "none"  # what the candidacy rules take it for (procedures.rules.ProcedureKind)

    @property
    def label(self) -> str:
        return procedure_label(self.name)


@dataclass(frozen=True)
class OfficeSpec:
    id: int
    name: str
    timezone: str
    hours: Mapping[int, tuple[time, time]]
    closed: Mapping[date, str] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True)
class RoomSpec:
    id: int
    office_id: int
    name: str
    capabilities: frozenset[Capability]
    active: bool = True


@dataclass(frozen=True)
class Leave:
    first_day: date
    last_day: date
    reason: str


@dataclass(frozen=True)
class PhysicianSpec:
    id: int
    name: str
    blocks: tuple[WorkBlock, ...]
    leave: tuple[Leave, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Booked:
    """An appointment that holds its room [start, blocked_until), its physician and its patient
    [start, end)."""

    appointment_id: int
    office_id: int
    room_id: int
    physician_id: int
    patient_id: int
    start: datetime
    end: datetime
    blocked_until: datetime
    procedure: str
    physician: str
    room: str
    office: str
    timezone: str

    def local_span(self) -> str:
        zone = ZoneInfo(self.timezone)
        return f"{self.start.astimezone(zone):%H:%M}-{self.end.astimezone(zone):%H:%M}"


@dataclass(frozen=True)
class PriorProcedure:
    """One of the patient's procedures, as frequency limits count them."""

    appointment_id: int
    day: date
    frequency_group: str | None
    region: str | None
    name: str
    status: Status
    side: str | None = None


@dataclass(frozen=True)
class Limits:
    travel: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class SlotRequest:
    procedure: ProcedureSpec
    office: OfficeSpec
    room: RoomSpec
    physician: PhysicianSpec
    start: datetime
    patient_id: int | None = None
    region: str | None = None
    side: str | None = None
    levels_count: int | None = None

    @property
    def end(self) -> datetime:
        return self.start + self.procedure.duration

    @property
    def blocked_until(self) -> datetime:
        return self.end + self.procedure.turnover


@dataclass(frozen=True)
class Problem:
    """Why a slot cannot be booked. `field` is the form field it belongs next to."""

    code: str
    field: str
    message: str
    overridable: bool = False
    booked: Booked | None = None


class BusyIndex:
    """What is booked, by room, physician and patient, for quick overlap questions.

    Active bookings of one room (with turnover), of one physician or of one patient never
    overlap one another (the database sees to it), so each list is sorted by start and by end.
    Bookings given `in_start_order` are read only as far as the questions asked reach, so a
    search that finds its slots early never reads (nor fetches) the weeks after them.
    """

    def __init__(self, booked: Iterable[Booked], *, ignore: int | None = None, in_start_order: bool = False) -> None:
        self._lists: dict[str, dict[int, list[Booked]]] = {
            "room": defaultdict(list), "physician": defaultdict(list), "patient": defaultdict(list)}
        self._starts: dict[str, dict[int, list[datetime]]] = {
            "room": defaultdict(list), "physician": defaultdict(list), "patient": defaultdict(list)}
        self._coming = iter(booked if in_start_order else sorted(booked, key=lambda b: b.start))
        self._next: Booked | None = next(self._coming, None)
        self._ignore = ignore

    def add(self, item: Booked) -> None:
        """Count one more booking (kept in start order)."""
        for kind, key in (("room", item.room_id), ("physician", item.physician_id),
                          ("patient", item.patient_id)):
            index = bisect_right(self._starts[kind][key], item.start)
            self._starts[kind][key].insert(index, item.start)
            self._lists[kind][key].insert(index, item)

    def _read_until(self, end: datetime) -> None:
        """Take in the bookings still to be read that start before `end`."""
        while self._next is not None and self._next.start < end:
            item, self._next = self._next, next(self._coming, None)
            if self._next is not None and self._next.start < item.start:
                # One read late would go unseen by the questions already answered.
                raise ValueError("Bookings given in start order are not in start order.")
            if item.appointment_id != self._ignore:
                self.add(item)

    def _overlapping(self, kind: str, key: int | None, start: datetime, end: datetime,
                     end_of: Callable[[Booked], datetime]) -> list[Booked]:
        self._read_until(end)
        if key is None or key not in self._lists[kind]:
            return []
        items = self._lists[kind][key]
        found = []
        for index in range(bisect_left(self._starts[kind][key], end) - 1, -1, -1):
            item = items[index]
            if end_of(item) <= start:
                break
            found.append(item)
        return found[::-1]

    def room(self, room_id: int, start: datetime, until: datetime) -> list[Booked]:
        return self._overlapping("room", room_id, start, until, lambda b: b.blocked_until)

    def physician(self, physician_id: int, start: datetime, end: datetime) -> list[Booked]:
        return self._overlapping("physician", physician_id, start, end, lambda b: b.end)

    def patient(self, patient_id: int | None, start: datetime, end: datetime) -> list[Booked]:
        return self._overlapping("patient", patient_id, start, end, lambda b: b.end)


# The checks.

def _local(instant: datetime, office: OfficeSpec) -> datetime:
    return instant.astimezone(ZoneInfo(office.timezone))


def detail_problems(request: SlotRequest) -> list[Problem]:
    """Region, side and levels, when the procedure asks for them."""
    procedure = request.procedure
    problems = []
    if procedure.asks_region and not request.region:
        problems.append(Problem("region_missing", "region",
                                f"Choose the spinal region for {procedure.label}."))
    if procedure.asks_side and not request.side:
        problems.append(Problem("side_missing", "side", f"Choose the side for {procedure.label}."))
    if procedure.asks_levels:
        if not request.levels_count:
            problems.append(Problem("levels_missing", "levels_count", "Give the number of levels."))
        elif request.levels_count > procedure.max_levels:
            levels = f"{procedure.max_levels} level{'s' if procedure.max_levels > 1 else ''}"
            problems.append(Problem("levels_too_many", "levels_count",
                                    f"At most {levels} per session for {procedure.label}."))
    return problems


def time_problems(request: SlotRequest, now: datetime) -> list[Problem]:
    """In the future, on the 5-minute grid, the office open, the physician working there."""
    office, physician = request.office, request.physician
    start, end = _local(request.start, office), _local(request.end, office)
    if request.start < now:
        return [Problem("past", "time", "That time has passed.")]
    if (start.minute * 60 + start.second) % int(GRID.total_seconds()) or start.microsecond:
        return [Problem("off_grid", "time", "Book on the 5-minute grid (09:00, 09:05 ...).")]
    if not office.active:
        return [Problem("office_inactive", "office_id", f"{office.name} is not taking bookings.")]
    day = start.date()
    if day in office.closed:
        return [Problem("closed", "date",
                        f"{office.name} is closed on {day:%m/%d/%Y} ({office.closed[day]}).")]
    hours = office.hours.get(day.weekday())
    if hours is None:
        return [Problem("closed", "date", f"{office.name} is closed on {day:%A}s.")]
    if start.time() < hours[0] or end.date() != day or end.time() > hours[1]:
        return [Problem("outside_hours", "time",
                        f"{office.name} is open {hours[0]:%H:%M}-{hours[1]:%H:%M} on {day:%A}s; "
                        f"{request.procedure.label} from {start:%H:%M} ends at {end:%H:%M}.")]
    if not physician.active:
        return [Problem("physician_inactive", "physician_id", f"{physician.name} is not practising.")]
    for leave in physician.leave:
        if leave.first_day <= day <= leave.last_day:
            return [Problem("on_leave", "physician_id",
                            f"{physician.name} is on leave {leave.first_day:%m/%d}-{leave.last_day:%m/%d} "
                            f"({leave.reason}).")]
    if not any(starts <= start.time() and end.time() <= ends
               for starts, ends in working_spans(physician, office.id, day)):
        return [Problem("not_working", "physician_id", _where_physician_works(physician, office, day))]
    return []


def working_spans(physician: PhysicianSpec, office_id: int, day: date) -> list[tuple[time, time]]:
    """When the physician works at the office that day: their blocks, with touching or
    overlapping ones merged (07:00-12:00 and 12:00-17:00 make one span)."""
    blocks = sorted((b.starts, b.ends) for b in physician.blocks
                    if b.office_id == office_id and b.weekday == day.weekday()
                    and periods_overlap(b.effective_from, b.effective_until, day, day))
    spans: list[tuple[time, time]] = []
    for starts, ends in blocks:
        if spans and starts <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], ends))
        else:
            spans.append((starts, ends))
    return spans


def _where_physician_works(physician: PhysicianSpec, office: OfficeSpec, day: date) -> str:
    spans = working_spans(physician, office.id, day)
    if not spans:
        return f"{physician.name} does not work at {office.name} on {day:%A}s."
    listed = ", ".join(f"{starts:%H:%M}-{ends:%H:%M}" for starts, ends in spans)
    return f"{physician.name} works at {office.name} {listed} on {day:%A}s."


def room_problems(request: SlotRequest) -> list[Problem]:
    room, office, procedure = request.room, request.office, request.procedure
    if room.office_id != office.id:
        return [Problem("room_office", "room_id", f"{room.name} is not at {office.name}.")]
    if not room.active:
        return [Problem("room_inactive", "room_id", f"{room.name}, {office.name}, is not in use.")]
    missing = procedure.needs - room.capabilities
    if missing:
        return [Problem("room_capability", "room_id",
                        f"{room.name}, {office.name}, has no {' or '.join(sorted(missing))}, "
                        f"which {procedure.label} needs.")]
    return []


def conflict_problems(request: SlotRequest, busy: BusyIndex, limits: Limits) -> list[Problem]:
    """The room (with turnover on both sides), the physician (with travel between offices) and
    the patient must be free."""
    problems: list[Problem] = []
    office = request.office

    def named(booked: Booked) -> bool:
        """One appointment in the way is named once, even when it holds the room and the physician."""
        return any(p.booked is not None and p.booked.appointment_id == booked.appointment_id for p in problems)

    for booked in busy.room(request.room.id, request.start, request.blocked_until)[:1]:
        turned_over_until = _local(booked.blocked_until, office)
        if booked.end <= request.start:
            what = f"is being turned over until {turned_over_until:%H:%M} after {booked.procedure}"
            then = ""
        else:
            what = f"is taken {booked.local_span()} by {booked.procedure}"
            then = f", then turned over until {turned_over_until:%H:%M}" if booked.blocked_until > booked.end else ""
        problems.append(Problem("room_busy", "room_id", f"{request.room.name}, {office.name}, {what} with "
                                f"{booked.physician}{then}.", booked=booked))
    for booked in busy.physician(request.physician.id, request.start, request.end)[:1]:
        if not named(booked):
            problems.append(Problem("physician_busy", "time",
                                    f"{request.physician.name} has {booked.procedure} {booked.local_span()} "
                                    f"in {booked.room}, {booked.office}.", booked=booked))
    travel_window = busy.physician(request.physician.id, request.start - limits.travel, request.end + limits.travel)
    for booked in [b for b in travel_window if b.office_id != office.id][:1]:
        minutes = int(limits.travel.total_seconds() // 60)
        problems.append(Problem("travel", "time",
                                f"{request.physician.name} is at {booked.office} {booked.local_span()}; "
                                f"allow {minutes} minutes to travel between offices.", booked=booked))
    for booked in busy.patient(request.patient_id, request.start, request.end)[:1]:
        if not named(booked):
            problems.append(Problem("patient_busy", "time",
                                    f"The patient already has {booked.procedure} {booked.local_span()} "
                                    f"at {booked.office}.", booked=booked))
    return problems


def frequency_problems(request: SlotRequest, history: Sequence[PriorProcedure]) -> list[Problem]:
    """The procedure's limits per spinal region: at most N in any 12 months, and a minimum number
    of days between two. Cancelled, no-show and rescheduled appointments never count."""
    procedure = request.procedure
    if procedure.frequency_group is None:
        return []
    day = _local(request.start, request.office).date()
    counted = sorted((p for p in history
                      if p.frequency_group == procedure.frequency_group and p.status in ACTIVE_STATUSES
                      and (not procedure.asks_region or p.region == request.region)),
                     key=lambda p: p.day)
    where = f" ({request.region})" if procedure.asks_region and request.region else ""
    problems = []
    if procedure.max_per_year is not None:
        crowded = _fullest_year(day, counted)
        if len(crowded) + 1 > procedure.max_per_year:
            dates = ", ".join(f"{p.day:%m/%d/%Y}" for p in crowded)
            problems.append(Problem(
                "frequency", "procedure_type_id",
                f"This would make {len(crowded) + 1} {group_label(procedure.frequency_group)}{where} "
                f"within 12 months (already {dates}); the limit is {procedure.max_per_year}. "
                "A physician can override with a reason.", overridable=True))
    if procedure.min_days_between is not None:
        close = [p for p in _in_interval_scope(procedure, request, history)
                 if abs((p.day - day).days) < procedure.min_days_between]
        if close:
            nearest = min(close, key=lambda p: abs((p.day - day).days))
            place = ", ".join(filter(None, [nearest.region, nearest.side]))
            problems.append(Problem(
                "interval", "date",
                f"{nearest.name} on {nearest.day:%m/%d/%Y}{f' ({place})' if place else ''} is less than "
                f"{procedure.min_days_between} days away. A physician can override with a reason.",
                overridable=True))
    return problems


def _in_interval_scope(procedure: ProcedureSpec, request: SlotRequest,
                       history: Sequence[PriorProcedure]) -> list[PriorProcedure]:
    same_group = [p for p in history
                  if p.frequency_group == procedure.frequency_group and p.status in ACTIVE_STATUSES]
    if procedure.interval_scope == "patient":
        return same_group
    same_region = [p for p in same_group if p.region == request.region]
    if procedure.interval_scope == "region_side":
        return [p for p in same_region if p.side == request.side]
    return same_region


def _fullest_year(day: date, counted: Sequence[PriorProcedure]) -> list[PriorProcedure]:
    """The most procedures in any 12-month window [start, start + 12 months) holding `day`:
    a limit of 4 a year allows no 5 within any 12 months, before or after the new one."""
    earliest_start = one_year_before(day) + timedelta(days=1)
    # The count only changes where a procedure enters or leaves the window, so these starts
    # include the fullest window.
    starts = {earliest_start, day, *(p.day for p in counted),
              *(one_year_before(p.day) + timedelta(days=1) for p in counted)}
    best: list[PriorProcedure] = []
    for window_start in sorted(s for s in starts if earliest_start <= s <= day):
        window_end = one_year_after(window_start)
        inside = [p for p in counted if window_start <= p.day < window_end]
        best = inside if len(inside) > len(best) else best
    return best


def slot_problems(request: SlotRequest, busy: BusyIndex, *, now: datetime, limits: Limits,
                  history: Sequence[PriorProcedure] = (), check_details: bool = True) -> list[Problem]:
    """Everything that stands in the way of booking `request`; empty when it may be booked."""
    if not request.procedure.active:
        return [Problem("procedure_inactive", "procedure_type_id",
                        f"{request.procedure.name} is not bookable.")]
    problems = detail_problems(request) if check_details else []
    blocking = time_problems(request, now) or room_problems(request)
    if blocking:
        return problems + blocking
    return problems + conflict_problems(request, busy, limits) + frequency_problems(request, history)


def is_overridden(problems: Sequence[Problem], *, override_reason: str | None, by_physician: bool) -> bool:
    """Only limits may be overridden, only by a physician, only with a reason."""
    return bool(problems) and by_physician and bool(override_reason) and all(p.overridable for p in problems)


# Next available.

@dataclass(frozen=True)
class Slot:
    start: datetime
    office: OfficeSpec
    room: RoomSpec
    physician: PhysicianSpec

    @property
    def local_start(self) -> datetime:
        return _local(self.start, self.office)

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
               region: str | None = None, side: str | None = None) -> list[Slot]:
    """The first `count` bookable slots from `earliest`, day by day for `days` days, across the
    given offices and physicians, each in the least equipped free room that will do (so the
    implant suite stays free for implants)."""
    found: list[Slot] = []
    rooms_by_office: dict[int, list[RoomSpec]] = defaultdict(list)
    for room in sorted(rooms, key=lambda r: (len(r.capabilities), r.name)):
        rooms_by_office[room.office_id].append(room)
    first_day = min(_local(max(earliest, now), office).date() for office in offices) if offices else None
    if first_day is None:
        return []
    taken_until: dict[tuple[int, int], datetime] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        # The day's possible starts in the order the list shows them (by time, office, physician),
        # made and checked only until the list is full: most of a busy day's are never needed.
        starts = heapq.merge(*(_starts_from(office, physician, day, procedure, part, step, earliest, taken_until)
                               for office in offices if rooms_by_office[office.id] for physician in physicians),
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


# Status changes.

def allowed_moves(status: Status) -> list[Status]:
    """Where an appointment can go from `status` (the buttons a day board shows)."""
    moves = [NEXT_STATUS[status]] if status in NEXT_STATUS else []
    if status in (Status.SCHEDULED, Status.CONFIRMED):
        moves.append(Status.NO_SHOW)
    if status in OPEN_STATUSES:
        moves.append(Status.CANCELLED)
    return moves


def one_click_moves(status: Status) -> list[Status]:
    """The moves a day board offers as buttons (cancelling has a page of its own, for its reason)."""
    return [move for move in allowed_moves(status) if move is not Status.CANCELLED]


def status_move_problem(current: Status, target: Status, *, start: datetime, now: datetime,
                        timezone: str) -> str | None:
    """Why an appointment cannot move from `current` to `target` now; None when it can."""
    if target not in allowed_moves(current):
        return f"An appointment that is {current.label.lower()} cannot become {target.label.lower()}."
    zone = ZoneInfo(timezone)
    if target in (Status.CHECKED_IN, Status.IN_ROOM) and now.astimezone(zone).date() != start.astimezone(zone).date():
        return "Patients are checked in and taken to the room on the day of their appointment."
    if target is Status.NO_SHOW and now < start:
        return "A patient is a no-show only once the appointment time has passed."
    if target is Status.CANCELLED and current in (Status.SCHEDULED, Status.CONFIRMED) and now >= start:
        return "The appointment time has passed and the patient did not arrive: mark a no-show instead."
    return None

"""The slot checks: whether a procedure may be booked at a time, in a room, with a physician,
for a patient. Booking, rescheduling and the next-available search all ask `slot_problems`, so
they cannot disagree.

Pure: offices, rooms, physicians, what is already booked, the patient's history, the current
time and the limits all come in as plain values (see `rules`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta

from backoffice.catalog.rules import (
    IntervalScope,
    MinimumInterval,
    group_label,
    one_year_after,
    one_year_before,
)
from backoffice.scheduling.rules import (
    ACTIVE_STATUSES,
    Booked,
    Limits,
    OfficeSpec,
    PhysicianSpec,
    PriorProcedure,
    Problem,
    ProcedureSpec,
    SlotRequest,
    office_time,
    working_spans,
)

GRID = timedelta(minutes=5)


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

def detail_problems(request: SlotRequest) -> list[Problem]:
    """Region, side and levels, when the procedure asks for them."""
    procedure = request.procedure
    problems = []
    if procedure.asks_region and not request.region:
        problems.append(Problem("region_missing", "region",
                                f"Choose the spinal region for {procedure.label}."))
    if procedure.asks_side and not request.side:
        problems.append(Problem("side_missing", "side", f"Choose the side for {procedure.label}."))
    return problems + levels_problems(procedure, request.levels_count)


def levels_problems(procedure: ProcedureSpec, levels_count: int | None) -> list[Problem]:
    """The number of levels, when the procedure asks for it: given, and within the catalog's limit
    per session (asked of a booking, and of a booked appointment whose levels change)."""
    if not procedure.asks_levels:
        return []
    if not levels_count:
        return [Problem("levels_missing", "levels_count", "Give the number of levels.")]
    if levels_count > procedure.max_levels:
        levels = f"{procedure.max_levels} level{'s' if procedure.max_levels > 1 else ''}"
        return [Problem("levels_too_many", "levels_count", f"At most {levels} per session for {procedure.label}.")]
    return []


def time_problems(request: SlotRequest, now: datetime) -> list[Problem]:
    """In the future, on the 5-minute grid, the office open, the physician working there."""
    office, physician = request.office, request.physician
    start, end = office_time(request.start, office), office_time(request.end, office)
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
        turned_over_until = office_time(booked.blocked_until, office)
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
    of days between two. Cancelled, no-show and rescheduled appointments never count; procedures
    done elsewhere count like completed ones, and the messages say so."""
    procedure = request.procedure
    if procedure.frequency_group is None:
        return []
    day = office_time(request.start, request.office).date()
    counted = sorted((p for p in history
                      if p.frequency_group == procedure.frequency_group and p.status in ACTIVE_STATUSES
                      and (not procedure.asks_region or p.region == request.region)),
                     key=lambda p: p.day)
    where = f" ({request.region})" if procedure.asks_region and request.region else ""
    problems = []
    if procedure.max_per_year is not None:
        crowded = _fullest_year(day, counted)
        if len(crowded) + 1 > procedure.max_per_year:
            dates = ", ".join(p.day_said for p in crowded)
            problems.append(Problem(
                "frequency", "procedure_type_id",
                f"This would make {len(crowded) + 1} {group_label(procedure.frequency_group)}{where} "
                f"within 12 months (already {dates}); the limit is {procedure.max_per_year}. "
                "A physician can override with a reason.", overridable=True))
    if procedure.min_interval is not None:
        interval = procedure.min_interval
        close = [p for p in _in_interval_scope(procedure, request, history) if interval.is_too_close(p.day, day)]
        if close:
            nearest = min(close, key=lambda p: abs((p.day - day).days))
            problems.append(Problem(
                "interval", "date",
                f"{nearest.described} is less than {interval} away{_allowed_from(interval, nearest.day, day)}. "
                "A physician can override with a reason.",
                overridable=True))
    return problems


def _allowed_from(interval: MinimumInterval, prior: date, day: date) -> str:
    """When the prior procedure is the earlier one, the first day the interval allows."""
    return f" (allowed from {interval.after(prior):%m/%d/%Y})" if prior <= day else ""


def _in_interval_scope(procedure: ProcedureSpec, request: SlotRequest,
                       history: Sequence[PriorProcedure]) -> list[PriorProcedure]:
    same_group = [p for p in history
                  if p.frequency_group == procedure.frequency_group and p.status in ACTIVE_STATUSES]
    if procedure.interval_scope is IntervalScope.PATIENT:
        return same_group
    same_region = [p for p in same_group if p.region == request.region]
    if procedure.interval_scope is IntervalScope.REGION_SIDE:
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

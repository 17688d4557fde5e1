"""Scheduling's vocabulary: appointment statuses and the moves between them, cancel reasons,
and the plain values the slot checks (`slot_rules`) and the next-available search
(`availability_rules`) take: what the rules know of the practice, what is booked, the patient's
history, and why a slot cannot be booked.

Pure: no database, no web; the current time comes in as an argument. Times are aware UTC;
intervals are half-open [start, end), so back-to-back bookings do not clash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from backoffice.catalog.rules import IntervalScope, MinimumInterval, ProcedureKind
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


CLOSED_DETAILS = {
    Status.COMPLETED: "The procedure is done: the appointment's details are kept as they were and can no longer be "
                      "changed.",
    Status.CANCELLED: "This appointment was cancelled: its details are kept as they were. Book it again to change "
                      "them.",
    Status.NO_SHOW: "The patient did not come (no-show): the appointment's details are kept as they were.",
    Status.RESCHEDULED: "This appointment was rescheduled: change the details on the appointment that replaced it.",
}


def details_locked_because(status: Status) -> str | None:
    """Why an appointment's details (prior authorization number, levels, notes) can no longer be
    changed; None while it is open and the procedure not yet done (the patient may be in the room:
    the number often arrives on the day, and the physician may settle the levels there)."""
    return None if status in OPEN_STATUSES else CLOSED_DETAILS[status]


# A patient may arrive and be checked in before the appointment's time; the procedure itself (the
# room, then completing it) starts no earlier than booked.
WAITS_FOR_THE_START = frozenset({Status.IN_ROOM, Status.COMPLETED})


@dataclass(frozen=True)
class StatusProblem:
    """Why an appointment cannot move to a status now. `not_before` is set when only the time is
    in the way: the move is possible from then, the appointment's start."""

    message: str
    not_before: datetime | None = None


def waits_for_the_start(target: Status, *, start: datetime, now: datetime) -> bool:
    """Whether moving to `target` must wait for the appointment's start, which is still to come."""
    return target in WAITS_FOR_THE_START and now < start


def status_move_problem(current: Status, target: Status, *, start: datetime, now: datetime,
                        timezone: str) -> StatusProblem | None:
    """Why an appointment cannot move from `current` to `target` now; None when it can."""
    if target not in allowed_moves(current):
        return StatusProblem(f"An appointment that is {current.label.lower()} cannot become "
                             f"{target.label.lower()}.")
    zone = ZoneInfo(timezone)
    if waits_for_the_start(target, start=start, now=now):
        local = start.astimezone(zone)
        return StatusProblem(f"“{target.action}” is possible from the appointment's start, {local:%H:%M} on "
                             f"{local:%m/%d/%Y}, not before.", not_before=start)
    if target in (Status.CHECKED_IN, Status.IN_ROOM) and now.astimezone(zone).date() != start.astimezone(zone).date():
        return StatusProblem("Patients are checked in and taken to the room on the day of their appointment.")
    if target is Status.NO_SHOW and now < start:
        return StatusProblem("A patient is a no-show only once the appointment time has passed.")
    if target is Status.CANCELLED and current in (Status.SCHEDULED, Status.CONFIRMED) and now >= start:
        return StatusProblem("The appointment time has passed and the patient did not arrive: mark a no-show "
                             "instead.")
    return None


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


def office_time(instant: datetime, office: OfficeSpec) -> datetime:
    """An instant on the office's wall clock."""
    return instant.astimezone(ZoneInfo(office.timezone))


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
    min_interval: MinimumInterval | None = None
    interval_scope: IntervalScope = IntervalScope.REGION
    active: bool = True
    kind: ProcedureKind = ProcedureKind.NONE  # what the candidacy rules take it for

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
    """One of the patient's procedures, as frequency limits count them: an appointment, or one
    done elsewhere (`outside` says by whom and where; it has no appointment)."""

    appointment_id: int | None
    day: date
    frequency_group: str | None
    region: str | None
    name: str
    status: Status
    side: str | None = None
    outside: str | None = None  # "Dr Lee, Valley Pain"

    @property
    def day_said(self) -> str:
        """"11/23/2026", or "11/23/2026 (outside: Dr Lee, Valley Pain)"."""
        return f"{self.day:%m/%d/%Y}" + (f" (outside: {self.outside})" if self.outside else "")

    @property
    def described(self) -> str:
        """"Interlaminar epidural steroid injection on 11/23/2026 (lumbar)", or for one done
        elsewhere "An outside interlaminar epidural ... on 11/23/2026 (lumbar; Dr Lee, Valley Pain)"."""
        place = ", ".join(filter(None, [self.region, self.side]))
        said = "; ".join(filter(None, [place, self.outside]))
        name = f"An outside {self.name[:1].lower()}{self.name[1:]}" if self.outside else self.name
        return f"{name} on {self.day:%m/%d/%Y}" + (f" ({said})" if said else "")


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

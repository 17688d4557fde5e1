"""Checks that packages above scheduling add to every booking, move and next-available search.

Scheduling knows whether the room, the physician and the patient are free and whether the
procedure's limits allow the booking (`slot_rules`). Whether the patient is ready for the
procedure (a rhizotomy after two qualifying blocks, a repeat epidural after enough relief) is
known higher up, in procedures, which scheduling must not import. So procedures registers a
named check here when the app is created, and booking, moving and the next-available search all
ask every registered check: they cannot disagree.

A check is given what is being booked, as plain values, and returns the problems of booking it
on a day. It reads what it needs once, in a fixed number of queries, and answers for any day
without reading more, as the next-available search asks about many days:

    @booking_check("candidacy")
    def candidacy_check(case: BookingCase) -> DayCheck: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from backoffice.catalog.rules import ProcedureKind
from backoffice.scheduling.rules import Problem, ProcedureSpec


@dataclass(frozen=True)
class BookingCase:
    """What is being booked: for whom, which kind of procedure and where on the body; the day
    it is at the office; and the appointment being moved (None for a new booking), which is left
    out of the patient's history as the move replaces it."""

    patient_id: int
    procedure_kind: ProcedureKind
    region: str | None
    side: str | None
    today: date
    moving: int | None = None


DayCheck = Callable[[date], list[Problem]]
BookingCheck = Callable[[BookingCase], DayCheck]

_checks: dict[str, BookingCheck] = {}


def booking_check(name: str) -> Callable[[BookingCheck], BookingCheck]:
    """Make the decorated function the booking check `name` (a second registration of the name
    replaces the first, so importing a module twice adds nothing)."""
    def register(check: BookingCheck) -> BookingCheck:
        _checks[name] = check
        return check
    return register


def registered_checks() -> dict[str, BookingCheck]:
    """The checks by name (for the architecture document and its test)."""
    return dict(_checks)


def no_problems(day: date) -> list[Problem]:
    """The day check of a check with nothing to say about this booking."""
    return []


def prepare(case: BookingCase) -> DayCheck:
    """Every registered check for `case`, as one function of the day: the problems then."""
    day_checks = [check(case) for check in _checks.values()]

    def problems_on(day: date) -> list[Problem]:
        return [problem for day_check in day_checks for problem in day_check(day)]
    return problems_on


def case_of(procedure: ProcedureSpec, *, patient_id: int, region: str | None, side: str | None, now: datetime,
            timezone: str, moving: int | None = None) -> BookingCase:
    """The case of booking `procedure` at an office in `timezone`, as of `now`."""
    return BookingCase(patient_id, procedure.kind, region, side,
                       now.astimezone(ZoneInfo(timezone)).date(), moving)

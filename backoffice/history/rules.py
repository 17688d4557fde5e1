"""Procedures done elsewhere, or here before the practice used the app: what a record of one must
say, and how relief and its duration are said (the same words for a follow-up's outcome here,
which is why they live in this package, below procedures). Pure: plain values in and out; the
catalog's answers for the procedure and today's date come in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from backoffice.catalog.rules import Region, Side


class ReliefUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


HOURS_PER_UNIT = {ReliefUnit.HOURS: 1, ReliefUnit.DAYS: 24, ReliefUnit.WEEKS: 24 * 7, ReliefUnit.MONTHS: 730}


def relief_said(amount: int | None, unit: ReliefUnit | str | None) -> str | None:
    """The duration as it was entered: "5 hours", "1 month"."""
    if amount is None or unit is None:
        return None
    word = ReliefUnit(unit).value
    return f"{amount} {word if amount != 1 else word[:-1]}"


def relief_hours(amount: int | None, unit: ReliefUnit | None) -> int | None:
    if amount is None or unit is None:
        return None
    return amount * HOURS_PER_UNIT[unit]


@dataclass(frozen=True)
class ProcedureAsks:
    """What the catalog asks of a procedure, as a booking of it would be asked."""

    label: str  # "a medial branch block", as messages name it
    asks_region: bool = False
    asks_side: bool = False
    asks_levels: bool = False
    max_levels: int = 1


@dataclass(frozen=True)
class OutsideEntry:
    """A procedure done elsewhere, as a form or a line of an import gives it."""

    procedure_type_id: int
    performed_on: date
    facility: str
    performed_by: str | None = None
    region: str | None = None
    side: str | None = None
    levels_count: int | None = None
    levels: str | None = None
    percent_relief: int | None = None
    relief_amount: int | None = None
    relief_unit: ReliefUnit | None = None
    notes: str | None = None


MAX_RELIEF_AMOUNT = 999  # "999 hours" is six weeks; anything longer is said in weeks or months


def entry_problems(entry: OutsideEntry, asks: ProcedureAsks | None, *, today: date) -> dict[str, str]:
    """What is wrong with the record, field by field (empty when nothing is). `asks` is None when
    the procedure is not in the catalog. A weekend or a day the offices were closed is fine: it
    was done elsewhere, or before the app knew the offices."""
    problems: dict[str, str] = {}
    if asks is None:
        problems["procedure_type_id"] = "Choose a procedure from the catalog."
    else:
        problems |= _detail_problems(entry, asks)
    if entry.performed_on > today:
        problems["performed_on"] = "A procedure done elsewhere cannot be in the future."
    if not entry.facility.strip():
        problems["facility"] = "Say where it was done (the practice or hospital)."
    problems |= _relief_problems(entry)
    return problems


def _detail_problems(entry: OutsideEntry, asks: ProcedureAsks) -> dict[str, str]:
    """Region, side and levels when the procedure asks for them, within the catalog's limits."""
    problems: dict[str, str] = {}
    if asks.asks_region and entry.region not in {region.value for region in Region}:
        problems["region"] = f"Choose the spinal region for {asks.label}."
    if asks.asks_side and entry.side not in {side.value for side in Side}:
        problems["side"] = f"Choose the side for {asks.label}."
    if asks.asks_levels:
        if not entry.levels_count or entry.levels_count < 1:
            problems["levels_count"] = "Give the number of levels."
        elif entry.levels_count > asks.max_levels:
            levels = f"{asks.max_levels} level{'s' if asks.max_levels > 1 else ''}"
            problems["levels_count"] = f"At most {levels} per session for {asks.label}."
    return problems


def _relief_problems(entry: OutsideEntry) -> dict[str, str]:
    problems: dict[str, str] = {}
    if entry.percent_relief is not None and not 0 <= entry.percent_relief <= 100:
        problems["percent_relief"] = "Relief is 0 to 100 percent."
    if entry.relief_amount is not None and not 1 <= entry.relief_amount <= MAX_RELIEF_AMOUNT:
        problems["relief_amount"] = f"Give how long relief lasted as a number from 1 to {MAX_RELIEF_AMOUNT}."
    elif (entry.relief_amount is None) != (entry.relief_unit is None):
        problems["relief_amount"] = "Give how long relief lasted with its unit (hours, days, weeks or months)."
    elif entry.relief_amount is not None and entry.percent_relief is None:
        problems["percent_relief"] = "Give the percent relief that lasted this long."
    return problems


def kept_details(entry: OutsideEntry, asks: ProcedureAsks) -> OutsideEntry:
    """The entry without the details its procedure does not ask for (a booking keeps none of
    them either), so that the rules never count a region a trigger point was not given."""
    return replace(entry, region=entry.region if asks.asks_region else None,
                   side=entry.side if asks.asks_side else None,
                   levels_count=entry.levels_count if asks.asks_levels else None,
                   levels=entry.levels if asks.asks_levels else None)


def done_elsewhere(facility: str, performed_by: str | None) -> str:
    """By whom and where, as messages name an outside procedure: "Dr Lee, Valley Pain"."""
    return f"{performed_by}, {facility}" if performed_by else facility

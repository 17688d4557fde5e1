"""Implanted-device registry rules: intrathecal pumps and spinal cord stimulators. Pure: plain values in and
out; time and clinical limits are arguments."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from biip import ParseConfig, ParseError
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.symbology import SymbologyIdentifier

from backoffice.catalog.rules import wrong_gtin_check_digit


def plain_amount(value: Decimal | None) -> str:
    """2.500 -> 2.5, 40.00 -> 40: amounts as people write them."""
    return "" if value is None else format(value.normalize(), "f")


@dataclass(frozen=True)
class DeviceSettings:
    """The device defaults (settings; see the README)."""

    alarm_ml: Decimal = Decimal(2)
    margin_days: int = 7
    stability_days: int = 90
    tolerance_ml: Decimal = Decimal(2)
    refill_window_days: int = 14
    trial_days: int = 7
    trial_overdue_days: int = 10
    eri_days: int = 90
    replacement_years: float = 6.5


# Device status.

class DeviceStatus(StrEnum):
    TRIAL = "trial"
    IMPLANTED = "implanted"
    EXPLANTED = "explanted"
    REPLACED = "replaced"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_active(self) -> bool:
        """In the patient now."""
        return self in IN_THE_PATIENT


# In the patient now: on trial or implanted.
IN_THE_PATIENT = frozenset({DeviceStatus.TRIAL, DeviceStatus.IMPLANTED})


# Explanted and replaced are final: a device put back in is a new entry with its own implant date.
STATUS_CHANGES: Mapping[DeviceStatus, frozenset[DeviceStatus]] = {
    DeviceStatus.TRIAL: frozenset({DeviceStatus.IMPLANTED, DeviceStatus.EXPLANTED}),
    DeviceStatus.IMPLANTED: frozenset({DeviceStatus.EXPLANTED, DeviceStatus.REPLACED}),
    DeviceStatus.EXPLANTED: frozenset(),
    DeviceStatus.REPLACED: frozenset(),
}

# How each status reads in a sentence: the device as it is, and the action asked for.
_AS_IT_IS = {DeviceStatus.TRIAL: "A device on trial", DeviceStatus.IMPLANTED: "An implanted device",
             DeviceStatus.EXPLANTED: "An explanted device", DeviceStatus.REPLACED: "A replaced device"}
_STATE = {DeviceStatus.TRIAL: "on trial", DeviceStatus.IMPLANTED: "implanted",
          DeviceStatus.EXPLANTED: "explanted", DeviceStatus.REPLACED: "replaced"}
_ACTION = {**_STATE, DeviceStatus.TRIAL: "put on trial"}


class StatusChangeRefused(Exception):
    """A status change that is not allowed; str(e) says what the device is and what was asked."""

    def __init__(self, current: DeviceStatus, target: DeviceStatus) -> None:
        self.current = current
        self.target = target
        super().__init__(_refusal(current, target))


def _refusal(current: DeviceStatus, target: DeviceStatus) -> str:
    if current == target:
        return f"This device is already {_STATE[current]}; it cannot be {_ACTION[target]} again."
    message = f"{_AS_IT_IS[current]} cannot be {_ACTION[target]}"
    allowed = sorted(STATUS_CHANGES[current], key=list(DeviceStatus).index)
    if allowed:  # say what can be done instead
        message += ": it can only be " + " or ".join(_ACTION[status] for status in allowed)
    return message + "."


def check_status_change(current: DeviceStatus, target: DeviceStatus) -> None:
    """Raises StatusChangeRefused unless `current` may become `target`."""
    if target not in STATUS_CHANGES[current]:
        raise StatusChangeRefused(current, target)


# UDI: the GS1 barcode on the device's box.

@dataclass(frozen=True)
class Udi:
    gtin: str | None
    lot: str | None
    serial: str | None
    expiry: date | None
    manufactured: date | None


UDI_FIELDS = ("gtin", "lot", "serial", "expiry", "manufactured")


class UdiError(ValueError):
    """A barcode that cannot be read; str(e) is said to the nurse who scanned it."""


GS = chr(29)
# How keyboard-wedge scanners and people type the invisible group separator.
GS_SPELLINGS = re.compile(r"<GS>|\^\]|\N{SYMBOL FOR GROUP SEPARATOR}", re.IGNORECASE)
BY_HAND = "check the barcode or type the fields by hand."
_DATES = {"17": "expiry date", "11": "manufacture date"}
_TEXTS = {"10": "lot numbers", "21": "serial numbers", "01": "GTINs", **{ai: f"{what}s" for ai, what in _DATES.items()}}
# Dates are checked here, not by biip, so that a bad one gets a message that names it.
_CONFIG = ParseConfig(gs1_element_strings_verify_date=False)


def parse_udi(text: str) -> Udi:
    """A scanned or typed GS1 UDI: "(01)...(17)...(10)...(21)..." or the raw scan with group separators
    and an optional symbology identifier ("]d2"). Only AIs 01, 11, 17, 10 and 21 are kept."""
    elements = _element_strings(_clean(text))
    found: dict[str, GS1ElementString] = {}
    for element in elements:
        ai = element.ai.ai
        if ai not in _TEXTS:
            continue
        if ai in found and found[ai].value != element.value:  # which one is on the device? a person must say
            raise UdiError(f"The barcode has two different {_TEXTS[ai]} ({ai}): type the fields by hand.")
        found[ai] = element
    if "01" not in found:
        raise UdiError("The barcode has no GTIN (01): scan the barcode that starts with (01), "
                       "or type the fields by hand.")
    _check_gtin(found["01"])

    def text_of(ai: str) -> str | None:
        return found[ai].value if ai in found else None
    return Udi(gtin=found["01"].value, lot=text_of("10"), serial=text_of("21"), expiry=_date_of(found.get("17")),
               manufactured=_date_of(found.get("11")))


def with_group_separators(text: str) -> str:
    """The text with each way of writing the group separator ("<GS>", "^]", "␝") as the character itself."""
    return GS_SPELLINGS.sub(GS, text)


def udi_disagreements(scanned: Udi, typed: Udi) -> dict[str, str]:
    """The fields typed otherwise than the scanned barcode says (field name -> what the barcode says). An empty
    field disagrees with nothing: it takes the barcode's value (`completed_from`)."""
    said = {name: (getattr(scanned, name), getattr(typed, name)) for name in UDI_FIELDS}
    return {name: _shown(barcode) for name, (barcode, field) in said.items()
            if barcode is not None and field is not None and field != barcode}


def completed_from(scanned: Udi, typed: Udi) -> Udi:
    """What was typed, the fields left empty filled from the scanned barcode."""
    return Udi(gtin=typed.gtin or scanned.gtin, lot=typed.lot or scanned.lot, serial=typed.serial or scanned.serial,
               expiry=typed.expiry or scanned.expiry, manufactured=typed.manufactured or scanned.manufactured)


def _shown(value: str | date) -> str:
    return f"{value:%m/%d/%Y}" if isinstance(value, date) else value


def _clean(text: str) -> str:
    cleaned = with_group_separators(text).strip()
    if cleaned.startswith("]"):  # the scanner's symbology identifier, not data; GS1Message.parse does not drop it
        try:
            cleaned = cleaned[len(SymbologyIdentifier.extract(cleaned)):]
        except (ParseError, ValueError, IndexError) as error:  # biip 5.2 raises the last two for "]" and "]Xa"
            raise UdiError(f"This is not a UDI barcode we can read: {BY_HAND}") from error
    cleaned = cleaned.strip()  # strip() also drops a leading GS: some scanners send the opening FNC1 as one
    if not cleaned:
        raise UdiError("Nothing was scanned: scan the barcode again or type the fields by hand.")
    if cleaned.startswith("+"):  # the other UDI issuing agency
        raise UdiError("This is a HIBCC barcode, which cannot be read here: type the fields by hand.")
    return cleaned


def _element_strings(text: str) -> list[GS1ElementString]:
    try:
        if text.startswith("("):
            message = GS1Message.parse_hri(text, config=_CONFIG)
            # parse_hri skips what it does not recognise, such as "(10)" with nothing after it: it must all be read
            if message.as_hri() != "".join(text.split()):
                raise ParseError("Parts of the text are not GS1 element strings.")
        else:
            message = GS1Message.parse(text, config=_CONFIG)
    except ParseError as error:
        raise UdiError(f"This is not a UDI barcode we can read: {BY_HAND}") from error
    return list(message.element_strings)


def _check_gtin(element: GS1ElementString) -> None:
    # biip does not raise for a bad GTIN: it records the problem in gtin_error.
    if element.gtin_error is None:
        return
    problem = wrong_gtin_check_digit(element.value) or f"The GTIN {element.value} is not valid"
    raise UdiError(f"{problem}: {BY_HAND}")


def _date_of(element: GS1ElementString | None) -> date | None:
    """YYMMDD; biip reads day 00 as the last day of the month, as GS1 says, and the century as the one that puts
    the year within 49 years before and 50 after the current year."""
    if element is None:
        return None
    if element.date is None:
        raise UdiError(f"The {_DATES[element.ai.ai]} ({element.ai.ai}) {element.value} is not a real date: {BY_HAND}")
    return element.date


# Pump refills. Volumes in mL, as Decimal.

DAILY_ML_PLACES = Decimal("0.0001")


def daily_volume(daily_dose_mg: Decimal, concentration_mg_per_ml: Decimal) -> Decimal:
    """mL a day: the daily dose over the concentration, to 0.0001 mL (far finer than a pump meters, and a
    fixed scale so that the value stored is the value the refill plan used)."""
    if concentration_mg_per_ml <= 0 or daily_dose_mg <= 0:
        raise ValueError("The daily dose and the concentration must be above 0.")
    return (daily_dose_mg / concentration_mg_per_ml).quantize(DAILY_ML_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RefillPlan:
    daily_ml: Decimal
    days_of_drug: int          # whole days until the reservoir reaches the low-volume alarm
    capped_by_stability: bool  # the drug's stability, not the volume, sets the date
    interval_days: int
    next_due: date


def plan_next_refill(refill_day: date, *, volume_ml: Decimal, alarm_ml: Decimal, daily_ml: Decimal,
                     stability_days: int, margin_days: int) -> RefillPlan:
    """Next refill = refill day + min(whole days of (volume - alarm) / daily volume, stability days) - margin.

    The interval is never below 0: when the margin is longer than the drug lasts, the next refill is due on
    the refill day itself. That is a plan that does not work, shown as due at once, not a date in the past
    that would read as an already missed refill. Forms refuse daily_ml <= 0 and volume <= alarm before this
    is called; here they are programming errors."""
    if daily_ml <= 0:
        raise ValueError("The daily volume must be above 0.")
    if volume_ml <= alarm_ml:
        raise ValueError("The volume filled must be above the low-volume alarm.")
    if stability_days < 1 or margin_days < 0:
        raise ValueError("The stability must be at least a day and the margin at least 0 days.")
    # Decimal // is exact: 18 mL at 0.3 mL/day is 60 days, where floats make it 59.
    days_of_drug = int((volume_ml - alarm_ml) // daily_ml)
    # At equal days the volume runs out as the stability ends: no drug is left to expire, so not capped.
    capped = stability_days < days_of_drug
    interval = max(0, min(days_of_drug, stability_days) - margin_days)
    return RefillPlan(daily_ml=daily_ml, days_of_drug=days_of_drug, capped_by_stability=capped,
                      interval_days=interval, next_due=refill_day + timedelta(days=interval))


@dataclass(frozen=True)
class RefillCheck:
    overfill: bool                # more added than the reservoir holds: the refill must be refused
    mismatch: bool                # more than the tolerance between what should be left and what came out
    difference_ml: Decimal | None  # withdrawn - expected (negative: less came out); None when nothing was expected


def check_refill(*, reservoir_ml: Decimal, expected_residual_ml: Decimal | None, withdrawn_ml: Decimal,
                 added_ml: Decimal, tolerance_ml: Decimal) -> RefillCheck:
    """The reservoir is emptied before it is filled, so only the volume added counts against its size.
    Without an expected residual (the first refill after the implant) nothing can mismatch."""
    if reservoir_ml <= 0 or withdrawn_ml < 0 or added_ml < 0 or tolerance_ml < 0:
        raise ValueError("The reservoir must be above 0 mL; the other volumes 0 mL or more.")
    difference = None if expected_residual_ml is None else withdrawn_ml - expected_residual_ml
    # A difference of exactly the tolerance is within it.
    return RefillCheck(overfill=added_ml > reservoir_ml,
                       mismatch=difference is not None and abs(difference) > tolerance_ml,
                       difference_ml=difference)


def expected_residual(*, last_volume_ml: Decimal, daily_ml: Decimal, days: int) -> Decimal:
    """What should be left since the last refill: the volume then less a daily volume per day elapsed. Never
    below 0: an empty pump holds nothing, however long ago it was filled."""
    if days < 0:
        raise ValueError("The days since the last refill cannot be below 0.")
    return max(Decimal(0), last_volume_ml - daily_ml * days)


# Battery and service life.

def replacement_due(eri_day: date, *, days_after_eri: int) -> date:
    """When the device must be replaced: the pump stops some days (about 90) after its elective replacement
    indicator (ERI) shows."""
    return eri_day + timedelta(days=days_after_eri)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 January + 1 = 28 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def _months_in_service(implanted_on: date, today: date) -> Fraction:
    """Calendar months, the part-month a fraction of its days: so "6.5 years" is 6 years and 6 months to the day,
    and the count is exact (no float rounding at the boundary)."""
    if today <= implanted_on:  # a device dated in the future has not served yet
        return Fraction(0)
    months = (today.year - implanted_on.year) * 12 + today.month - implanted_on.month
    if _add_months(implanted_on, months) > today:
        months -= 1
    start, end = _add_months(implanted_on, months), _add_months(implanted_on, months + 1)
    return months + Fraction((today - start).days, (end - start).days)


def years_in_service(implanted_on: date, today: date) -> float:
    return float(_months_in_service(implanted_on, today) / 12)


def is_due_for_replacement_planning(implanted_on: date, today: date, *, years: float) -> bool:
    """From `years` (6.5) of service on: the battery nears its end and the replacement needs planning."""
    # str() so that 6.5 is 13/2, not the float's binary expansion.
    return _months_in_service(implanted_on, today) >= Fraction(str(years)) * 12


# SCS trials. A trial's result (the reduction of target pain or of analgesic use it gave, and the day
# it ended) is kept with the trial: the trial page and the trial-end follow-up both write it there.

class TrialDecision(StrEnum):
    IMPLANT = "implant"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"implant": "Proceed to permanent implant", "failed": "Failed: leads removed"}[self.value]


class TrialResultSource(StrEnum):
    """Where a trial's result was last entered; the later entry wins."""

    TRIAL_PAGE = "trial_page"
    FOLLOW_UP = "follow_up"

    @property
    def label(self) -> str:
        return {"trial_page": "the trial page", "follow_up": "the trial-end follow-up"}[self.value]


class TrialState(StrEnum):
    RUNNING = "running"
    ENDING_THIS_WEEK = "ending_this_week"
    RESULT_DUE = "result_due"
    OVERDUE = "overdue"
    AWAITING_DECISION = "awaiting_decision"
    IMPLANT_TO_BOOK = "implant_to_book"
    DECIDED = "decided"

    @property
    def label(self) -> str:
        return {"running": "Running", "ending_this_week": "Ending this week",
                "result_due": "Past its planned end, result not recorded", "overdue": "Running too long",
                "awaiting_decision": "Ended, awaiting a decision", "implant_to_book": "Implant to book",
                "decided": "Decided"}[self.value]


WEEK = timedelta(days=7)


def planned_trial_end(started_on: date, *, trial_days: int) -> date:
    if trial_days < 1:
        raise ValueError("A trial lasts at least a day.")
    return started_on + timedelta(days=trial_days)


@dataclass(frozen=True)
class TrialRecord:
    """An SCS trial as the registry keeps it, with its result, as plain values for the candidacy
    rules. A trial procedure done here with no trial on record yet is one too, without a result
    (`trial_id` None)."""

    trial_id: int | None
    started_on: date
    appointment_id: int | None = None  # the trial procedure done here
    code: str = "SCS trial"
    region: str | None = None
    ended_on: date | None = None
    pain_reduction_percent: int | None = None
    analgesic_reduction_percent: int | None = None
    decision: TrialDecision | None = None


def is_followed_by_implant(started_on: date, implant_on: date | None) -> bool:
    """A permanent implant booked or done on or after the trial's start (`implant_on`: the day of
    the patient's latest one) answers the trial, whatever was recorded on it."""
    return implant_on is not None and implant_on >= started_on


def trial_state(started_on: date, planned_end: date, today: date, *, ended_on: date | None,
                decision: TrialDecision | None, implant_on: date | None, overdue_days: int) -> TrialState:
    """The first that applies: decided (not proceeding, or an implant booked or done since the
    start); implant to book (decided to implant, none booked yet); awaiting a decision (ended: its
    result is recorded, however late); overdue (no result and more than `overdue_days` since the
    start, even before a later planned end: leads left in that long are the infection risk); result
    due (no result on or after the planned end); ending this week (the planned end in the next 7
    days); running."""
    if decision is TrialDecision.FAILED or is_followed_by_implant(started_on, implant_on):
        return TrialState.DECIDED
    if decision is TrialDecision.IMPLANT:
        return TrialState.IMPLANT_TO_BOOK
    if ended_on is not None:
        return TrialState.AWAITING_DECISION
    if (today - started_on).days > overdue_days:
        return TrialState.OVERDUE
    if today >= planned_end:
        return TrialState.RESULT_DUE
    if planned_end <= today + WEEK:
        return TrialState.ENDING_THIS_WEEK
    return TrialState.RUNNING


def trial_reduction(pain_percent: int | None, analgesic_percent: int | None) -> int | None:
    """What the implant rule reads (NCD 160.7): the larger of the reductions of target pain and of
    analgesic use; None when neither is recorded."""
    given = [percent for percent in (pain_percent, analgesic_percent) if percent is not None]
    return max(given) if given else None


def trial_result_said(pain_percent: int | None, analgesic_percent: int | None) -> str:
    """"65% reduction of target pain, 40% of analgesic use"."""
    parts = []
    if pain_percent is not None:
        parts.append(f"{pain_percent}% reduction of target pain")
    if analgesic_percent is not None:
        parts.append(f"{analgesic_percent}% {'of' if parts else 'reduction of'} analgesic use")
    return ", ".join(parts) or "no result"


def trial_result_problems(*, started_on: date, ended_on: date | None, pain_percent: int | None,
                          analgesic_percent: int | None, decision: TrialDecision | None,
                          today: date) -> dict[str, str]:
    """A result is a reduction (of target pain, analgesic use or both) with the day the trial
    ended; a decision to implant needs it."""
    errors: dict[str, str] = {}
    has_result = trial_reduction(pain_percent, analgesic_percent) is not None
    if has_result and ended_on is None:
        errors["ended_on"] = "Give the day the trial ended."
    elif ended_on is not None and not has_result:
        errors["pain_reduction_percent"] = "Give the reduction of target pain or of analgesic use the trial gave."
    elif ended_on is not None and ended_on < started_on:
        errors["ended_on"] = f"The trial started on {started_on:%m/%d/%Y}."
    elif ended_on is not None and ended_on > today:
        errors["ended_on"] = "The trial cannot have ended in the future."
    if decision is TrialDecision.IMPLANT and not has_result:
        errors["decision"] = "Record the trial's result before deciding to implant."
    return errors

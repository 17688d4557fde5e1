"""The catalog's vocabulary and rules: for procedures, categories, regions, sides, frequency
groups, clinical kinds and default follow-ups; for device models, their kinds and GTINs. Pure:
plain values in and out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from biip.checksums import gs1_standard_check_digit
from dateutil.relativedelta import relativedelta


class Category(StrEnum):
    EPIDURAL = "epidural"
    FACET = "facet"
    ABLATION = "ablation"
    JOINT = "joint"
    NEUROMODULATION = "neuromodulation"
    INTRATHECAL = "intrathecal"
    REGENERATIVE = "regenerative"
    VISIT = "visit"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.EPIDURAL: "Epidural injections",
    Category.FACET: "Facet and medial branch",
    Category.ABLATION: "Radiofrequency ablation",
    Category.JOINT: "Joint and trigger point",
    Category.NEUROMODULATION: "Spinal cord stimulation",
    Category.INTRATHECAL: "Intrathecal pumps",
    Category.REGENERATIVE: "Regenerative",
    Category.VISIT: "Office visits",
}


class Region(StrEnum):
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBAR = "lumbar"
    SACRAL = "sacral"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"


class FrequencyGroup(StrEnum):
    """Procedures counted together against a frequency limit (per spinal region)."""

    EPIDURAL = "epidural"
    FACET_DIAGNOSTIC = "facet_diagnostic"
    FACET_THERAPEUTIC = "facet_therapeutic"
    ABLATION = "ablation"

    @property
    def label(self) -> str:
        return group_label(self.value)


GROUP_LABELS = {"epidural": "epidural steroid injections", "facet_diagnostic": "diagnostic facet blocks",
                "facet_therapeutic": "therapeutic facet injections", "ablation": "radiofrequency ablations"}


def group_label(group: str) -> str:
    return GROUP_LABELS.get(group, group.replace("_", " "))


class IntervalScope(StrEnum):
    """What the fewest-days-between limit compares a new procedure with."""

    PATIENT = "patient"          # any earlier one of the group (epidural steroid injections)
    REGION = "region"            # one in the same spinal region
    REGION_SIDE = "region_side"  # one in the same region and on the same side (repeat RFA)

    @property
    def label(self) -> str:
        return {"patient": "any region", "region": "the same region",
                "region_side": "the same region and side"}[self.value]


class IntervalUnit(StrEnum):
    """How a minimum interval is stated: in days where the source says days (14 days between
    epidurals), in calendar months where it says months (6 months between RFAs)."""

    DAYS = "days"
    MONTHS = "months"

    @property
    def label(self) -> str:
        return {"days": "days", "months": "calendar months"}[self.value]


MAX_INTERVAL_MONTHS = 24


def months_after(day: date, months: int) -> date:
    """`months` calendar months after `day`, clamped at the month's end: 6 months after 03/31 is
    09/30, after 08/29/2026 it is 02/28/2027."""
    return day + relativedelta(months=months)


@dataclass(frozen=True)
class MinimumInterval:
    """The fewest days or calendar months between two procedures of a frequency group."""

    amount: int
    unit: IntervalUnit = IntervalUnit.DAYS

    def after(self, day: date) -> date:
        """The first day the interval allows after a procedure on `day`."""
        if self.unit is IntervalUnit.MONTHS:
            return months_after(day, self.amount)
        return day + timedelta(days=self.amount)

    def is_too_close(self, one: date, other: date) -> bool:
        """Whether two procedure days are nearer than the interval, in either order."""
        earlier, later = sorted((one, other))
        return later < self.after(earlier)

    @property
    def typical_days(self) -> float:
        """For comparing a days interval with a months one (the stricter of a group's)."""
        return self.amount * (365.25 / 12 if self.unit is IntervalUnit.MONTHS else 1)

    @property
    def word(self) -> str:
        return "day" if self.unit is IntervalUnit.DAYS else "month"

    @property
    def adjective(self) -> str:
        """ "14-day", "6-month" """
        return f"{self.amount}-{self.word}"

    def __str__(self) -> str:
        """ "14 days", "6 months", "1 month" """
        return f"{self.amount} {self.word}{'s' if self.amount != 1 else ''}"


def minimum_interval(amount: int | None, unit: IntervalUnit) -> MinimumInterval | None:
    return MinimumInterval(amount, unit) if amount else None


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


OFFSET = re.compile(r"^(\d{1,3})\s*([hdw])$")
UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
MAX_FOLLOW_UPS = 4


@dataclass(frozen=True)
class FollowUpOffset:
    """One default follow-up after a procedure: "6h", "1d", "2w"."""

    amount: int
    unit: str

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.amount * UNIT_HOURS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def label(self) -> str:
        """ "6 hours", "1 day", "2 weeks" """
        word = {"h": "hour", "d": "day", "w": "week"}[self.unit]
        return f"{self.amount} {word}{'s' if self.amount != 1 else ''}"



def parse_follow_ups(text: str) -> list[FollowUpOffset]:
    """"14d, 90d" -> offsets in order. Raises ValueError with a message for people."""
    offsets = []
    for part in (piece.strip().lower() for piece in text.split(",")):
        if not part:
            continue
        match = OFFSET.match(part)
        if match is None or int(match.group(1)) == 0:
            raise ValueError(f"“{part}” is not a delay: write a number and h, d or w, such as 6h, 14d or 6w.")
        offsets.append(FollowUpOffset(int(match.group(1)), match.group(2)))
    if len(offsets) > MAX_FOLLOW_UPS:
        raise ValueError(f"At most {MAX_FOLLOW_UPS} follow-ups per procedure.")
    return sorted(offsets, key=lambda offset: offset.delay)


def format_follow_ups(offsets: list[FollowUpOffset]) -> str:
    return ", ".join(str(offset) for offset in offsets)



class ProcedureKind(StrEnum):
    """What a procedure is for the clinical rules."""

    NONE = "none"
    DIAGNOSTIC_FACET = "diagnostic_facet"    # medial branch block
    THERAPEUTIC_FACET = "therapeutic_facet"  # intra-articular facet injection
    EPIDURAL = "epidural"
    ABLATION = "ablation"                    # radiofrequency ablation (rhizotomy)
    SCS_TRIAL = "scs_trial"
    SCS_IMPLANT = "scs_implant"

    @property
    def label(self) -> str:
        return {"none": "No clinical rule", "diagnostic_facet": "Diagnostic medial branch block",
                "therapeutic_facet": "Therapeutic facet injection", "epidural": "Epidural steroid injection",
                "ablation": "Radiofrequency ablation", "scs_trial": "SCS trial",
                "scs_implant": "SCS permanent implant"}[self.value]


# Device models.

class DeviceKind(StrEnum):
    PUMP = "pump"
    SCS_GENERATOR = "scs_generator"
    SCS_LEAD = "scs_lead"
    TRIAL_LEAD = "trial_lead"
    IT_CATHETER = "it_catheter"

    @property
    def label(self) -> str:
        return {"pump": "Intrathecal pump", "scs_generator": "SCS generator", "scs_lead": "SCS lead",
                "trial_lead": "SCS trial lead", "it_catheter": "Intrathecal catheter"}[self.value]

    @property
    def has_battery(self) -> bool:
        return self in (DeviceKind.PUMP, DeviceKind.SCS_GENERATOR)


def wrong_gtin_check_digit(gtin: str) -> str | None:
    """What is wrong with a GTIN's last digit, or None when it is the GS1 check digit of the others."""
    expected, got = gs1_standard_check_digit(gtin[:-1]), gtin[-1]
    return None if str(expected) == got else f"The GTIN check digit is wrong (expected {expected}, got {got})"


def gtin_problem(gtin: str) -> str | None:
    """What is wrong with a GTIN typed by hand (14 digits, as in a UDI), or None when it is right."""
    if not re.fullmatch(r"[0-9]{14}", gtin):  # not \d, which takes the digits of any script
        return "A GTIN has 14 digits."
    wrong = wrong_gtin_check_digit(gtin)
    return f"{wrong}: check the number on the label." if wrong else None

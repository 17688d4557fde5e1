"""Follow-up and outcome rules: when follow-ups fall due, relief and disability scores, what an
outcome may say. Pure: plain values in and out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from backoffice.catalog.rules import FollowUpOffset

# How long relief lasted is said the same way here and for procedures done elsewhere: the words
# live with those (history, below this package) and are named here too, for the outcome's readers.
from backoffice.history.rules import HOURS_PER_UNIT as HOURS_PER_UNIT
from backoffice.history.rules import ReliefUnit as ReliefUnit
from backoffice.history.rules import relief_hours as relief_hours
from backoffice.history.rules import relief_said as relief_said


def follow_ups_due(ended_at: datetime, offsets: Sequence[FollowUpOffset]) -> list[tuple[FollowUpOffset, datetime]]:
    """When each follow-up of a procedure that ended at `ended_at` falls due."""
    return [(offset, ended_at + offset.delay) for offset in offsets]


def day_bounds(now: datetime, timezone: str, days_ahead: int) -> tuple[datetime, datetime, datetime]:
    """The start of today, of tomorrow and of the day after `days_ahead` more days, in the
    practice's time zone, as aware UTC instants (days are 23 or 25 hours long at DST changes)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()

    def start(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(UTC)
    return start(today), start(today + timedelta(days=1)), start(today + timedelta(days=1 + days_ahead))


# Outcomes of procedures.

class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"          # an outcome is recorded
    CLOSED = "closed"      # closed without an outcome (patient unreachable, seen elsewhere ...)


class Contact(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    PORTAL = "portal"
    OTHER = "other"


class FunctionChange(StrEnum):
    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class PlanDecision(StrEnum):
    REPEAT_BLOCK = "repeat_block"
    PROCEED_RFA = "proceed_rfa"
    SCS_TRIAL = "scs_trial"
    NO_FURTHER = "no_further"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"repeat_block": "Repeat block", "proceed_rfa": "Proceed to RFA", "scs_trial": "SCS trial",
                "no_further": "No further intervention", "other": "Other"}[self.value]


# Decisions that may take a note, and those that need one (what is the plan?).
DECISION_NOTE_LENGTH = 500
NOTE_NEEDED = frozenset({PlanDecision.OTHER})

MAX_NRS = 10
ODI_SECTIONS = ("Pain intensity", "Personal care", "Lifting", "Walking", "Sitting", "Standing", "Sleeping",
                "Sex life", "Social life", "Travelling")
ODI_MAX_PER_SECTION = 5


def percent_relief(baseline: int | None, post: int | None) -> int | None:
    """(baseline - post) / baseline x 100, rounded; None when it cannot be computed. Pain that is
    worse than before counts as no relief."""
    if baseline is None or post is None or baseline == 0:
        return None
    return max(0, round((baseline - post) / baseline * 100))


def odi_score(answers: Sequence[int | None]) -> int | None:
    """Oswestry Disability Index, 0-100: the points scored over the points possible in the
    sections answered (each 0-5). None when no section is answered."""
    answered = [answer for answer in answers if answer is not None]
    if not answered:
        return None
    return round(sum(answered) / (ODI_MAX_PER_SECTION * len(answered)) * 100)


def outcome_problems(*, baseline: int | None, post: int | None, relief: int | None, recorded_on: date,
                     procedure_day: date, today: date) -> dict[str, str]:
    """Impossible values, field by field."""
    errors: dict[str, str] = {}
    for field_name, score in (("baseline_nrs", baseline), ("post_nrs", post)):
        if score is not None and not 0 <= score <= MAX_NRS:
            errors[field_name] = "Pain is scored 0 to 10."
    if relief is not None and not 0 <= relief <= 100:
        errors["percent_relief"] = "Relief is 0 to 100 percent."
    if relief is None and percent_relief(baseline, post) is None:
        errors["percent_relief"] = "Give the percent relief, or both pain scores (baseline above 0)."
    if recorded_on < procedure_day:
        errors["recorded_on"] = f"The follow-up cannot be before the procedure ({procedure_day:%m/%d/%Y})."
    if recorded_on > today:
        errors["recorded_on"] = "The follow-up cannot be in the future."
    return errors


def decision_problems(decision: PlanDecision, note: str | None) -> dict[str, str]:
    """What is wrong with a decision as sent: "other" says what the plan is; a note fits."""
    if decision in NOTE_NEEDED and not (note or "").strip():
        return {"note": "Say what the plan is."}
    if note and len(note) > DECISION_NOTE_LENGTH:
        return {"note": f"Keep the note under {DECISION_NOTE_LENGTH} characters."}
    return {}

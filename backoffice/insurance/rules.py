"""Insurance: the payers the practice bills and the coverage a patient holds with them. Pure: plain
values in and out; the payer chosen, the patient's other coverage and the day asked come in as
arguments.

A coverage is in force from its effective date through its end date, both days included (a plan
that ends 12/31 still pays for a procedure on 12/31); no end date means it has not ended. A patient
holds at most one primary and one secondary coverage on any day: two coverages of the same rank
whose days overlap are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, Protocol, TypeVar


class PayerKind(StrEnum):
    """What kind of payer it is: the prior-authorization rules differ by kind (Medicare's
    outpatient list, the Medicare Advantage and Medicaid decision times, commercial managers)."""

    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    WORKERS_COMPENSATION = "workers_compensation"
    SELF_PAY = "self_pay"
    OTHER = "other"

    @property
    def label(self) -> str:
        return PAYER_KIND_LABELS[self]


PAYER_KIND_LABELS = {
    PayerKind.MEDICARE: "Medicare", PayerKind.MEDICARE_ADVANTAGE: "Medicare Advantage",
    PayerKind.MEDICAID: "Medicaid", PayerKind.COMMERCIAL: "Commercial",
    PayerKind.WORKERS_COMPENSATION: "Workers' compensation", PayerKind.SELF_PAY: "Self-pay",
    PayerKind.OTHER: "Other",
}


class CoverageRank(StrEnum):
    """Which payer is billed first."""

    PRIMARY = "primary"
    SECONDARY = "secondary"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Relationship(StrEnum):
    """The patient's relationship to the subscriber, the person who holds the policy."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.capitalize()


PAYER_NAME_LENGTH = 80


def payer_key(name: str) -> str:
    """The name two payers may not share: case and runs of spaces do not count ("AETNA  Inc" is
    "Aetna Inc")."""
    return " ".join(name.split()).casefold()


def tidy_payer_name(name: str) -> str:
    """The name as shown: trimmed, inner runs of spaces made one."""
    return " ".join(name.split())


def is_in_force(effective_on: date, ends_on: date | None, day: date) -> bool:
    return effective_on <= day and (ends_on is None or day <= ends_on)


def days_overlap(first: tuple[date, date | None], second: tuple[date, date | None]) -> bool:
    """Whether two spans of days, each from its start through its end (None: open), share a day."""
    (first_start, first_end), (second_start, second_end) = first, second
    return ((first_end is None or second_start <= first_end)
            and (second_end is None or first_start <= second_end))


@dataclass(frozen=True)
class Span:
    """A coverage's rank and days, as the rules read it; with its payer's name when a new or
    changed coverage is checked against it."""

    rank: CoverageRank
    effective_on: date
    ends_on: date | None
    payer_name: str = ""

    @property
    def span(self) -> Span:
        return self


class Dated(Protocol):
    """A coverage as the rules read it (the stored one, or a plain `Span`)."""

    @property
    def span(self) -> Span: ...


DatedT = TypeVar("DatedT", bound=Dated)


@dataclass(frozen=True)
class InForce(Generic[DatedT]):
    """The coverage that pays on a day: the primary first, then the secondary."""

    primary: DatedT | None
    secondary: DatedT | None

    @property
    def payers_in_order(self) -> list[DatedT]:
        return [coverage for coverage in (self.primary, self.secondary) if coverage is not None]


def in_force_on(coverages: Iterable[DatedT], day: date) -> InForce[DatedT]:
    """Which coverage is primary and which secondary on `day`. Overlaps are refused when a
    coverage is saved, so each rank has one at most; should the stored rows disagree, the one
    that started last is taken."""
    found: dict[CoverageRank, DatedT] = {}
    for coverage in sorted(coverages, key=lambda c: c.span.effective_on):
        span = coverage.span
        if is_in_force(span.effective_on, span.ends_on, day):
            found[span.rank] = coverage
    return InForce(found.get(CoverageRank.PRIMARY), found.get(CoverageRank.SECONDARY))


@dataclass(frozen=True)
class Arranged(Generic[DatedT]):
    """A patient's coverage as the patient page lists it."""

    in_force: InForce[DatedT]
    upcoming: list[DatedT]  # starting after today, soonest first
    ended: list[DatedT]  # ended before today, latest first


def arrange(coverages: Sequence[DatedT], today: date) -> Arranged[DatedT]:
    upcoming = sorted((c for c in coverages if c.span.effective_on > today),
                      key=lambda c: (c.span.effective_on, c.span.rank))
    ended = sorted((c for c in coverages if c.span.ends_on is not None and c.span.ends_on < today),
                   key=lambda c: c.span.ends_on or c.span.effective_on, reverse=True)
    return Arranged(in_force_on(coverages, today), upcoming, ended)


@dataclass(frozen=True)
class PayerFacts:
    """The payer a coverage names, as the rules need it."""

    name: str
    kind: PayerKind


@dataclass(frozen=True)
class CoverageEntry:
    """A coverage as the form gives it."""

    rank: CoverageRank
    payer_id: int
    effective_on: date
    member_id: str | None = None
    plan_name: str | None = None
    group_number: str | None = None
    relationship_to_subscriber: Relationship = Relationship.SELF
    subscriber_name: str | None = None
    ends_on: date | None = None


def said_span(effective_on: date, ends_on: date | None) -> str:
    """"from 01/01/2026 through 12/31/2026", "from 01/01/2026, no end date"."""
    return f"from {effective_on:%m/%d/%Y}" + (f" through {ends_on:%m/%d/%Y}" if ends_on else ", no end date")


def coverage_problems(entry: CoverageEntry, payer: PayerFacts | None, others: Iterable[Span]) -> dict[str, str]:
    """What is wrong with the coverage, field by field (empty when nothing is). `payer` is None
    when the payer chosen is not on offer; `others` are the patient's other coverages."""
    problems: dict[str, str] = {}
    if payer is None:
        problems["payer_id"] = "Choose a payer from the list."
    elif payer.kind is not PayerKind.SELF_PAY and not entry.member_id:
        problems["member_id"] = f"Give the member ID on the {payer.name} card."
    if entry.relationship_to_subscriber is Relationship.SELF and entry.subscriber_name:
        problems["subscriber_name"] = ("The patient holds this policy (relationship Self): leave the "
                                       "subscriber empty, or choose the relationship.")
    if entry.relationship_to_subscriber is not Relationship.SELF and not entry.subscriber_name:
        problems["subscriber_name"] = "Give the name of the subscriber, who holds the policy."
    if entry.ends_on is not None and entry.ends_on < entry.effective_on:
        problems["ends_on"] = "The end date cannot be before the effective date."
        return problems
    clash = next((other for other in others if other.rank is entry.rank
                  and days_overlap((entry.effective_on, entry.ends_on), (other.effective_on, other.ends_on))), None)
    if clash is not None:
        problems["effective_on"] = (
            f"The patient's {entry.rank.value} coverage with {clash.payer_name} runs "
            f"{said_span(clash.effective_on, clash.ends_on)}: give that one an end date first, or choose "
            f"dates that do not overlap it (one {entry.rank.value} coverage at a time).")
    return problems

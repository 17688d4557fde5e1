"""Coverage rules: when a coverage is in force, which one is primary on a day, what a coverage must say."""

from __future__ import annotations

from datetime import date

import pytest

from backoffice.insurance.rules import (
    CoverageEntry,
    CoverageRank,
    PayerFacts,
    PayerKind,
    Relationship,
    Span,
    arrange,
    coverage_problems,
    days_overlap,
    in_force_on,
    is_in_force,
    payer_key,
    said_span,
    tidy_payer_name,
)

PRIMARY, SECONDARY = CoverageRank.PRIMARY, CoverageRank.SECONDARY
D = date
AETNA = PayerFacts("Aetna", PayerKind.COMMERCIAL)
SELF_PAY = PayerFacts("Self-pay", PayerKind.SELF_PAY)


@pytest.mark.parametrize("effective_on, ends_on, day, in_force", [
    (D(2026, 1, 1), D(2026, 12, 31), D(2026, 1, 1), True),  # the first day counts
    (D(2026, 1, 1), D(2026, 12, 31), D(2026, 12, 31), True),  # so does the last
    (D(2026, 1, 1), D(2026, 12, 31), D(2025, 12, 31), False),
    (D(2026, 1, 1), D(2026, 12, 31), D(2027, 1, 1), False),
    (D(2026, 1, 1), None, D(2040, 1, 1), True),  # no end date: not ended
    (D(2026, 3, 1), D(2026, 3, 1), D(2026, 3, 1), True),  # a single day
])
def test_a_coverage_is_in_force_from_its_effective_date_through_its_end_date(effective_on, ends_on, day, in_force):
    assert is_in_force(effective_on, ends_on, day) is in_force


@pytest.mark.parametrize("first, second, overlap", [
    ((D(2026, 1, 1), D(2026, 6, 30)), (D(2026, 7, 1), None), False),  # back to back
    ((D(2026, 1, 1), D(2026, 7, 1)), (D(2026, 7, 1), None), True),  # sharing the last day
    ((D(2026, 1, 1), None), (D(2030, 1, 1), D(2030, 2, 1)), True),  # open-ended covers everything after
    ((D(2026, 1, 1), None), (D(2020, 1, 1), D(2025, 12, 31)), False),
    ((D(2020, 1, 1), None), (D(2026, 1, 1), None), True),
    ((D(2026, 5, 1), D(2026, 5, 31)), (D(2026, 1, 1), D(2026, 12, 31)), True),  # inside
])
def test_two_spans_of_days_overlap_when_they_share_a_day(first, second, overlap):
    assert days_overlap(first, second) is overlap
    assert days_overlap(second, first) is overlap


def span(rank, starts, ends=None, payer="Aetna") -> Span:
    return Span(rank, starts, ends, payer)


EMPLOYER = span(PRIMARY, D(2015, 1, 1), D(2025, 6, 30), "CareFirst")
MEDICARE = span(PRIMARY, D(2025, 7, 1), None, "Medicare Part B")
MEDIGAP = span(SECONDARY, D(2025, 7, 1), D(2026, 12, 31), "Medigap")
NEXT_PLAN = span(SECONDARY, D(2027, 1, 1), None, "Medicaid")
HISTORY = [NEXT_PLAN, MEDICARE, EMPLOYER, MEDIGAP]


@pytest.mark.parametrize("day, primary, secondary", [
    (D(2020, 5, 5), EMPLOYER, None),
    (D(2025, 6, 30), EMPLOYER, None),  # the employer plan's last day
    (D(2025, 7, 1), MEDICARE, MEDIGAP),  # Medicare's first
    (D(2026, 12, 31), MEDICARE, MEDIGAP),
    (D(2027, 1, 1), MEDICARE, NEXT_PLAN),
    (D(2014, 12, 31), None, None),
])
def test_the_coverage_in_force_on_a_day_is_primary_and_secondary(day, primary, secondary):
    found = in_force_on(HISTORY, day)
    assert (found.primary, found.secondary) == (primary, secondary)
    assert found.payers_in_order == [c for c in (primary, secondary) if c is not None]


def test_should_two_of_a_rank_overlap_the_one_that_started_last_is_taken():
    later = span(PRIMARY, D(2026, 1, 1), None, "Cigna")
    assert in_force_on([later, MEDICARE], D(2026, 6, 1)).primary == later


def test_the_patient_page_lists_what_is_in_force_then_what_starts_later_and_what_ended():
    arranged = arrange(HISTORY, D(2026, 6, 1))
    assert (arranged.in_force.primary, arranged.in_force.secondary) == (MEDICARE, MEDIGAP)
    assert arranged.upcoming == [NEXT_PLAN]
    assert arranged.ended == [EMPLOYER]


def entry(**changes) -> CoverageEntry:
    values = {"rank": PRIMARY, "payer_id": 4, "effective_on": D(2026, 1, 1), "member_id": "XYZ123"}
    return CoverageEntry(**{**values, **changes})


@pytest.mark.parametrize("changes, payer, field, words", [
    ({}, None, "payer_id", "Choose a payer from the list."),
    ({"member_id": None}, AETNA, "member_id", "Give the member ID on the Aetna card."),
    ({"relationship_to_subscriber": Relationship.SELF, "subscriber_name": "Daniel Ruiz"}, AETNA, "subscriber_name",
     "leave the subscriber empty"),
    ({"relationship_to_subscriber": Relationship.SPOUSE}, AETNA, "subscriber_name",
     "Give the name of the subscriber"),
    ({"ends_on": D(2025, 12, 31)}, AETNA, "ends_on", "The end date cannot be before the effective date."),
])
def test_what_a_coverage_must_say(changes, payer, field, words):
    problems = coverage_problems(entry(**changes), payer, [])
    assert list(problems) == [field] and words in problems[field]


@pytest.mark.parametrize("changes", [
    {},
    {"relationship_to_subscriber": Relationship.CHILD, "subscriber_name": "Rosa Ruiz"},
    {"ends_on": D(2026, 1, 1)},  # a single day
    {"plan_name": "Choice Plus", "group_number": "0123456"},
])
def test_a_complete_coverage_has_no_problems(changes):
    assert coverage_problems(entry(**changes), AETNA, []) == {}


def test_self_pay_needs_no_member_id():
    assert coverage_problems(entry(member_id=None), SELF_PAY, []) == {}


@pytest.mark.parametrize("changes, others, clash", [
    ({}, [MEDICARE], True),  # a second primary while Medicare runs
    ({"rank": SECONDARY}, [MEDICARE], False),  # a secondary beside it is fine
    ({"effective_on": D(2010, 1, 1), "ends_on": D(2015, 1, 1)}, [EMPLOYER], True),  # sharing 01/01/2015
    ({"effective_on": D(2010, 1, 1), "ends_on": D(2014, 12, 31)}, [EMPLOYER], False),  # the day before
    ({"effective_on": D(2025, 7, 1)}, [EMPLOYER], False),  # the day after it ended
    ({"effective_on": D(2025, 6, 30)}, [EMPLOYER], True),
    ({"rank": SECONDARY, "effective_on": D(2030, 1, 1)}, [NEXT_PLAN], True),  # open-ended, far ahead
])
def test_one_coverage_of_each_rank_at_a_time(changes, others, clash):
    problems = coverage_problems(entry(**changes), AETNA, others)
    assert ("effective_on" in problems) is clash


def test_an_overlap_names_the_coverage_in_the_way_and_what_to_do():
    problems = coverage_problems(entry(), AETNA, [MEDICARE])
    assert problems["effective_on"] == (
        "The patient's primary coverage with Medicare Part B runs from 07/01/2025, no end date: give that one an "
        "end date first, or choose dates that do not overlap it (one primary coverage at a time).")


def test_dates_in_the_wrong_order_are_said_before_any_overlap():
    assert list(coverage_problems(entry(ends_on=D(2025, 1, 1)), AETNA, [MEDICARE])) == ["ends_on"]


@pytest.mark.parametrize("name, key, shown", [
    ("Aetna", "aetna", "Aetna"),
    ("  AETNA  ", "aetna", "AETNA"),
    ("Blue  Cross\tBlue Shield", "blue cross blue shield", "Blue Cross Blue Shield"),
    ("Medicare Part B", "medicare part b", "Medicare Part B"),
])
def test_payer_names_differ_by_more_than_case_and_spacing(name, key, shown):
    assert (payer_key(name), tidy_payer_name(name)) == (key, shown)


def test_a_span_is_said_with_its_dates():
    assert said_span(D(2026, 1, 1), D(2026, 12, 31)) == "from 01/01/2026 through 12/31/2026"
    assert said_span(D(2026, 1, 1), None) == "from 01/01/2026, no end date"


def test_each_kind_of_payer_has_a_label():
    assert [kind.label for kind in PayerKind] == ["Medicare", "Medicare Advantage", "Medicaid", "Commercial",
                                                  "Workers' compensation", "Self-pay", "Other"]

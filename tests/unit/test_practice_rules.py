from __future__ import annotations

from datetime import date, time

import pytest

from backoffice.practice import rules

ANNAPOLIS, GLEN_BURNIE = 1, 2


def block(weekday=0, starts=(8, 0), ends=(12, 0), office=ANNAPOLIS, valid_from=None, valid_until=None):
    return rules.WorkBlock(weekday, time(*starts), time(*ends), office, valid_from, valid_until)


@pytest.mark.parametrize("new, clash", [
    (block(starts=(12, 0), ends=(16, 0), office=GLEN_BURNIE), False),  # back to back
    (block(starts=(11, 59), ends=(16, 0), office=GLEN_BURNIE), True),
    (block(starts=(9, 0), ends=(10, 0)), True),  # inside, same office
    (block(weekday=1), False),  # another weekday
    (block(starts=(6, 0), ends=(8, 0)), False),  # ends when the other starts
    (block(valid_from=date(2027, 1, 1)), False),  # after the existing block's last day
    (block(valid_until=date(2026, 12, 31)), True),
])
def test_a_physician_cannot_work_two_blocks_at_once(new, clash):
    existing = [block(valid_until=date(2026, 12, 31))]
    assert bool(rules.clashing_blocks(new, existing)) is clash


@pytest.mark.parametrize("a, b, overlap", [
    ((None, None), (date(2026, 1, 1), None), True),
    ((date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 1, 31), None), True),  # inclusive
    ((date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), None), False),
    ((None, date(2026, 1, 1)), (date(2026, 1, 2), date(2026, 1, 3)), False),
])
def test_date_ranges_are_inclusive_and_open_ended(a, b, overlap):
    assert rules.periods_overlap(*a, *b) is overlap


HOURS = {0: (time(7, 0), time(17, 0))}


@pytest.mark.parametrize("candidate, inside", [
    (block(starts=(7, 0), ends=(17, 0)), True),
    (block(starts=(6, 59), ends=(12, 0)), False),
    (block(starts=(12, 0), ends=(17, 1)), False),
    (block(weekday=5), False),  # closed that weekday
])
def test_schedule_blocks_fit_inside_opening_hours(candidate, inside):
    assert rules.is_within_hours(candidate, HOURS) is inside


@pytest.mark.parametrize("npi, valid", [
    ("1234567893", True),   # the CMS example
    ("1234567890", False),
    ("123456789", False),
    ("12345678931", False),
    ("abcdefghij", False),
])
def test_npi_check_digit(npi, valid):
    assert rules.is_valid_npi(npi) is valid


@pytest.mark.parametrize("name, slug", [("Glen Burnie", "glen-burnie"), ("  Annapolis #2 ", "annapolis-2")])
def test_slugs_come_from_names(name, slug):
    assert rules.slugify(name) == slug
    assert rules.is_valid_slug(slug)


@pytest.mark.parametrize("slug", ["Glen Burnie", "glen--burnie", "-x", "x" * 41, ""])
def test_bad_slugs_are_refused(slug):
    assert not rules.is_valid_slug(slug)

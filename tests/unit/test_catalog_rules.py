"""The catalog's minimum interval between two procedures of a group: days where the source says
days, calendar months where it says months."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backoffice.catalog.rules import IntervalUnit, MinimumInterval

FOURTEEN_DAYS = MinimumInterval(14)
SIX_MONTHS = MinimumInterval(6, IntervalUnit.MONTHS)


@pytest.mark.parametrize("interval, last, allowed_from", [
    (SIX_MONTHS, date(2026, 3, 31), date(2026, 9, 30)),     # clamped at September's end
    (SIX_MONTHS, date(2026, 8, 29), date(2027, 2, 28)),     # 2027 is not a leap year
    (SIX_MONTHS, date(2027, 8, 30), date(2028, 2, 29)),     # 2028 is
    (SIX_MONTHS, date(2026, 6, 8), date(2026, 12, 8)),
    (MinimumInterval(1, IntervalUnit.MONTHS), date(2026, 1, 31), date(2026, 2, 28)),
    (FOURTEEN_DAYS, date(2026, 12, 24), date(2027, 1, 7)),  # days stay days across the year end
    (FOURTEEN_DAYS, date(2028, 2, 20), date(2028, 3, 5)),   # and across a leap day
])
def test_an_interval_allows_the_next_procedure_from_its_calendar_date(interval: MinimumInterval, last: date,
                                                                      allowed_from: date) -> None:
    assert interval.after(last) == allowed_from
    assert interval.is_too_close(last, allowed_from - timedelta(days=1))
    assert not interval.is_too_close(last, allowed_from)


@pytest.mark.parametrize("booked_ahead, asked, too_close", [
    (date(2027, 3, 29), date(2026, 9, 30), True),    # 09/30 + 6 months is 03/30: one day short
    (date(2027, 3, 30), date(2026, 9, 30), False),
    (date(2026, 12, 10), date(2026, 12, 10), True),  # the same day
])
def test_an_interval_holds_whichever_procedure_comes_first(booked_ahead: date, asked: date, too_close: bool) -> None:
    assert SIX_MONTHS.is_too_close(booked_ahead, asked) is too_close
    assert SIX_MONTHS.is_too_close(asked, booked_ahead) is too_close


@pytest.mark.parametrize("interval, said, adjective", [
    (FOURTEEN_DAYS, "14 days", "14-day"),
    (SIX_MONTHS, "6 months", "6-month"),
    (MinimumInterval(1, IntervalUnit.MONTHS), "1 month", "1-month"),
])
def test_an_interval_says_its_unit(interval: MinimumInterval, said: str, adjective: str) -> None:
    assert (str(interval), interval.adjective) == (said, adjective)

"""The one CSV writer: formulas are written as text, times in their zone, quoting by the csv module."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from backoffice.core.csvexport import ZonedTime, csv_text


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("typed", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
                                   '=HYPERLINK("http://x.example","y")'])
def test_a_cell_a_spreadsheet_would_run_is_prefixed_with_a_quote(typed):
    [_, [written]] = read_back(csv_text(["Cell"], [[typed]]))
    assert written == "'" + typed


@pytest.mark.parametrize("typed", ["Medtronic", "a=b", "1-2", "", "O'Brien"])
def test_ordinary_text_is_written_as_typed(typed):
    [_, [written]] = read_back(csv_text(["Cell"], [[typed]]))
    assert written == typed


def test_commas_quotes_and_line_breaks_stay_inside_their_cell():
    [_, row] = read_back(csv_text(["A", "B"], [['one, "two"\nthree', "four"]]))
    assert row == ['one, "two"\nthree', "four"]


def test_numbers_stay_numbers_and_dates_read_as_on_the_pages():
    [_, row] = read_back(csv_text(["A", "B", "C", "D"], [[-3, Decimal("-1.5"), date(2026, 11, 24), None]]))
    assert row == ["-3", "-1.5", "11/24/2026", ""]


def test_a_time_is_written_in_its_zone_with_the_zone():
    at = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    [_, [written]] = read_back(csv_text(["When"], [[ZonedTime(at, "America/Chicago")]]))
    assert written == "11/24/2026 08:00 CST"


def test_a_time_without_its_zone_is_refused():
    with pytest.raises(TypeError):
        csv_text(["When"], [[datetime(2026, 11, 24, 14, 0, tzinfo=UTC)]])  # type: ignore[list-item]

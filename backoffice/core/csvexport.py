"""The one way the app writes CSV: every export goes through `csv_response`.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return
before one) as a formula, so a device manufacturer typed as `=HYPERLINK(...)` would run when a
manager opens the file. As OWASP recommends for CSV injection, such a cell is prefixed with a single
quote, which spreadsheets show as text; quoting of separators and line breaks is the csv module's.

Times are written as the pages show them, in the office's time zone with the zone's abbreviation;
a bare datetime is refused, because a cell cannot say which zone it meant.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from werkzeug.wrappers import Response

from backoffice.core.timefmt import format_date, format_datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ZonedTime:
    """An instant to be written in a time zone (an office's, or the practice's)."""

    at: datetime
    timezone: str


Cell = str | int | Decimal | date | ZonedTime | None


def neutralised(text: str) -> str:
    """`text` as a spreadsheet will show it, never run it."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, ZonedTime):
        return format_datetime(value.at, value.timezone)
    if isinstance(value, datetime):
        raise TypeError("a time in a CSV export needs its time zone: write ZonedTime(at, timezone)")
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (int, Decimal)):
        return str(value)  # a number is never read as a formula, and -3 stays a number
    return neutralised(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell_text(name) for name in header])
    writer.writerows([cell_text(value) for value in row] for row in rows)
    return out.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """A download of `rows` under `header`; never cached, since exports hold patient data."""
    return Response(csv_text(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}",
                             "Cache-Control": "no-store"})

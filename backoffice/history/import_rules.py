"""The go-live import's file: its columns, and what each cell of a row must hold. Pure: the
header and the cells come in as text, typed values and problems come out; whether an MRN or a
procedure code exists is the import service's question (`imports.py`).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first procedure row 2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backoffice.catalog.rules import Region, Side
from backoffice.history.rules import ReliefUnit

COLUMNS = ("mrn", "procedure_code", "date", "region", "side", "levels_count", "levels", "facility",
           "performed_by", "percent_relief", "relief_amount", "relief_unit", "notes")
REQUIRED_COLUMNS = ("mrn", "procedure_code", "date", "facility")
TEXT_LIMITS = {"levels": 60, "facility": 120, "performed_by": 120, "notes": 500}
# The entry's fields that a column gives under another name.
COLUMN_OF_FIELD = {"procedure_type_id": "procedure_code", "performed_on": "date"}

DATE_FORMATS = (("%Y-%m-%d", re.compile(r"\d{4}-\d{1,2}-\d{1,2}")), ("%m/%d/%Y", re.compile(r"\d{1,2}/\d{1,2}/\d{4}")))
FIRST_YEAR = 1900
MRN = re.compile(r"[0-9]{8}")
NUMBER = re.compile(r"[0-9]{1,4}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARKUP = re.compile(r"<\s*[a-zA-Z!/?]")
UNITS = {unit.value: unit for unit in ReliefUnit} | {unit.value[:-1]: unit for unit in ReliefUnit}


@dataclass(frozen=True)
class Problem:
    """What is wrong with a cell (or, without a column, with a row; without a row, the file)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "File" if self.row is None else f"Row {self.row}"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportLine:
    """One row's values, typed; the MRN and the procedure code still to be looked up."""

    row: int
    mrn: str
    procedure_code: str
    performed_on: date
    facility: str
    performed_by: str | None
    region: str | None
    side: str | None
    levels_count: int | None
    levels: str | None
    percent_relief: int | None
    relief_amount: int | None
    relief_unit: ReliefUnit | None
    notes: str | None


def header_problems(header: Sequence[str] | None) -> list[Problem]:
    """The header names the columns, in any order: each required one, none unknown or twice."""
    if not header:
        return [Problem(1, None, f"The file is empty: its first row names the columns ({', '.join(COLUMNS)}).")]
    names = [name.strip().lower() for name in header]
    problems = [Problem(1, None, f"Column “{name}” is missing.") for name in REQUIRED_COLUMNS if name not in names]
    problems += [Problem(1, None, f"Column “{name}” is not one of {', '.join(COLUMNS)}.")
                 for name in dict.fromkeys(names) if name not in COLUMNS]
    problems += [Problem(1, None, f"Column “{name}” is named twice.")
                 for name in dict.fromkeys(names) if names.count(name) > 1]
    return problems


def normal_header(header: Sequence[str]) -> list[str]:
    return [name.strip().lower() for name in header]


def is_blank(cells: Mapping[str | None, object]) -> bool:
    """A row of empty cells (spreadsheets save trailing ones): skipped."""
    return all(not value or (isinstance(value, str) and not value.strip()) for value in cells.values())


def parse_date(text: str) -> tuple[date | None, str | None]:
    """A day written YYYY-MM-DD or MM/DD/YYYY, or why it is not one."""
    for pattern, shape in DATE_FORMATS:
        if shape.fullmatch(text):
            try:
                day = datetime.strptime(text, pattern).date()
            except ValueError:
                return None, f"{text} is not a day of the calendar."
            if day.year < FIRST_YEAR:
                return None, f"{text} is before {FIRST_YEAR}."
            return day, None
    return None, f"“{text}” is not a date: write YYYY-MM-DD or MM/DD/YYYY."


class _Cells:
    """Reads one row's cells by column, noting each problem."""

    def __init__(self, row: int, cells: Mapping[str | None, object]) -> None:
        self.row = row
        self.cells = cells
        self.problems: list[Problem] = []

    def text(self, column: str) -> str | None:
        value = self.cells.get(column)
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            return None
        if CONTROL_CHARACTERS.search(text):
            self.refuse(column, "remove the control characters.")
            return None
        if MARKUP.search(text):
            self.refuse(column, "remove the markup: text in angle brackets is not accepted.")
            return None
        limit = TEXT_LIMITS.get(column)
        if limit is not None and len(text) > limit:
            self.refuse(column, f"at most {limit} characters.")
            return None
        return text

    def required(self, column: str, missing: str) -> str | None:
        text = self.text(column)
        if text is None and not any(p.column == column for p in self.problems):
            self.refuse(column, missing)
        return text

    def number(self, column: str) -> int | None:
        text = self.text(column)
        if text is None:
            return None
        if not NUMBER.fullmatch(text):
            self.refuse(column, f"“{text}” is not a whole number.")
            return None
        return int(text)

    def choice(self, column: str, allowed: Sequence[str]) -> str | None:
        text = self.text(column)
        if text is None or text.lower() in allowed:
            return text.lower() if text else None
        self.refuse(column, f"“{text}” is not one of {', '.join(allowed)}.")
        return None

    def refuse(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row, column, message))


def parse_line(row: int, cells: Mapping[str | None, object]) -> tuple[ImportLine | None, list[Problem]]:
    """One row's typed values, or the problems of its cells (every one of them, not the first)."""
    read = _Cells(row, cells)
    if cells.get(None):
        read.problems.append(Problem(row, None, "The row has more cells than the header has columns."))
    mrn = read.required("mrn", "give the patient's 8-digit MRN.")
    if mrn is not None and not MRN.fullmatch(mrn):
        read.refuse("mrn", f"“{mrn}” is not an MRN: an MRN has 8 digits.")
    code = read.required("procedure_code", "give the procedure's code in the catalog (MBB, TFESI...).")
    written = read.required("date", "give the day it was done.")
    performed_on, wrong = parse_date(written) if written is not None else (None, None)
    if wrong:
        read.refuse("date", wrong)
    facility = read.required("facility", "say where it was done (the practice or hospital).")
    performed_by, levels, notes = read.text("performed_by"), read.text("levels"), read.text("notes")
    region, side = read.choice("region", [r.value for r in Region]), read.choice("side", [s.value for s in Side])
    levels_count, percent_relief = read.number("levels_count"), read.number("percent_relief")
    relief_amount, relief_unit = read.number("relief_amount"), _unit(read)
    if read.problems or mrn is None or code is None or performed_on is None or facility is None:
        return None, read.problems
    return ImportLine(row, mrn, code, performed_on, facility, performed_by, region, side, levels_count, levels,
                      percent_relief, relief_amount, relief_unit, notes), []


def _unit(read: _Cells) -> ReliefUnit | None:
    """"hours", "days", "weeks" or "months" (or one of them without its s)."""
    text = read.text("relief_unit")
    if text is None:
        return None
    unit = UNITS.get(text.lower())
    if unit is None:
        read.refuse("relief_unit", f"“{text}” is not one of {', '.join(u.value for u in ReliefUnit)}.")
    return unit

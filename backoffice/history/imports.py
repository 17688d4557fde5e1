"""The go-live import: a CSV file of procedures done before the practice used the app (or
elsewhere), checked whole before anything is written, then written all together or not at all.

`flask --app backoffice import-history FILE.csv [--dry-run]` (README: the columns). Every row is
checked (its cells, its patient's MRN, its procedure's code, what the catalog asks of that
procedure, a row that repeats another or a record already kept); with any problem nothing is
written. Each record written is audited like one typed in (its create row in the trail, by the
command), and the candidacies of the patients concerned are worked out again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from backoffice.auth.editing import stamps
from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import FieldErrors
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.history.events import OutsideProceduresImported
from backoffice.history.import_rules import (
    COLUMN_OF_FIELD,
    ImportLine,
    Problem,
    header_problems,
    is_blank,
    normal_header,
    parse_line,
)
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import OutsideEntry
from backoffice.history.services import checked_columns
from backoffice.patients.models import Patient

CHUNK = 500  # ids or MRNs listed in one query
Key = tuple[int, int, date, str | None, str | None]  # patient, procedure, day, region, side


@dataclass
class ImportCheck:
    """What a file would write (the columns of each record), or why it cannot be written."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0  # procedure rows read, blank ones left out

    @property
    def patients(self) -> frozenset[int]:
        return frozenset(record["patient_id"] for record in self.records)


@dataclass(frozen=True)
class ImportResult:
    check: ImportCheck
    written: int


def _rows(content: bytes) -> tuple[list[str] | None, Iterator[tuple[int, dict[str | None, Any]]], list[Problem]]:
    """The header and the rows (numbered as a spreadsheet numbers them) of a CSV file in UTF-8."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, iter(()), [Problem(None, None, "The file is not UTF-8 text: save it as “CSV UTF-8”.")]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as error:
        return None, iter(()), [Problem(1, None, f"The header cannot be read as CSV ({error}).")]
    problems = header_problems(header)
    if problems or header is None:
        return None, iter(()), problems
    reader.fieldnames = normal_header(header)
    return list(reader.fieldnames), _numbered(reader), []


def _numbered(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str | None, Any]]]:
    row = 1
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield row, {"__unreadable__": str(error)}
            continue
        yield row, dict(cells)


def _in_chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def _patients_by_mrn(mrns: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _in_chunks(mrns):
        found |= dict(db.session.execute(select(Patient.mrn, Patient.id).where(Patient.mrn.in_(chunk))).all())
    return found


def _kept(patient_ids: Iterable[int]) -> set[Key]:
    """What is already on record for these patients, to refuse a row that repeats it."""
    kept: set[Key] = set()
    for chunk in _in_chunks(patient_ids):
        query = select(OutsideProcedure.patient_id, OutsideProcedure.procedure_type_id, OutsideProcedure.performed_on,
                       OutsideProcedure.region, OutsideProcedure.side).where(OutsideProcedure.patient_id.in_(chunk))
        kept |= {(p, t, d, r, s) for p, t, d, r, s in db.session.execute(query)}
    return kept


def _entry(line: ImportLine, procedure_type_id: int) -> OutsideEntry:
    return OutsideEntry(
        procedure_type_id=procedure_type_id, performed_on=line.performed_on, facility=line.facility,
        performed_by=line.performed_by, region=line.region, side=line.side, levels_count=line.levels_count,
        levels=line.levels, percent_relief=line.percent_relief, relief_amount=line.relief_amount,
        relief_unit=line.relief_unit, notes=line.notes)


def check_import(content: bytes, *, today: date) -> ImportCheck:
    """Every row's problems, or the records the file would write: nothing is written."""
    check = ImportCheck()
    header, rows, check.problems = _rows(content)
    if header is None:
        return check
    lines: list[ImportLine] = []
    for row, cells in rows:
        if "__unreadable__" in cells:
            check.rows += 1
            check.problems.append(Problem(row, None, f"The row cannot be read as CSV ({cells['__unreadable__']})."))
        elif not is_blank(cells):
            check.rows += 1
            line, problems = parse_line(row, cells)
            check.problems += problems
            lines += [line] if line is not None else []
    if check.rows == 0:
        check.problems.append(Problem(None, None, "The file has no procedure rows under its header."))
    patients = _patients_by_mrn(line.mrn for line in lines)
    catalog = {procedure.code.upper(): procedure for procedure in db.session.scalars(select(ProcedureType))}
    kept = _kept(patients.values())
    first_row_of: dict[Key, int] = {}
    for line in lines:
        record = _record(line, patients, catalog, today, check.problems)
        if record is None:
            continue
        key = (record["patient_id"], record["procedure_type_id"], record["performed_on"], record["region"],
               record["side"])
        if key in kept:
            check.problems.append(Problem(line.row, None, "This procedure is already on record for this patient."))
        elif key in first_row_of:
            check.problems.append(Problem(line.row, None, f"This row repeats row {first_row_of[key]}."))
        else:
            first_row_of[key] = line.row
            check.records.append(record)
    check.problems.sort(key=lambda problem: problem.row or 0)
    return check


def _record(line: ImportLine, patients: dict[str, int], catalog: dict[str, ProcedureType], today: date,
            problems: list[Problem]) -> dict[str, Any] | None:
    """The columns of the record a row gives, or None after noting its problems."""
    patient_id = patients.get(line.mrn)
    procedure = catalog.get(line.procedure_code.upper())
    if patient_id is None:
        problems.append(Problem(line.row, "mrn", f"no patient has MRN {line.mrn}."))
    if procedure is None:
        problems.append(Problem(line.row, "procedure_code", f"no procedure in the catalog has the code "
                                                            f"“{line.procedure_code}”."))
    try:
        columns = checked_columns(_entry(line, procedure.id if procedure else 0), procedure, today=today)
    except FieldErrors as error:
        problems += [Problem(line.row, COLUMN_OF_FIELD.get(name, name), message[:1].lower() + message[1:])
                     for name, message in error.errors.items() if name != "procedure_type_id"]
        return None
    return {**columns, "patient_id": patient_id} if patient_id is not None else None


def import_history(content: bytes, *, dry_run: bool, by: Actor, now: datetime, today: date) -> ImportResult:
    """Check the file; unless it is a dry run and when nothing is wrong, write every record in one
    transaction (all or nothing), audited, and tell the packages above which patients it touched."""
    check = check_import(content, today=today)
    if dry_run or check.problems:
        return ImportResult(check, 0)
    with transaction(db.session, by):
        db.session.add_all(OutsideProcedure(**record, recorded_by_id=by.user_id, **stamps(by, now))
                           for record in check.records)
        db.session.flush()
        publish(OutsideProceduresImported(check.patients, len(check.records), by=by, at=now))
    return ImportResult(check, len(check.records))


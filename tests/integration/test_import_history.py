"""The go-live import, `flask --app backoffice import-history FILE.csv [--dry-run]`: every row is
checked before anything is written, then all rows are written in one transaction or none, audited,
on both engines."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.history.imports import check_import, import_history
from backoffice.history.models import OutsideProcedure
from backoffice.procedures.models import CandidacyCheck

from .scheduling_helpers import patients

pytestmark = pytest.mark.usefixtures("demo", "app_context")

HEADER = "mrn,procedure_code,date,region,side,levels_count,levels,facility,performed_by,percent_relief," \
         "relief_amount,relief_unit,notes"
TODAY = date.today()


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).strftime("%m/%d/%Y")


def good_rows() -> list[str]:
    first, second = patients()[0].mrn, patients()[1].mrn
    return [f"{first},ILESI,{day(200)},lumbar,,,,Valley Pain,Dr Lee,60,3,months,",
            f"{first},MBB,{(TODAY - timedelta(days=90)).isoformat()},lumbar,right,2,\"L4-L5, L5-S1\",Valley Pain,"
            "Dr Lee,90,6,hours,Before go-live",
            f"{second},TPI,{day(30)},,,,,Harbor Hospital,,,,,"]


def csv_file(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run(app: Flask, path: Path, *options: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["import-history", str(path), *options])
    return result.exit_code, result.output


def written() -> int:
    return db.session.scalar(select(func.count()).select_from(OutsideProcedure)) or 0


def test_a_dry_run_lists_each_rows_problems_and_writes_nothing(app, tmp_path):
    rows = [*good_rows(), f"99999997,MBB,{day(5)},lumbar,right,1,,Valley Pain,,,,,",
            f"{patients()[2].mrn},XYZ,{day(5)},,,,,Valley Pain,,,,,",
            f"{patients()[2].mrn},MBB,02/30/2026,lumbar,right,1,,Valley Pain,,,,,",
            f"{patients()[2].mrn},TFESI,{day(5)},lumber,left,3,,Valley Pain,,,,,"]
    status, output = run(app, csv_file(tmp_path, rows), "--dry-run")
    assert status == 1
    assert output.splitlines() == [
        "Row 5, mrn: no patient has MRN 99999997.",
        "Row 6, procedure_code: no procedure in the catalog has the code “XYZ”.",
        "Row 7, date: 02/30/2026 is not a day of the calendar.",
        "Row 8, region: “lumber” is not one of cervical, thoracic, lumbar, sacral.",
        "4 problems in 4 of 7 rows: nothing written.",
    ]
    assert written() == 0


def test_the_catalog_checks_what_each_procedure_asks_like_a_booking(app, tmp_path):
    rows = [f"{patients()[2].mrn},TFESI,{day(5)},lumbar,,3,,Valley Pain,,,,,"]
    status, output = run(app, csv_file(tmp_path, rows), "--dry-run")
    assert status == 1
    assert "Row 2, side: choose the side for the transforaminal epidural steroid injection." in output
    assert "Row 2, levels_count: at most 2 levels per session for the transforaminal" in output


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(app, tmp_path):
    rows = [*good_rows(), f"{patients()[2].mrn},MBB,{(TODAY + timedelta(days=3)).isoformat()},lumbar,right,1,,"
                          "Valley Pain,,,,,"]
    status, output = run(app, csv_file(tmp_path, rows))
    assert status == 1
    assert output.splitlines()[0] == "Row 5, date: a procedure done elsewhere cannot be in the future."
    assert output.splitlines()[-1] == "1 problem in 1 of 4 rows: nothing written."
    assert written() == 0
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outside_procedure")).all() == []


def test_a_good_file_writes_every_row_audited_and_the_rules_count_them(app, tmp_path):
    status, output = run(app, csv_file(tmp_path, good_rows()), "--dry-run")
    assert (status, written()) == (0, 0)
    assert "3 rows checked: 3 procedures for 2 patients are ready to import. Nothing written (dry run)." in output

    status, output = run(app, csv_file(tmp_path, good_rows()))
    assert status == 0, output
    assert "Imported 3 procedures done elsewhere for 2 patients" in output
    db.session.expire_all()
    records = db.session.scalars(select(OutsideProcedure).order_by(OutsideProcedure.id)).all()
    assert [(r.procedure_type.code, r.region, r.side, r.levels_count, r.levels) for r in records] == [
        ("ILESI", "lumbar", None, None, None), ("MBB", "lumbar", "right", 2, "L4-L5, L5-S1"),
        ("TPI", None, None, None, None)]
    assert (records[0].percent_relief, records[0].relief_said, records[1].notes) == (60, "3 months", "Before go-live")
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outside_procedure")).all()
    assert [(e.action, e.username) for e in created] == [("create", "cli:import-history")] * 3
    for patient in patients()[:2]:
        check = db.session.get(CandidacyCheck, patient.id)
        assert check is not None and check.holds_until is None


def test_importing_the_same_rows_again_is_refused_as_already_on_record(app, tmp_path):
    assert run(app, csv_file(tmp_path, good_rows()))[0] == 0
    status, output = run(app, csv_file(tmp_path, good_rows()[:1]))
    assert status == 1 and "Row 2: This procedure is already on record for this patient." in output
    assert written() == 3


def test_a_row_that_repeats_another_is_named_with_the_row_it_repeats(app, tmp_path):
    status, output = run(app, csv_file(tmp_path, [*good_rows(), good_rows()[0]]))
    assert status == 1 and "Row 5: This row repeats row 2." in output
    assert written() == 0


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe not text", "File: The file is not UTF-8 text"),
    (b"", "Row 1: The file is empty"),
    (b"mrn,date,facility\n", "Row 1: Column “procedure_code” is missing."),
    (HEADER.encode() + b"\n", "File: The file has no procedure rows under its header."),
])
def test_a_file_that_is_not_a_history_says_why(app, tmp_path, content, message):
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    status, output = run(app, path)
    assert status == 1 and message in output


def test_a_spreadsheets_byte_order_mark_and_blank_rows_are_fine():
    content = ("\ufeff" + HEADER + "\n" + good_rows()[2] + "\n,,,,,,,,,,,,\n").encode()
    check = check_import(content, today=TODAY)
    assert (check.problems, check.rows, len(check.records)) == ([], 1, 1)


def test_the_service_writes_all_in_one_transaction():
    result = import_history("\n".join([HEADER, *good_rows()]).encode(), dry_run=False,
                            by=Actor.system("cli:import-history"), now=utcnow(), today=TODAY)
    assert (result.written, written()) == (3, 3)

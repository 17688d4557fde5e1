"""Procedures done elsewhere, table by table, with no app and no database: what a record must say,
the import's cells, how the limits and the candidacy rules name one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backoffice.catalog.rules import IntervalScope, ProcedureKind
from backoffice.history.import_rules import (
    ImportLine,
    Problem,
    header_problems,
    is_blank,
    parse_date,
    parse_line,
)
from backoffice.history.rules import (
    OutsideEntry,
    ProcedureAsks,
    ReliefUnit,
    done_elsewhere,
    entry_problems,
    kept_details,
)
from backoffice.procedures.candidacy_rules import (
    CandidacyKind,
    DoneProcedure,
    RecordedOutcome,
    SessionLimit,
    Thresholds,
    assess,
)
from backoffice.scheduling.rules import Limits, PriorProcedure, Status
from backoffice.scheduling.slot_rules import BusyIndex, slot_problems
from tests.unit.test_scheduling_rules import ESI_DAY, NOW, esi

TODAY = date(2026, 11, 24)
TFESI = ProcedureAsks("the transforaminal epidural steroid injection", asks_region=True, asks_side=True,
                      asks_levels=True, max_levels=2)
TPI = ProcedureAsks("the trigger point injection")


def entry(**changes: object) -> OutsideEntry:
    values: dict[str, object] = {"procedure_type_id": 2, "performed_on": date(2026, 11, 14),
                                 "facility": "Valley Pain", "performed_by": "Dr Lee", "region": "lumbar",
                                 "side": "right", "levels_count": 1, "levels": "L5-S1"}
    return OutsideEntry(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize("changes, asks, expected", [
    ({}, TFESI, {}),
    ({"performed_on": date(2026, 11, 21)}, TFESI, {}),                     # a Saturday is fine
    ({"performed_on": TODAY}, TFESI, {}),
    ({"performed_on": TODAY + timedelta(days=1)}, TFESI, {"performed_on": "future"}),
    ({}, None, {"procedure_type_id": "catalog"}),
    ({"region": None}, TFESI, {"region": "spinal region for the transforaminal"}),
    ({"region": "lumber"}, TFESI, {"region": "spinal region"}),
    ({"side": None}, TFESI, {"side": "side"}),
    ({"levels_count": None}, TFESI, {"levels_count": "number of levels"}),
    ({"levels_count": 3}, TFESI, {"levels_count": "At most 2 levels per session"}),
    ({"region": None, "side": None, "levels_count": None}, TPI, {}),    # a trigger point asks none of them
    ({"facility": " "}, TFESI, {"facility": "where"}),
    ({"percent_relief": 101}, TFESI, {"percent_relief": "0 to 100"}),
    ({"percent_relief": 80, "relief_amount": 6}, TFESI, {"relief_amount": "unit"}),
    ({"percent_relief": 80, "relief_unit": ReliefUnit.HOURS}, TFESI, {"relief_amount": "unit"}),
    ({"relief_amount": 6, "relief_unit": ReliefUnit.HOURS}, TFESI, {"percent_relief": "percent relief"}),
    ({"percent_relief": 80, "relief_amount": 1000, "relief_unit": ReliefUnit.HOURS}, TFESI, {"relief_amount": "999"}),
    ({"percent_relief": 80, "relief_amount": 6, "relief_unit": ReliefUnit.MONTHS}, TFESI, {}),
    ({"percent_relief": 0}, TFESI, {}),
])
def test_what_a_record_of_a_procedure_done_elsewhere_must_say(changes, asks, expected):
    found = entry_problems(entry(**changes), asks, today=TODAY)
    assert set(found) == set(expected)
    for field, words in expected.items():
        assert words in found[field]


def test_details_the_procedure_does_not_ask_are_not_kept():
    kept = kept_details(entry(), TPI)
    assert (kept.region, kept.side, kept.levels_count, kept.levels) == (None, None, None, None)
    assert kept_details(entry(), TFESI) == entry()


@pytest.mark.parametrize("facility, by, said", [
    ("Valley Pain", "Dr Lee", "Dr Lee, Valley Pain"),
    ("This practice, before go-live", None, "This practice, before go-live"),
])
def test_an_outside_procedure_is_named_by_whom_and_where(facility, by, said):
    assert done_elsewhere(facility, by) == said


# The import's cells.

HEADER = ["mrn", "procedure_code", "date", "region", "side", "levels_count", "levels", "facility", "performed_by",
          "percent_relief", "relief_amount", "relief_unit", "notes"]


def cells(**changes: object) -> dict[str | None, object]:
    values: dict[str | None, object] = {"mrn": "10000016", "procedure_code": "TFESI", "date": "11/14/2026",
                                        "region": "Lumbar", "side": "right", "levels_count": "1", "levels": "L5-S1",
                                        "facility": "Valley Pain", "performed_by": "Dr Lee", "percent_relief": "60",
                                        "relief_amount": "3", "relief_unit": "Month", "notes": ""}
    return values | changes


@pytest.mark.parametrize("header, problems", [
    (HEADER, []),
    (["MRN", " Date ", "procedure_code", "facility"], []),                 # any order, any case, only the required
    (None, ["The file is empty"]),
    (["mrn", "date", "facility"], ["Column “procedure_code” is missing."]),
    ([*HEADER, "physician"], ["Column “physician” is not one of"]),
    ([*HEADER, "mrn"], ["Column “mrn” is named twice."]),
])
def test_the_header_names_the_columns(header, problems):
    found = [str(problem) for problem in header_problems(header)]
    assert len(found) == len(problems)
    for said, expected in zip(found, problems, strict=True):
        assert said.startswith("Row 1: ") and expected in said


def test_a_good_row_is_read_with_its_types():
    line, problems = parse_line(5, cells())
    assert problems == []
    assert line == ImportLine(5, "10000016", "TFESI", date(2026, 11, 14), "Valley Pain", "Dr Lee", "lumbar", "right",
                              1, "L5-S1", 60, 3, ReliefUnit.MONTHS, None)


@pytest.mark.parametrize("changes, column, message", [
    ({"mrn": ""}, "mrn", "give the patient's 8-digit MRN."),
    ({"mrn": "1234"}, "mrn", "“1234” is not an MRN: an MRN has 8 digits."),
    ({"procedure_code": " "}, "procedure_code", "give the procedure's code"),
    ({"date": "02/30/2026"}, "date", "02/30/2026 is not a day of the calendar."),
    ({"date": "2026-13-01"}, "date", "2026-13-01 is not a day of the calendar."),
    ({"date": "yesterday"}, "date", "“yesterday” is not a date: write YYYY-MM-DD or MM/DD/YYYY."),
    ({"date": "01/01/1850"}, "date", "01/01/1850 is before 1900."),
    ({"region": "lumber"}, "region", "“lumber” is not one of cervical, thoracic, lumbar, sacral."),
    ({"side": "both"}, "side", "“both” is not one of left, right, bilateral."),
    ({"levels_count": "two"}, "levels_count", "“two” is not a whole number."),
    ({"percent_relief": "-5"}, "percent_relief", "“-5” is not a whole number."),
    ({"relief_unit": "fortnights"}, "relief_unit", "“fortnights” is not one of hours, days, weeks, months."),
    ({"facility": ""}, "facility", "say where it was done"),
    ({"facility": "x" * 121}, "facility", "at most 120 characters."),
    ({"notes": "<script>alert(1)</script>"}, "notes", "remove the markup"),
    ({"performed_by": "Dr\x00Lee"}, "performed_by", "remove the control characters."),
])
def test_each_bad_cell_is_named_by_its_row_and_column(changes, column, message):
    line, problems = parse_line(7, cells(**changes))
    assert line is None
    [problem] = problems
    assert (problem.row, problem.column) == (7, column)
    assert message in problem.message
    assert str(problem).startswith(f"Row 7, {column}: ")


def test_every_problem_of_a_row_is_named_not_only_the_first():
    _, problems = parse_line(3, {**cells(mrn="x", date="31/31/2026", side="up"), None: ["extra"]})
    assert {problem.column for problem in problems} == {None, "mrn", "date", "side"}


@pytest.mark.parametrize("text, day", [("2026-11-14", date(2026, 11, 14)), ("11/14/2026", date(2026, 11, 14)),
                                       ("2/3/2026", date(2026, 2, 3)), ("2024-02-29", date(2024, 2, 29)),
                                       ("2026-02-29", None), ("14.11.2026", None), ("", None)])
def test_dates_are_written_the_two_ways_people_write_them(text, day):
    assert parse_date(text)[0] == day


def test_a_row_of_empty_cells_is_blank():
    assert is_blank({"mrn": "", "date": " ", "notes": None})
    assert not is_blank(cells())


def test_a_file_problem_says_file():
    assert str(Problem(None, None, "The file is not UTF-8 text.")) == "File: The file is not UTF-8 text."


# How the limits and the candidacy rules name them.

def outside_epidural(day: date) -> PriorProcedure:
    return PriorProcedure(None, day, "epidural", "lumbar", "Interlaminar epidural steroid injection",
                          Status.COMPLETED, outside="Dr Lee, Valley Pain")


def test_the_fourteen_day_message_names_the_procedure_done_elsewhere():
    history = [outside_epidural(ESI_DAY - timedelta(days=10))]
    [problem] = slot_problems(esi(), BusyIndex([]), now=NOW, limits=Limits(), history=history)
    assert problem.code == "interval"
    assert problem.message == ("An outside interlaminar epidural steroid injection on 11/28/2026 (lumbar; Dr Lee, "
                               "Valley Pain) is less than 14 days away (allowed from 12/12/2026). "
                               "A physician can override with a reason.")


def test_the_yearly_limit_counts_those_done_elsewhere_and_says_which_they_are():
    here = PriorProcedure(1, date(2026, 2, 1), "epidural", "lumbar", "Interlaminar epidural steroid injection",
                          Status.COMPLETED)
    history = [here, *(outside_epidural(date(2026, month, 1)) for month in (5, 8, 11))]
    [problem] = slot_problems(esi(), BusyIndex([]), now=NOW, limits=Limits(), history=history)
    assert problem.code == "frequency"
    assert ("already 02/01/2026, 05/01/2026 (outside: Dr Lee, Valley Pain), 08/01/2026 (outside: Dr Lee, Valley "
            "Pain), 11/01/2026 (outside: Dr Lee, Valley Pain)); the limit is 4") in problem.message


def test_two_blocks_done_elsewhere_make_a_rhizotomy_candidate_whose_evidence_says_outside():
    blocks = [DoneProcedure(-1, TODAY - timedelta(days=40), "MBB", ProcedureKind.DIAGNOSTIC_FACET, "lumbar", "right",
                            "L4-L5", "completed", outside="Dr Lee, Valley Pain"),
              DoneProcedure(7, TODAY - timedelta(days=20), "MBB", ProcedureKind.DIAGNOSTIC_FACET, "lumbar", "right",
                            "L4-L5", "completed")]
    outcomes = [RecordedOutcome(-1, TODAY - timedelta(days=40), 90, relief_hours=6, relief_as_entered="6 hours"),
                RecordedOutcome(7, TODAY - timedelta(days=19), 85, relief_hours=5)]
    limits = {"ablation": SessionLimit(2, 182, IntervalScope.REGION_SIDE)}
    [rfa] = assess(blocks, outcomes, thresholds=Thresholds(), limits=limits, today=TODAY)
    assert rfa.kind is CandidacyKind.RFA_CANDIDATE
    assert [(e.text, e.appointment_id) for e in rfa.evidence] == [
        ("MBB 10/15/2026 (outside: Dr Lee, Valley Pain): 90% relief for 6 hours", None),
        ("MBB 11/04/2026: 85% relief for 5 h", 7)]

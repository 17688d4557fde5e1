"""A candidacy resting only on procedures done elsewhere (a referred patient's two good outside
blocks) is on the candidates list like any other, on both engines: with no physician yet, at the
patient's preferred office, its Schedule and "Send to scheduling" carrying the outside blocks'
region, side and levels."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from backoffice.core.errors import Refused
from backoffice.core.extensions import db
from backoffice.history import services as history
from backoffice.history.models import OutsideProcedure
from backoffice.patients import services as patient_services
from backoffice.patients.models import Patient
from backoffice.procedures import handoff, worklists
from backoffice.procedures.stored_candidacies import Section
from backoffice.procedures.worklists import CandidateRow

from .course_helpers import NURSE, block_with_relief, outside_done
from .scheduling_helpers import MONDAY, PHYSICIAN, office, patients, physician, procedure

pytestmark = pytest.mark.usefixtures("demo", "app_context")
AT = datetime.combine(MONDAY, time(15), UTC)


def referred_with_two_good_outside_blocks() -> Patient:
    """Lumbar right medial branch blocks at L4-L5 and L5-S1, 40 and 20 days ago, at Valley Pain."""
    patient = patients()[3]
    for days_ago, relief in ((40, 90), (20, 85)):
        outside_done("MBB", MONDAY - timedelta(days=days_ago), patient=patient, percent_relief=relief,
                     relief_amount=6, relief_unit="hours")
    return patient


def rfa_rows(patient: Patient, today: date = MONDAY, **filters: int | None) -> list[CandidateRow]:
    found = worklists.candidate_worklist(office_id=filters.get("office_id"), physician_id=filters.get("physician_id"),
                                         horizon_days=None, today=today, limit=50, by=PHYSICIAN)
    return [row for row in found.sections[Section.RFA] if row.stored.patient_id == patient.id]


def prefer(patient: Patient, office_id: int | None) -> None:
    """The patient's record edited to prefer this office (none: no preference)."""
    current = db.session.get(Patient, patient.id)
    assert current is not None
    data = patient_services.PatientData(**{f.name: getattr(current, f.name)
                                           for f in fields(patient_services.PatientData)})
    patient_services.update_patient(patient.id, replace(data, preferred_office_id=office_id),
                                    expected_version=current.version, confirm_duplicate=False, by=NURSE, now=AT)


def other_office(office_id: int) -> int:
    return next(o.id for o in (office("annapolis"), office("glen-burnie")) if o.id != office_id)


def test_two_good_outside_blocks_list_a_rhizotomy_candidate_with_no_physician_at_the_preferred_office():
    patient = referred_with_two_good_outside_blocks()
    preferred = patient.preferred_office_id
    assert preferred is not None
    [row] = rfa_rows(patient)
    stored = row.stored
    assert (row.candidacy.region, row.candidacy.side) == ("lumbar", "right")
    assert (stored.physician_id, stored.physician, stored.office_id) == (None, None, preferred)
    assert (stored.anchor_appointment_id, stored.anchor_day) == (None, MONDAY - timedelta(days=20))
    assert (stored.anchor_side, stored.anchor_levels, stored.anchor_levels_count) == ("right", "L4-L5, L5-S1", 2)
    assert [e.text for e in row.candidacy.evidence] == [
        f"MBB {MONDAY - timedelta(days=40):%m/%d/%Y} (outside: Dr Lee, Valley Pain): 90% relief for 6 hours",
        f"MBB {MONDAY - timedelta(days=20):%m/%d/%Y} (outside: Dr Lee, Valley Pain): 85% relief for 6 hours"]
    assert all(e.appointment_id is None for e in row.candidacy.evidence)  # nothing to link to
    # Any physician, at the office the patient prefers, with the outside blocks' place and levels.
    assert row.schedule is not None and row.schedule.query() == {
        "procedure_type_id": str(procedure("RFA").id), "office_id": str(preferred), "patient": patient.mrn,
        "region": "lumbar", "side": "right", "levels": "L4-L5, L5-S1", "levels_count": "2"}


def test_it_is_on_everyones_list_and_its_offices_not_on_a_physicians_own():
    patient = referred_with_two_good_outside_blocks()
    preferred = patient.preferred_office_id
    assert preferred is not None
    assert len(rfa_rows(patient, office_id=preferred)) == 1
    assert rfa_rows(patient, office_id=other_office(preferred)) == []
    assert rfa_rows(patient, physician_id=physician("Reyes").id) == []
    assert rfa_rows(patient, physician_id=physician("Reyes").id, office_id=preferred) == []


def test_a_patient_with_no_preferred_office_is_listed_under_everyones_with_no_office():
    patient = referred_with_two_good_outside_blocks()
    prefer(patient, None)
    [row] = rfa_rows(patient)
    assert (row.stored.physician_id, row.stored.office_id) == (None, None)
    assert row.schedule is not None and "office_id" not in row.schedule.query()
    assert rfa_rows(patient, office_id=office("annapolis").id) == []
    assert rfa_rows(patient, office_id=office("glen-burnie").id) == []


def test_changing_the_preferred_office_moves_it_to_that_office():
    patient = referred_with_two_good_outside_blocks()
    before = patient.preferred_office_id
    assert before is not None and len(rfa_rows(patient, office_id=before)) == 1
    prefer(patient, other_office(before))
    assert rfa_rows(patient, office_id=before) == []
    [row] = rfa_rows(patient, office_id=other_office(before))
    assert row.stored.office_id == other_office(before)


def test_a_block_done_here_gives_the_candidacy_to_its_physician_and_office():
    patient = patients()[3]
    outside_done("MBB", MONDAY - timedelta(days=40), patient=patient, percent_relief=90, relief_amount=6,
                 relief_unit="hours")
    here = block_with_relief(MONDAY - timedelta(days=21), 85, 4, patient=patient)
    [row] = rfa_rows(patient, physician_id=physician("Reyes").id)
    assert (row.stored.physician_id, row.stored.office_id, row.stored.anchor_appointment_id) == (
        here.physician_id, here.office_id, here.id)
    assert row.schedule is not None and row.schedule.physician_id == here.physician_id
    assert "office_id" not in row.schedule.query()


def test_deleting_an_outside_block_takes_it_off_the_list():
    patient = referred_with_two_good_outside_blocks()
    assert len(rfa_rows(patient)) == 1
    first = db.session.scalars(select(OutsideProcedure).where(OutsideProcedure.patient_id == patient.id)
                               .order_by(OutsideProcedure.performed_on)).first()
    assert first is not None
    history.delete_outside_procedure(first.id, reason="Entered for the wrong patient", expected_version=first.version,
                                     by=NURSE, now=AT)
    assert rfa_rows(patient) == []


def test_a_physician_sends_it_to_scheduling_and_takes_the_patient_on():
    patient = referred_with_two_good_outside_blocks()
    [row] = rfa_rows(patient)
    request = handoff.ask_to_schedule(row.stored.id, by=PHYSICIAN, now=AT, today=MONDAY)
    assert (request.physician_id, request.office_id) == (physician("Reyes").id, patient.preferred_office_id)
    assert (request.procedure_type_id, request.region, request.side, request.levels, request.levels_count) == (
        procedure("RFA").id, "lumbar", "right", "L4-L5, L5-S1", 2)
    assert request.earliest_on == MONDAY and not request.needs_override


def test_a_nurse_cannot_send_it_with_no_physician_nor_anyone_with_no_office():
    patient = referred_with_two_good_outside_blocks()
    [row] = rfa_rows(patient)
    with pytest.raises(Refused, match="No physician here has this patient yet"):
        handoff.ask_to_schedule(row.stored.id, by=NURSE, now=AT, today=MONDAY)
    prefer(patient, None)
    [row] = rfa_rows(patient)
    with pytest.raises(Refused, match="has no preferred office"):
        handoff.ask_to_schedule(row.stored.id, by=PHYSICIAN, now=AT, today=MONDAY)

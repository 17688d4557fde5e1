"""Candidacy from recorded courses: the worklist, the patient's view, booking checks and the
settings, through the services, on both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, select

from backoffice.audit.models import AuditEvent
from backoffice.catalog.data import CATALOG
from backoffice.catalog.rules import months_after
from backoffice.catalog.services import update_procedure_type
from backoffice.core.errors import StaleEdit
from backoffice.core.extensions import db
from backoffice.procedures import candidacy, clinical_settings, psych_evaluations, worklists
from backoffice.procedures.candidacy_rules import CandidacyKind, Eligibility, Thresholds
from backoffice.procedures.models import CandidacyCheck, StoredCandidacy
from backoffice.procedures.psych_evaluations import PsychEntry
from backoffice.procedures.rules import ReliefUnit
from backoffice.procedures.stored_candidacies import Section
from backoffice.scheduling import services
from backoffice.scheduling.rules import CancelReason

from .course_helpers import block_with_relief, book, done, follow_ups_of, record
from .scheduling_helpers import MONDAY, PHYSICIAN, SCHEDULER, patients, physician, procedure

pytestmark = pytest.mark.usefixtures("demo", "app_context")
LATER = MONDAY + timedelta(days=21)
RFA_OVERRIDE = "Two qualifying blocks at the referring practice"


def worklist(today: date = LATER, *, horizon_days: int | None = None, **filters: int | None):
    return worklists.candidate_worklist(office_id=filters.get("office_id"), physician_id=filters.get("physician_id"),
                                        horizon_days=horizon_days, today=today, limit=50, by=PHYSICIAN)


def test_two_good_lumbar_right_blocks_make_a_rhizotomy_candidate_with_both_blocks_as_evidence():
    patient = patients()[0]
    first = block_with_relief(MONDAY, 90, 5, patient=patient)
    second = block_with_relief(MONDAY + timedelta(days=14), 85, 4, patient=patient)
    found = worklist()
    [row] = found.sections[Section.RFA]
    assert (row.stored.patient_id, row.candidacy.region, row.candidacy.side) == (patient.id, "lumbar", "right")
    assert [e.appointment_id for e in row.candidacy.evidence] == [first.id, second.id]
    assert [e.text.split(": ", 1)[1] for e in row.candidacy.evidence] == ["90% relief for 5 hours",
                                                                           "85% relief for 4 hours"]
    assert found.sections[Section.CONFIRMATORY] == []
    assert row.schedule is not None and row.schedule.query() == {
        "procedure_type_id": str(procedure("RFA").id), "physician_id": str(physician("Reyes").id),
        "patient": patient.mrn, "region": "lumbar", "side": "right", "levels": "L4-L5, L5-S1", "levels_count": "2"}


def test_one_block_at_70_percent_leaves_the_patient_needing_a_confirmatory_block():
    patient = patients()[0]
    good = block_with_relief(MONDAY, 90, 5, patient=patient)
    block_with_relief(MONDAY + timedelta(days=14), 70, 4, patient=patient)
    found = worklist()
    assert found.sections[Section.RFA] == []
    [row] = found.sections[Section.CONFIRMATORY]
    assert row.candidacy.evidence[1].text.endswith("(below 80%: does not qualify)")
    assert row.schedule is not None and row.schedule.procedure_type_id == procedure("MBB").id
    assert row.stored.anchor_appointment_id != good.id


def test_a_lumbar_rfa_four_months_ago_shows_the_date_a_repeat_becomes_eligible():
    patient = patients()[0]
    rfa = done("RFA", MONDAY, patient=patient, override=RFA_OVERRIDE)
    record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    four_months_on = MONDAY + timedelta(days=122)
    [repeat] = candidacy.candidacies_for_patient(patient.id, today=four_months_on)
    assert (repeat.kind, repeat.eligibility, repeat.eligible_from) == (
        CandidacyKind.REPEAT_RFA, Eligibility.ELIGIBLE_FROM, months_after(MONDAY, 6))
    assert worklist(four_months_on).sections[Section.REPEAT] == []  # not within the 30 days of "soon"
    [row] = worklist(four_months_on, horizon_days=90).sections[Section.REPEAT]
    assert row.schedule is not None and row.schedule.earliest == months_after(MONDAY, 6)


def test_booking_a_rhizotomy_without_qualifying_blocks_waits_for_a_physician_override_with_a_reason():
    patient = patients()[0]
    with pytest.raises(services.BookingConflict) as refused:
        done("RFA", MONDAY, patient=patient)
    [problem] = refused.value.problems
    assert problem.code == "candidacy" and problem.overridable
    assert "needs two diagnostic medial branch blocks" in problem.message
    booked = done("RFA", MONDAY, patient=patient, override=RFA_OVERRIDE)
    assert booked.override_reason == RFA_OVERRIDE
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "override")).one()
    assert "needs two diagnostic medial branch blocks" in audit.changes["refused"][1]


def test_a_rhizotomy_candidate_is_booked_without_an_override_and_leaves_the_list():
    patient = patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    block_with_relief(MONDAY + timedelta(days=14), 85, 4, patient=patient)
    booked = done("RFA", LATER, patient=patient)
    assert booked.override_reason is None
    assert worklist(LATER + timedelta(days=30)).sections[Section.RFA] == []


def test_booking_a_repeat_rhizotomy_too_early_gives_the_reasons_and_the_date():
    patient = patients()[0]
    rfa = done("RFA", MONDAY, patient=patient, override=RFA_OVERRIDE)
    record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    with pytest.raises(services.BookingConflict) as refused:
        done("RFA", MONDAY + timedelta(days=120), patient=patient)
    messages = {p.code: p.message for p in refused.value.problems}
    assert "80% relief for 6 weeks, still ongoing" in messages["candidacy"]
    assert "Eligible from" in messages["candidacy"]


def test_the_settings_change_the_rules_and_each_change_is_audited_with_before_and_after():
    patient = patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    assert [c.kind for c in candidacy.candidacies_for_patient(patient.id, today=LATER)] == [
        CandidacyKind.CONFIRMATORY_BLOCK]
    settings = clinical_settings.get_settings()
    clinical_settings.update_settings(Thresholds(blocks_for_rfa=1), expected_version=settings.version,
                                      by=PHYSICIAN, now=datetime.now(UTC))
    assert [c.kind for c in candidacy.candidacies_for_patient(patient.id, today=LATER)] == [
        CandidacyKind.RFA_CANDIDATE]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "clinical_settings")).one()
    assert (event.action, event.username, event.changes) == ("update", "physician", {"blocks_for_rfa": [2, 1]})
    with pytest.raises(StaleEdit):
        clinical_settings.update_settings(Thresholds(), expected_version=settings.version - 1, by=PHYSICIAN,
                                          now=datetime.now(UTC))


def test_a_successful_trial_awaits_the_psychological_evaluation_then_indicates_the_implant():
    patient = patients()[0]
    trial = done("SCS-TRIAL", MONDAY, patient=patient, region="thoracic", side=None, levels=None)
    [seven_days] = follow_ups_of(trial)
    record(seven_days, 65, 7, ReliefUnit.DAYS)  # the trial-end follow-up: it records the result on the trial
    [row] = worklist().sections[Section.SCS]
    assert (row.candidacy.kind, row.candidacy.eligibility) == (CandidacyKind.SCS_AWAITING_DECISION,
                                                               Eligibility.AWAITING)
    assert [e.text for e in row.candidacy.evidence] == [
        f"SCS-TRIAL {MONDAY:%m/%d/%Y}: trial gave 65% reduction of target pain, ended "
        f"{seven_days.due_at.date():%m/%d/%Y}", "no psychological evaluation on record: implant not indicated yet"]
    psych_evaluations.record_psych_evaluation(
        patient.id, PsychEntry(MONDAY - timedelta(days=30), True, "Dr. Marsh, PsyD"), by=PHYSICIAN,
        now=datetime.now(UTC), today=LATER)
    [row] = worklist().sections[Section.SCS]
    assert (row.candidacy.kind, row.candidacy.eligibility) == (CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)
    evaluated_on = MONDAY - timedelta(days=30)
    assert row.candidacy.evidence[-1].text == f"psychological evaluation {evaluated_on:%m/%d/%Y}: implant indicated"
    assert row.schedule is not None and row.schedule.procedure_type_id == procedure("SCS-IMPLANT").id


def test_the_worklist_shows_one_physicians_or_one_offices_candidates():
    mine, theirs = patients()[0], patients()[1]
    block_with_relief(MONDAY, 90, 5, patient=mine)
    block_with_relief(MONDAY, 90, 5, patient=theirs, doctor="Okafor")
    reyes = worklist(physician_id=physician("Reyes").id).sections[Section.CONFIRMATORY]
    assert [row.stored.patient_id for row in reyes] == [mine.id]
    assert worklist(office_id=9999).counts[Section.CONFIRMATORY] == 0


def test_a_scheduler_gets_no_candidates():
    block_with_relief(MONDAY, 90, 5, patient=patients()[0])
    found = worklists.candidate_worklist(office_id=None, physician_id=None, horizon_days=None, today=LATER, limit=50,
                                         by=SCHEDULER)
    assert found.sections == {}


# The stored list: each patient's candidacies are kept until a record changes or a day comes on
# which the rules may say otherwise.

def listed(found: worklists.CandidateList) -> dict[Section, list[tuple[int, str]]]:
    return {section: [(row.stored.patient_id, row.candidacy.kind.value) for row in rows]
            for section, rows in found.sections.items() if rows}


def test_the_list_follows_each_booking_outcome_and_cancellation_as_soon_as_it_is_made():
    patient = patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    assert listed(worklist()) == {Section.CONFIRMATORY: [(patient.id, "confirmatory_block")]}
    second = done("MBB", MONDAY + timedelta(days=14), patient=patient)
    [row] = worklist().sections[Section.CONFIRMATORY]
    assert row.candidacy.evidence[-1].appointment_id == second.id  # done, its follow-up not recorded yet
    record(follow_ups_of(second)[-1], 85, 4)
    assert listed(worklist()) == {Section.RFA: [(patient.id, "rfa_candidate")]}
    rfa = book("RFA", LATER + timedelta(days=7), patient=patient)
    assert listed(worklist()) == {}
    services.cancel_appointment(rfa.id, CancelReason.PATIENT_REQUEST, None, expected_version=rfa.version,
                                by=SCHEDULER, now=datetime.combine(LATER, time(9), UTC))
    assert listed(worklist()) == {Section.RFA: [(patient.id, "rfa_candidate")]}
    # Working candidacies out is no one's change: only the list's openings are in the trail.
    assert {(e.action, e.entity_type) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type.like("%candidacy%")))} == {("view", "stored_candidacy")}


def test_a_change_of_the_settings_or_the_catalog_works_every_patient_out_again():
    patient = patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    assert listed(worklist()) == {Section.CONFIRMATORY: [(patient.id, "confirmatory_block")]}
    settings = clinical_settings.get_settings()
    clinical_settings.update_settings(Thresholds(blocks_for_rfa=1), expected_version=settings.version,
                                      by=PHYSICIAN, now=datetime.now(UTC))
    assert listed(worklist()) == {Section.RFA: [(patient.id, "rfa_candidate")]}
    mbb = procedure("MBB")
    update_procedure_type(mbb.id, replace(next(d for d in CATALOG if d.code == "MBB"), code="MBB-D"),
                          expected_version=mbb.version, by=PHYSICIAN, now=datetime.now(UTC))
    assert db.session.scalar(select(CandidacyCheck.holds_until).where(CandidacyCheck.patient_id == patient.id)) is None
    [row] = worklist().sections[Section.RFA]
    assert row.candidacy.evidence[0].text.startswith("MBB-D ")


def test_a_repeat_joins_the_list_on_the_day_it_comes_within_reach_with_no_change_to_the_records():
    patient = patients()[0]
    rfa = done("RFA", MONDAY, patient=patient, override=RFA_OVERRIDE)
    record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    eligible_from = months_after(MONDAY, 6)
    soon = eligible_from - timedelta(days=clinical_settings.get_settings().soon_days)
    assert listed(worklist(soon - timedelta(days=1))) == {}
    assert listed(worklist(soon)) == {Section.REPEAT: [(patient.id, "repeat_rfa")]}
    [row] = worklist(eligible_from).sections[Section.REPEAT]
    assert (row.candidacy.eligibility, row.schedule and row.schedule.earliest) == (Eligibility.ELIGIBLE, None)
    assert listed(worklist(soon - timedelta(days=1))) == {}  # an earlier day is worked out again, too
    check = db.session.get(CandidacyCheck, patient.id)
    assert check is not None and (check.assessed_on, check.holds_until) == (soon - timedelta(days=1), eligible_from)


def test_records_loaded_in_bulk_are_listed_once_marked_for_reassessment(app):
    patient = patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    assert listed(worklist()) == {Section.CONFIRMATORY: [(patient.id, "confirmatory_block")]}
    db.session.execute(delete(StoredCandidacy))
    db.session.execute(delete(CandidacyCheck))  # as after a bulk insert that skipped the ORM
    db.session.commit()
    assert listed(worklist()) == {}
    result = app.test_cli_runner().invoke(args=["reassess-candidacies"])
    assert result.exit_code == 0 and "worked out again" in result.output
    assert listed(worklist()) == {Section.CONFIRMATORY: [(patient.id, "confirmatory_block")]}

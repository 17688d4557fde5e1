"""Procedures done elsewhere count for every frequency limit and candidacy rule like those done
here, and recording, correcting and deleting them is audited and marks the patient's candidacies
stale, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.errors import FieldErrors, NotFound, StaleEdit
from backoffice.core.extensions import db
from backoffice.history import services as history
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import OutsideEntry
from backoffice.procedures import booking_rules
from backoffice.procedures.candidacy import candidacies_for_patient
from backoffice.procedures.candidacy_rules import CandidacyKind, Eligibility
from backoffice.procedures.models import CandidacyCheck
from backoffice.scheduling import services
from backoffice.scheduling.availability import find_next_available

from .course_helpers import NURSE, outside_done
from .scheduling_helpers import LIMITS, MONDAY, PHYSICIAN, SCHEDULER, book, patients, physician, procedure

pytestmark = pytest.mark.usefixtures("demo", "app_context")

# "Today" is the Monday the tests book on, early in the morning (06:00 in Annapolis).
MORNING = datetime.combine(MONDAY, time(11, 0), UTC)


def epidural_elsewhere(days_ago: int, *, patient_index: int = 3, region: str = "lumbar",
                       relief: int | None = 60) -> OutsideProcedure:
    return outside_done("ILESI", MONDAY - timedelta(days=days_ago), patient=patients()[patient_index],
                        region=region, side=None, levels=None, percent_relief=relief,
                        relief_amount=3 if relief is not None else None, relief_unit="months" if relief else None)


def book_epidural(*, patient_index: int = 3, region: str = "lumbar", **kwargs):
    return book(code="ILESI", patient=patients()[patient_index], day=MONDAY, region=region, side=None, levels=None,
                now=MORNING, **kwargs)


def test_an_epidural_done_elsewhere_ten_days_ago_refuses_an_epidural_today_naming_it():
    epidural_elsewhere(10)
    with pytest.raises(services.BookingConflict) as refused:
        book_epidural()
    [interval] = [p for p in refused.value.problems if p.code == "interval"]
    assert interval.message == (
        f"An outside interlaminar epidural steroid injection on {MONDAY - timedelta(days=10):%m/%d/%Y} "
        "(lumbar; Dr Lee, Valley Pain) is less than 14 days away "
        f"(allowed from {MONDAY + timedelta(days=4):%m/%d/%Y}). A physician can override with a reason.")
    assert refused.value.overridable
    # any epidural counts for the 14 days, whatever its region, as one done here would
    with pytest.raises(services.BookingConflict):
        book_epidural(region="cervical")
    assert book_epidural(by=PHYSICIAN, override="Severe radicular flare; outside injection did not help")


def test_four_epidurals_done_elsewhere_in_a_region_within_twelve_months_refuse_the_fifth():
    for days_ago in (330, 240, 150, 60):
        epidural_elsewhere(days_ago)
    with pytest.raises(services.BookingConflict) as refused:
        book_epidural()
    [frequency] = [p for p in refused.value.problems if p.code == "frequency"]
    assert "This would make 5 epidural steroid injections (lumbar) within 12 months" in frequency.message
    assert f"{MONDAY - timedelta(days=60):%m/%d/%Y} (outside: Dr Lee, Valley Pain)" in frequency.message
    assert "the limit is 4" in frequency.message
    # another region has its own count
    assert book_epidural(region="cervical")


def test_outside_and_here_count_together_towards_the_limit():
    for days_ago in (330, 240, 150):
        epidural_elsewhere(days_ago)
    assert book_epidural()
    with pytest.raises(services.BookingConflict) as refused:
        book(code="ILESI", patient=patients()[3], day=MONDAY + timedelta(days=21), region="lumbar", side=None,
             levels=None, now=MORNING)
    assert "frequency" in [p.code for p in refused.value.problems]


def test_next_available_for_the_patient_waits_the_fourteen_days_after_an_outside_epidural():
    outside = epidural_elsewhere(3)
    slots = find_next_available(procedure("ILESI").id, physician_id=physician("Reyes").id, earliest=MORNING,
                                now=MORNING, limits=LIMITS, count=1, days=30, patient_id=patients()[3].id,
                                region="lumbar")
    assert slots and slots[0].local_start.date() >= outside.performed_on + timedelta(days=14)


def test_a_radiofrequency_ablation_done_elsewhere_counts_for_the_months_between_ablations():
    outside_done("RFA", MONDAY - timedelta(days=100), patient=patients()[3], percent_relief=80, relief_amount=6,
                 relief_unit="months")
    with pytest.raises(services.BookingConflict) as refused:
        book(code="RFA", patient=patients()[3], day=MONDAY, levels=2, now=MORNING, by=PHYSICIAN)
    assert "interval" in [p.code for p in refused.value.problems]
    assert "An outside radiofrequency ablation on" in " ".join(p.message for p in refused.value.problems)


def test_two_good_blocks_done_elsewhere_make_a_rhizotomy_candidate_who_is_booked_without_an_override():
    patient = patients()[3]
    for days_ago in (40, 20):
        outside_done("MBB", MONDAY - timedelta(days=days_ago), patient=patient, percent_relief=90, relief_amount=6,
                     relief_unit="hours")
    [rfa] = [c for c in candidacies_for_patient(patient.id, today=MONDAY) if c.kind is CandidacyKind.RFA_CANDIDATE]
    assert (rfa.region, rfa.side, rfa.eligibility) == ("lumbar", "right", Eligibility.ELIGIBLE)
    assert rfa.evidence[0].text == (f"MBB {MONDAY - timedelta(days=40):%m/%d/%Y} (outside: Dr Lee, Valley Pain): "
                                    "90% relief for 6 hours")
    assert all(e.appointment_id is None for e in rfa.evidence)  # nothing to link to
    assert book(code="RFA", patient=patient, day=MONDAY, levels=2, now=MORNING, by=PHYSICIAN).status == "scheduled"


def test_an_outside_block_and_a_block_here_qualify_together():
    patient = patients()[3]
    outside_done("MBB", MONDAY - timedelta(days=40), patient=patient, percent_relief=85, relief_amount=4,
                 relief_unit="hours")
    kinds = {c.kind for c in candidacies_for_patient(patient.id, today=MONDAY)}
    assert CandidacyKind.CONFIRMATORY_BLOCK in kinds


@pytest.mark.parametrize("relief, expected", [(60, Eligibility.ELIGIBLE), (30, Eligibility.NOT_ELIGIBLE),
                                              (None, Eligibility.AWAITING)])
def test_the_relief_of_an_outside_epidural_decides_the_repeat_like_a_follow_ups(relief, expected):
    epidural_elsewhere(90, relief=relief)
    [repeat] = [c for c in candidacies_for_patient(patients()[3].id, today=MONDAY)
                if c.kind is CandidacyKind.REPEAT_EPIDURAL]
    assert repeat.eligibility is expected
    refusal = booking_rules.booking_refusal([repeat], kind=ProcedureKind.EPIDURAL, region="lumbar", side=None,
                                              day=MONDAY)
    assert (refusal is None) == (expected is Eligibility.ELIGIBLE)


def test_recording_is_audited_and_marks_the_patients_candidacies_stale():
    outside = epidural_elsewhere(30)
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outside_procedure")).one()
    assert (created.action, created.username, created.patient_id) == ("create", "nurse", outside.patient_id)
    assert created.changes["facility"] == [None, "Valley Pain"]
    check = db.session.get(CandidacyCheck, outside.patient_id)
    assert check is not None and check.holds_until is None


def entry(**changes) -> OutsideEntry:
    values = {"procedure_type_id": procedure("TFESI").id, "performed_on": MONDAY - timedelta(days=30),
              "facility": "Valley Pain", "performed_by": "Dr Lee", "region": "lumbar", "side": "right",
              "levels_count": 1, "levels": "L5-S1"} | changes
    return OutsideEntry(**values)


def record(value: OutsideEntry, *, today: date = MONDAY, by=NURSE) -> OutsideProcedure:
    return history.record_outside_procedure(patients()[3].id, value, by=by, now=MORNING, today=today)


@pytest.mark.parametrize("changes, field", [
    ({"performed_on": MONDAY + timedelta(days=1)}, "performed_on"),
    ({"region": None}, "region"),
    ({"side": None}, "side"),
    ({"levels_count": 3}, "levels_count"),           # a transforaminal epidural takes at most 2
    ({"procedure_type_id": 999_999}, "procedure_type_id"),
    ({"facility": "  "}, "facility"),
    ({"relief_amount": 3}, "relief_amount"),          # without its unit
])
def test_impossible_records_are_refused_next_to_the_field_and_nothing_is_written(changes, field):
    with pytest.raises(FieldErrors) as refused:
        record(entry(**changes))
    assert field in refused.value.errors
    assert db.session.scalars(select(OutsideProcedure)).all() == []


def test_a_weekend_day_is_fine_and_details_the_procedure_does_not_ask_are_not_kept():
    saturday = MONDAY - timedelta(days=2)
    outside = record(entry(procedure_type_id=procedure("TPI").id, performed_on=saturday))
    assert (outside.performed_on, outside.region, outside.side, outside.levels_count) == (saturday, None, None, None)


def test_only_nurses_and_physicians_record_them():
    with pytest.raises(NotFound):
        record(entry(), by=SCHEDULER)


def test_a_correction_is_audited_refused_when_stale_and_counted_at_once():
    outside = epidural_elsewhere(60)
    with pytest.raises(StaleEdit):
        history.correct_outside_procedure(outside.id, entry(procedure_type_id=procedure("ILESI").id, side=None,
                                                            levels_count=None, levels=None),
                                          expected_version=outside.version + 1, by=NURSE, now=MORNING, today=MONDAY)
    moved = entry(procedure_type_id=procedure("ILESI").id, performed_on=MONDAY - timedelta(days=5), side=None,
                  levels_count=None, levels=None)
    history.correct_outside_procedure(outside.id, moved, expected_version=outside.version, by=NURSE, now=MORNING,
                                      today=MONDAY)
    update = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outside_procedure",
                                                         AuditEvent.action == "update")).one()
    assert update.changes["performed_on"][1] == (MONDAY - timedelta(days=5)).isoformat()
    with pytest.raises(services.BookingConflict):
        book_epidural()


def test_a_deletion_needs_a_reason_is_audited_with_it_and_stops_counting():
    outside = epidural_elsewhere(5)
    with pytest.raises(FieldErrors) as no_reason:
        history.delete_outside_procedure(outside.id, reason=" ", expected_version=outside.version, by=NURSE,
                                         now=MORNING)
    assert "reason" in no_reason.value.errors
    history.delete_outside_procedure(outside.id, reason="Entered for the wrong patient",
                                     expected_version=outside.version, by=NURSE, now=MORNING)
    deleted = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outside_procedure",
                                                          AuditEvent.action == "delete")).one()
    assert deleted.details["reason"] == "Entered for the wrong patient"
    assert deleted.changes["facility"] == ["Valley Pain", None]
    assert db.session.get(OutsideProcedure, outside.id) is None
    assert book_epidural()

"""An SCS trial's result has one home, the trial, on both engines: completing a trial procedure
puts its trial on record; the trial page and the trial-end follow-up both write the result there
(the later entry wins); the candidacy rules, the candidates list and the devices page read it
from there and agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.catalog.rules import DeviceKind
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors
from backoffice.core.extensions import db
from backoffice.devices import services as devices
from backoffice.devices import trials
from backoffice.devices import worklists as device_lists
from backoffice.devices.models import ScsTrial
from backoffice.devices.rules import DeviceSettings, TrialDecision, TrialResultSource
from backoffice.devices.services import DeviceEntry
from backoffice.devices.trials import TrialEntry, TrialResult
from backoffice.patients.models import Patient
from backoffice.procedures import candidacy, followups, psych_evaluations, worklists
from backoffice.procedures.candidacy_rules import Candidacy, CandidacyKind, Eligibility
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.models import CandidacyCheck, FollowUp
from backoffice.procedures.psych_evaluations import PsychEntry
from backoffice.procedures.rules import Contact, PlanDecision, ReliefUnit
from backoffice.procedures.stored_candidacies import Section

from .course_helpers import NURSE, book, complete, done
from .scheduling_helpers import MONDAY, PHYSICIAN, patients, physician

pytestmark = pytest.mark.usefixtures("demo", "app_context")
LATER = MONDAY + timedelta(days=21)
SETTINGS = DeviceSettings()


def trial_procedure(patient: Patient, on_or_after: date = MONDAY) -> ScsTrial:
    """An SCS trial done here (thoracic leads), and the trial its completion put on record."""
    appointment = done("SCS-TRIAL", on_or_after, patient=patient, region="thoracic", side=None, levels=None)
    found = trials.trial_of_appointment(appointment.id)
    assert found is not None
    return found


def page_result(trial: ScsTrial, pain: int | None, ended_on: date | None = None, *, analgesic: int | None = None,
                decision: TrialDecision | None = None) -> ScsTrial:
    """The result saved on the trial page, on the day the trial ended a week after its start."""
    current = db.session.get(ScsTrial, trial.id)
    assert current is not None
    ended_on = ended_on or trial.started_on + timedelta(days=7)
    return trials.record_trial_result(trial.id, TrialResult(
        pain_reduction_percent=pain, analgesic_reduction_percent=analgesic, decision=decision,
        decided_on=ended_on if decision else None, ended_on=ended_on if pain or analgesic else None),
        expected_version=current.version, by=PHYSICIAN, now=utcnow(), today=LATER)


def evaluated(patient: Patient) -> None:
    psych_evaluations.record_psych_evaluation(patient.id, PsychEntry(MONDAY - timedelta(days=30), True, "Dr. Marsh"),
                                              by=PHYSICIAN, now=utcnow(), today=LATER)


def scs(patient: Patient) -> list[Candidacy]:
    return [c for c in candidacy.candidacies_for_patient(patient.id, today=LATER)
            if c.kind in (CandidacyKind.SCS_IMPLANT, CandidacyKind.SCS_AWAITING_DECISION)]


def device_section(trial: ScsTrial) -> str | None:
    """The devices page's section listing the trial, None when none does."""
    lists = device_lists.trial_lists(today=LATER, settings=SETTINGS, by=NURSE)
    sections = {"running": lists.running, "ending": lists.ending_this_week, "result_due": lists.result_due,
                "overdue": lists.overdue, "awaiting": lists.awaiting_decision, "implant": lists.implant_to_book}
    found = [name for name, listed in sections.items() if trial.id in {t.id for t in listed}]
    assert len(found) <= 1
    return found[0] if found else None


def candidates(today: date = LATER) -> dict[int, tuple[CandidacyKind, Eligibility]]:
    """The candidates list's SCS section, by patient."""
    found = worklists.candidate_worklist(office_id=None, physician_id=None, horizon_days=None, today=today,
                                         limit=50, by=PHYSICIAN)
    return {row.stored.patient_id: (row.candidacy.kind, row.candidacy.eligibility)
            for row in found.sections[Section.SCS]}


def trial_end_follow_up(trial: ScsTrial) -> FollowUp:
    """The follow-up "at trial end" of the trial's procedure, as it is now."""
    db.session.expire_all()
    [follow_up] = db.session.scalars(select(FollowUp).where(FollowUp.appointment_id == trial.appointment_id))
    return follow_up


def trial_end_outcome(trial: ScsTrial, relief: int, *, decision: PlanDecision | None = None,
                      notes: str | None = None, correcting: bool = False) -> None:
    """The outcome of the trial's follow-up, recorded (or corrected) on the day it was due."""
    follow_up = trial_end_follow_up(trial)
    on = follow_up.due_at.date()
    version = follow_up.outcome.version if correcting and follow_up.outcome else follow_up.version
    followups.record_outcome(follow_up.id, OutcomeEntry(
        recorded_on=on, contact=Contact.PHONE, percent_relief=relief, relief_amount=7, relief_unit=ReliefUnit.DAYS,
        decision=decision, notes=notes), expected_version=version, by=PHYSICIAN,
        now=datetime.combine(on, time(15), UTC), today=on, correcting=correcting)


# The trial is on record.

def test_completing_a_trial_procedure_puts_its_trial_on_record_and_asks_for_its_result():
    patient = patients()[0]
    appointment = done("SCS-TRIAL", MONDAY, patient=patient, region="thoracic", side=None, levels=None)
    trial = trials.trial_of_appointment(appointment.id)
    assert trial is not None
    assert (trial.patient_id, trial.physician_id, trial.office_id) == (patient.id, appointment.physician_id,
                                                                       appointment.office_id)
    assert (trial.started_on, trial.planned_end_on, trial.ended_on) == (MONDAY, MONDAY + timedelta(days=7), None)
    [found] = scs(patient)
    assert (found.kind, found.eligibility) == (CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING)
    assert [e.text for e in found.evidence] == [f"SCS-TRIAL {MONDAY:%m/%d/%Y}: trial result not recorded",
                                                "no psychological evaluation on record: implant not indicated yet"]


def test_a_trial_put_on_record_on_the_patients_page_that_day_is_the_procedures_trial_not_a_second_one():
    patient = patients()[0]
    booked = book("SCS-TRIAL", MONDAY, patient=patient, region="thoracic", side=None, levels=None)
    day = booked.starts_at.date()
    started = trials.start_trial(patient.id, TrialEntry(started_on=day, planned_end_on=day + timedelta(days=7),
                                                        physician_id=physician("Reyes").id, office_id=booked.office_id),
                                 by=NURSE, now=utcnow(), today=day)
    assert started.appointment_id is None
    complete(booked)
    assert trials.trial_of_appointment(booked.id).id == started.id  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count()).select_from(ScsTrial)) == 1


def test_a_trial_is_linked_only_to_one_of_its_patients_trial_procedures_not_yet_on_record():
    first, second = patients()[:2]
    booked = book("SCS-TRIAL", MONDAY, patient=first, region="thoracic", side=None, levels=None)
    block = book("MBB", MONDAY, patient=first)
    day = trials.local_day(booked.starts_at, booked.office.timezone)
    assert day is not None

    def start(patient: Patient, appointment_id: int, on: date = day) -> ScsTrial:
        return trials.start_trial(patient.id, TrialEntry(
            started_on=on, planned_end_on=on + timedelta(days=7), physician_id=physician("Reyes").id,
            office_id=booked.office_id, appointment_id=appointment_id), by=NURSE, now=utcnow(), today=day)

    for patient, appointment_id in ((second, booked.id), (first, block.id)):
        with pytest.raises(FieldErrors) as refused:
            start(patient, appointment_id)
        assert set(refused.value.errors) == {"appointment_id"}
    with pytest.raises(FieldErrors) as refused:  # its leads go in on the procedure's day
        start(first, booked.id, day + timedelta(days=1))
    assert refused.value.errors == {"started_on": f"The trial procedure is on {day:%m/%d/%Y}: the trial starts "
                                                  "that day."}
    assert [a.id for a in trials.unrecorded_trial_procedures(first.id)] == [booked.id]
    start(first, booked.id)
    assert trials.unrecorded_trial_procedures(first.id) == []
    with pytest.raises(FieldErrors, match="already on record"):
        start(first, booked.id)


# One home, two ways in.

def test_a_result_entered_on_the_trial_page_makes_a_patient_with_an_evaluation_implant_indicated():
    patient = patients()[0]
    trial = trial_procedure(patient)
    evaluated(patient)
    assert device_section(trial) == "overdue"  # three weeks without a result
    saved = page_result(trial, 65)
    assert (saved.ended_on, saved.result_source) == (MONDAY + timedelta(days=7), TrialResultSource.TRIAL_PAGE)
    [found] = scs(patient)
    assert (found.kind, found.eligibility) == (CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)
    assert found.evidence[-1].text.endswith("implant indicated")
    assert candidates() == {patient.id: (CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)}
    assert device_section(trial) == "awaiting"  # no longer "running past 10 days"


def test_the_trial_end_follow_up_records_the_trials_result_and_the_later_entry_wins():
    patient = patients()[0]
    trial = trial_procedure(patient)
    evaluated(patient)
    trial_end_outcome(trial, 40)
    on_record = db.session.get(ScsTrial, trial.id)
    follow_up_day = trial_end_follow_up(trial).due_at.date()
    assert (on_record.pain_reduction_percent, on_record.ended_on, on_record.result_source) == (
        40, follow_up_day, TrialResultSource.FOLLOW_UP)
    assert scs(patient)[0].eligibility is Eligibility.NOT_ELIGIBLE

    page_result(trial, 65, follow_up_day)  # later, on the trial page
    assert scs(patient)[0].eligibility is Eligibility.ELIGIBLE
    trial_end_outcome(trial, 40, notes="Called back", correcting=True)  # the relief was not entered again
    assert db.session.get(ScsTrial, trial.id).pain_reduction_percent == 65
    trial_end_outcome(trial, 55, notes="Called back", correcting=True)  # the relief entered again: later wins
    on_record = db.session.get(ScsTrial, trial.id)
    assert (on_record.pain_reduction_percent, on_record.result_source) == (55, TrialResultSource.FOLLOW_UP)
    assert scs(patient)[0].evidence[0].text.startswith(f"SCS-TRIAL {MONDAY:%m/%d/%Y}: trial gave 55% reduction")


def test_no_further_intervention_at_the_trial_end_follow_up_is_the_decision_not_to_proceed():
    patient = patients()[0]
    trial = trial_procedure(patient)
    lead = devices.add_device(patient.id, DeviceEntry(
        kind=DeviceKind.TRIAL_LEAD, manufacturer="Medtronic", model="Vectris trial lead", implanted_on=MONDAY,
        serial="TL1", mri_conditional=True, trial_id=trial.id), by=NURSE, now=utcnow(), today=MONDAY)
    trial_end_outcome(trial, 20, decision=PlanDecision.NO_FURTHER)
    on_record = db.session.get(ScsTrial, trial.id)
    assert (on_record.decision, on_record.decided_on) == (TrialDecision.FAILED, on_record.ended_on)
    assert db.session.get(type(lead), lead.id).status == "explanted"
    assert scs(patient) == [] and device_section(trial) is None


def test_a_trial_result_makes_the_stored_candidacy_stale_and_the_list_shows_it():
    patient = patients()[0]
    trial = trial_procedure(patient)
    evaluated(patient)
    assert candidates() == {patient.id: (CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING)}
    assert db.session.get(CandidacyCheck, patient.id).holds_until is not None
    page_result(trial, 70)
    db.session.expire_all()
    assert db.session.get(CandidacyCheck, patient.id).holds_until is None
    assert candidates() == {patient.id: (CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)}


def test_a_trial_not_done_here_counts_and_is_listed_with_its_physician():
    patient = patients()[0]
    evaluated(patient)
    trial = trials.start_trial(patient.id, TrialEntry(
        started_on=MONDAY, planned_end_on=MONDAY + timedelta(days=7), physician_id=physician("Okafor").id,
        office_id=1), by=NURSE, now=utcnow(), today=MONDAY)
    page_result(trial, 60)
    found = worklists.candidate_worklist(office_id=None, physician_id=physician("Okafor").id, horizon_days=None,
                                         today=LATER, limit=50, by=PHYSICIAN)
    [row] = found.sections[Section.SCS]
    assert (row.stored.patient_id, row.candidacy.kind, row.candidacy.eligibility) == (
        patient.id, CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)
    assert row.stored.anchor_appointment_id is None and row.stored.anchor_day == MONDAY
    ended = MONDAY + timedelta(days=7)
    assert row.candidacy.evidence[0].text == (f"SCS trial {MONDAY:%m/%d/%Y}: trial gave 60% reduction of target "
                                              f"pain, ended {ended:%m/%d/%Y}")


# The devices page and the candidates list agree.

def test_the_devices_page_sections_and_the_candidacy_list_agree_on_every_trial():
    p = patients()
    running = trial_procedure(p[0], LATER - timedelta(days=3))
    too_long = trial_procedure(p[1])
    indicated = trial_procedure(p[2])
    no_evaluation = trial_procedure(p[3])
    too_little = trial_procedure(p[4])
    failed = trial_procedure(p[5])
    implant_booked = trial_procedure(p[6])
    implant_to_book = trial_procedure(p[7])
    superseded, failed_again = trial_procedure(p[8]), trial_procedure(p[8], MONDAY + timedelta(days=10))
    for patient in (p[0], p[1], p[2], p[4], p[5], p[6], p[7], p[8]):
        evaluated(patient)
    page_result(indicated, 65)
    page_result(no_evaluation, 65)
    page_result(too_little, 30)
    page_result(failed, 20, decision=TrialDecision.FAILED)
    page_result(implant_booked, 70)
    book("SCS-IMPLANT", LATER + timedelta(days=7), patient=p[6], region="thoracic", side=None, levels=None)
    page_result(implant_to_book, 80, decision=TrialDecision.IMPLANT)
    page_result(superseded, 60)
    page_result(failed_again, 10, decision=TrialDecision.FAILED)  # the later trial speaks for the patient

    not_yet = (CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING)
    implant = (CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)
    expected = {  # the devices page's section; the rules' candidacy
        running.id: ("ending", not_yet),
        too_long.id: ("overdue", not_yet),
        indicated.id: ("awaiting", implant),
        no_evaluation.id: ("awaiting", not_yet),
        too_little.id: ("awaiting", (CandidacyKind.SCS_IMPLANT, Eligibility.NOT_ELIGIBLE)),
        failed.id: (None, None),
        implant_booked.id: (None, None),
        implant_to_book.id: ("implant", implant),
        superseded.id: (None, None),
        failed_again.id: (None, None),
    }
    for trial in (running, too_long, indicated, no_evaluation, too_little, failed, implant_booked, implant_to_book,
                  superseded, failed_again):
        found = scs(db.session.get(Patient, trial.patient_id))
        assert (device_section(trial), (found[0].kind, found[0].eligibility) if found else None) == expected[trial.id]
    listed = candidates()
    lists = device_lists.trial_lists(today=LATER, settings=SETTINGS, by=NURSE)
    with_a_result = {t.patient_id for t in lists.awaiting_decision + lists.implant_to_book}
    without = {t.patient_id for t in lists.running + lists.ending_this_week + lists.result_due + lists.overdue}
    # The candidates list shows every trial the devices page shows but the one that did not succeed.
    assert set(listed) == (with_a_result | without) - {too_little.patient_id}
    assert (len(lists.awaiting_decision), len(lists.implant_to_book), len(lists.overdue), len(lists.ending_this_week),
            len(lists.running), len(lists.result_due)) == (3, 1, 1, 1, 0, 0)

"""What makes stored candidacies stale, on both engines: the events the procedures, catalog,
practice and patient services publish inside their transaction, and the staleness handlers, each on
its own (a patient's own records and preferred office mark that patient; the thresholds, the
catalog's rule columns and an office's time zone mark everyone), then a few changes end to end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, insert, select

from backoffice.catalog import services as catalog_services
from backoffice.catalog.data import CATALOG
from backoffice.catalog.events import ProcedureTypeAdded, ProcedureTypeChanged
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.events import handlers_of
from backoffice.core.extensions import db
from backoffice.devices.events import TrialResultRecorded, TrialStarted
from backoffice.devices.rules import TrialResultSource
from backoffice.patients import services as patient_services
from backoffice.patients.events import PatientChanged
from backoffice.practice import services as practice_services
from backoffice.practice.events import OfficeChanged
from backoffice.procedures import clinical_settings, followups, psych_evaluations, staleness
from backoffice.procedures.candidacy_rules import Thresholds
from backoffice.procedures.events import ClinicalSettingsChanged, OutcomeRecorded, PsychEvaluationRecorded
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.models import CandidacyCheck
from backoffice.procedures.psych_evaluations import PsychEntry
from backoffice.procedures.rules import Contact, ReliefUnit
from backoffice.scheduling import services
from backoffice.scheduling.events import AppointmentBooked, AppointmentStatusChanged
from backoffice.scheduling.rules import Status

from .course_helpers import NURSE, done, follow_ups_of, record
from .scheduling_helpers import MONDAY, NOW, PHYSICIAN, SCHEDULER, book, office, patients, procedure

pytestmark = pytest.mark.usefixtures("demo", "app_context")
ADMIN = Actor(5, "admin", frozenset({"admin"}), "192.0.2.23")
HELD_UNTIL = MONDAY + timedelta(days=90)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The events the procedures, catalog, practice and patient services publish, in order (still
    handed to their handlers)."""
    seen: list[object] = []
    for module in (followups, psych_evaluations, clinical_settings, catalog_services, practice_services,
                   patient_services):
        publish = module.publish

        def record_then_publish(event: object, publish: Callable[[object], None] = publish) -> None:
            seen.append(event)
            publish(event)

        monkeypatch.setattr(module, "publish", record_then_publish)
    return seen


def hold(*patient_ids: int) -> None:
    """Stored candidacies of these patients, worked out on MONDAY and holding for 90 days."""
    db.session.execute(delete(CandidacyCheck).where(CandidacyCheck.patient_id.in_(patient_ids)))
    db.session.execute(insert(CandidacyCheck), [{"patient_id": id_, "assessed_on": MONDAY, "holds_until": HELD_UNTIL}
                                                for id_ in patient_ids])
    db.session.commit()


def holding() -> dict[int, date | None]:
    """Each patient with a check row, and until when their stored candidacies hold (None: stale)."""
    db.session.expire_all()
    rows = db.session.execute(select(CandidacyCheck.patient_id, CandidacyCheck.holds_until))
    return {patient_id: holds_until for patient_id, holds_until in rows}


def handled(handler: Callable[[object], None], event: object) -> None:
    with transaction(db.session, ADMIN):
        handler(event)


# The publishers.

def test_recording_an_outcome_publishes_it_and_correcting_it_publishes_it_corrected(published):
    patient = patients()[0]
    appointment = done("MBB", MONDAY, patient=patient)
    follow_up = follow_ups_of(appointment)[-1]
    outcome = record(follow_up, 90, 5)
    at = datetime.combine(follow_up.due_at.date(), time(15), UTC)
    assert published == [OutcomeRecorded(outcome.id, follow_up.id, appointment.id, patient.id, corrected=False,
                                         by=PHYSICIAN, at=at)]
    entry = OutcomeEntry(recorded_on=follow_up.due_at.date(), contact=Contact.PHONE, baseline_nrs=8,
                         percent_relief=60, relief_amount=5, relief_unit=ReliefUnit.HOURS)
    corrected = followups.record_outcome(follow_up.id, entry, expected_version=outcome.version, by=PHYSICIAN, now=at,
                                         today=follow_up.due_at.date(), correcting=True)
    assert published[1:] == [OutcomeRecorded(outcome.id, follow_up.id, appointment.id, patient.id, corrected=True,
                                             by=PHYSICIAN, at=at)]
    followups.record_outcome(follow_up.id, entry, expected_version=corrected.version, by=PHYSICIAN, now=at,
                             today=follow_up.due_at.date(), correcting=True)
    assert len(published) == 2  # a correction that changes nothing is no event


def test_recording_a_psych_evaluation_publishes_it(published):
    patient = patients()[0]
    evaluation = psych_evaluations.record_psych_evaluation(
        patient.id, PsychEntry(MONDAY, False, "Dr. Marsh, PsyD"), by=PHYSICIAN, now=NOW, today=MONDAY)
    assert published == [PsychEvaluationRecorded(evaluation.id, patient.id, MONDAY, cleared=False, by=PHYSICIAN,
                                                  at=NOW)]


def test_changing_the_thresholds_publishes_which_changed_and_saving_them_unchanged_publishes_nothing(published):
    settings = clinical_settings.update_settings(Thresholds(blocks_for_rfa=1, soon_days=10),
                                                 expected_version=clinical_settings.get_settings().version,
                                                 by=PHYSICIAN, now=NOW)
    assert published == [ClinicalSettingsChanged(frozenset({"blocks_for_rfa", "soon_days"}), by=PHYSICIAN, at=NOW)]
    clinical_settings.update_settings(Thresholds(blocks_for_rfa=1, soon_days=10), expected_version=settings.version,
                                      by=PHYSICIAN, now=NOW)
    assert len(published) == 1


MBB = next(data for data in CATALOG if data.code == "MBB")


def test_adding_a_procedure_type_publishes_it(published):
    added = catalog_services.create_procedure_type(replace(MBB, code="MBB-2", name="Medial branch block, again"),
                                                   by=ADMIN, now=NOW)
    assert published == [ProcedureTypeAdded(added.id, "MBB-2", by=ADMIN, at=NOW)]


def test_editing_a_procedure_type_publishes_the_columns_that_changed_and_saving_it_unchanged_nothing(published):
    mbb = procedure("MBB")
    edited = catalog_services.update_procedure_type(mbb.id, replace(MBB, name="Medial branch nerve block",
                                                                    max_per_year=3),
                                                    expected_version=mbb.version, by=ADMIN, now=NOW)
    assert published == [ProcedureTypeChanged(mbb.id, frozenset({"name", "max_per_year"}), by=ADMIN, at=NOW)]
    catalog_services.update_procedure_type(mbb.id, replace(MBB, name="Medial branch nerve block", max_per_year=3),
                                           expected_version=edited.version, by=ADMIN, now=NOW)
    assert len(published) == 1


def office_data(slug: str, **changes: str) -> practice_services.OfficeData:
    current = office(slug)
    return replace(practice_services.OfficeData(current.name, current.slug, current.address, current.city,
                                                current.state, current.postal_code, current.phone, current.timezone,
                                                current.active), **changes)


def test_editing_an_office_publishes_the_columns_that_changed(published):
    annapolis = office("annapolis")
    edit = office_data("annapolis", timezone="America/Chicago", phone="+14105550199")
    practice_services.update_office(annapolis.id, edit, expected_version=annapolis.version, by=ADMIN, now=NOW)
    assert published == [OfficeChanged(annapolis.id, frozenset({"timezone", "phone"}), by=ADMIN, at=NOW)]


def test_editing_a_patient_publishes_the_columns_that_changed(published):
    patient = patients()[0]
    data = patient_services.PatientData(**{f.name: getattr(patient, f.name)
                                           for f in fields(patient_services.PatientData)})
    other = next(o.id for o in (office("annapolis"), office("glen-burnie")) if o.id != patient.preferred_office_id)
    edited = patient_services.update_patient(patient.id, replace(data, preferred_office_id=other, phone="+14105550177"),
                                             expected_version=patient.version, confirm_duplicate=False, by=NURSE,
                                             now=NOW)
    assert published == [PatientChanged(patient.id, frozenset({"preferred_office_id", "phone", "phone_digits"}),
                                        by=NURSE, at=NOW)]
    patient_services.update_patient(patient.id, replace(data, preferred_office_id=other, phone="+14105550177"),
                                    expected_version=edited.version, confirm_duplicate=False, by=NURSE, now=NOW)
    assert len(published) == 1


# The handlers, each on its own.

def booked(patient_id: int) -> AppointmentBooked:
    return AppointmentBooked(1, patient_id, 1, 1, 1, 1, NOW, NOW + timedelta(minutes=30), overridden=False,
                             by=SCHEDULER, at=NOW)


def status_changed(patient_id: int) -> AppointmentStatusChanged:
    return AppointmentStatusChanged(1, patient_id, 1, 1, 1, NOW, Status.CONFIRMED, Status.CHECKED_IN, by=NURSE, at=NOW)


def outcome_recorded(patient_id: int) -> OutcomeRecorded:
    return OutcomeRecorded(1, 1, 1, patient_id, corrected=True, by=NURSE, at=NOW)


def evaluated(patient_id: int) -> PsychEvaluationRecorded:
    return PsychEvaluationRecorded(1, patient_id, MONDAY, cleared=True, by=PHYSICIAN, at=NOW)


def trial_started(patient_id: int) -> TrialStarted:
    return TrialStarted(1, patient_id, None, by=NURSE, at=NOW)


def trial_result_recorded(patient_id: int) -> TrialResultRecorded:
    return TrialResultRecorded(1, patient_id, None, TrialResultSource.TRIAL_PAGE, by=PHYSICIAN, at=NOW)


def preferred_office_changed(patient_id: int) -> PatientChanged:
    return PatientChanged(patient_id, frozenset({"preferred_office_id"}), by=NURSE, at=NOW)


PATIENT_HANDLERS = [
    (staleness.mark_patient_stale_when_booked, AppointmentBooked, booked),
    (staleness.mark_patient_stale_when_an_appointment_changes, AppointmentStatusChanged, status_changed),
    (staleness.mark_patient_stale_when_an_outcome_is_recorded, OutcomeRecorded, outcome_recorded),
    (staleness.mark_patient_stale_when_evaluated, PsychEvaluationRecorded, evaluated),
    (staleness.mark_patient_stale_when_a_trial_starts, TrialStarted, trial_started),
    (staleness.mark_patient_stale_when_a_trial_result_is_recorded, TrialResultRecorded, trial_result_recorded),
    (staleness.mark_patient_stale_when_their_preferred_office_changes, PatientChanged, preferred_office_changed),
]
EVERYONE_HANDLERS = [
    (staleness.mark_everyone_stale_when_the_thresholds_change, ClinicalSettingsChanged,
     ClinicalSettingsChanged(frozenset({"soon_days"}), by=PHYSICIAN, at=NOW)),
    (staleness.mark_everyone_stale_when_a_procedure_is_added, ProcedureTypeAdded,
     ProcedureTypeAdded(1, "MBB-2", by=ADMIN, at=NOW)),
    (staleness.mark_everyone_stale_when_the_rules_catalog_changes, ProcedureTypeChanged,
     ProcedureTypeChanged(1, frozenset({"name", "max_per_year"}), by=ADMIN, at=NOW)),
    (staleness.mark_everyone_stale_when_an_office_moves_time_zone, OfficeChanged,
     OfficeChanged(1, frozenset({"timezone"}), by=ADMIN, at=NOW)),
]


@pytest.mark.parametrize(("handler", "event_type"), [(handler, event_type) for handler, event_type, _ in
                                                     PATIENT_HANDLERS + EVERYONE_HANDLERS])
def test_each_handler_is_subscribed_to_its_event(handler, event_type):
    assert handler in handlers_of(event_type)


@pytest.mark.parametrize(("handler", "event_type", "event_of"), PATIENT_HANDLERS)
def test_a_change_to_a_patients_records_marks_that_patient_stale_and_no_one_else(handler, event_type, event_of):
    first, second, third = (patient.id for patient in patients()[:3])
    hold(first, second)
    handled(handler, event_of(first))
    assert holding() == {first: None, second: HELD_UNTIL}
    handled(handler, event_of(third))  # never worked out: from now on it is
    assert holding() == {first: None, second: HELD_UNTIL, third: None}


@pytest.mark.parametrize(("handler", "event_type", "event"), EVERYONE_HANDLERS)
def test_a_change_to_what_every_assessment_rests_on_marks_everyone_stale(handler, event_type, event):
    first, second = (patient.id for patient in patients()[:2])
    hold(first, second)
    handled(handler, event)
    assert holding() == {first: None, second: None}


@pytest.mark.parametrize("changed", [{"name"}, {"duration_minutes", "turnover_minutes", "follow_ups", "cpt_codes"}])
def test_a_catalog_edit_the_rules_do_not_read_marks_no_one(changed):
    hold(patients()[0].id)
    handled(staleness.mark_everyone_stale_when_the_rules_catalog_changes,
            ProcedureTypeChanged(1, frozenset(changed), by=ADMIN, at=NOW))
    assert holding() == {patients()[0].id: HELD_UNTIL}


def test_an_office_edit_that_keeps_its_time_zone_marks_no_one():
    hold(patients()[0].id)
    handled(staleness.mark_everyone_stale_when_an_office_moves_time_zone,
            OfficeChanged(1, frozenset({"name", "phone"}), by=ADMIN, at=NOW))
    assert holding() == {patients()[0].id: HELD_UNTIL}


def test_a_patient_edit_that_keeps_their_preferred_office_marks_no_one():
    hold(patients()[0].id)
    handled(staleness.mark_patient_stale_when_their_preferred_office_changes,
            PatientChanged(patients()[0].id, frozenset({"phone", "phone_digits"}), by=NURSE, at=NOW))
    assert holding() == {patients()[0].id: HELD_UNTIL}


def test_a_mark_is_rolled_back_with_the_change_that_made_it():
    patient_id = patients()[0].id
    hold(patient_id)
    with pytest.raises(RuntimeError), transaction(db.session, NURSE):
        staleness.mark_patient_stale_when_an_appointment_changes(status_changed(patient_id))
        staleness.mark_everyone_stale_when_the_thresholds_change(
            ClinicalSettingsChanged(frozenset({"soon_days"}), by=PHYSICIAN, at=NOW))
        raise RuntimeError("the change failed")
    assert holding() == {patient_id: HELD_UNTIL}


# End to end: what each service changes marks whom the hook on every flush used to mark.

def test_checking_in_with_a_pain_score_marks_the_patient_stale():
    first, second = patients()[:2]
    appointment = book(patient=first)
    hold(first.id, second.id)
    at = appointment.starts_at + timedelta(minutes=5)
    confirmed = services.change_status(appointment.id, Status.CONFIRMED, expected_version=appointment.version,
                                       by=NURSE, now=at)
    assert holding() == {first.id: None, second.id: HELD_UNTIL}
    hold(first.id)
    services.change_status(appointment.id, Status.CHECKED_IN, expected_version=confirmed.version, by=NURSE, now=at,
                           baseline_nrs=7)
    assert holding() == {first.id: None, second.id: HELD_UNTIL}


def test_moving_an_office_to_another_time_zone_marks_everyone_and_renaming_it_no_one():
    first, second = (patient.id for patient in patients()[:2])
    hold(first, second)
    annapolis = office("annapolis")
    renamed = practice_services.update_office(annapolis.id, office_data("annapolis", name="Annapolis Harbor"),
                                              expected_version=annapolis.version, by=ADMIN, now=NOW)
    assert holding() == {first: HELD_UNTIL, second: HELD_UNTIL}
    practice_services.update_office(annapolis.id, office_data("annapolis", timezone="America/Chicago"),
                                    expected_version=renamed.version, by=ADMIN, now=NOW)
    assert holding() == {first: None, second: None}


def test_renaming_a_procedure_marks_no_one_and_adding_one_marks_everyone():
    first = patients()[0].id
    hold(first)
    mbb = procedure("MBB")
    catalog_services.update_procedure_type(mbb.id, replace(MBB, name="Medial branch nerve block"),
                                           expected_version=mbb.version, by=ADMIN, now=NOW)
    assert holding() == {first: HELD_UNTIL}
    catalog_services.create_procedure_type(replace(MBB, code="MBB-2", name="Medial branch block, again"), by=ADMIN,
                                           now=NOW)
    assert holding() == {first: None}


def test_recording_a_psych_evaluation_marks_the_patient_stale():
    first, second = (patient.id for patient in patients()[:2])
    hold(first, second)
    psych_evaluations.record_psych_evaluation(first, PsychEntry(MONDAY, True, "Dr. Marsh, PsyD"), by=PHYSICIAN,
                                              now=NOW, today=MONDAY)
    assert holding() == {first: None, second: HELD_UNTIL}

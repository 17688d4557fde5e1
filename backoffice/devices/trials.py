"""SCS trials: temporary leads for about a week, the result and the decision, which ends the trial
and takes its leads out. Each public function that writes is one user action and one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from backoffice.audit.readings import record_reading
from backoffice.auth.editing import apply_edit, stamps
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.extensions import db
from backoffice.devices.models import Device, ScsTrial
from backoffice.devices.rules import DeviceStatus, TrialDecision
from backoffice.devices.services import can_change_devices, can_read_devices, mark_explanted
from backoffice.patients.models import Patient
from backoffice.scheduling.models import Appointment


@dataclass(frozen=True)
class TrialEntry:
    started_on: date
    planned_end_on: date
    physician_id: int
    office_id: int
    appointment_id: int | None = None
    notes: str | None = None


@dataclass(frozen=True)
class TrialResult:
    pain_reduction_percent: int | None
    analgesic_reduction_percent: int | None
    decision: TrialDecision | None
    decided_on: date | None
    implant_appointment_id: int | None = None
    notes: str | None = None


def get_trial(trial_id: int, *, by: Actor, lock: bool = False) -> ScsTrial:
    if not can_read_devices(by):
        raise NotFound("trial", trial_id)
    return get_one(db.session, ScsTrial, trial_id, entity="trial", lock=lock)


def open_trial(trial_id: int, *, by: Actor) -> ScsTrial:
    """Opening an SCS trial's page shows its patient and result: audited."""
    trial = get_trial(trial_id, by=by)
    record_reading(by, "scs_trial", trial.id, patient_id=trial.patient_id, office_id=trial.office_id)
    return trial


def trials_of_patient(patient_id: int) -> list[ScsTrial]:
    query = select(ScsTrial).where(ScsTrial.patient_id == patient_id).order_by(ScsTrial.started_on.desc())
    return list(db.session.scalars(query))


def trial_leads(trial_id: int) -> list[Device]:
    return list(db.session.scalars(select(Device).where(Device.trial_id == trial_id).order_by(Device.id)))


def start_trial(patient_id: int, entry: TrialEntry, *, by: Actor, now: datetime, today: date) -> ScsTrial:
    if not can_change_devices(by):
        raise NotFound("patient", patient_id)
    errors = {}
    if entry.planned_end_on < entry.started_on:
        errors["planned_end_on"] = "The trial cannot end before it starts."
    if entry.started_on > today + timedelta(days=365):
        errors["started_on"] = "Give a start within the next year."
    if errors:
        raise FieldErrors(errors)
    with transaction(db.session, by):
        get_one(db.session, Patient, patient_id, entity="patient")
        trial = ScsTrial(patient_id=patient_id, physician_id=entry.physician_id, office_id=entry.office_id,
                         appointment_id=entry.appointment_id, started_on=entry.started_on,
                         planned_end_on=entry.planned_end_on, notes=entry.notes or None, **stamps(by, now))
        db.session.add(trial)
    return trial


def record_trial_result(trial_id: int, result: TrialResult, *, expected_version: int, by: Actor, now: datetime,
                        today: date) -> ScsTrial:
    """The trial's result and the decision; a decision ends the trial, so its leads come out."""
    errors = {}
    if result.decision and result.decided_on is None:
        errors["decided_on"] = "Give the day of the decision."
    if result.decided_on and result.decided_on > today:
        errors["decided_on"] = "The decision cannot be in the future."
    if result.implant_appointment_id and result.decision is not TrialDecision.IMPLANT:
        errors["implant_appointment_id"] = "Link an implant only when the decision is to implant."
    if errors:
        raise FieldErrors(errors)
    with transaction(db.session, by):
        trial = get_trial(trial_id, by=by, lock=True)
        if not can_change_devices(by):
            raise NotFound("trial", trial_id)
        if result.decided_on and result.decided_on < trial.started_on:
            raise FieldErrors({"decided_on": f"The trial started on {trial.started_on:%m/%d/%Y}."})
        if result.implant_appointment_id is not None:
            implant = db.session.get(Appointment, result.implant_appointment_id)
            if implant is None or implant.patient_id != trial.patient_id:
                raise FieldErrors({"implant_appointment_id": "Choose one of this patient's appointments."})
        apply_edit(db.session, trial, {
            "pain_reduction_percent": result.pain_reduction_percent,
            "analgesic_reduction_percent": result.analgesic_reduction_percent,
            "decision": result.decision, "decided_on": result.decided_on,
            "implant_appointment_id": result.implant_appointment_id, "notes": result.notes or None},
            expected_version=expected_version, by=by, now=now, what="This trial")
        if result.decision and result.decided_on:
            for lead in trial_leads(trial.id):
                if lead.status is DeviceStatus.TRIAL:
                    mark_explanted(lead, on=max(result.decided_on, lead.implanted_on), reason="Trial ended", by=by,
                             now=now, today=today)
    return trial

"""SCS trials: temporary leads for about a week, the result and the decision, which ends the trial
and takes its leads out.

The trial is the one home of its result: the reduction of target pain or of analgesic use it gave
and the day it ended. The trial page writes it, and so does the trial-end follow-up of a trial
procedure done here (`record_result_from_follow_up`, called by the follow-up's service): the later
entry wins, and the trial says where its result was last entered. The candidacy rules and the
device worklists read it from here.

Each public function that writes is one user action and one transaction, except those that run
inside another's: starting the trial of a trial procedure when it is completed (the handler of
`AppointmentCompleted`) and recording what a trial-end follow-up found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from backoffice.audit.readings import record_reading
from backoffice.auth.editing import apply_edit, mark_changed, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.events import publish, subscribe
from backoffice.core.extensions import db
from backoffice.devices import rules
from backoffice.devices.events import TrialResultRecorded, TrialStarted
from backoffice.devices.models import Device, ScsTrial
from backoffice.devices.rules import DeviceStatus, TrialDecision, TrialResultSource, TrialState
from backoffice.devices.services import can_change_devices, can_read_devices, mark_explanted
from backoffice.patients.models import Patient
from backoffice.scheduling.events import AppointmentCompleted
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES

# What makes the candidacy rules and the worklists read a trial again.
RESULT_COLUMNS = frozenset({"pain_reduction_percent", "analgesic_reduction_percent", "ended_on", "decision"})


@dataclass(frozen=True)
class TrialEntry:
    started_on: date
    planned_end_on: date
    physician_id: int
    office_id: int
    appointment_id: int | None = None  # the trial procedure booked here, when there is one
    notes: str | None = None


@dataclass(frozen=True)
class TrialResult:
    pain_reduction_percent: int | None
    analgesic_reduction_percent: int | None
    decision: TrialDecision | None
    decided_on: date | None
    implant_appointment_id: int | None = None
    notes: str | None = None
    ended_on: date | None = None  # with a result: the day the trial ended


# Reading.

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


def trial_of_appointment(appointment_id: int) -> ScsTrial | None:
    """The trial a trial procedure done here is (none before it is on record)."""
    return db.session.scalars(select(ScsTrial).where(ScsTrial.appointment_id == appointment_id)).first()


def _trial_procedures(patient_id: int) -> Select[Appointment]:
    return (select(Appointment).join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
            .where(Appointment.patient_id == patient_id, ProcedureType.kind == ProcedureKind.SCS_TRIAL,
                   Appointment.status.in_(ACTIVE_STATUSES)))


def unrecorded_trial_procedures(patient_id: int) -> list[Appointment]:
    """The patient's trial procedures, booked or done, that no trial on record is linked to yet:
    what a trial started on the patient's page may be linked to."""
    linked = select(ScsTrial.appointment_id).where(ScsTrial.appointment_id.is_not(None))
    query = _trial_procedures(patient_id).where(Appointment.id.not_in(linked)).order_by(Appointment.starts_at)
    return list(db.session.scalars(query))


def _latest_implant(patient_id: InstrumentedAttribute[int] | int) -> Select[datetime]:
    """The start of the patient's latest permanent SCS implant booked or done, which answers a
    trial started on or before its day."""
    return (select(func.max(Appointment.starts_at))
            .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
            .where(Appointment.patient_id == patient_id, ProcedureType.kind == ProcedureKind.SCS_IMPLANT,
                   Appointment.status.in_(ACTIVE_STATUSES)))


def latest_implant_at() -> ScalarSelect[datetime]:
    """`_latest_implant` for each trial of a query on trials."""
    return _latest_implant(ScsTrial.patient_id).correlate(ScsTrial).scalar_subquery()


def is_the_patients_latest() -> ColumnElement[bool]:
    """For each trial of a query on trials: no later trial of the patient, which would supersede
    it (the candidacy reads the latest, as the devices page lists it)."""
    later = aliased(ScsTrial)
    return ~exists().where(later.patient_id == ScsTrial.patient_id,
                           or_(later.started_on > ScsTrial.started_on,
                               and_(later.started_on == ScsTrial.started_on, later.id > ScsTrial.id)))


def trial_state_of(trial: ScsTrial, *, today: date, overdue_days: int) -> TrialState:
    """Where one trial stands, as the devices page lists it."""
    implant_at = db.session.scalar(_latest_implant(trial.patient_id))
    return rules.trial_state(trial.started_on, trial.planned_end_on, today, ended_on=trial.ended_on,
                             decision=trial.decision, implant_on=local_day(implant_at, trial.office.timezone),
                             overdue_days=overdue_days)


def local_day(moment: datetime | None, timezone: str) -> date | None:
    return moment.astimezone(ZoneInfo(timezone)).date() if moment is not None else None


# Starting a trial.

def _trial_procedure(patient_id: int, appointment_id: int, started_on: date) -> Appointment:
    """The trial procedure a new trial is linked to: the patient's, booked or done, not another
    trial's, on the day the trial starts (its leads go in then)."""
    found = db.session.scalars(_trial_procedures(patient_id).where(Appointment.id == appointment_id)).first()
    if found is None:
        raise FieldErrors({"appointment_id": "Choose one of this patient's SCS trial appointments."})
    if trial_of_appointment(appointment_id) is not None:
        raise FieldErrors({"appointment_id": "That appointment's trial is already on record."})
    day = local_day(found.starts_at, found.office.timezone)
    if day != started_on:
        raise FieldErrors({"started_on": f"The trial procedure is on {day:%m/%d/%Y}: the trial starts that day."})
    return found


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
        if entry.appointment_id is not None:
            _trial_procedure(patient_id, entry.appointment_id, entry.started_on)
        trial = ScsTrial(patient_id=patient_id, physician_id=entry.physician_id, office_id=entry.office_id,
                         appointment_id=entry.appointment_id, started_on=entry.started_on,
                         planned_end_on=entry.planned_end_on, notes=entry.notes or None, **stamps(by, now))
        db.session.add(trial)
        db.session.flush()  # its id
        publish(TrialStarted(trial.id, patient_id, trial.appointment_id, by=by, at=now))
    return trial


def _trial_days() -> int:
    return int(current_app.config["SCS_TRIAL_DAYS"])


def trial_for_appointment(appointment: Appointment, *, by: Actor, now: datetime) -> ScsTrial:
    """The trial of a trial procedure done here, inside the caller's transaction: the one linked to
    it; else the patient's trial started on its day with no procedure linked and no decision (put
    on record on the patient's page before the procedure was completed), now linked; else a new
    one, started on its day, planned to end the configured days later."""
    trial = trial_of_appointment(appointment.id)
    if trial is not None:
        return trial
    day = local_day(appointment.starts_at, appointment.office.timezone)
    assert day is not None
    trial = db.session.scalars(
        select(ScsTrial).where(ScsTrial.patient_id == appointment.patient_id, ScsTrial.appointment_id.is_(None),
                               ScsTrial.decision.is_(None), ScsTrial.started_on == day)
        .order_by(ScsTrial.id.desc())).first()
    if trial is not None:
        trial.appointment_id = appointment.id
        mark_changed(trial, by, now)
        return trial
    trial = ScsTrial(patient_id=appointment.patient_id, physician_id=appointment.physician_id,
                     office_id=appointment.office_id, appointment_id=appointment.id, started_on=day,
                     planned_end_on=rules.planned_trial_end(day, trial_days=_trial_days()), **stamps(by, now))
    db.session.add(trial)
    db.session.flush()  # its id
    publish(TrialStarted(trial.id, trial.patient_id, appointment.id, by=by, at=now))
    return trial


@subscribe(AppointmentCompleted)
def start_trial_when_its_procedure_is_done(event: AppointmentCompleted) -> None:
    """A trial procedure completed: its trial is on record from that day, so the devices page and
    the candidacy rules see it, and its leads can be recorded with it."""
    appointment = db.session.get(Appointment, event.appointment_id)
    if appointment is None:
        raise NotFound("appointment", event.appointment_id)
    if appointment.procedure_type.kind is ProcedureKind.SCS_TRIAL:
        trial_for_appointment(appointment, by=event.by, now=event.at)


# The result and the decision.

def _end_trial_leads(trial: ScsTrial, on: date, *, by: Actor, now: datetime, today: date) -> None:
    """A decision ends the trial: its leads come out on the day of the decision."""
    for lead in trial_leads(trial.id):
        if lead.status is DeviceStatus.TRIAL:
            mark_explanted(lead, on=max(on, lead.implanted_on), reason="Trial ended", by=by, now=now, today=today)


def _published(trial: ScsTrial, source: TrialResultSource, *, by: Actor, now: datetime) -> None:
    publish(TrialResultRecorded(trial.id, trial.patient_id, trial.appointment_id, source, by=by, at=now))


def record_trial_result(trial_id: int, result: TrialResult, *, expected_version: int, by: Actor, now: datetime,
                        today: date) -> ScsTrial:
    """The trial's result and the decision, from the trial page; a decision ends the trial, so
    its leads come out."""
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
        errors = rules.trial_result_problems(
            started_on=trial.started_on, ended_on=result.ended_on, pain_percent=result.pain_reduction_percent,
            analgesic_percent=result.analgesic_reduction_percent, decision=result.decision, today=today)
        if result.decided_on and result.decided_on < trial.started_on:
            errors["decided_on"] = f"The trial started on {trial.started_on:%m/%d/%Y}."
        if errors:
            raise FieldErrors(errors)
        if result.implant_appointment_id is not None:
            implant = db.session.get(Appointment, result.implant_appointment_id)
            if implant is None or implant.patient_id != trial.patient_id:
                raise FieldErrors({"implant_appointment_id": "Choose one of this patient's appointments."})
        entered = {"pain_reduction_percent": result.pain_reduction_percent,
                   "analgesic_reduction_percent": result.analgesic_reduction_percent, "ended_on": result.ended_on}
        source = trial.result_source
        if any(getattr(trial, name) != value for name, value in entered.items()):
            source = TrialResultSource.TRIAL_PAGE if result.ended_on else None
        changed = apply_edit(db.session, trial, {
            **entered, "result_source": source, "decision": result.decision, "decided_on": result.decided_on,
            "implant_appointment_id": result.implant_appointment_id, "notes": result.notes or None},
            expected_version=expected_version, by=by, now=now, what="This trial")
        if result.decision and result.decided_on:
            _end_trial_leads(trial, result.decided_on, by=by, now=now, today=today)
        if changed & RESULT_COLUMNS:
            _published(trial, TrialResultSource.TRIAL_PAGE, by=by, now=now)
    return trial


def record_result_from_follow_up(appointment_id: int, *, reduction_percent: int | None, on: date, declined: bool,
                                 by: Actor, now: datetime, today: date) -> ScsTrial:
    """What the trial-end follow-up of a trial procedure found, written to its trial inside the
    follow-up's transaction (whose permission is the one that counts). The relief it recorded is
    the reduction of target pain, which replaces the trial's: the later entry wins (None: the
    relief did not change, only the decision did). The trial ended on the day the trial page
    gave, else on the follow-up's. "No further intervention" at that follow-up is the decision not
    to proceed, when the trial has none yet: its leads come out."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    found = trial_for_appointment(appointment, by=by, now=now)
    trial = db.session.scalars(for_update(select(ScsTrial).where(ScsTrial.id == found.id))).one()
    ended_on = trial.ended_on or max(on, trial.started_on)
    if reduction_percent is not None:
        trial.pain_reduction_percent = reduction_percent
        trial.ended_on = ended_on
        trial.result_source = TrialResultSource.FOLLOW_UP
    ends_it = declined and trial.decision is None
    if ends_it:
        trial.decision, trial.decided_on = TrialDecision.FAILED, ended_on
    if not db.session.is_modified(trial):
        return trial
    mark_changed(trial, by, now)
    if ends_it:
        _end_trial_leads(trial, ended_on, by=by, now=now, today=max(today, ended_on))
    _published(trial, TrialResultSource.FOLLOW_UP, by=by, now=now)
    return trial

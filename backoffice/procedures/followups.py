"""Follow-ups and outcomes. Each public function is one user action and one transaction, except
`create_follow_ups` and its handler of `AppointmentCompleted`, which run inside the transaction
that completes an appointment. The follow-up worklist is read by `worklists.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from backoffice.audit.trail import record_event
from backoffice.auth.editing import ensure_current, mark_changed, stale_edit, stamps
from backoffice.catalog.rules import ProcedureKind, parse_follow_ups
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.events import publish, subscribe
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.devices import trials
from backoffice.procedures import rules
from backoffice.procedures.events import OutcomeRecorded
from backoffice.procedures.handoff import hand_off_decision
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.procedures.rules import Contact, FollowUpStatus, FunctionChange, PlanDecision, ReliefUnit
from backoffice.scheduling.events import AppointmentCompleted
from backoffice.scheduling.models import Appointment


@dataclass(frozen=True)
class OutcomeEntry:
    """An outcome as a nurse or physician enters it."""

    recorded_on: date
    contact: Contact
    baseline_nrs: int | None = None
    post_nrs: int | None = None
    percent_relief: int | None = None
    relief_amount: int | None = None
    relief_unit: ReliefUnit | None = None
    relief_ongoing: bool = False
    function_change: FunctionChange | None = None
    odi_answers: tuple[int | None, ...] = ()
    complications: str | None = None
    decision: PlanDecision | None = None
    notes: str | None = None


def create_follow_ups(appointment: Appointment, by: Actor, now: datetime) -> list[FollowUp]:
    """The follow-ups the procedure's catalog entry calls for, due after the appointment's end,
    with its physician responsible."""
    offsets = parse_follow_ups(appointment.procedure_type.follow_ups)
    created = [FollowUp(appointment_id=appointment.id, patient_id=appointment.patient_id,
                        physician_id=appointment.physician_id, office_id=appointment.office_id,
                        delay=str(offset), due_at=due, status=FollowUpStatus.OPEN, **stamps(by, now))
               for offset, due in rules.follow_ups_due(appointment.ends_at, offsets)]
    db.session.add_all(created)
    return created


@subscribe(AppointmentCompleted)
def create_follow_ups_when_completed(event: AppointmentCompleted) -> None:
    """A procedure done: its follow-ups, in the transaction that completed it. The appointment is
    the one the completing service holds (no query)."""
    appointment = db.session.get(Appointment, event.appointment_id)
    if appointment is None:
        raise NotFound("appointment", event.appointment_id)
    create_follow_ups(appointment, event.by, event.at)


# Reading.

def _may_work(by: Actor) -> bool:
    return by.can(Permission.RECORD_FOLLOW_UPS)


def _with_context(query: Select[FollowUp]) -> Select[FollowUp]:
    return query.options(
        joinedload(FollowUp.patient), joinedload(FollowUp.physician), joinedload(FollowUp.office),
        joinedload(FollowUp.appointment).joinedload(Appointment.procedure_type),
        joinedload(FollowUp.outcome))


def get_follow_up(follow_up_id: int, *, by: Actor, lock: bool = False) -> FollowUp:
    if not _may_work(by):
        raise NotFound("follow-up", follow_up_id)
    query = _with_context(select(FollowUp).where(FollowUp.id == follow_up_id))
    found = db.session.scalars(for_update(query, of=FollowUp) if lock else query).unique().first()
    if found is None:
        raise NotFound("follow-up", follow_up_id)
    return found


def open_follow_up(follow_up_id: int, *, by: Actor) -> FollowUp:
    """A follow-up's page shows its patient: the opening is audited like a patient record's."""
    with transaction(db.session, by):
        follow_up = get_follow_up(follow_up_id, by=by)
        record_event(db.session, by, "view", "follow_up", follow_up.id, patient_id=follow_up.patient_id,
                     office_id=follow_up.office_id)
    return follow_up


def earlier_outcomes(follow_up: FollowUp) -> list[Outcome]:
    """What the other follow-ups of the same procedure found (the 6-hour diary, when calling the
    next day)."""
    query = (select(Outcome).join(Outcome.follow_up)
             .where(Outcome.appointment_id == follow_up.appointment_id, Outcome.follow_up_id != follow_up.id)
             .options(joinedload(Outcome.recorded_by)).order_by(FollowUp.due_at))
    return list(db.session.scalars(query))


def follow_ups_of_appointment(appointment_id: int) -> list[FollowUp]:
    query = (select(FollowUp).where(FollowUp.appointment_id == appointment_id)
             .options(joinedload(FollowUp.outcome)).order_by(FollowUp.due_at))
    return list(db.session.scalars(query).unique())


# Changes.

def _procedure_day(appointment: Appointment) -> date:
    return appointment.starts_at.astimezone(ZoneInfo(appointment.office.timezone)).date()


def outcome_columns(entry: OutcomeEntry, *, decision: PlanDecision | None) -> dict[str, object]:
    """The outcome row's values: relief computed from the pain scores when not entered, the
    duration in hours, the Oswestry score when any section is answered."""
    answered = entry.odi_answers if any(answer is not None for answer in entry.odi_answers) else None
    relief = entry.percent_relief
    if relief is None:
        relief = rules.percent_relief(entry.baseline_nrs, entry.post_nrs)
    return {
        "recorded_on": entry.recorded_on, "contact": entry.contact, "baseline_nrs": entry.baseline_nrs,
        "post_nrs": entry.post_nrs, "percent_relief": relief, "relief_amount": entry.relief_amount,
        "relief_unit": entry.relief_unit if entry.relief_amount else None,
        "relief_hours": rules.relief_hours(entry.relief_amount, entry.relief_unit),
        "relief_ongoing": entry.relief_ongoing,
        "function_change": entry.function_change,
        "odi_answers": list(answered) if answered else None,
        "odi_score": rules.odi_score(answered) if answered else None,
        "complications": entry.complications, "decision": decision, "notes": entry.notes}


def _check(entry: OutcomeEntry, follow_up: FollowUp, today: date) -> None:
    errors = rules.outcome_problems(
        baseline=entry.baseline_nrs, post=entry.post_nrs, relief=entry.percent_relief,
        recorded_on=entry.recorded_on, procedure_day=_procedure_day(follow_up.appointment), today=today)
    if entry.relief_amount is not None and entry.relief_unit is None:
        errors["relief_unit"] = "Say hours, days, weeks or months."
    if any(answer is not None and not 0 <= answer <= rules.ODI_MAX_PER_SECTION for answer in entry.odi_answers):
        errors["odi"] = "Each Oswestry section scores 0 to 5."
    if errors:
        raise FieldErrors(errors)


def record_outcome(follow_up_id: int, entry: OutcomeEntry, *, expected_version: int, by: Actor,
                   now: datetime, today: date, correcting: bool = False) -> Outcome:
    """Record what a follow-up found (`expected_version` is the follow-up's as the form showed it),
    or correct the outcome recorded (`correcting`; then it is the outcome's). Only a physician
    records or changes the decision, which hands a repeat block, an RFA or an SCS trial to the
    schedulers (`handoff.py`), as the decisions list does. Raises FieldErrors, StaleEdit."""
    with transaction(db.session, by):
        follow_up = get_follow_up(follow_up_id, by=by, lock=True)
        outcome = follow_up.outcome
        if outcome is not None:
            db.session.execute(for_update(select(Outcome).where(Outcome.id == outcome.id)))
            if not correcting:  # someone recorded it since this form was opened
                raise stale_edit(db.session, outcome, "This follow-up")
        ensure_current(db.session, outcome or follow_up, expected_version, "This follow-up")
        _check(entry, follow_up, today)
        was = outcome.decision if outcome else None
        decided = by.can(Permission.DECIDE_OUTCOMES) and entry.decision != was
        values = outcome_columns(entry, decision=entry.decision if decided else was)
        corrected = outcome is not None
        before = (outcome.percent_relief, outcome.recorded_on, outcome.decision) if outcome else None
        if outcome is None:
            outcome = Outcome(follow_up_id=follow_up.id, appointment_id=follow_up.appointment_id,
                              patient_id=follow_up.patient_id, recorded_by_id=by.user_id, **values,
                              **stamps(by, now))
            db.session.add(outcome)
        else:
            for key, value in values.items():
                setattr(outcome, key, value)
        changed = not corrected or db.session.is_modified(outcome)
        if corrected and changed:
            mark_changed(outcome, by, now)
        if follow_up.status is not FollowUpStatus.DONE:
            follow_up.status = FollowUpStatus.DONE
            follow_up.closed_reason = None
            mark_changed(follow_up, by, now)
        if changed:
            db.session.flush()  # the new outcome's id, and its decision for the rules the hand-off asks
            if follow_up.appointment.procedure_type.kind is ProcedureKind.SCS_TRIAL:
                _record_trial_result(outcome, before, by=by, now=now, today=today)
            if decided:
                hand_off_decision(outcome, follow_up, priority=None, note=None, by=by, now=now, today=today)
            publish(OutcomeRecorded(outcome.id, follow_up.id, outcome.appointment_id, outcome.patient_id,
                                    corrected=corrected, by=by, at=now))
    return outcome


def _record_trial_result(outcome: Outcome, before: tuple[int, date, PlanDecision | None] | None, *, by: Actor,
                         now: datetime, today: date) -> None:
    """A trial procedure's follow-up records the trial's result on the trial, its one home: when
    its relief or day is new or changed, and when the physician decides "no further intervention"
    (not to proceed). A correction of anything else leaves the trial as it is."""
    relief_changed = before is None or before[:2] != (outcome.percent_relief, outcome.recorded_on)
    declined = outcome.decision is PlanDecision.NO_FURTHER and (before is None or before[2] != outcome.decision)
    if relief_changed or declined:
        trials.record_result_from_follow_up(
            outcome.appointment_id, reduction_percent=outcome.percent_relief if relief_changed else None,
            on=outcome.recorded_on, declined=declined, by=by, now=now, today=today)


def close_follow_up(follow_up_id: int, reason: str, *, expected_version: int, by: Actor, now: datetime) -> FollowUp:
    """Close a follow-up without an outcome (the patient could not be reached, was seen elsewhere)."""
    if not reason.strip():
        raise FieldErrors({"reason": "Say why it is closed without an outcome."})
    with transaction(db.session, by):
        follow_up = get_follow_up(follow_up_id, by=by, lock=True)
        ensure_current(db.session, follow_up, expected_version, "This follow-up")
        if follow_up.status is not FollowUpStatus.OPEN:
            raise FieldErrors({"reason": "Only an open follow-up can be closed."})
        follow_up.status = FollowUpStatus.CLOSED
        follow_up.closed_reason = reason.strip()
        mark_changed(follow_up, by, now)
    return follow_up


def reopen_follow_up(follow_up_id: int, *, expected_version: int, by: Actor, now: datetime) -> FollowUp:
    with transaction(db.session, by):
        follow_up = get_follow_up(follow_up_id, by=by, lock=True)
        ensure_current(db.session, follow_up, expected_version, "This follow-up")
        if follow_up.status is FollowUpStatus.CLOSED:
            follow_up.status = FollowUpStatus.OPEN
            follow_up.closed_reason = None
            mark_changed(follow_up, by, now)
    return follow_up

"""Psychological evaluations before spinal cord stimulation: recorded by clinicians, read by the
candidacy rules and the patient's course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from backoffice.auth.editing import stamps
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.patients.models import Patient
from backoffice.procedures.events import PsychEvaluationRecorded
from backoffice.procedures.models import PsychEvaluation


@dataclass(frozen=True)
class PsychEntry:
    evaluated_on: date
    cleared: bool
    evaluator: str
    notes: str | None = None


def psych_evaluations(patient_id: int) -> list[PsychEvaluation]:
    query = select(PsychEvaluation).where(PsychEvaluation.patient_id == patient_id)
    return list(db.session.scalars(query.order_by(PsychEvaluation.evaluated_on.desc())))


def record_psych_evaluation(patient_id: int, entry: PsychEntry, *, by: Actor, now: datetime,
                            today: date) -> PsychEvaluation:
    if not by.can(Permission.RECORD_PSYCH_EVALUATIONS):
        raise NotFound("patient", patient_id)
    if entry.evaluated_on > today:
        raise FieldErrors({"evaluated_on": "The evaluation cannot be in the future."})
    with transaction(db.session, by):
        get_one(db.session, Patient, patient_id, entity="patient")
        evaluation = PsychEvaluation(patient_id=patient_id, evaluated_on=entry.evaluated_on, cleared=entry.cleared,
                                     evaluator=entry.evaluator, notes=entry.notes, recorded_by_id=by.user_id,
                                     **stamps(by, now))
        db.session.add(evaluation)
        db.session.flush()
        publish(PsychEvaluationRecorded(evaluation.id, patient_id, evaluation.evaluated_on, evaluation.cleared,
                                        by=by, at=now))
    return evaluation

"""A patient's candidacies: what the rules say about one patient today (the patient's course, the
booking check), and the command that makes the candidates list work every patient out again
after records were loaded in bulk.

The rest of candidacy lives beside this module: the histories the rules read (`histories.py`),
the thresholds (`clinical_settings.py`) and catalog limits (`rule_catalog.py`) they apply, the
stored candidacies the list reads (`stored_candidacies.py`), the marks that make them stale when a
record they rest on changes (`staleness.py`), the list itself (`worklists.py`) and psychological
evaluations (`psych_evaluations.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, insert, select, update

from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.devices.models import ScsTrial
from backoffice.procedures import candidacy_rules
from backoffice.procedures.candidacy_rules import Candidacy
from backoffice.procedures.clinical_settings import load_thresholds
from backoffice.procedures.histories import histories
from backoffice.procedures.models import CandidacyCheck
from backoffice.procedures.rule_catalog import rule_catalog
from backoffice.scheduling.models import Appointment


@dataclass(frozen=True)
class Assessment:
    """What the rules say about one patient today, and the patient's SCS trials on record (all of
    them), which the patient's course shows too."""

    candidacies: list[Candidacy]
    trials: list[ScsTrial]


def assess_patient(patient_id: int, *, today: date, leaving_out: int | None = None) -> Assessment:
    """What the rules say about one patient today (four queries), as if appointment `leaving_out`
    (one being moved) were not booked."""
    history = histories(today, [patient_id])
    procedures = [done.procedure for done in history.done if done.procedure.appointment_id != leaving_out]
    found = candidacy_rules.assess(procedures, history.outcomes.get(patient_id, []),
                                   thresholds=load_thresholds(), limits=rule_catalog().limits, today=today,
                                   psych_cleared_on=history.psych_cleared_on.get(patient_id),
                                   trials=history.trial_records(patient_id))
    return Assessment(found, [trial.on_record for trial in history.trials.get(patient_id, [])])


def candidacies_for_patient(patient_id: int, *, today: date, leaving_out: int | None = None) -> list[Candidacy]:
    return assess_patient(patient_id, today=today, leaving_out=leaving_out).candidacies


def mark_all_candidacies_stale() -> int:
    """After records were loaded in bulk (an import, the benchmark's practice): every patient with
    an appointment is worked out again on the next visit to the candidates list."""
    with transaction(db.session):
        known = select(CandidacyCheck.patient_id)
        db.session.execute(insert(CandidacyCheck).from_select(
            ["patient_id"], select(Appointment.patient_id).distinct().where(Appointment.patient_id.not_in(known))))
        db.session.execute(update(CandidacyCheck).values(holds_until=None))
    return db.session.scalar(select(func.count()).select_from(CandidacyCheck)) or 0

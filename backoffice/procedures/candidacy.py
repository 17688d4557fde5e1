"""A patient's candidacies: what the rules say about one patient today (the patient's course, the
booking check), and the marks that make the candidates list work a patient out again after a
change to what their assessment rests on.

The rest of candidacy lives beside this module: the histories the rules read (`histories.py`),
the thresholds (`clinical_settings.py`) and catalog limits (`rule_catalog.py`) they apply, the
stored candidacies the list reads (`stored_candidacies.py`), the list itself (`worklists.py`) and
psychological evaluations (`psych_evaluations.py`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Executable, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.practice.models import Office
from backoffice.procedures import candidacy_rules
from backoffice.procedures.candidacy_rules import Candidacy
from backoffice.procedures.clinical_settings import load_thresholds
from backoffice.procedures.histories import MAX_LISTED_IDS, histories
from backoffice.procedures.models import CandidacyCheck, ClinicalSettings, Outcome, PsychEvaluation
from backoffice.procedures.rule_catalog import rule_catalog
from backoffice.scheduling.models import Appointment


def candidacies_for_patient(patient_id: int, *, today: date, leaving_out: int | None = None) -> list[Candidacy]:
    """What the rules say about one patient today (three queries), as if appointment `leaving_out`
    (one being moved) were not booked."""
    history = histories(today, [patient_id])
    procedures = [done.procedure for done in history.done if done.procedure.appointment_id != leaving_out]
    return candidacy_rules.assess(procedures, history.outcomes.get(patient_id, []),
                                  thresholds=load_thresholds(), limits=rule_catalog().limits, today=today,
                                  psych_cleared_on=history.psych_cleared_on.get(patient_id))


def booking_refusal(patient_id: int, kind: ProcedureKind, *, region: str | None, side: str | None,
                    day: date, today: date) -> str | None:
    """Why the candidacy rules say this booking should wait (a physician may override)."""
    if kind in (ProcedureKind.NONE, ProcedureKind.DIAGNOSTIC_FACET, ProcedureKind.SCS_TRIAL):
        return None
    return candidacy_rules.booking_refusal(candidacies_for_patient(patient_id, today=today), kind=kind,
                                           region=region, side=side, day=day)


def mark_all_candidacies_stale() -> int:
    """After records were loaded in bulk (an import, the benchmark's practice): every patient with
    an appointment is worked out again on the next visit to the candidates list."""
    with transaction(db.session):
        known = select(CandidacyCheck.patient_id)
        db.session.execute(insert(CandidacyCheck).from_select(
            ["patient_id"], select(Appointment.patient_id).distinct().where(Appointment.patient_id.not_in(known))))
        db.session.execute(update(CandidacyCheck).values(holds_until=None))
    return db.session.scalar(select(func.count()).select_from(CandidacyCheck)) or 0


def _stale_markers(dialect: str, patient_ids: set[int]) -> list[Executable]:
    upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    ordered = sorted(patient_ids)  # rows locked in one order by everyone: no deadlock between markers
    return [upsert(CandidacyCheck).values([{"patient_id": id_} for id_ in ordered[start:start + MAX_LISTED_IDS]])
            .on_conflict_do_update(index_elements=["patient_id"], set_={"holds_until": None})
            for start in range(0, len(ordered), MAX_LISTED_IDS)]


def _is_changed(session: Session, obj: object) -> bool:
    return obj in session.new or obj in session.deleted or session.is_modified(obj, include_collections=False)


# What the rules read from the catalog; a new name or duration changes no candidacy.
CATALOG_RULE_COLUMNS = ("code", "kind", "frequency_group", "max_per_year", "min_days_between", "interval_scope",
                        "active")


def _changes_everyone(session: Session, obj: object) -> bool:
    if isinstance(obj, ClinicalSettings):
        return _is_changed(session, obj)
    if isinstance(obj, ProcedureType):
        return obj in session.new or any(get_history(obj, column).has_changes() for column in CATALOG_RULE_COLUMNS)
    return isinstance(obj, Office) and get_history(obj, "timezone").has_changes()


def _patients_changed(session: Session) -> tuple[set[int], bool]:
    """The patients whose procedures, outcomes or evaluations this flush changed, and whether it
    changed what every patient's assessment rests on (thresholds, catalog, an office's time zone)."""
    patients: set[int] = set()
    everyone = False
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Appointment | Outcome | PsychEvaluation) and _is_changed(session, obj):
            patients.add(obj.patient_id)
            patients.update(get_history(obj, "patient_id").deleted or ())
        elif _changes_everyone(session, obj):
            everyone = True
    return patients, everyone


@event.listens_for(Session, "after_flush")
def _mark_stale_candidacies(session: Session, _context: Any) -> None:
    patients, everyone = _patients_changed(session)
    connection = session.connection()
    if everyone:
        connection.execute(update(CandidacyCheck).values(holds_until=None))
    for statement in _stale_markers(connection.dialect.name, patients):
        connection.execute(statement)

"""Patients' histories as the candidacy rules see them: their procedures of the last two years
(here, and those done elsewhere with their relief), the outcomes recorded for those and the day
each patient was last cleared by a psychological evaluation, read in one query for one patient or
for many; and their SCS trials on record, with the results kept there, in a second."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Date,
    Integer,
    Row,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload

from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.db import UTCDateTime
from backoffice.core.extensions import db
from backoffice.devices.models import ScsTrial
from backoffice.devices.rules import TrialRecord
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import done_elsewhere
from backoffice.patients.models import Patient
from backoffice.practice.models import Office
from backoffice.procedures import candidacy_rules
from backoffice.procedures.candidacy_rules import DoneProcedure, RecordedOutcome
from backoffice.procedures.models import Outcome, PsychEvaluation
from backoffice.procedures.rules import ReliefUnit, relief_hours, relief_said
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Status

# Two years back covers the rolling 12 months, the longest repeat interval and the blocks that
# lead up to an ablation.
HISTORY_DAYS = 730

# Above this many patients, one read of everyone's history beats lists of ids in the queries.
MAX_LISTED_IDS = 500


@dataclass(frozen=True)
class Done:
    """A procedure with what the worklist needs besides the rules' view of it."""

    procedure: DoneProcedure
    patient_id: int
    procedure_type_id: int
    physician_id: int | None  # none for a procedure done elsewhere
    office_id: int | None
    levels_count: int | None


@dataclass(frozen=True)
class Trial:
    """An SCS trial on record (the row, which the patient's timeline shows too) and the rules'
    view of it."""

    on_record: ScsTrial
    record: TrialRecord


@dataclass
class Histories:
    """Patients' procedures of the last two years with the outcomes recorded for them in that
    time, the day each patient was last cleared by a psychological evaluation, and their SCS
    trials on record (the rules read those started in that time)."""

    since: date
    done: list[Done] = field(default_factory=list)
    outcomes: dict[int, list[RecordedOutcome]] = field(default_factory=dict)
    psych_cleared_on: dict[int, date] = field(default_factory=dict)
    trials: dict[int, list[Trial]] = field(default_factory=dict)
    # Of the patients with a procedure done elsewhere: where a candidacy resting only on those is
    # listed (none when the patient has no preference).
    preferred_office_id: dict[int, int | None] = field(default_factory=dict)

    def trials_read(self, patient_id: int) -> list[Trial]:
        """The trials the rules read: started in the last two years, as the procedures (an
        implant answers a trial only while both are read)."""
        return [trial for trial in self.trials.get(patient_id, []) if trial.record.started_on >= self.since]

    def trial_records(self, patient_id: int) -> list[TrialRecord]:
        return [trial.record for trial in self.trials_read(patient_id)]


def _cleared_on(patient_id: Any) -> Any:
    """The patient's last day cleared by a psychological evaluation."""
    return (select(func.max(PsychEvaluation.evaluated_on))
            .where(PsychEvaluation.patient_id == patient_id, PsychEvaluation.cleared.is_(True))
            .scalar_subquery().label("cleared_on"))


def _done_here(since: date, patient_ids: list[int] | None) -> Select[*tuple[Any, ...]]:
    """Appointments since `since`, each with its outcomes of that time (one row per outcome, one
    for an appointment without), and empty columns where a procedure done elsewhere has values."""
    query = (
        select(Appointment.id.label("id"), Appointment.patient_id, Appointment.procedure_type_id,
               Appointment.physician_id, Appointment.office_id, Appointment.starts_at.label("starts_at"),
               Appointment.region, Appointment.side,
               Appointment.levels, Appointment.levels_count, Appointment.status, ProcedureType.code,
               ProcedureType.kind, Office.timezone, _cleared_on(Appointment.patient_id), Outcome.recorded_on,
               Outcome.percent_relief, Outcome.relief_hours, Outcome.relief_ongoing, Outcome.decision,
               Outcome.relief_amount, Outcome.relief_unit, cast(null(), Date).label("performed_on"),
               cast(null(), String).label("facility"), cast(null(), String).label("performed_by"),
               Outcome.id.label("outcome_id"), cast(null(), Integer).label("preferred_office_id"))
        .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
        .join(Office, Appointment.office_id == Office.id)
        .outerjoin(Outcome, and_(Outcome.appointment_id == Appointment.id, Outcome.recorded_on >= since))
        .where(ProcedureType.kind != ProcedureKind.NONE,
               Appointment.starts_at >= datetime.combine(since, time(0), UTC),
               Appointment.status.in_(candidacy_rules.COUNTED)))
    return query if patient_ids is None else query.where(Appointment.patient_id.in_(patient_ids))


def _done_elsewhere(since: date, patient_ids: list[int] | None) -> Select[*tuple[Any, ...]]:
    """Procedures done elsewhere since `since`, with their relief and their patient's preferred
    office, in the columns of `_done_here`."""
    no_id, no_date, no_text = cast(null(), Integer), cast(null(), Date), cast(null(), String)
    query = (
        select(OutsideProcedure.id.label("id"), OutsideProcedure.patient_id, OutsideProcedure.procedure_type_id,
               no_id.label("physician_id"), no_id.label("office_id"), cast(null(), UTCDateTime).label("starts_at"),
               OutsideProcedure.region, OutsideProcedure.side, OutsideProcedure.levels, OutsideProcedure.levels_count,
               literal(Status.COMPLETED.value, String).label("status"), ProcedureType.code, ProcedureType.kind,
               no_text.label("timezone"), _cleared_on(OutsideProcedure.patient_id), no_date.label("recorded_on"),
               OutsideProcedure.percent_relief, no_id.label("relief_hours"), literal(False).label("relief_ongoing"),
               no_text.label("decision"), OutsideProcedure.relief_amount, OutsideProcedure.relief_unit,
               OutsideProcedure.performed_on, OutsideProcedure.facility, OutsideProcedure.performed_by,
               no_id.label("outcome_id"), Patient.preferred_office_id)
        .join(ProcedureType, OutsideProcedure.procedure_type_id == ProcedureType.id)
        .join(Patient, OutsideProcedure.patient_id == Patient.id)
        .where(ProcedureType.kind != ProcedureKind.NONE, OutsideProcedure.performed_on >= since))
    return query if patient_ids is None else query.where(OutsideProcedure.patient_id.in_(patient_ids))


def _history_query(today: date, patient_ids: list[int] | None) -> CompoundSelect:
    """Procedures since two years before `today`, here and elsewhere, in one statement: an
    appointment's rows in start order, one after the other (ordered by the labels both parts
    give their columns, which is all SQLite's compound select can order by)."""
    since = today - timedelta(days=HISTORY_DAYS)
    query = union_all(_done_here(since, patient_ids), _done_elsewhere(since, patient_ids))
    columns = query.selected_columns
    return query.order_by(columns.starts_at, columns.id, columns.outcome_id)


def _read_trials(patient_ids: list[int] | None, found: Histories) -> None:
    """The patients' SCS trials on record, each with its result and the procedure it is linked
    to, and the evaluation of a patient with a trial but no procedure in the history."""
    query = (select(ScsTrial, _cleared_on(ScsTrial.patient_id))
             .options(joinedload(ScsTrial.appointment).joinedload(Appointment.procedure_type))
             .order_by(ScsTrial.started_on, ScsTrial.id))
    if patient_ids is not None:
        query = query.where(ScsTrial.patient_id.in_(patient_ids))
    for trial, cleared_on in db.session.execute(query):
        done_here = trial.appointment
        record = TrialRecord(trial.id, trial.started_on, trial.appointment_id,
                             done_here.procedure_type.code if done_here else "SCS trial",
                             done_here.region if done_here else None, trial.ended_on, trial.pain_reduction_percent,
                             trial.analgesic_reduction_percent, trial.decision)
        found.trials.setdefault(trial.patient_id, []).append(Trial(trial, record))
        if cleared_on is not None:
            found.psych_cleared_on[trial.patient_id] = cleared_on


def histories(today: date, patient_ids: list[int] | None) -> Histories:
    """Two queries: an outcome only counts through its procedure, and an evaluation only matters
    to a patient with a trial, so both are read alongside the procedures (here and elsewhere),
    and the trials on record alongside the evaluations. Everyone's when `patient_ids` is None."""
    found = Histories(today - timedelta(days=HISTORY_DAYS))
    last_id = None
    for row in db.session.execute(_history_query(today, patient_ids)):
        if row.cleared_on is not None:
            found.psych_cleared_on[row.patient_id] = row.cleared_on
        if row.performed_on is not None:
            _add_done_elsewhere(found, row)
            continue
        if row.id != last_id:
            last_id = row.id
            found.done.append(Done(
                DoneProcedure(row.id, row.starts_at.astimezone(ZoneInfo(row.timezone)).date(), row.code,
                              row.kind, row.region, row.side, row.levels, row.status),
                row.patient_id, row.procedure_type_id, row.physician_id, row.office_id, row.levels_count))
        if row.recorded_on is not None:
            found.outcomes.setdefault(row.patient_id, []).append(RecordedOutcome(
                row.id, row.recorded_on, row.percent_relief, relief_hours=row.relief_hours,
                relief_ongoing=row.relief_ongoing, decision=row.decision,
                relief_as_entered=relief_said(row.relief_amount, row.relief_unit),
                relief_months=row.relief_amount if row.relief_unit is ReliefUnit.MONTHS else None))
    _read_trials(patient_ids, found)
    return found


def _add_done_elsewhere(found: Histories, row: Row[Any]) -> None:
    """A procedure done elsewhere, and its relief when known, as the rules read one done here: its
    relief as an outcome recorded on the day it was done (a later decision here speaks after it)."""
    key = -row.id  # apart from the appointments' ids, which key their outcomes too
    found.done.append(Done(
        DoneProcedure(key, row.performed_on, row.code, row.kind, row.region, row.side, row.levels, row.status,
                      outside=done_elsewhere(row.facility, row.performed_by)),
        row.patient_id, row.procedure_type_id, None, None, row.levels_count))
    found.preferred_office_id[row.patient_id] = row.preferred_office_id
    if row.percent_relief is not None:
        found.outcomes.setdefault(row.patient_id, []).append(RecordedOutcome(
            key, row.performed_on, row.percent_relief, relief_hours=relief_hours(row.relief_amount, row.relief_unit),
            relief_as_entered=relief_said(row.relief_amount, row.relief_unit),
            relief_months=row.relief_amount if row.relief_unit is ReliefUnit.MONTHS else None))


def histories_of(patient_ids: list[int], today: date) -> Histories:
    """The histories of these patients, however many they are."""
    if len(patient_ids) <= MAX_LISTED_IDS:
        return histories(today, patient_ids)
    found = histories(today, None)
    wanted = set(patient_ids)
    found.done = [done for done in found.done if done.patient_id in wanted]
    found.trials = {patient_id: trials for patient_id, trials in found.trials.items() if patient_id in wanted}
    return found

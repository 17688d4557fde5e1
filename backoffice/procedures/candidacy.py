"""Candidacy: a patient's history as the rules see it, the worklist of candidates, the clinical
rule settings and psychological evaluations. Reads run in a fixed number of queries whatever the
number of patients; each change is one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select

from backoffice.audit.actor import Actor
from backoffice.auth.roles import Role
from backoffice.db import get_one, transaction
from backoffice.editing import apply_edit, stamps
from backoffice.errors import FieldErrors, NotFound
from backoffice.extensions import db
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician
from backoffice.procedures import rules
from backoffice.procedures.models import ClinicalSettings, Outcome, ProcedureType, PsychEvaluation
from backoffice.procedures.rules import (
    Candidacy,
    CandidacyKind,
    DoneProcedure,
    Eligibility,
    ProcedureKind,
    RecordedOutcome,
    SessionLimit,
    Thresholds,
)
from backoffice.scheduling.models import Appointment

# Two years back covers the rolling 12 months, the longest repeat interval and the blocks that
# lead up to an ablation.
HISTORY_DAYS = 730
CLINICIANS = (Role.NURSE, Role.PHYSICIAN)


# Settings.

def load_thresholds() -> Thresholds:
    settings = db.session.get(ClinicalSettings, 1)
    return settings.thresholds() if settings else Thresholds()


def get_settings() -> ClinicalSettings:
    settings = db.session.get(ClinicalSettings, 1)
    if settings is None:  # a database the migration's row was deleted from
        settings = ClinicalSettings(id=1, **ClinicalSettings.columns(Thresholds()), version=0)
    return settings


def update_settings(thresholds: Thresholds, *, expected_version: int, by: Actor, now: datetime) -> ClinicalSettings:
    """Change the thresholds; the audit trail keeps each change with its before and after."""
    with transaction(db.session, by):
        settings = db.session.get(ClinicalSettings, 1, with_for_update=True, populate_existing=True)
        if settings is None:
            settings = ClinicalSettings(id=1, **ClinicalSettings.columns(thresholds), **stamps(by, now))
            db.session.add(settings)
            return settings
        apply_edit(db.session, settings, ClinicalSettings.columns(thresholds), expected_version=expected_version,
                   by=by, now=now, what="The clinical rule settings")
    return settings


def session_limits() -> dict[str, SessionLimit]:
    """Per frequency group, the strictest limits the catalog sets for its procedures."""
    limits: dict[str, SessionLimit] = {}
    query = select(ProcedureType).where(ProcedureType.frequency_group.is_not(None), ProcedureType.active.is_(True))
    for procedure in db.session.scalars(query.order_by(ProcedureType.id)):
        group = procedure.frequency_group or ""
        known = limits.get(group, SessionLimit())
        limits[group] = SessionLimit(
            max_per_year=min(filter(None, (known.max_per_year, procedure.max_per_year)), default=None),
            min_days_between=min(filter(None, (known.min_days_between, procedure.min_days_between)), default=None),
            interval_scope=known.interval_scope if known.min_days_between else procedure.interval_scope)
    return limits


# History as the rules see it.

@dataclass(frozen=True)
class Done:
    """A procedure with what the worklist needs besides the rules' view of it."""

    procedure: DoneProcedure
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    levels_count: int | None


def _since(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=HISTORY_DAYS), time(0), UTC)


def _history(today: date, *where: ColumnElement[bool]) -> list[Done]:
    query = (select(Appointment.id, Appointment.patient_id, Appointment.procedure_type_id, Appointment.physician_id,
                    Appointment.office_id, Appointment.starts_at, Appointment.region, Appointment.side,
                    Appointment.levels, Appointment.levels_count, Appointment.status, ProcedureType.code,
                    ProcedureType.kind, Office.timezone)
             .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
             .join(Office, Appointment.office_id == Office.id)
             .where(ProcedureType.kind != ProcedureKind.NONE.value, Appointment.starts_at >= _since(today),
                    Appointment.status.in_(rules.COUNTED), *where)
             .order_by(Appointment.starts_at))
    return [Done(DoneProcedure(row.id, row.starts_at.astimezone(ZoneInfo(row.timezone)).date(), row.code,
                               ProcedureKind(row.kind), row.region, row.side, row.levels, row.status),
                 row.patient_id, row.procedure_type_id, row.physician_id, row.office_id, row.levels_count)
            for row in db.session.execute(query)]


def _outcomes(today: date, *where: ColumnElement[bool]) -> dict[int, list[RecordedOutcome]]:
    query = (select(Outcome.patient_id, Outcome.appointment_id, Outcome.recorded_on, Outcome.percent_relief,
                    Outcome.relief_hours, Outcome.relief_ongoing, Outcome.decision, Outcome.relief_amount,
                    Outcome.relief_unit)
             .where(Outcome.recorded_on >= today - timedelta(days=HISTORY_DAYS), *where))
    found: dict[int, list[RecordedOutcome]] = defaultdict(list)
    for row in db.session.execute(query):
        found[row.patient_id].append(RecordedOutcome(
            row.appointment_id, row.recorded_on, row.percent_relief, row.relief_hours, row.relief_ongoing,
            row.decision, rules.relief_said(row.relief_amount, row.relief_unit)))
    return found


def _psych_cleared(*where: ColumnElement[bool]) -> dict[int, date]:
    query = (select(PsychEvaluation.patient_id, func.max(PsychEvaluation.evaluated_on))
             .where(PsychEvaluation.cleared.is_(True), *where).group_by(PsychEvaluation.patient_id))
    return {patient_id: day for patient_id, day in db.session.execute(query)}


def candidacies_for_patient(patient_id: int, *, today: date,
                            evaluations: list[PsychEvaluation] | None = None) -> list[Candidacy]:
    """What the rules say about one patient today (five queries; four when the caller has read
    the patient's psychological evaluations already)."""
    history = _history(today, Appointment.patient_id == patient_id)
    outcomes = _outcomes(today, Outcome.patient_id == patient_id)
    if evaluations is None:
        cleared_on = _psych_cleared(PsychEvaluation.patient_id == patient_id).get(patient_id)
    else:
        cleared_on = max((e.evaluated_on for e in evaluations if e.cleared), default=None)
    return rules.assess([done.procedure for done in history], outcomes.get(patient_id, []),
                        thresholds=load_thresholds(), limits=session_limits(), today=today,
                        psych_cleared_on=cleared_on)


def booking_refusal(patient_id: int, kind: ProcedureKind, *, region: str | None, side: str | None,
                    day: date, today: date) -> str | None:
    """Why the candidacy rules say this booking should wait (a physician may override)."""
    if kind in (ProcedureKind.NONE, ProcedureKind.DIAGNOSTIC_FACET, ProcedureKind.SCS_TRIAL):
        return None
    return rules.booking_refusal(candidacies_for_patient(patient_id, today=today), kind=kind, region=region,
                                 side=side, day=day)


# The worklist.

class Section(StrEnum):
    RFA = "rfa"
    CONFIRMATORY = "confirmatory"
    REPEAT = "repeat"
    SCS = "scs"

    @property
    def label(self) -> str:
        return {"rfa": "Rhizotomy (RFA) candidates", "confirmatory": "Needs a confirmatory block",
                "repeat": "Repeat procedure eligible now or soon", "scs": "SCS trials awaiting a decision"}[self.value]


SECTION_OF = {CandidacyKind.RFA_CANDIDATE: Section.RFA, CandidacyKind.CONFIRMATORY_BLOCK: Section.CONFIRMATORY,
              CandidacyKind.REPEAT_RFA: Section.REPEAT, CandidacyKind.REPEAT_EPIDURAL: Section.REPEAT,
              CandidacyKind.REPEAT_FACET: Section.REPEAT, CandidacyKind.SCS_AWAITING_DECISION: Section.SCS,
              CandidacyKind.SCS_IMPLANT: Section.SCS}


@dataclass(frozen=True)
class ScheduleLink:
    """What next-available opens with: the procedure, physician, patient, place and first day."""

    procedure_type_id: int
    physician_id: int
    patient_mrn: str
    region: str | None
    side: str | None
    levels: str | None
    levels_count: int | None
    earliest: date | None

    def query(self) -> dict[str, str]:
        values = {"procedure_type_id": str(self.procedure_type_id), "physician_id": str(self.physician_id),
                  "patient": self.patient_mrn, "region": self.region or "", "side": self.side or "",
                  "levels": self.levels or "", "levels_count": str(self.levels_count or ""),
                  "earliest": self.earliest.isoformat() if self.earliest else ""}
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class CandidateRow:
    candidacy: Candidacy
    patient: Patient
    physician: Physician
    office: Office
    last_procedure: Done
    schedule: ScheduleLink | None


@dataclass
class CandidateList:
    sections: dict[Section, list[CandidateRow]] = field(default_factory=dict)
    counts: dict[Section, int] = field(default_factory=dict)
    limit: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)


def _is_listed(candidacy: Candidacy, horizon: date) -> bool:
    if candidacy.kind in (CandidacyKind.SCS_AWAITING_DECISION, CandidacyKind.SCS_IMPLANT):
        return candidacy.eligibility is not Eligibility.NOT_ELIGIBLE
    return candidacy.is_eligible_on(horizon)


def _anchor(candidacy: Candidacy, done_by_id: dict[int, Done]) -> Done | None:
    """The latest procedure the candidacy rests on: its physician and office own the row."""
    cited = [done_by_id[e.appointment_id] for e in candidacy.evidence
             if e.appointment_id is not None and e.appointment_id in done_by_id]
    return max(cited, key=lambda d: d.procedure.day, default=None)


def _to_book(candidacy: Candidacy, anchor: Done, types: Iterable[ProcedureType]) -> int | None:
    """The procedure to book: the same as last time when it is of the kind wanted (a repeat
    transforaminal epidural stays transforaminal), else the catalog's first of that kind."""
    of_kind = [t.id for t in types if t.kind == candidacy.kind.schedules.value and t.active]
    same = [type_id for type_id in of_kind if type_id == anchor.procedure_type_id]
    return next(iter(same or of_kind), None)


def candidate_worklist(*, office_id: int | None, physician_id: int | None, horizon_days: int | None,
                       today: date, limit: int, by: Actor) -> CandidateList:
    """Patients the rules make candidates of, by section, with their evidence and a way to book."""
    if not by.has_any_role(*CLINICIANS):
        return CandidateList()
    thresholds = load_thresholds()
    horizon = today + timedelta(days=thresholds.soon_days if horizon_days is None else horizon_days)
    history = _history(today)
    outcomes = _outcomes(today)
    psych = _psych_cleared()
    limits = session_limits()
    by_patient: dict[int, list[Done]] = defaultdict(list)
    for done in history:
        by_patient[done.patient_id].append(done)
    found: list[tuple[Candidacy, Done]] = []
    for patient_id, done_list in by_patient.items():
        done_by_id = {d.procedure.appointment_id: d for d in done_list}
        for candidacy in rules.assess([d.procedure for d in done_list], outcomes.get(patient_id, []),
                                      thresholds=thresholds, limits=limits, today=today,
                                      psych_cleared_on=psych.get(patient_id)):
            anchor = _anchor(candidacy, done_by_id)
            if anchor is None or not _is_listed(candidacy, horizon):
                continue
            if (office_id is not None and anchor.office_id != office_id) or (
                    physician_id is not None and anchor.physician_id != physician_id):
                continue
            found.append((candidacy, anchor))
    return _rows(found, today=today, limit=limit, thresholds=thresholds)


def _order(item: tuple[Candidacy, Done], today: date) -> tuple[date, date]:
    candidacy, anchor = item
    return (candidacy.eligible_from or today, anchor.procedure.day)


def _rows(found: list[tuple[Candidacy, Done]], *, today: date, limit: int, thresholds: Thresholds) -> CandidateList:
    grouped: dict[Section, list[tuple[Candidacy, Done]]] = {section: [] for section in Section}
    for item in found:
        grouped[SECTION_OF[item[0].kind]].append(item)
    shown = {section: sorted(items, key=lambda item: _order(item, today))[:limit] for section, items in grouped.items()}
    patient_ids = {anchor.patient_id for items in shown.values() for _, anchor in items}
    patients = {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(patient_ids)))} \
        if patient_ids else {}
    physicians = {p.id: p for p in db.session.scalars(select(Physician))}
    offices = {o.id: o for o in db.session.scalars(select(Office))}
    types = list(db.session.scalars(select(ProcedureType).order_by(ProcedureType.id)))
    result = CandidateList(counts={section: len(items) for section, items in grouped.items()}, limit=limit,
                           thresholds=thresholds)
    for section, items in shown.items():
        result.sections[section] = []
        for candidacy, anchor in items:
            patient = patients[anchor.patient_id]
            to_book = _to_book(candidacy, anchor, types)
            schedule = None if to_book is None else ScheduleLink(
                to_book, anchor.physician_id, patient.mrn, candidacy.region, candidacy.side or anchor.procedure.side,
                anchor.procedure.levels, anchor.levels_count, candidacy.eligible_from if candidacy.eligible_from
                and candidacy.eligible_from > today else None)
            result.sections[section].append(CandidateRow(candidacy, patient, physicians[anchor.physician_id],
                                                         offices[anchor.office_id], anchor, schedule))
    return result


# Psychological evaluations.

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
    if not by.has_any_role(*CLINICIANS):
        raise NotFound("patient", patient_id)
    if entry.evaluated_on > today:
        raise FieldErrors({"evaluated_on": "The evaluation cannot be in the future."})
    with transaction(db.session, by):
        get_one(db.session, Patient, patient_id, entity="patient")
        evaluation = PsychEvaluation(patient_id=patient_id, evaluated_on=entry.evaluated_on, cleared=entry.cleared,
                                     evaluator=entry.evaluator, notes=entry.notes, recorded_by_id=by.user_id,
                                     **stamps(by, now))
        db.session.add(evaluation)
    return evaluation

"""Candidacy: a patient's history as the rules see it, the worklist of candidates, the clinical
rule settings and psychological evaluations. Reads run in a fixed number of queries whatever the
number of patients; each change is one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, delete, event, func, insert, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, load_only
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql import Subquery

from backoffice.audit.actor import Actor
from backoffice.auth.roles import Role
from backoffice.db import get_one, transaction
from backoffice.editing import apply_edit, stamps
from backoffice.errors import FieldErrors, NotFound
from backoffice.extensions import db
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician
from backoffice.procedures import rules
from backoffice.procedures.models import (
    CandidacyCheck,
    ClinicalSettings,
    Outcome,
    ProcedureType,
    PsychEvaluation,
    StoredCandidacy,
)
from backoffice.procedures.rules import (
    Candidacy,
    CandidacyKind,
    DoneProcedure,
    Eligibility,
    Evidence,
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
    anchor_appointment_id: int  # the latest procedure the candidacy rests on
    levels: str | None          # its levels
    schedule: ScheduleLink | None


@dataclass
class CandidateList:
    sections: dict[Section, list[CandidateRow]] = field(default_factory=dict)
    counts: dict[Section, int] = field(default_factory=dict)
    limit: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)
    offsets: dict[Section, int] = field(default_factory=dict)  # the rows skipped in each section (its pages)


def _may_be_listed(candidacy: Candidacy) -> bool:
    """Listed on some horizon: awaiting and not eligible are shown for SCS trials only."""
    if SECTION_OF[candidacy.kind] is Section.SCS:
        return candidacy.eligibility is not Eligibility.NOT_ELIGIBLE
    return candidacy.eligibility in (Eligibility.ELIGIBLE, Eligibility.ELIGIBLE_FROM)


def _anchor(candidacy: Candidacy, done_by_id: dict[int, Done]) -> Done | None:
    """The latest procedure the candidacy rests on: its physician and office own the row."""
    cited = [done_by_id[e.appointment_id] for e in candidacy.evidence
             if e.appointment_id is not None and e.appointment_id in done_by_id]
    return max(cited, key=lambda d: d.procedure.day, default=None)


def _to_book(candidacy: Candidacy, last_type_id: int, of_kind: dict[str, list[int]]) -> int | None:
    """The procedure to book: the same as last time when it is of the kind wanted (a repeat
    transforaminal epidural stays transforaminal), else the catalog's first of that kind."""
    bookable = of_kind.get(candidacy.kind.schedules.value, [])
    return last_type_id if last_type_id in bookable else next(iter(bookable), None)


# Stored candidacies. Working out every patient of the last two years on each visit to the list
# grows with the practice; instead each patient's listable candidacies are kept with the first
# day they may change (`rules.assessment_holds_until`), and worked out again from that day or as
# soon as one of their records changes.

def _is_stale(today: date) -> ColumnElement[bool]:
    return or_(CandidacyCheck.holds_until.is_(None), CandidacyCheck.holds_until <= today,
               CandidacyCheck.assessed_on > today)


def _stored_row(patient_id: int, candidacy: Candidacy, anchor: Done) -> dict[str, Any]:
    return {"patient_id": patient_id, "section": SECTION_OF[candidacy.kind].value, "kind": candidacy.kind.value,
            "region": candidacy.region, "side": candidacy.side, "eligibility": candidacy.eligibility.value,
            "eligible_from": candidacy.eligible_from, "rule": candidacy.rule,
            "evidence": [[e.text, e.appointment_id] for e in candidacy.evidence],
            "anchor_appointment_id": anchor.procedure.appointment_id, "anchor_day": anchor.procedure.day,
            "anchor_procedure_type_id": anchor.procedure_type_id, "anchor_side": anchor.procedure.side,
            "anchor_levels": anchor.procedure.levels, "anchor_levels_count": anchor.levels_count,
            "physician_id": anchor.physician_id, "office_id": anchor.office_id}


def _as_candidacy(stored: Row[Any]) -> Candidacy:
    return Candidacy(CandidacyKind(stored.kind), stored.region, stored.side, Eligibility(stored.eligibility),
                     tuple(Evidence(text, appointment_id) for text, appointment_id in stored.evidence), stored.rule,
                     stored.eligible_from)


# Above this many patients, one read of everyone's history beats lists of ids in the queries.
MAX_LISTED_IDS = 500


def _histories_of(patient_ids: list[int], today: date) -> tuple[list[Done], dict[int, list[RecordedOutcome]],
                                                                 dict[int, date]]:
    if len(patient_ids) > MAX_LISTED_IDS:
        wanted = set(patient_ids)
        return [done for done in _history(today) if done.patient_id in wanted], _outcomes(today), _psych_cleared()
    return (_history(today, Appointment.patient_id.in_(patient_ids)),
            _outcomes(today, Outcome.patient_id.in_(patient_ids)),
            _psych_cleared(PsychEvaluation.patient_id.in_(patient_ids)))


def _reassess(patient_ids: list[int], today: date) -> None:
    history, outcomes, psych = _histories_of(patient_ids, today)
    thresholds, limits = load_thresholds(), session_limits()
    by_patient: dict[int, list[Done]] = defaultdict(list)
    for done in history:
        by_patient[done.patient_id].append(done)
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for patient_id in patient_ids:
        done_list = by_patient.get(patient_id, [])
        done_by_id = {d.procedure.appointment_id: d for d in done_list}
        procedures = [d.procedure for d in done_list]
        found = rules.assess(procedures, outcomes.get(patient_id, []), thresholds=thresholds, limits=limits,
                             today=today, psych_cleared_on=psych.get(patient_id))
        for candidacy in filter(_may_be_listed, found):
            if (anchor := _anchor(candidacy, done_by_id)) is not None:
                rows.append(_stored_row(patient_id, candidacy, anchor))
        checks.append({"patient_id": patient_id, "assessed_on": today, "holds_until": rules.assessment_holds_until(
            procedures, found, thresholds=thresholds, today=today, history_days=HISTORY_DAYS)})
    for start in range(0, len(patient_ids), MAX_LISTED_IDS):
        chunk = patient_ids[start:start + MAX_LISTED_IDS]
        db.session.execute(delete(StoredCandidacy).where(StoredCandidacy.patient_id.in_(chunk)))
    if rows:
        db.session.execute(insert(StoredCandidacy), rows)
    db.session.execute(update(CandidacyCheck), checks)


def reassess_stale_candidacies(*, today: date, by: Actor | None = None) -> int:
    """Work out again the patients whose stored candidacies may not hold on `today`; how many.

    The check rows are locked first, so a booking or an outcome recorded meanwhile either waits
    for this to commit and marks its patient again, or holds the row and is left for next time."""
    stale = select(CandidacyCheck.patient_id).where(_is_stale(today))
    if db.session.scalar(stale.limit(1)) is None:
        return 0
    with transaction(db.session, by):
        # A row another transaction is marking stays stale for the next visit: waiting for it
        # could deadlock with a change that marks everyone.
        patient_ids = list(db.session.scalars(stale.order_by(CandidacyCheck.patient_id)
                                              .with_for_update(skip_locked=True)))
        _reassess(patient_ids, today)
    return len(patient_ids)


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


def candidate_worklist(*, office_id: int | None, physician_id: int | None, horizon_days: int | None,
                       today: date, limit: int, by: Actor, offsets: dict[Section, int] | None = None) -> CandidateList:
    """Patients the rules make candidates of, by section, with their evidence and a way to book;
    `limit` rows per section from its offset."""
    if not by.has_any_role(*CLINICIANS):
        return CandidateList()
    reassess_stale_candidacies(today=today, by=by)
    thresholds = load_thresholds()
    horizon = today + timedelta(days=thresholds.soon_days if horizon_days is None else horizon_days)
    listed = [or_(StoredCandidacy.section == Section.SCS.value, StoredCandidacy.eligible_from.is_(None),
                  StoredCandidacy.eligible_from <= horizon)]
    if office_id is not None:
        listed.append(StoredCandidacy.office_id == office_id)
    if physician_id is not None:
        listed.append(StoredCandidacy.physician_id == physician_id)
    offsets = {section: max(0, (offsets or {}).get(section, 0)) for section in Section}
    pages = union_all(*(select(_page(section, listed, offset, limit))
                        for section, offset in offsets.items())).subquery()
    query = (select(*StoredCandidacy.__table__.columns, pages.c.total, Patient, Physician, Office)
             .join(pages, pages.c.id == StoredCandidacy.id)
             .join(Patient, Patient.id == StoredCandidacy.patient_id)
             .join(Physician, Physician.id == StoredCandidacy.physician_id)
             .join(Office, Office.id == StoredCandidacy.office_id)
             .options(load_only(Patient.id, Patient.mrn, Patient.first_name, Patient.last_name, Patient.phone),
                      load_only(Physician.id, Physician.first_name, Physician.last_name),
                      load_only(Office.id, Office.name)))
    rows = cast(Sequence[Row[Any]], db.session.execute(query).all())
    found = sorted(rows, key=lambda row: (row.eligible_from or date.min, row.anchor_day, row.id))
    counts = dict.fromkeys(Section, 0)
    shown = {row.section for row in found}
    if any(offset and section.value not in shown for section, offset in offsets.items()):
        counts.update(_counts(listed))  # a page past the end: the count still shows
    result = CandidateList(sections={section: [] for section in Section}, counts=counts, limit=limit,
                           thresholds=thresholds, offsets=offsets)
    return _rows(found, result, today=today)


# Eligible now first (no date), then by the day they become eligible, then the oldest procedure:
# the order of the section's index on SQLite (PostgreSQL sorts the section's listed rows, which
# the count reads anyway).
LIST_ORDER = (StoredCandidacy.eligible_from.asc().nulls_first(), StoredCandidacy.anchor_day, StoredCandidacy.id)


def _page(section: Section, listed: list[ColumnElement[bool]], offset: int, limit: int) -> Subquery:
    return (select(StoredCandidacy.id, func.count().over().label("total"))
            .where(StoredCandidacy.section == section.value, *listed)
            .order_by(*LIST_ORDER).offset(offset).limit(limit).subquery())


def _counts(listed: list[ColumnElement[bool]]) -> dict[Section, int]:
    query = select(StoredCandidacy.section, func.count()).where(*listed).group_by(StoredCandidacy.section)
    return {Section(section): count for section, count in db.session.execute(query)}


def _rows(found: list[Row[Any]], result: CandidateList, *, today: date) -> CandidateList:
    if not found:
        return result
    of_kind: dict[str, list[int]] = defaultdict(list)
    for type_id, kind in db.session.execute(select(ProcedureType.id, ProcedureType.kind)
                                            .where(ProcedureType.active.is_(True)).order_by(ProcedureType.id)):
        of_kind[kind].append(type_id)
    for row in found:
        candidacy = _as_candidacy(row)
        section = Section(row.section)
        result.counts[section] = row.total
        to_book = _to_book(candidacy, row.anchor_procedure_type_id, of_kind)
        schedule = None if to_book is None else ScheduleLink(
            to_book, row.physician_id, row.Patient.mrn, candidacy.region, candidacy.side or row.anchor_side,
            row.anchor_levels, row.anchor_levels_count, candidacy.eligible_from if candidacy.eligible_from
            and candidacy.eligible_from > today else None)
        result.sections[section].append(CandidateRow(candidacy, row.Patient, row.Physician, row.Office,
                                                     row.anchor_appointment_id, row.anchor_levels, schedule))
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

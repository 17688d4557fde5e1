"""Candidacy: a patient's history as the rules see it, the worklist of candidates, the clinical
rule settings and psychological evaluations. Reads run in a fixed number of queries whatever the
number of patients; each change is one transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Executable,
    Select,
    and_,
    bindparam,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql import Subquery

from backoffice.audit.readings import record_reading
from backoffice.auth.editing import apply_edit, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.core.phones import format_phone
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician
from backoffice.practice.rules import physician_short_name
from backoffice.procedures import candidacy_rules
from backoffice.procedures.candidacy_rules import (
    Candidacy,
    CandidacyKind,
    DoneProcedure,
    Eligibility,
    Evidence,
    RecordedOutcome,
    SessionLimit,
    Thresholds,
)
from backoffice.procedures.models import (
    CandidacyCheck,
    ClinicalSettings,
    Outcome,
    PsychEvaluation,
    StoredCandidacy,
)
from backoffice.procedures.rules import relief_said
from backoffice.scheduling.models import Appointment

# Two years back covers the rolling 12 months, the longest repeat interval and the blocks that
# lead up to an ablation.
HISTORY_DAYS = 730


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


@dataclass(frozen=True)
class RuleCatalog:
    """What the rules and the worklist read from the procedure catalog's active procedures."""

    limits: dict[str, SessionLimit]  # per frequency group, the strictest its procedures set
    bookable: dict[str, list[int]]   # procedure type ids by kind, in catalog order


def rule_catalog() -> RuleCatalog:
    limits: dict[str, SessionLimit] = {}
    bookable: dict[str, list[int]] = defaultdict(list)
    query = (select(ProcedureType.id, ProcedureType.kind, ProcedureType.frequency_group, ProcedureType.max_per_year,
                    ProcedureType.min_days_between, ProcedureType.interval_scope)
             .where(ProcedureType.active.is_(True)).order_by(ProcedureType.id))
    for type_id, kind, group, max_per_year, min_days_between, interval_scope in db.session.execute(query):
        bookable[kind].append(type_id)
        if group is None:
            continue
        known = limits.get(group, SessionLimit())
        limits[group] = SessionLimit(
            max_per_year=min(filter(None, (known.max_per_year, max_per_year)), default=None),
            min_days_between=min(filter(None, (known.min_days_between, min_days_between)), default=None),
            interval_scope=known.interval_scope if known.min_days_between else interval_scope)
    return RuleCatalog(limits, dict(bookable))


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


@dataclass
class Histories:
    """Patients' procedures of the last two years with the outcomes recorded for them in that
    time, and the day each patient was last cleared by a psychological evaluation."""

    done: list[Done] = field(default_factory=list)
    outcomes: dict[int, list[RecordedOutcome]] = field(default_factory=dict)
    psych_cleared_on: dict[int, date] = field(default_factory=dict)


@cache
def _history_query(of_listed_patients: bool) -> Select[*tuple[Any, ...]]:
    """Built once per shape, with the days and patients as parameters: building a statement this
    size takes as long as running it for a patient or two."""
    cleared_on = (select(func.max(PsychEvaluation.evaluated_on))
                  .where(PsychEvaluation.patient_id == Appointment.patient_id, PsychEvaluation.cleared.is_(True))
                  .scalar_subquery().label("cleared_on"))
    query: Select[*tuple[Any, ...]] = (
        select(Appointment.id, Appointment.patient_id, Appointment.procedure_type_id, Appointment.physician_id,
               Appointment.office_id, Appointment.starts_at, Appointment.region, Appointment.side,
               Appointment.levels, Appointment.levels_count, Appointment.status, ProcedureType.code,
               ProcedureType.kind, Office.timezone, cleared_on, Outcome.recorded_on, Outcome.percent_relief,
               Outcome.relief_hours, Outcome.relief_ongoing, Outcome.decision, Outcome.relief_amount,
               Outcome.relief_unit)
        .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
        .join(Office, Appointment.office_id == Office.id)
        .outerjoin(Outcome, and_(Outcome.appointment_id == Appointment.id,
                                 Outcome.recorded_on >= bindparam("outcomes_since", type_=Date)))
        .where(ProcedureType.kind != ProcedureKind.NONE.value,
               Appointment.starts_at >= bindparam("since", type_=Appointment.starts_at.type),
               Appointment.status.in_(candidacy_rules.COUNTED))
        .order_by(Appointment.starts_at, Appointment.id, Outcome.id)
    )
    if of_listed_patients:
        query = query.where(Appointment.patient_id.in_(bindparam("patient_ids", expanding=True)))
    return query


def _histories(today: date, patient_ids: list[int] | None) -> Histories:
    """One query: an outcome only counts through its procedure, and an evaluation only matters
    to a patient with a trial, so both are read alongside the procedures. Everyone's when
    `patient_ids` is None."""
    parameters: dict[str, Any] = {"since": _since(today), "outcomes_since": today - timedelta(days=HISTORY_DAYS)}
    if patient_ids is not None:
        parameters["patient_ids"] = patient_ids
    found = Histories()
    last_id = None
    for row in db.session.execute(_history_query(patient_ids is not None), parameters):
        if row.id != last_id:
            last_id = row.id
            found.done.append(Done(
                DoneProcedure(row.id, row.starts_at.astimezone(ZoneInfo(row.timezone)).date(), row.code,
                              ProcedureKind(row.kind), row.region, row.side, row.levels, row.status),
                row.patient_id, row.procedure_type_id, row.physician_id, row.office_id, row.levels_count))
            if row.cleared_on is not None:
                found.psych_cleared_on[row.patient_id] = row.cleared_on
        if row.recorded_on is not None:
            found.outcomes.setdefault(row.patient_id, []).append(RecordedOutcome(
                row.id, row.recorded_on, row.percent_relief, row.relief_hours, row.relief_ongoing, row.decision,
                relief_said(row.relief_amount, row.relief_unit)))
    return found


def candidacies_for_patient(patient_id: int, *, today: date, leaving_out: int | None = None) -> list[Candidacy]:
    """What the rules say about one patient today (three queries), as if appointment `leaving_out`
    (one being moved) were not booked."""
    history = _histories(today, [patient_id])
    procedures = [done.procedure for done in history.done if done.procedure.appointment_id != leaving_out]
    return candidacy_rules.assess(procedures, history.outcomes.get(patient_id, []),
                        thresholds=load_thresholds(), limits=rule_catalog().limits, today=today,
                        psych_cleared_on=history.psych_cleared_on.get(patient_id))


def booking_refusal(patient_id: int, kind: ProcedureKind, *, region: str | None, side: str | None,
                    day: date, today: date) -> str | None:
    """Why the candidacy rules say this booking should wait (a physician may override)."""
    if kind in (ProcedureKind.NONE, ProcedureKind.DIAGNOSTIC_FACET, ProcedureKind.SCS_TRIAL):
        return None
    return candidacy_rules.booking_refusal(candidacies_for_patient(patient_id, today=today), kind=kind, region=region,
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


PLAIN_QUERY_VALUE = re.compile(r"[A-Za-z0-9_.-]*")


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

    @property
    def query_string(self) -> str:
        # A list shows a hundred of these (a property: a template calls a method at a cost):
        # values that need no quoting (ids, dates, most MRNs) skip urlencode's quoting.
        return "&".join(f"{key}={value}" if PLAIN_QUERY_VALUE.fullmatch(value) else urlencode({key: value})
                        for key, value in self.query().items())


@dataclass(slots=True)
class CandidateRow:
    """A candidacy as the list shows it, with plain values of its patient, physician and office."""

    candidacy: Candidacy
    patient_id: int
    patient_name: str  # "Last, First"
    mrn: str
    phone: str  # formatted; empty when none is on record
    physician: str  # "Dr. Reyes"
    office: str
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
# day they may change (`candidacy_rules.assessment_holds_until`), and worked out again from that day or as
# soon as one of their records changes.

def _is_stale(today: date) -> ColumnElement[bool]:
    return or_(CandidacyCheck.holds_until.is_(None), CandidacyCheck.holds_until <= today,
               CandidacyCheck.assessed_on > today)


def _stored_row(patient_id: int, candidacy: Candidacy, anchor: Done, catalog: RuleCatalog) -> dict[str, Any]:
    return {"patient_id": patient_id, "section": SECTION_OF[candidacy.kind].value, "kind": candidacy.kind.value,
            "region": candidacy.region, "side": candidacy.side, "eligibility": candidacy.eligibility.value,
            "eligible_from": candidacy.eligible_from, "rule": candidacy.rule,
            "evidence": [[e.text, e.appointment_id] for e in candidacy.evidence],
            "anchor_appointment_id": anchor.procedure.appointment_id, "anchor_day": anchor.procedure.day,
            "schedule_procedure_type_id": _to_book(candidacy, anchor.procedure_type_id, catalog.bookable),
            "anchor_side": anchor.procedure.side,
            "anchor_levels": anchor.procedure.levels, "anchor_levels_count": anchor.levels_count,
            "physician_id": anchor.physician_id, "office_id": anchor.office_id}


# Above this many patients, one read of everyone's history beats lists of ids in the queries.
MAX_LISTED_IDS = 500


def _histories_of(patient_ids: list[int], today: date) -> Histories:
    if len(patient_ids) <= MAX_LISTED_IDS:
        return _histories(today, patient_ids)
    found = _histories(today, None)
    wanted = set(patient_ids)
    found.done = [done for done in found.done if done.patient_id in wanted]
    return found


def _reassess(patient_ids: list[int], today: date) -> Thresholds:
    """Store what the rules say about these patients today; the thresholds they applied."""
    history = _histories_of(patient_ids, today)
    thresholds, catalog = load_thresholds(), rule_catalog()
    by_patient: dict[int, list[Done]] = defaultdict(list)
    for done in history.done:
        by_patient[done.patient_id].append(done)
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for patient_id in patient_ids:
        done_list = by_patient.get(patient_id, [])
        done_by_id = {d.procedure.appointment_id: d for d in done_list}
        procedures = [d.procedure for d in done_list]
        found = candidacy_rules.assess(procedures, history.outcomes.get(patient_id, []), thresholds=thresholds,
                             limits=catalog.limits, today=today,
                             psych_cleared_on=history.psych_cleared_on.get(patient_id))
        for candidacy in filter(_may_be_listed, found):
            if (anchor := _anchor(candidacy, done_by_id)) is not None:
                rows.append(_stored_row(patient_id, candidacy, anchor, catalog))
        holds_until = candidacy_rules.assessment_holds_until(procedures, found, thresholds=thresholds, today=today,
                                                             history_days=HISTORY_DAYS)
        checks.append({"patient_id": patient_id, "assessed_on": today, "holds_until": holds_until})
    for start in range(0, len(patient_ids), MAX_LISTED_IDS):
        chunk = patient_ids[start:start + MAX_LISTED_IDS]
        db.session.execute(delete(StoredCandidacy).where(StoredCandidacy.patient_id.in_(chunk)))
    if rows:
        db.session.execute(insert(StoredCandidacy), rows)
    db.session.execute(update(CandidacyCheck), checks)
    return thresholds


@dataclass(frozen=True)
class Reassessed:
    patients: int
    thresholds: Thresholds | None  # those the rules applied; none when no one was stale


def reassess_stale_candidacies(*, today: date, by: Actor | None = None) -> Reassessed:
    """Work out again the patients whose stored candidacies may not hold on `today`.

    The check rows are locked first, so a booking or an outcome recorded meanwhile either waits
    for this to commit and marks its patient again, or holds the row and is left for next time."""
    stale = select(CandidacyCheck.patient_id).where(_is_stale(today))
    if db.session.scalar(stale.limit(1)) is None:
        return Reassessed(0, None)
    with transaction(db.session, by):
        # A row another transaction is marking stays stale for the next visit: waiting for it
        # could deadlock with a change that marks everyone. Never waiting, it needs no lock
        # order, and sorting in SQL would read every patient's row instead of the stale ones.
        patient_ids = sorted(db.session.scalars(stale.with_for_update(skip_locked=True)))
        thresholds = _reassess(patient_ids, today) if patient_ids else None
    return Reassessed(len(patient_ids), thresholds)


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
    if not by.can(Permission.REVIEW_CANDIDATES):
        return CandidateList()
    thresholds = reassess_stale_candidacies(today=today, by=by).thresholds or load_thresholds()
    horizon = today + timedelta(days=thresholds.soon_days if horizon_days is None else horizon_days)
    offsets = {section: max(0, (offsets or {}).get(section, 0)) for section in Section}
    parameters = {"horizon": horizon, "office_id": office_id, "physician_id": physician_id, "limit": limit,
                  **{f"{section.value}_offset": offset for section, offset in offsets.items()}}
    query = _list_query(office_id is not None, physician_id is not None)
    found = sorted(db.session.execute(query, parameters),
                   key=lambda row: (row.eligible_from or date.min, row.anchor_day, row.id))
    counts = dict.fromkeys(Section, 0)
    shown = {row.section for row in found}
    if any(offset and section.value not in shown for section, offset in offsets.items()):
        counts.update(_counts(office_id is not None, physician_id is not None, parameters))
    result = CandidateList(sections={section: [] for section in Section}, counts=counts, limit=limit,
                           thresholds=thresholds, offsets=offsets)
    listed = _rows(found, result, today=today)
    record_reading(by, "stored_candidacy", office_id=office_id, subject=f"candidates: {len(found)} listed")
    return listed


# Eligible now first (no date), then by the day they become eligible, then the oldest procedure:
# the order of the section's index on SQLite (PostgreSQL sorts the section's listed rows, which
# the count reads anyway).
LIST_ORDER = (StoredCandidacy.eligible_from.asc().nulls_first(), StoredCandidacy.anchor_day, StoredCandidacy.id)


def _listed(by_office: bool, by_physician: bool) -> list[ColumnElement[bool]]:
    """Shown on the horizon (SCS trials whatever their day), of the office and physician chosen."""
    listed = [or_(StoredCandidacy.section == Section.SCS.value, StoredCandidacy.eligible_from.is_(None),
                  StoredCandidacy.eligible_from <= bindparam("horizon", type_=Date))]
    if by_office:
        listed.append(StoredCandidacy.office_id == bindparam("office_id"))
    if by_physician:
        listed.append(StoredCandidacy.physician_id == bindparam("physician_id"))
    return listed


def _page(section: Section, listed: list[ColumnElement[bool]]) -> Subquery:
    """The ids of a section's page with the section's count. The count is a subquery of its own,
    not a window over the page's rows, which would read and sort the whole section instead of
    the page's rows in the index's order."""
    in_section = [StoredCandidacy.section == section.value, *listed]
    # Never correlated with the page's rows, even if a join is added to the page one day.
    total = select(func.count()).select_from(StoredCandidacy).where(*in_section).correlate(None).scalar_subquery()
    return (select(StoredCandidacy.id, total.label("total")).where(*in_section).order_by(*LIST_ORDER)
            .offset(bindparam(f"{section.value}_offset")).limit(bindparam("limit")).subquery())


@cache
def _list_query(by_office: bool, by_physician: bool) -> Select[*tuple[Any, ...]]:
    """Every section's page in one statement, built once per choice of filters (building it took
    as long as running it)."""
    listed = _listed(by_office, by_physician)
    pages = union_all(*(select(_page(section, listed)) for section in Section)).subquery()
    return (select(*LIST_COLUMNS, pages.c.total)
            .join(pages, pages.c.id == StoredCandidacy.id)
            .join(Patient, Patient.id == StoredCandidacy.patient_id)
            .join(Physician, Physician.id == StoredCandidacy.physician_id)
            .join(Office, Office.id == StoredCandidacy.office_id))


def _counts(by_office: bool, by_physician: bool, parameters: dict[str, Any]) -> dict[Section, int]:
    query = (select(StoredCandidacy.section, func.count()).where(*_listed(by_office, by_physician))
             .group_by(StoredCandidacy.section))
    return {Section(section): count for section, count in db.session.execute(query, parameters)}


# What a list row shows, in the order `_rows` unpacks it.
LIST_COLUMNS = (StoredCandidacy.id, StoredCandidacy.section, StoredCandidacy.kind, StoredCandidacy.region,
                StoredCandidacy.side, StoredCandidacy.eligibility, StoredCandidacy.evidence,
                StoredCandidacy.eligible_from, StoredCandidacy.rule, StoredCandidacy.patient_id, Patient.first_name,
                Patient.last_name, Patient.mrn, Patient.phone, StoredCandidacy.physician_id, Physician.last_name,
                Office.name, StoredCandidacy.anchor_appointment_id, StoredCandidacy.anchor_day,
                StoredCandidacy.anchor_side, StoredCandidacy.anchor_levels, StoredCandidacy.anchor_levels_count,
                StoredCandidacy.schedule_procedure_type_id)


def _rows(found: Sequence[Sequence[Any]], result: CandidateList, *, today: date) -> CandidateList:
    # Unpacked in the order selected: reading a row's values by name takes longer than the rest.
    for (_, section, kind, region, side, eligibility, evidence, eligible_from, rule, patient_id, first_name,
         last_name, mrn, phone, physician_id, physician, office, anchor_id, _, anchor_side, levels, levels_count,
         to_book, total) in found:
        candidacy = Candidacy(CandidacyKind(kind), region, side, Eligibility(eligibility),
                              tuple(Evidence(text, appointment_id) for text, appointment_id in evidence), rule,
                              eligible_from)
        section = Section(section)
        result.counts[section] = total
        schedule = None if to_book is None else ScheduleLink(
            to_book, physician_id, mrn, region, side or anchor_side, levels, levels_count,
            eligible_from if eligible_from and eligible_from > today else None)
        result.sections[section].append(CandidateRow(
            candidacy, patient_id, f"{last_name}, {first_name}", mrn, format_phone(phone),
            physician_short_name(physician), office, anchor_id, levels, schedule))
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
    return evaluation

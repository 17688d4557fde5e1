"""The clinical worklists' read model: the follow-ups due, the outcomes awaiting the physician's
decision and the candidates for a next procedure. Each list is in sections (or one), each section
a page of rows with its full count, read in a fixed number of queries whatever the practice's
size; showing a list adds the audit row saying who saw it.

Outcomes are recorded by `followups.py`, decisions by `decisions.py`; candidacies are worked out
and stored by `stored_candidacies.py`, which the candidates and decisions lists ask first to work
out the patients whose records changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql import Subquery

from backoffice.audit.readings import record_reading
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.practice.models import Physician
from backoffice.procedures import rules
from backoffice.procedures.candidacy_rules import Candidacy, Thresholds
from backoffice.procedures.clinical_settings import load_thresholds
from backoffice.procedures.models import FollowUp, Outcome, StoredCandidacy
from backoffice.procedures.rules import FollowUpStatus
from backoffice.procedures.stored_candidacies import Section, candidacy_of, reassess_stale_candidacies
from backoffice.scheduling.models import Appointment

# Follow-ups.

FOLLOW_UP_SECTIONS = ("overdue", "today", "upcoming")


@dataclass(frozen=True)
class FollowUpList:
    """Open follow-ups, with their patients, procedures, physicians and offices."""

    overdue: list[FollowUp]
    today: list[FollowUp]
    upcoming: list[FollowUp]
    counts: dict[str, int]
    limit: int
    offsets: dict[str, int] = field(default_factory=dict)  # the rows skipped in each list (its pages)


def _follow_ups_page(where: list[ColumnElement[bool]], *, offset: int, limit: int) -> list[FollowUp]:
    query = (select(FollowUp).where(*where)
             .options(joinedload(FollowUp.patient), joinedload(FollowUp.physician), joinedload(FollowUp.office),
                      joinedload(FollowUp.appointment).joinedload(Appointment.procedure_type))
             .order_by(FollowUp.due_at, FollowUp.id).offset(offset).limit(limit))
    return list(db.session.scalars(query))


def follow_up_worklist(*, office_id: int | None, physician_id: int | None, now: datetime, timezone: str,
                       upcoming_days: int, limit: int, by: Actor, offsets: dict[str, int] | None = None
                       ) -> FollowUpList:
    """Open follow-ups: overdue, due today and due in the next `upcoming_days` days, each list
    a page of `limit` rows from its offset, with the full counts. Four queries, whatever the
    practice's size."""
    offsets = offsets or {}
    if not by.can(Permission.RECORD_FOLLOW_UPS):
        return FollowUpList([], [], [], {"overdue": 0, "today": 0, "upcoming": 0}, limit, offsets)
    today_starts, tomorrow_starts, horizon = rules.day_bounds(now, timezone, upcoming_days)
    where = [FollowUp.status == FollowUpStatus.OPEN]
    if office_id is not None:
        where.append(FollowUp.office_id == office_id)
    if physician_id is not None:
        where.append(FollowUp.physician_id == physician_id)
    section = case((FollowUp.due_at < today_starts, "overdue"), (FollowUp.due_at < tomorrow_starts, "today"),
                   else_="upcoming")
    counted = db.session.execute(select(section, func.count()).where(*where, FollowUp.due_at < horizon)
                                 .group_by(section))
    counts = {"overdue": 0, "today": 0, "upcoming": 0} | {name: number for name, number in counted}

    def page(name: str, *between: ColumnElement[bool]) -> list[FollowUp]:
        return _follow_ups_page([*where, *between], offset=offsets.get(name, 0), limit=limit)

    worklist = FollowUpList(overdue=page("overdue", FollowUp.due_at < today_starts),
                            today=page("today", FollowUp.due_at >= today_starts, FollowUp.due_at < tomorrow_starts),
                            upcoming=page("upcoming", FollowUp.due_at >= tomorrow_starts, FollowUp.due_at < horizon),
                            counts=counts, limit=limit, offsets=offsets)
    listed = len(worklist.overdue) + len(worklist.today) + len(worklist.upcoming)
    record_reading(by, "follow_up", office_id=office_id, subject=f"follow-up worklist: {listed} listed")
    return worklist


# Outcomes awaiting the physician's decision.

# An outcome recorded longer ago than this leaves the list undecided: by then what comes next for
# the patient is on the candidates list.
DECISION_DAYS = 90


def _awaiting_decision(today: date) -> list[ColumnElement[bool]]:
    """An outcome awaits the physician's decision when it has none, was recorded in the last
    DECISION_DAYS days, and is its procedure's latest (the next-day call after the 6-hour diary:
    the diary is shown with it, not apart)."""
    later_follow_up, later_outcome = aliased(FollowUp), aliased(Outcome)
    followed_by_another = (exists().where(later_outcome.appointment_id == Outcome.appointment_id,
                                          later_outcome.follow_up_id == later_follow_up.id,
                                          later_follow_up.due_at > FollowUp.due_at)
                           .correlate(Outcome, FollowUp))
    return [Outcome.decision.is_(None), Outcome.recorded_on >= today - timedelta(days=DECISION_DAYS),
            ~followed_by_another]


def awaiting_decision_count(user_id: int, today: date) -> int:
    """How many outcomes await the decision of the physician who signs in as `user_id` (one
    query, for the menu)."""
    query = (select(func.count()).select_from(Outcome).join(FollowUp, Outcome.follow_up_id == FollowUp.id)
             .join(Physician, FollowUp.physician_id == Physician.id)
             .where(Physician.user_id == user_id, *_awaiting_decision(today)))
    return db.session.scalar(query) or 0


@dataclass(frozen=True)
class DecisionRow:
    """An outcome awaiting a decision, with its follow-up, procedure, patient, physician and
    office, the other outcomes of the same procedure, and the candidacies the candidates list
    shows for the patient in that region and side."""

    outcome: Outcome
    earlier: list[Outcome]
    candidacies: list[Candidacy]

    @property
    def follow_up(self) -> FollowUp:
        return self.outcome.follow_up


@dataclass(frozen=True)
class DecisionList:
    rows: list[DecisionRow] = field(default_factory=list)
    count: int = 0
    limit: int = 0
    offset: int = 0
    days: int = DECISION_DAYS


def _other_outcomes(page: list[Outcome]) -> dict[int, list[Outcome]]:
    """The other outcomes of the page's procedures, by procedure, in the order they fell due."""
    if not page:
        return {}
    query = (select(Outcome).join(Outcome.follow_up)
             .where(Outcome.appointment_id.in_({o.appointment_id for o in page}),
                    Outcome.id.not_in([o.id for o in page]))
             .options(joinedload(Outcome.follow_up)).order_by(FollowUp.due_at))
    found: dict[int, list[Outcome]] = {}
    for outcome in db.session.scalars(query):
        found.setdefault(outcome.appointment_id, []).append(outcome)
    return found


def _candidacies_there(page: list[Outcome]) -> dict[tuple[int, str | None, str | None], list[Candidacy]]:
    """The stored candidacies of the page's patients, by patient, region and side."""
    if not page:
        return {}
    query = (select(StoredCandidacy).where(StoredCandidacy.patient_id.in_({o.patient_id for o in page}))
             .order_by(StoredCandidacy.id))
    found: dict[tuple[int, str | None, str | None], list[Candidacy]] = {}
    for stored in db.session.scalars(query):
        found.setdefault((stored.patient_id, stored.region, stored.side), []).append(candidacy_of(stored))
    return found


def _there(found: dict[tuple[int, str | None, str | None], list[Candidacy]], outcome: Outcome) -> list[Candidacy]:
    procedure = outcome.follow_up.appointment
    return [*found.get((outcome.patient_id, procedure.region, procedure.side), []),
            *(found.get((outcome.patient_id, procedure.region, None), []) if procedure.side else [])]


def decision_worklist(*, office_id: int | None, physician_id: int | None, today: date, limit: int, offset: int,
                      by: Actor) -> DecisionList:
    """Outcomes awaiting the physician's decision, oldest first: a page of `limit` from `offset`
    with the full count, each with its evidence, in a fixed number of queries."""
    if not by.can(Permission.DECIDE_OUTCOMES):
        return DecisionList(limit=limit)
    reassess_stale_candidacies(today=today, by=by)
    where = _awaiting_decision(today)
    if office_id is not None:
        where.append(FollowUp.office_id == office_id)
    if physician_id is not None:
        where.append(FollowUp.physician_id == physician_id)
    awaiting = select(Outcome).join(FollowUp, Outcome.follow_up_id == FollowUp.id).where(*where)
    count = db.session.scalar(select(func.count()).select_from(awaiting.subquery())) or 0
    page = list(db.session.scalars(
        awaiting.options(joinedload(Outcome.recorded_by),
                         joinedload(Outcome.follow_up).joinedload(FollowUp.patient),
                         joinedload(Outcome.follow_up).joinedload(FollowUp.physician),
                         joinedload(Outcome.follow_up).joinedload(FollowUp.office),
                         joinedload(Outcome.follow_up).joinedload(FollowUp.appointment)
                         .joinedload(Appointment.procedure_type))
        .order_by(Outcome.recorded_on, Outcome.id).offset(offset).limit(limit)).unique())
    others, candidacies = _other_outcomes(page), _candidacies_there(page)
    rows = [DecisionRow(outcome, others.get(outcome.appointment_id, []), _there(candidacies, outcome))
            for outcome in page]
    record_reading(by, "outcome", office_id=office_id, subject=f"decisions awaited: {len(rows)} listed")
    return DecisionList(rows, count, limit, offset)


# Candidates.

@dataclass(frozen=True)
class ScheduleLink:
    """What next-available opens with: the procedure, physician, patient, place and first day;
    for a candidacy no physician here has yet, any physician, at the patient's preferred office
    (any office when they have none)."""

    procedure_type_id: int
    physician_id: int | None
    patient_mrn: str
    region: str | None
    side: str | None
    levels: str | None
    levels_count: int | None
    earliest: date | None
    office_id: int | None = None

    def query(self) -> dict[str, str]:
        values = {"procedure_type_id": str(self.procedure_type_id), "physician_id": str(self.physician_id or ""),
                  "office_id": str(self.office_id or ""), "patient": self.patient_mrn, "region": self.region or "",
                  "side": self.side or "", "levels": self.levels or "", "levels_count": str(self.levels_count or ""),
                  "earliest": self.earliest.isoformat() if self.earliest else ""}
        return {key: value for key, value in values.items() if value}

    @property
    def query_string(self) -> str:
        return urlencode(self.query())


def _schedule_link(stored: StoredCandidacy, today: date) -> ScheduleLink | None:
    """Booking what the candidacy calls for, from the day it is eligible (none when the catalog
    has no procedure of that kind)."""
    if stored.schedule_procedure_type_id is None:
        return None
    earliest = stored.eligible_from if stored.eligible_from and stored.eligible_from > today else None
    return ScheduleLink(stored.schedule_procedure_type_id, stored.physician_id, stored.patient.mrn, stored.region,
                        stored.side or stored.anchor_side, stored.anchor_levels, stored.anchor_levels_count, earliest,
                        office_id=stored.office_id if stored.physician_id is None else None)


@dataclass(frozen=True)
class CandidateRow:
    """A candidacy as the list shows it: the rules' candidacy, the row it is stored in (with its
    patient, physician and office; its anchor is the latest procedure it rests on) and what its
    Schedule button opens."""

    candidacy: Candidacy
    stored: StoredCandidacy
    schedule: ScheduleLink | None


@dataclass
class CandidateList:
    sections: dict[Section, list[CandidateRow]] = field(default_factory=dict)
    counts: dict[Section, int] = field(default_factory=dict)
    limit: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)
    offsets: dict[Section, int] = field(default_factory=dict)  # the rows skipped in each section (its pages)


# Eligible now first (no date), then by the day they become eligible, then the oldest procedure:
# the order of the section's index on SQLite (PostgreSQL sorts the section's listed rows, which
# the count reads anyway).
LIST_ORDER = (StoredCandidacy.eligible_from.asc().nulls_first(), StoredCandidacy.anchor_day, StoredCandidacy.id)


def _listed(horizon: date, office_id: int | None, physician_id: int | None) -> list[ColumnElement[bool]]:
    """Shown on the horizon (SCS trials whatever their day), of the office and physician chosen."""
    listed = [or_(StoredCandidacy.section == Section.SCS.value, StoredCandidacy.eligible_from.is_(None),
                  StoredCandidacy.eligible_from <= horizon)]
    if office_id is not None:
        listed.append(StoredCandidacy.office_id == office_id)
    if physician_id is not None:
        listed.append(StoredCandidacy.physician_id == physician_id)
    return listed


def _page(section: Section, listed: list[ColumnElement[bool]], *, offset: int, limit: int) -> Subquery:
    """The ids of a section's page with the section's count. The count is a subquery of its own,
    not a window over the page's rows, which would read and sort the whole section instead of
    the page's rows in the index's order."""
    in_section = [StoredCandidacy.section == section.value, *listed]
    # Never correlated with the page's rows, even if a join is added to the page one day.
    total = select(func.count()).select_from(StoredCandidacy).where(*in_section).correlate(None).scalar_subquery()
    return (select(StoredCandidacy.id, total.label("total")).where(*in_section).order_by(*LIST_ORDER)
            .offset(offset).limit(limit).subquery())


def _pages(listed: list[ColumnElement[bool]], offsets: dict[Section, int],
           limit: int) -> Select[tuple[StoredCandidacy, int]]:
    """Every section's page in one statement: the stored candidacies with their patients,
    physicians and offices, and their section's count."""
    pages = union_all(*(select(_page(section, listed, offset=offsets[section], limit=limit))
                        for section in Section)).subquery()
    return (select(StoredCandidacy, pages.c.total)
            .join(pages, pages.c.id == StoredCandidacy.id)
            .options(joinedload(StoredCandidacy.patient), joinedload(StoredCandidacy.physician),
                     joinedload(StoredCandidacy.office))
            .order_by(*LIST_ORDER))


def _counts(listed: list[ColumnElement[bool]]) -> dict[Section, int]:
    query = select(StoredCandidacy.section, func.count()).where(*listed).group_by(StoredCandidacy.section)
    return {Section(section): count for section, count in db.session.execute(query)}


def candidate_worklist(*, office_id: int | None, physician_id: int | None, horizon_days: int | None,
                       today: date, limit: int, by: Actor, offsets: dict[Section, int] | None = None) -> CandidateList:
    """Patients the rules make candidates of, by section, with their evidence and a way to book;
    `limit` rows per section from its offset."""
    if not by.can(Permission.REVIEW_CANDIDATES):
        return CandidateList()
    thresholds = reassess_stale_candidacies(today=today, by=by).thresholds or load_thresholds()
    horizon = today + timedelta(days=thresholds.soon_days if horizon_days is None else horizon_days)
    offsets = {section: max(0, (offsets or {}).get(section, 0)) for section in Section}
    listed = _listed(horizon, office_id, physician_id)
    found = db.session.execute(_pages(listed, offsets, limit)).all()
    counts = dict.fromkeys(Section, 0)
    # A section whose page is past its end shows no row to read its count from.
    shown = {row.StoredCandidacy.section for row in found}
    if any(offset and section.value not in shown for section, offset in offsets.items()):
        counts.update(_counts(listed))
    result = CandidateList(sections={section: [] for section in Section}, counts=counts, limit=limit,
                           thresholds=thresholds, offsets=offsets)
    for row in found:
        stored, section = row.StoredCandidacy, Section(row.StoredCandidacy.section)
        result.counts[section] = row.total
        result.sections[section].append(CandidateRow(candidacy_of(stored), stored, _schedule_link(stored, today)))
    record_reading(by, "stored_candidacy", office_id=office_id, subject=f"candidates: {len(found)} listed")
    return result

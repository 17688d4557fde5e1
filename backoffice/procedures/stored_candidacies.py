"""Stored candidacies: what the candidates list reads.

Working out every patient of the last two years on each visit to the list grows with the
practice; instead each patient's listable candidacies are kept with the first day they may change
(`candidacy_rules.assessment_holds_until`), and worked out again from that day or as soon as one
of their records changes (`staleness.py` marks them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select, update

from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.procedures import candidacy_rules
from backoffice.procedures.candidacy_rules import Candidacy, CandidacyKind, Eligibility, Evidence, Thresholds
from backoffice.procedures.clinical_settings import load_thresholds
from backoffice.procedures.histories import HISTORY_DAYS, MAX_LISTED_IDS, Done, Histories, Trial, histories_of
from backoffice.procedures.models import CandidacyCheck, StoredCandidacy
from backoffice.procedures.rule_catalog import RuleCatalog, rule_catalog


class Section(StrEnum):
    """The candidates list's sections; each stored candidacy is in one."""

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


def candidacy_of(stored: StoredCandidacy) -> Candidacy:
    """The rules' candidacy a row stores."""
    return Candidacy(CandidacyKind(stored.kind), stored.region, stored.side, Eligibility(stored.eligibility),
                     tuple(Evidence(text, appointment_id) for text, appointment_id in stored.evidence), stored.rule,
                     stored.eligible_from)


def _may_be_listed(candidacy: Candidacy) -> bool:
    """Listed on some horizon: awaiting and not eligible are shown for SCS trials only."""
    if SECTION_OF[candidacy.kind] is Section.SCS:
        return candidacy.eligibility is not Eligibility.NOT_ELIGIBLE
    return candidacy.eligibility in (Eligibility.ELIGIBLE, Eligibility.ELIGIBLE_FROM)


@dataclass(frozen=True)
class Anchor:
    """What a stored candidacy rests on: the latest procedure done here it cites, whose physician
    and office own the row; for one citing only procedures done elsewhere, the latest of those,
    with no physician yet, in the patient's preferred office (none when they have no preference);
    or, for a trial with no procedure done here, the trial on record."""

    appointment_id: int | None
    day: date
    procedure_type_id: int | None
    side: str | None
    levels: str | None
    levels_count: int | None
    physician_id: int | None
    office_id: int | None

    @classmethod
    def of_procedure(cls, done: Done, *, preferred_office_id: int | None = None) -> Anchor:
        """A procedure done here, or one done elsewhere (nobody here owns the row yet)."""
        here = done.procedure.outside is None
        return cls(done.procedure.appointment_id if here else None, done.procedure.day, done.procedure_type_id,
                   done.procedure.side, done.procedure.levels, done.levels_count, done.physician_id,
                   done.office_id if here else preferred_office_id)

    @classmethod
    def of_trial(cls, trial: Trial) -> Anchor:
        return cls(None, trial.record.started_on, None, None, None, None, trial.on_record.physician_id,
                   trial.on_record.office_id)


def _latest(cited: list[Done]) -> Done | None:
    return max(cited, key=lambda d: d.procedure.day, default=None)


def _anchor(candidacy: Candidacy, done_by_id: dict[int, Done], history: Histories, patient_id: int) -> Anchor | None:
    """The latest procedure done here the candidacy cites; when it cites only procedures done
    elsewhere, the latest of those; for a stimulator candidacy that cites none, the latest trial
    on record (the one the rules read)."""
    here = _latest([done_by_id[e.appointment_id] for e in candidacy.evidence
                    if e.appointment_id is not None and e.appointment_id in done_by_id])
    if here is not None:
        return Anchor.of_procedure(here)
    # Done elsewhere: keyed by minus the record's id, apart from the appointments.
    elsewhere = _latest([done_by_id[-e.outside_id] for e in candidacy.evidence
                         if e.outside_id is not None and -e.outside_id in done_by_id])
    if elsewhere is not None:
        return Anchor.of_procedure(elsewhere, preferred_office_id=history.preferred_office_id.get(patient_id))
    trials = history.trials_read(patient_id)
    if SECTION_OF[candidacy.kind] is Section.SCS and trials:
        return Anchor.of_trial(max(trials, key=lambda trial: (trial.record.started_on, trial.record.trial_id or 0)))
    return None


def _to_book(candidacy: Candidacy, last_type_id: int | None, of_kind: dict[str, list[int]]) -> int | None:
    """The procedure to book: the same as last time when it is of the kind wanted (a repeat
    transforaminal epidural stays transforaminal), else the catalog's first of that kind."""
    bookable = of_kind.get(candidacy.kind.schedules.value, [])
    return last_type_id if last_type_id in bookable else next(iter(bookable), None)


def _is_stale(today: date) -> ColumnElement[bool]:
    return or_(CandidacyCheck.holds_until.is_(None), CandidacyCheck.holds_until <= today,
               CandidacyCheck.assessed_on > today)


def _stored_row(patient_id: int, candidacy: Candidacy, anchor: Anchor, catalog: RuleCatalog) -> dict[str, Any]:
    return {"patient_id": patient_id, "section": SECTION_OF[candidacy.kind].value, "kind": candidacy.kind.value,
            "region": candidacy.region, "side": candidacy.side, "eligibility": candidacy.eligibility.value,
            "eligible_from": candidacy.eligible_from, "rule": candidacy.rule,
            "evidence": [[e.text, e.appointment_id] for e in candidacy.evidence],
            "anchor_appointment_id": anchor.appointment_id, "anchor_day": anchor.day,
            "schedule_procedure_type_id": _to_book(candidacy, anchor.procedure_type_id, catalog.bookable),
            "anchor_side": anchor.side, "anchor_levels": anchor.levels, "anchor_levels_count": anchor.levels_count,
            "physician_id": anchor.physician_id, "office_id": anchor.office_id}


def _reassess(patient_ids: list[int], today: date) -> Thresholds:
    """Store what the rules say about these patients today; the thresholds they applied."""
    history = histories_of(patient_ids, today)
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
                                       psych_cleared_on=history.psych_cleared_on.get(patient_id),
                                       trials=history.trial_records(patient_id))
        for candidacy in filter(_may_be_listed, found):
            if (anchor := _anchor(candidacy, done_by_id, history, patient_id)) is not None:
                rows.append(_stored_row(patient_id, candidacy, anchor, catalog))
        holds_until = candidacy_rules.assessment_holds_until(procedures, found, thresholds=thresholds,
                                                             limits=catalog.limits, today=today,
                                                             history_days=HISTORY_DAYS,
                                                             trials=history.trial_records(patient_id))
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

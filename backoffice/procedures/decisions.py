"""The physician's decision on an outcome, as the decisions list records it: one user action, one
transaction. The outcome form records it with the rest of the outcome (`followups.record_outcome`);
both hand a repeat block, an RFA or an SCS trial to the schedulers (`handoff.py`). The list itself
is read by `worklists.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.auth.editing import ensure_current, mark_changed
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.procedures.events import OutcomeRecorded
from backoffice.procedures.handoff import HandOff, hand_off_decision
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.procedures.rules import PlanDecision, decision_problems
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.request_rules import RequestPriority


@dataclass(frozen=True)
class DecisionEntry:
    """A decision as the physician sends it from the list: a note (what "other" means, or a word
    for the schedulers) and how urgent the procedure it asks for is."""

    decision: PlanDecision
    note: str | None = None
    priority: RequestPriority = RequestPriority.ROUTINE


@dataclass(frozen=True)
class Decided:
    outcome: Outcome
    follow_up: FollowUp
    hand_off: HandOff


def _locked_outcome(outcome_id: int) -> Outcome:
    query = (select(Outcome).where(Outcome.id == outcome_id)
             .options(joinedload(Outcome.follow_up).joinedload(FollowUp.appointment)
                      .joinedload(Appointment.procedure_type),
                      joinedload(Outcome.follow_up).joinedload(FollowUp.patient),
                      joinedload(Outcome.scheduling_request)))
    found = db.session.scalars(for_update(query, of=Outcome)).unique().first()
    if found is None:
        raise NotFound("outcome", outcome_id)
    return found


def decide_outcome(outcome_id: int, entry: DecisionEntry, *, expected_version: int, by: Actor, now: datetime,
                   today: date) -> Decided:
    """Record the physician's decision on an outcome (`expected_version`: the outcome's as the
    list showed it) and hand what it asks for to the schedulers. Raises FieldErrors, StaleEdit."""
    if not by.can(Permission.DECIDE_OUTCOMES):
        raise NotFound("outcome", outcome_id)
    note = (entry.note or "").strip() or None
    problems = decision_problems(entry.decision, note)
    if problems:
        raise FieldErrors(problems)
    with transaction(db.session, by):
        outcome = _locked_outcome(outcome_id)
        ensure_current(db.session, outcome, expected_version, "This outcome")
        follow_up = outcome.follow_up
        outcome.decision = entry.decision
        outcome.decision_note = note
        if not db.session.is_modified(outcome):
            return Decided(outcome, follow_up, HandOff(outcome.scheduling_request))
        mark_changed(outcome, by, now)
        db.session.flush()  # the decision, for the rules the hand-off asks
        hand_off = hand_off_decision(outcome, follow_up, priority=entry.priority, note=note, by=by, now=now,
                                     today=today)
        publish(OutcomeRecorded(outcome.id, follow_up.id, outcome.appointment_id, outcome.patient_id,
                                corrected=True, by=by, at=now))
    return Decided(outcome, follow_up, hand_off)

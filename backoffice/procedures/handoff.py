"""The hand-off from physician to scheduler: a decision to repeat a block, proceed to RFA or start
an SCS trial, or a candidacy sent from the candidates list, becomes a scheduling request
(`scheduling.requests`) with the procedure, region, side, levels, physician, office and the
first day the rules allow it. `hand_off_decision` runs inside the transaction that records the
decision (the outcome form's or the decisions list's); `ask_to_schedule` is the candidates
list's action, one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import NotFound, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.patients.models import Patient
from backoffice.practice.services import physician_of_user
from backoffice.procedures import candidacy, handoff_rules
from backoffice.procedures.candidacy_rules import CandidacyKind
from backoffice.procedures.models import FollowUp, Outcome, StoredCandidacy
from backoffice.procedures.rule_catalog import rule_catalog
from backoffice.scheduling.models import SchedulingRequest
from backoffice.scheduling.request_rules import RequestPriority
from backoffice.scheduling.requests import RequestDetails, open_request, withdraw_request


@dataclass(frozen=True)
class Place:
    """Where on the body, as the procedure followed up or the candidacy names it."""

    region: str | None
    side: str | None
    levels_count: int | None
    levels: str | None


def _details(patient: Patient, procedure: ProcedureType, place: Place, *, physician_id: int, office_id: int,
             today: date, priority: RequestPriority | None, note: str | None) -> RequestDetails:
    """The request, from the first day the candidacy rules allow the procedure (today when
    they never will with the records as they are: then it needs a physician's override)."""
    candidacies = candidacy.candidacies_for_patient(patient.id, today=today)
    allowed = handoff_rules.first_allowed_day(candidacies, kind=procedure.kind, region=place.region,
                                              side=place.side, today=today)
    return RequestDetails(
        patient_id=patient.id, procedure_type_id=procedure.id, physician_id=physician_id,
        office_id=patient.preferred_office_id or office_id, earliest_on=allowed or today, region=place.region,
        side=place.side, levels_count=place.levels_count, levels=place.levels, priority=priority, note=note,
        needs_override=allowed is None)


def _asked_by_another(request: SchedulingRequest, outcome: Outcome) -> bool:
    return bool(db.session.scalar(select(exists().where(Outcome.scheduling_request_id == request.id,
                                                        Outcome.id != outcome.id))))


@dataclass(frozen=True)
class HandOff:
    """What a decision handed to the schedulers: the open request, or None (nothing to book, or
    `missing`: the catalog has no procedure of the kind asked)."""

    request: SchedulingRequest | None
    missing: str | None = None


def hand_off_decision(outcome: Outcome, follow_up: FollowUp, *, priority: RequestPriority | None,
                      note: str | None, by: Actor, now: datetime, today: date) -> HandOff:
    """After `outcome.decision` changed (and was flushed): open or update the request it asks
    for, and withdraw the open request an earlier decision on this outcome asked for, unless
    another outcome's decision asks for it too."""
    appointment = follow_up.appointment
    done = appointment.procedure_type
    procedure_id = handoff_rules.procedure_asked(outcome.decision, done_type_id=done.id, done=done.kind,
                                                 bookable=rule_catalog().bookable)
    request = None
    if procedure_id is not None:
        procedure = db.session.get(ProcedureType, procedure_id)
        if procedure is None:
            raise NotFound("procedure", procedure_id)
        place = Place(appointment.region, appointment.side, appointment.levels_count, appointment.levels)
        request = open_request(_details(follow_up.patient, procedure, place, physician_id=follow_up.physician_id,
                                        office_id=follow_up.office_id, today=today, priority=priority, note=note),
                               by=by, now=now)
    previous = outcome.scheduling_request
    if previous is not None and previous is not request and previous.is_open \
            and not _asked_by_another(previous, outcome):
        decided = outcome.decision.label if outcome.decision else "no decision"
        withdraw_request(previous, f"The physician's decision changed to “{decided}”.", by=by, now=now)
    outcome.scheduling_request = request
    missing = None
    if request is None and handoff_rules.kind_asked(outcome.decision, done.kind) is not None:
        missing = "The procedure catalog has no active procedure of that kind to book."
    return HandOff(request, missing)


def _owners(stored: StoredCandidacy, by: Actor) -> tuple[int, int]:
    """The physician and office of the request: the candidacy's, or for one that rests only on
    procedures done elsewhere (no physician here has the patient yet) the physician sending it,
    who takes the patient on, at the patient's preferred office."""
    physician_id = stored.physician_id
    if physician_id is None:
        own = physician_of_user(by.user_id)
        if own is None:
            raise Refused("No physician here has this patient yet: a physician sends it to scheduling "
                          "(and takes the patient on), or book it with Schedule.")
        physician_id = own.id
    office_id = stored.patient.preferred_office_id or stored.office_id
    if office_id is None:
        raise Refused(f"{stored.patient.full_name} has no preferred office: choose one on the patient's record, "
                      "or book it with Schedule.")
    return physician_id, office_id


def ask_to_schedule(stored_candidacy_id: int, *, by: Actor, now: datetime, today: date) -> SchedulingRequest:
    """The candidates list's "Send to scheduling": a request to book what the candidacy calls
    for, with its region, side and levels, from the day the rules allow it. Raises NotFound when
    the row is gone (the list was worked out again) or books nothing, Refused when it has no
    physician nor office to go with (see `_owners`)."""
    if not by.can(Permission.REVIEW_CANDIDATES):
        raise NotFound("candidacy", stored_candidacy_id)
    with transaction(db.session, by):
        stored = db.session.scalars(select(StoredCandidacy).where(StoredCandidacy.id == stored_candidacy_id)
                                    .options(joinedload(StoredCandidacy.patient))).first()
        if stored is None or stored.schedule_procedure_type_id is None:
            raise NotFound("candidacy", stored_candidacy_id)
        procedure = db.session.get(ProcedureType, stored.schedule_procedure_type_id)
        if procedure is None or procedure.kind != CandidacyKind(stored.kind).schedules:
            raise NotFound("candidacy", stored_candidacy_id)
        place = Place(stored.region, stored.side or stored.anchor_side, stored.anchor_levels_count,
                      stored.anchor_levels)
        physician_id, office_id = _owners(stored, by)
        return open_request(_details(stored.patient, procedure, place, physician_id=physician_id,
                                     office_id=office_id, today=today, priority=None, note=None),
                            by=by, now=now)

"""A patient's coverage: added, changed (ended, say) and removed from the patient's page, and read
by the pages and, later, the prior authorizations. Each public function that writes is one user
action and one transaction, holding the patient's row while it checks the patient's other
coverage, so that two people saving at once cannot put two primaries in force on the same day.
Every change is audited (coverage is `Audited`, with the patient)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.audit.trail import record_event
from backoffice.auth.editing import apply_edit, ensure_current, stamps
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.insurance.models import Coverage, Payer
from backoffice.insurance.rules import (
    CoverageEntry,
    InForce,
    PayerFacts,
    Relationship,
    Span,
    coverage_problems,
    in_force_on,
)
from backoffice.patients.models import Patient

WHAT = "This coverage"  # how a stale edit names the record


def coverages_of(patient_id: int) -> list[Coverage]:
    """Every coverage of the patient, past, present and future, with its payer (one query)."""
    query = (select(Coverage).where(Coverage.patient_id == patient_id).options(joinedload(Coverage.payer))
             .order_by(Coverage.effective_on.desc(), Coverage.id.desc()))
    return list(db.session.scalars(query))


def coverage_on(patient_id: int, day: date) -> InForce[Coverage]:
    """The patient's primary and secondary coverage in force on `day`, with their payers."""
    return in_force_on(coverages_of(patient_id), day)


def _may_read(by: Actor) -> bool:
    """Coverage is part of the patient's record: those who open the record read it."""
    return by.can(Permission.MANAGE_PATIENTS)


def get_coverage(coverage_id: int, *, by: Actor, lock: bool = False) -> Coverage:
    """The coverage, for those who read patient records; NotFound for anyone else (whether or not
    it exists)."""
    if not _may_read(by):
        raise NotFound("coverage", coverage_id)
    return get_one(db.session, Coverage, coverage_id, entity="coverage", lock=lock)


def open_coverage(coverage_id: int, *, by: Actor, page: str) -> Coverage:
    """Opening the coverage's edit or removal form shows part of a patient's record: audited."""
    with transaction(db.session, by):
        coverage = get_coverage(coverage_id, by=by)
        record_event(db.session, by, "view", "coverage", coverage.id, patient_id=coverage.patient_id,
                     subject=page, details=coverage.audit_details())
    return coverage


def _lock_patient(patient_id: int) -> Patient:
    """The patient's row, held until the transaction ends: coverage writes for one patient queue."""
    return get_one(db.session, Patient, patient_id, entity="patient", lock=True)


def _others(patient_id: int, besides: int | None) -> list[Span]:
    query = (select(Coverage).where(Coverage.patient_id == patient_id).options(joinedload(Coverage.payer)))
    if besides is not None:
        query = query.where(Coverage.id != besides)
    return [Span(c.rank, c.effective_on, c.ends_on, c.payer.name) for c in db.session.scalars(query)]


def _checked_columns(entry: CoverageEntry, patient_id: int, *, besides: Coverage | None = None) -> dict[str, Any]:
    """The columns to store for `entry`, or FieldErrors saying what is wrong with it. The payer
    must be on offer, or be the one the coverage (`besides`) names already."""
    payer = db.session.get(Payer, entry.payer_id)
    on_offer = payer is not None and (payer.active or (besides is not None and besides.payer_id == payer.id))
    facts = PayerFacts(payer.name, payer.kind) if payer is not None and on_offer else None
    problems = coverage_problems(entry, facts, _others(patient_id, besides.id if besides else None))
    if problems:
        raise FieldErrors(problems)
    return {"rank": entry.rank, "payer_id": entry.payer_id, "plan_name": entry.plan_name,
            "member_id": entry.member_id, "group_number": entry.group_number,
            "relationship_to_subscriber": entry.relationship_to_subscriber,
            "subscriber_name": None if entry.relationship_to_subscriber is Relationship.SELF else entry.subscriber_name,
            "effective_on": entry.effective_on, "ends_on": entry.ends_on}


def add_coverage(patient_id: int, entry: CoverageEntry, *, by: Actor, now: datetime) -> Coverage:
    """Add a primary or secondary coverage. Raises FieldErrors (an overlap with another of the
    same rank among them), or NotFound for a patient the actor may not edit."""
    if not by.can(Permission.MANAGE_COVERAGE):
        raise NotFound("patient", patient_id)
    with transaction(db.session, by):
        _lock_patient(patient_id)
        coverage = Coverage(patient_id=patient_id, **_checked_columns(entry, patient_id), **stamps(by, now))
        db.session.add(coverage)
    return coverage


def _held(coverage_id: int, by: Actor) -> Coverage:
    """The coverage, its patient's row held first (the order every coverage write takes)."""
    if not by.can(Permission.MANAGE_COVERAGE):
        raise NotFound("coverage", coverage_id)
    patient_id = db.session.scalar(select(Coverage.patient_id).where(Coverage.id == coverage_id))
    if patient_id is None:
        raise NotFound("coverage", coverage_id)
    _lock_patient(patient_id)
    coverage = db.session.scalars(for_update(select(Coverage).where(Coverage.id == coverage_id))).first()
    if coverage is None:
        raise NotFound("coverage", coverage_id)
    return coverage


def change_coverage(coverage_id: int, entry: CoverageEntry, *, expected_version: int, by: Actor,
                    now: datetime) -> Coverage:
    """Change the coverage (it stays the same patient's); ending it is giving it an end date.
    Raises FieldErrors, or StaleEdit when someone saved it after the form was opened."""
    with transaction(db.session, by):
        coverage = _held(coverage_id, by)
        ensure_current(db.session, coverage, expected_version, WHAT)
        columns = _checked_columns(entry, coverage.patient_id, besides=coverage)
        apply_edit(db.session, coverage, columns, expected_version=expected_version, by=by, now=now, what=WHAT)
    return coverage


def remove_coverage(coverage_id: int, *, reason: str, expected_version: int, by: Actor) -> int:
    """Remove a coverage entered in error, saying why (the audit trail keeps what it said and the
    reason); a coverage that ended is given its end date instead. The patient's id."""
    if not reason.strip():
        raise FieldErrors({"reason": "Say why the coverage is removed."})
    with transaction(db.session, by):
        coverage = _held(coverage_id, by)
        ensure_current(db.session, coverage, expected_version, WHAT)
        coverage.deletion_reason = reason.strip()
        patient_id = coverage.patient_id
        db.session.delete(coverage)
    return patient_id

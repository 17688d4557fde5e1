"""Recording, correcting and deleting the procedures a patient had elsewhere. Each public function
is one user action and one transaction; each change is audited (the rows are `Audited`) and told
to the packages above (`events.py`), whose candidacies rest on these records."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.audit.trail import record_event
from backoffice.auth.editing import apply_edit, ensure_current, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.history.events import OutsideProcedureCorrected, OutsideProcedureDeleted, OutsideProcedureRecorded
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import OutsideEntry, ProcedureAsks, entry_problems, kept_details
from backoffice.patients.models import Patient

WHAT = "This outside procedure"  # how a stale edit names the record


def procedure_asks(procedure: ProcedureType) -> ProcedureAsks:
    """What the catalog asks of the procedure, for the rules."""
    return ProcedureAsks(f"the {procedure.name[:1].lower()}{procedure.name[1:]}", asks_region=procedure.asks_region,
                         asks_side=procedure.asks_side, asks_levels=procedure.asks_levels,
                         max_levels=procedure.max_levels)


def checked_columns(entry: OutsideEntry, procedure: ProcedureType | None, *, today: date) -> dict[str, Any]:
    """The columns to store for `entry`, or FieldErrors saying what is wrong with it."""
    asks = procedure_asks(procedure) if procedure is not None else None
    problems = entry_problems(entry, asks, today=today)
    if problems or asks is None:
        raise FieldErrors(problems)
    return asdict(kept_details(entry, asks))


def outside_procedures_of(patient_id: int) -> list[OutsideProcedure]:
    """The patient's procedures done elsewhere, newest first, with their procedure types."""
    query = (select(OutsideProcedure).where(OutsideProcedure.patient_id == patient_id)
             .options(joinedload(OutsideProcedure.procedure_type))
             .order_by(OutsideProcedure.performed_on.desc(), OutsideProcedure.id.desc()))
    return list(db.session.scalars(query))


def get_outside_procedure(outside_procedure_id: int, *, by: Actor, lock: bool = False) -> OutsideProcedure:
    """The record, for those who record them; NotFound for anyone else (whether or not it exists)."""
    if not by.can(Permission.RECORD_OUTSIDE_PROCEDURES):
        raise NotFound("outside procedure", outside_procedure_id)
    return get_one(db.session, OutsideProcedure, outside_procedure_id, entity="outside procedure", lock=lock)


def open_outside_procedure(outside_procedure_id: int, *, by: Actor, page: str) -> OutsideProcedure:
    """Opening the record's edit or delete form shows part of a patient's record: audited."""
    with transaction(db.session, by):
        outside = get_outside_procedure(outside_procedure_id, by=by)
        record_event(db.session, by, "view", "outside_procedure", outside.id, patient_id=outside.patient_id,
                     subject=page, details=outside.audit_details())
    return outside


def record_outside_procedure(patient_id: int, entry: OutsideEntry, *, by: Actor, now: datetime,
                             today: date) -> OutsideProcedure:
    """Record a procedure done elsewhere. Raises FieldErrors, or NotFound for a patient the actor
    may not record for."""
    if not by.can(Permission.RECORD_OUTSIDE_PROCEDURES):
        raise NotFound("patient", patient_id)
    with transaction(db.session, by):
        get_one(db.session, Patient, patient_id, entity="patient")
        columns = checked_columns(entry, db.session.get(ProcedureType, entry.procedure_type_id), today=today)
        outside = OutsideProcedure(patient_id=patient_id, recorded_by_id=by.user_id, **columns, **stamps(by, now))
        db.session.add(outside)
        db.session.flush()
        publish(OutsideProcedureRecorded(outside.id, patient_id, by=by, at=now))
    return outside


def correct_outside_procedure(outside_procedure_id: int, entry: OutsideEntry, *, expected_version: int, by: Actor,
                              now: datetime, today: date) -> OutsideProcedure:
    """Correct the record (it stays the same patient's). Raises FieldErrors, or StaleEdit when
    someone saved it after the form was opened."""
    with transaction(db.session, by):
        outside = get_outside_procedure(outside_procedure_id, by=by, lock=True)
        ensure_current(db.session, outside, expected_version, WHAT)
        columns = checked_columns(entry, db.session.get(ProcedureType, entry.procedure_type_id), today=today)
        changed = apply_edit(db.session, outside, columns, expected_version=expected_version, by=by, now=now,
                             what=WHAT)
        if changed:
            db.session.flush()
            publish(OutsideProcedureCorrected(outside.id, outside.patient_id, changed, by=by, at=now))
    return outside


def delete_outside_procedure(outside_procedure_id: int, *, reason: str, expected_version: int, by: Actor,
                             now: datetime) -> int:
    """Delete a record made in error, saying why (the audit trail keeps what it said and the
    reason). The patient's id."""
    if not reason.strip():
        raise FieldErrors({"reason": "Say why the record is deleted."})
    with transaction(db.session, by):
        outside = get_outside_procedure(outside_procedure_id, by=by, lock=True)
        ensure_current(db.session, outside, expected_version, WHAT)
        outside.deletion_reason = reason.strip()
        patient_id = outside.patient_id
        db.session.delete(outside)
        db.session.flush()
        publish(OutsideProcedureDeleted(outside_procedure_id, patient_id, reason.strip(), by=by, at=now))
    return patient_id

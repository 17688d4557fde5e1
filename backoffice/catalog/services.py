"""Procedure catalog actions (admin). Each public function is one user action, one transaction."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from backoffice.auth.editing import apply_edit, stamps
from backoffice.catalog import rules
from backoffice.catalog.data import ProcedureData
from backoffice.catalog.events import ProcedureTypeAdded, ProcedureTypeChanged
from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import another_with, get_one, transaction
from backoffice.core.errors import FieldErrors
from backoffice.core.events import publish
from backoffice.core.extensions import db


def list_procedure_types(*, active_only: bool = False) -> list[ProcedureType]:
    query = select(ProcedureType).order_by(ProcedureType.category, ProcedureType.name)
    if active_only:
        query = query.where(ProcedureType.active.is_(True))
    return list(db.session.scalars(query))


def get_procedure_type(procedure_type_id: int) -> ProcedureType:
    return get_one(db.session, ProcedureType, procedure_type_id, entity="procedure")


def _columns(data: ProcedureData) -> dict[str, Any]:
    values = asdict(data)
    values["follow_ups"] = rules.format_follow_ups(rules.parse_follow_ups(data.follow_ups))
    return values


def _problems(data: ProcedureData, procedure_type_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        rules.parse_follow_ups(data.follow_ups)
    except ValueError as error:
        errors["follow_ups"] = str(error)
    if data.max_per_year is not None and data.frequency_group is None:
        errors["frequency_group"] = "Choose what the yearly limit counts."
    if data.min_interval is not None and data.frequency_group is None:
        errors["frequency_group"] = "Choose what the minimum interval counts."
    in_months = data.min_interval_unit is rules.IntervalUnit.MONTHS
    if data.min_interval and in_months and data.min_interval > rules.MAX_INTERVAL_MONTHS:
        errors["min_interval"] = f"At most {rules.MAX_INTERVAL_MONTHS} months."
    for field in ("code", "name"):
        value = getattr(data, field)
        if another_with(db.session, ProcedureType, getattr(ProcedureType, field) == value, besides=procedure_type_id):
            errors[field] = f"Another procedure already uses {value}."
    return errors


def create_procedure_type(data: ProcedureData, *, by: Actor, now: datetime) -> ProcedureType:
    with transaction(db.session, by):
        errors = _problems(data, None)
        if errors:
            raise FieldErrors(errors)
        procedure_type = ProcedureType(**_columns(data), **stamps(by, now))
        db.session.add(procedure_type)
        db.session.flush()
        publish(ProcedureTypeAdded(procedure_type.id, procedure_type.code, by=by, at=now))
    return procedure_type


def update_procedure_type(procedure_type_id: int, data: ProcedureData, *, expected_version: int,
                          by: Actor, now: datetime) -> ProcedureType:
    with transaction(db.session, by):
        procedure_type = get_one(db.session, ProcedureType, procedure_type_id, entity="procedure",
                                 lock=True)
        errors = _problems(data, procedure_type_id)
        if errors:
            raise FieldErrors(errors)
        changed = apply_edit(db.session, procedure_type, _columns(data), expected_version=expected_version,
                             by=by, now=now, what=f"The procedure {procedure_type.name}")
        if changed:
            publish(ProcedureTypeChanged(procedure_type.id, changed, by=by, at=now))
    return procedure_type


def procedure_id_by_code(code: str) -> int | None:
    """The bookable procedure with this code (the pump refill a worklist books, say)."""
    return db.session.scalars(select(ProcedureType.id).where(ProcedureType.code == code,
                                                             ProcedureType.active.is_(True))).first()

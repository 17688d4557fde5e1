"""The device model catalog (admin): the models the practice implants, which a scanned GTIN picks.
Each public function that writes is one user action, one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from backoffice.auth.editing import apply_edit, stamps
from backoffice.catalog.models import DeviceModel
from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import another_with, get_one, transaction
from backoffice.core.errors import FieldErrors
from backoffice.core.extensions import db

NEEDS_RESERVOIR = "Give the pump's reservoir volume (20 or 40 mL, say)."


@dataclass(frozen=True)
class DeviceModelData:
    """A catalog entry as an administrator enters it."""

    manufacturer: str
    model: str
    kind: DeviceKind
    gtin: str | None = None
    mri_conditional: bool = False
    rechargeable: bool = False
    reservoir_ml: Decimal | None = None
    active: bool = True


def list_device_models() -> list[DeviceModel]:
    """Every model, those no longer implanted too (the catalog page)."""
    return list(db.session.scalars(select(DeviceModel).order_by(DeviceModel.kind, DeviceModel.manufacturer,
                                                                DeviceModel.model)))


def offered_device_models() -> list[DeviceModel]:
    """The models still implanted here, which the device form offers."""
    query = select(DeviceModel).where(DeviceModel.active.is_(True)).order_by(DeviceModel.manufacturer,
                                                                              DeviceModel.model)
    return list(db.session.scalars(query))


def get_device_model(device_model_id: int) -> DeviceModel:
    return get_one(db.session, DeviceModel, device_model_id, entity="device model")


def device_model_by_gtin(gtin: str) -> DeviceModel | None:
    return db.session.scalars(select(DeviceModel).where(DeviceModel.gtin == gtin)).first()


def _problems(data: DeviceModelData, editing_id: int | None) -> dict[str, str]:
    errors = {}
    if data.gtin:
        other = another_with(db.session, DeviceModel, DeviceModel.gtin == data.gtin, besides=editing_id)
        if other is not None:
            errors["gtin"] = f"The catalog has this GTIN already: {other.manufacturer} {other.model}."
    if data.kind is DeviceKind.PUMP and not data.reservoir_ml:
        errors["reservoir_ml"] = NEEDS_RESERVOIR
    if data.kind is not DeviceKind.PUMP and data.reservoir_ml:
        errors["reservoir_ml"] = "Only pumps have a reservoir."
    return errors


def _columns(data: DeviceModelData) -> dict[str, Any]:
    return dict(vars(data))


def add_device_model(data: DeviceModelData, *, by: Actor, now: datetime) -> DeviceModel:
    with transaction(db.session, by):
        if errors := _problems(data, None):
            raise FieldErrors(errors)
        device_model = DeviceModel(**_columns(data), **stamps(by, now))
        db.session.add(device_model)
    return device_model


def update_device_model(device_model_id: int, data: DeviceModelData, *, expected_version: int, by: Actor,
                        now: datetime) -> DeviceModel:
    with transaction(db.session, by):
        device_model = get_one(db.session, DeviceModel, device_model_id, entity="device model", lock=True)
        if errors := _problems(data, device_model_id):
            raise FieldErrors(errors)
        apply_edit(db.session, device_model, _columns(data), expected_version=expected_version, by=by,
                   now=now, what=f"The model {device_model.manufacturer} {device_model.model}")
    return device_model

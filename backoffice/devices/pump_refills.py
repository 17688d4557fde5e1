"""Pump refills: the refill log, what should be left in the pump, and when the next refill is due.
Recording a refill is one user action and one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.auth.editing import mark_changed, stamps
from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import FieldErrors
from backoffice.core.extensions import db
from backoffice.devices import rules
from backoffice.devices.models import Device, PumpRefill
from backoffice.devices.rules import DeviceSettings
from backoffice.devices.services import DeviceNotActive, device_to_change


@dataclass(frozen=True)
class RefillEntry:
    refilled_on: date
    office_id: int
    drug: str
    concentration_mg_ml: Decimal
    daily_dose_mg: Decimal
    withdrawn_ml: Decimal
    added_ml: Decimal
    alarm_ml: Decimal
    stability_days: int
    margin_days: int
    appointment_id: int | None = None
    alarm_note: str | None = None
    notes: str | None = None


def refills_of(device_id: int, *, limit: int | None = None) -> list[PumpRefill]:
    """The pump's refills, newest first (the last `limit` of them when given)."""
    query = (select(PumpRefill).where(PumpRefill.device_id == device_id)
             .options(joinedload(PumpRefill.office)).order_by(PumpRefill.refilled_on.desc(), PumpRefill.id.desc()))
    return list(db.session.scalars(query.limit(limit)))


def _last_refill(device_id: int) -> PumpRefill | None:
    query = (select(PumpRefill).where(PumpRefill.device_id == device_id)
             .order_by(PumpRefill.refilled_on.desc(), PumpRefill.id.desc()).limit(1))
    return db.session.scalars(query).first()


def expected_residual_for(device: Device, on: date, last: PumpRefill | None = None) -> Decimal | None:
    """What should be left in the pump on `on`, from its last refill (`last`, read when not
    given); None before the first."""
    last = last or _last_refill(device.id)
    if last is None or on < last.refilled_on:
        return None
    return rules.expected_residual(last_volume_ml=last.added_ml, daily_ml=last.daily_ml,
                                   days=(on - last.refilled_on).days)


def _check_refill_entry(entry: RefillEntry, device: Device, last: PumpRefill | None, today: date) -> None:
    errors: dict[str, str] = {}
    if entry.refilled_on > today:
        errors["refilled_on"] = "The refill cannot be in the future."
    elif entry.refilled_on < device.implanted_on:
        errors["refilled_on"] = f"The pump was implanted on {device.implanted_on:%m/%d/%Y}."
    if last is not None and entry.refilled_on < last.refilled_on:
        errors["refilled_on"] = f"The last refill recorded was on {last.refilled_on:%m/%d/%Y}; record refills in order."
    if entry.added_ml <= entry.alarm_ml:
        errors["added_ml"] = "The volume added must be more than the low-reservoir alarm volume."
    if device.reservoir_ml is not None and entry.withdrawn_ml > device.reservoir_ml:
        errors["withdrawn_ml"] = (f"The reservoir holds {rules.plain_amount(device.reservoir_ml)} mL: no more can be "
                                  "withdrawn from it.")
    if errors:
        raise FieldErrors(errors)


def record_refill(device_id: int, entry: RefillEntry, *, by: Actor, now: datetime, today: date,
                  settings: DeviceSettings) -> PumpRefill:
    """Log a refill: flag a withdrawn volume that differs from the expected one, refuse an
    overfill, and compute when the next refill is due."""
    with transaction(db.session, by):
        device = device_to_change(device_id, by)
        if device.kind is not DeviceKind.PUMP:
            raise FieldErrors({"added_ml": "Only a pump is refilled."})
        if not device.is_active:
            raise DeviceNotActive(device, "a refill")
        if not device.reservoir_ml:
            raise FieldErrors({"added_ml": "Record the pump's reservoir volume first (Edit on the device's page)."})
        last = _last_refill(device.id)
        _check_refill_entry(entry, device, last, today)
        expected = expected_residual_for(device, entry.refilled_on, last)
        check = rules.check_refill(reservoir_ml=device.reservoir_ml, expected_residual_ml=expected,
                                   withdrawn_ml=entry.withdrawn_ml, added_ml=entry.added_ml,
                                   tolerance_ml=settings.tolerance_ml)
        if check.overfill:
            raise FieldErrors({"added_ml": f"The reservoir holds {rules.plain_amount(device.reservoir_ml)} mL; "
                                           f"{entry.added_ml} mL would overfill it."})
        daily_ml = rules.daily_volume(entry.daily_dose_mg, entry.concentration_mg_ml)
        plan = rules.plan_next_refill(entry.refilled_on, volume_ml=entry.added_ml, alarm_ml=entry.alarm_ml,
                                      daily_ml=daily_ml, stability_days=entry.stability_days,
                                      margin_days=entry.margin_days)
        refill = PumpRefill(
            device_id=device.id, patient_id=device.patient_id, office_id=entry.office_id,
            appointment_id=entry.appointment_id, refilled_on=entry.refilled_on, drug=entry.drug,
            concentration_mg_ml=entry.concentration_mg_ml, daily_dose_mg=entry.daily_dose_mg,
            daily_ml=daily_ml, expected_residual_ml=expected, withdrawn_ml=entry.withdrawn_ml,
            added_ml=entry.added_ml, alarm_ml=entry.alarm_ml, stability_days=entry.stability_days,
            margin_days=entry.margin_days, mismatch=check.mismatch, next_due_on=plan.next_due,
            alarm_note=entry.alarm_note or None, notes=entry.notes or None, recorded_by_id=by.user_id,
            **stamps(by, now))
        db.session.add(refill)
        device.drug = entry.drug
        device.concentration_mg_ml = entry.concentration_mg_ml
        device.daily_dose_mg = entry.daily_dose_mg
        device.next_refill_on = plan.next_due
        device.office_id = entry.office_id
        mark_changed(device, by, now)
    return refill

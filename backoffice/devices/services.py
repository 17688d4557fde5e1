"""The device registry: implants and their status history (implant, replacement, explant, the
replacement indicator), and which patients carry an implant that is not MRI conditional. Pump
refills, SCS trials and the worklists have their own modules. Each public function that writes is
one user action and one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.audit.trail import record_event
from backoffice.auth.editing import apply_edit, ensure_current, mark_changed, stamps
from backoffice.catalog.device_models import NEEDS_RESERVOIR
from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.devices import rules
from backoffice.devices.models import Device, DeviceStatusChange
from backoffice.devices.rules import DeviceSettings, DeviceStatus, StatusChangeRefused
from backoffice.patients.models import Patient
from backoffice.scheduling.models import Appointment


@dataclass(frozen=True)
class DeviceEntry:
    """A device as a nurse or physician enters it (from a scanned UDI or by hand)."""

    kind: DeviceKind
    manufacturer: str
    model: str
    implanted_on: date
    device_model_id: int | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    manufactured: date | None = None
    physician_id: int | None = None
    appointment_id: int | None = None
    site: str | None = None
    mri_conditional: bool = False
    rechargeable: bool = False
    reservoir_ml: Decimal | None = None
    trial_id: int | None = None
    notes: str | None = None


class DeviceNotActive(Refused):
    """A change that only an implanted device can take (a refill of an explanted pump, say)."""

    def __init__(self, device: Device, action: str) -> None:
        when = f" on {device.explanted_on:%m/%d/%Y}" if device.explanted_on else ""
        super().__init__(f"This {device.kind.label.lower()} was {device.status.label.lower()}{when}; "
                         f"{action} cannot be recorded for it.")
        self.device_id = device.id
        self.status = device.status


def can_change_devices(by: Actor) -> bool:
    return by.can(Permission.MANAGE_DEVICES)


def can_read_devices(by: Actor) -> bool:
    return by.can(Permission.READ_DEVICES)


# Reading.

def get_device(device_id: int, *, by: Actor, lock: bool = False) -> Device:
    if not can_read_devices(by):
        raise NotFound("device", device_id)
    return get_one(db.session, Device, device_id, entity="device", lock=lock)


def device_to_change(device_id: int, by: Actor) -> Device:
    """The device, locked, for a nurse or physician; NotFound for anyone else."""
    if not can_change_devices(by):
        raise NotFound("device", device_id)
    return get_one(db.session, Device, device_id, entity="device", lock=True)


def open_device(device_id: int, *, by: Actor, page: str | None = None) -> Device:
    """Opening a device's page, or a form that shows it (`page` names it: its edit form, a
    refill), is opening part of a patient's record: audited."""
    with transaction(db.session, by):
        device = get_device(device_id, by=by)
        record_event(db.session, by, "view", "device", device.id, patient_id=device.patient_id,
                     office_id=device.office_id, subject=page or "", details=device.audit_details())
    return device


def device_history(device_id: int) -> list[DeviceStatusChange]:
    query = (select(DeviceStatusChange).where(DeviceStatusChange.device_id == device_id)
             .order_by(DeviceStatusChange.changed_on, DeviceStatusChange.id))
    return list(db.session.scalars(query))


def devices_of_patient(patient_id: int) -> list[Device]:
    query = (select(Device).where(Device.patient_id == patient_id)
             .options(joinedload(Device.physician), joinedload(Device.successor))
             .order_by(Device.implanted_on.desc(), Device.id.desc()))
    return list(db.session.scalars(query))


def all_mri_unsafe_patients() -> set[int]:
    """Every patient with an implant in them that is not MRI conditional (a short list: one query
    for a whole page)."""
    return set(db.session.scalars(select(Device.patient_id).where(Device.is_mri_unsafe).distinct()))


# Adding and changing devices.

def _check_entry(entry: DeviceEntry, patient_id: int, today: date) -> None:
    errors: dict[str, str] = {}
    if entry.implanted_on > today:
        errors["implanted_on"] = "The implant date cannot be in the future."
    if entry.expiry and entry.expiry < entry.implanted_on:
        errors["expiry"] = f"The device expired on {entry.expiry:%m/%d/%Y}, before the implant date."
    if entry.manufactured and entry.manufactured > entry.implanted_on:
        errors["manufactured"] = "The device cannot be made after it was implanted."
    if entry.kind is DeviceKind.PUMP and not entry.reservoir_ml:
        errors["reservoir_ml"] = NEEDS_RESERVOIR
    if entry.appointment_id is not None:
        appointment = db.session.get(Appointment, entry.appointment_id)
        if appointment is None or appointment.patient_id != patient_id:
            errors["appointment_id"] = "Choose one of this patient's appointments."
    if errors:
        raise FieldErrors(errors)


def _columns(entry: DeviceEntry) -> dict[str, object]:
    return {"kind": entry.kind, "device_model_id": entry.device_model_id, "manufacturer": entry.manufacturer,
            "model": entry.model, "gtin": entry.gtin or None, "lot": entry.lot or None,
            "serial": entry.serial or None, "expiry": entry.expiry, "manufactured": entry.manufactured,
            "implanted_on": entry.implanted_on, "physician_id": entry.physician_id,
            "appointment_id": entry.appointment_id, "site": entry.site or None,
            "mri_conditional": entry.mri_conditional, "rechargeable": entry.rechargeable,
            "reservoir_ml": entry.reservoir_ml if entry.kind is DeviceKind.PUMP else None,
            "trial_id": entry.trial_id, "notes": entry.notes or None}


def _office_of(entry: DeviceEntry, patient: Patient) -> int | None:
    if entry.appointment_id is not None:
        appointment = db.session.get(Appointment, entry.appointment_id)
        if appointment is not None:
            return appointment.office_id
    return patient.preferred_office_id


def _history(device: Device, before: DeviceStatus | None, on: date, reason: str | None, by: Actor) -> None:
    db.session.add(DeviceStatusChange(device_id=device.id, patient_id=device.patient_id, from_status=before,
                                      to_status=device.status, changed_on=on, reason=reason,
                                      changed_by_id=by.user_id))


def add_device(patient_id: int, entry: DeviceEntry, *, by: Actor, now: datetime, today: date,
               replaces_id: int | None = None) -> Device:
    """Record a device implanted in a patient (a trial lead starts as a trial). When it replaces
    another device, that one becomes replaced, with this one as its successor."""
    if not can_change_devices(by):
        raise NotFound("patient", patient_id)
    _check_entry(entry, patient_id, today)
    with transaction(db.session, by):
        patient = get_one(db.session, Patient, patient_id, entity="patient")
        status = DeviceStatus.TRIAL if entry.kind is DeviceKind.TRIAL_LEAD else DeviceStatus.IMPLANTED
        device = Device(patient_id=patient_id, status=status, office_id=_office_of(entry, patient),
                        **_columns(entry), **stamps(by, now))
        db.session.add(device)
        db.session.flush()
        _history(device, None, entry.implanted_on, None, by)
        if replaces_id is not None:
            _replace(replaces_id, device, by=by, now=now)
    return device


def _replace(old_id: int, successor: Device, *, by: Actor, now: datetime) -> None:
    old = get_one(db.session, Device, old_id, entity="device", lock=True)
    if old.patient_id != successor.patient_id:
        raise FieldErrors({"replaces_id": "The device replaced must be this patient's."})
    try:
        rules.check_status_change(old.status, DeviceStatus.REPLACED)
    except StatusChangeRefused as refused:
        raise FieldErrors({"replaces_id": str(refused)}) from refused
    if successor.implanted_on < old.implanted_on:
        raise FieldErrors({"implanted_on": f"The device it replaces was implanted on {old.implanted_on:%m/%d/%Y}; "
                                           "a replacement cannot be implanted before that."})
    before = old.status
    old.status = DeviceStatus.REPLACED
    old.explanted_on = successor.implanted_on
    old.explant_reason = f"Replaced by {successor.name}"
    old.successor_id = successor.id
    old.next_refill_on = None
    mark_changed(old, by, now)
    _history(old, before, successor.implanted_on, old.explant_reason, by)


def update_device(device_id: int, entry: DeviceEntry, *, expected_version: int, by: Actor, now: datetime,
                  today: date) -> Device:
    """Correct a device's record (not its status: explant and replacement have their own steps)."""
    with transaction(db.session, by):
        device = device_to_change(device_id, by)
        ensure_current(db.session, device, expected_version, "This device")
        _check_entry(entry, device.patient_id, today)
        values = _columns(entry)
        values.pop("kind")  # a device does not change kind; a wrong kind is a new record
        apply_edit(db.session, device, values, expected_version=expected_version, by=by, now=now,
                   what="This device")
    return device


def explant_device(device_id: int, *, on: date, reason: str, expected_version: int, by: Actor, now: datetime,
                   today: date) -> Device:
    if not reason.strip():
        raise FieldErrors({"reason": "Say why it was explanted."})
    with transaction(db.session, by):
        device = device_to_change(device_id, by)
        ensure_current(db.session, device, expected_version, "This device")
        rules.check_status_change(device.status, DeviceStatus.EXPLANTED)
        mark_explanted(device, on=on, reason=reason.strip(), by=by, now=now, today=today)
    return device


def mark_explanted(device: Device, *, on: date, reason: str, by: Actor, now: datetime, today: date) -> None:
    """The device came out on `on`, with its status change in the history; inside the caller's
    transaction (an explant, or the end of the trial its leads belong to)."""
    if on > today:
        raise FieldErrors({"explanted_on": "The explant date cannot be in the future."})
    if on < device.implanted_on:
        raise FieldErrors({"explanted_on": f"It was implanted on {device.implanted_on:%m/%d/%Y}; "
                                           "the explant cannot be earlier."})
    before = device.status
    device.status = DeviceStatus.EXPLANTED
    device.explanted_on = on
    device.explant_reason = reason
    device.next_refill_on = None
    mark_changed(device, by, now)
    _history(device, before, on, reason, by)


def record_eri(device_id: int, *, on: date, expected_version: int, by: Actor, now: datetime, today: date,
               settings: DeviceSettings) -> Device:
    """The elective replacement indicator showed: the replacement is due before the device stops."""
    with transaction(db.session, by):
        device = device_to_change(device_id, by)
        ensure_current(db.session, device, expected_version, "This device")
        if not device.is_active:
            raise DeviceNotActive(device, "an elective replacement indicator")
        if not device.kind.has_battery:
            raise FieldErrors({"eri_on": "Only pumps and generators have a battery."})
        if on > today or on < device.implanted_on:
            raise FieldErrors({"eri_on": "Give the day the indicator showed: not in the future, not before "
                                         "the implant."})
        device.eri_on = on
        device.replacement_due_on = rules.replacement_due(on, days_after_eri=settings.eri_days)
        mark_changed(device, by, now)
    return device

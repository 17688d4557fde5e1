"""The device registry: implants, their status history, pump refills, SCS trials, battery and
service-life watch, recall search. Each public function that writes is one user action and one
transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import QueryableAttribute, joinedload

from backoffice.audit.readings import record_reading
from backoffice.audit.trail import record_event
from backoffice.auth.editing import apply_edit, ensure_current, mark_changed, stamps
from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import FieldErrors, NotFound, Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.core.phones import format_phone
from backoffice.devices import rules
from backoffice.devices.models import Device, DeviceModel, DeviceStatusChange, PumpRefill, ScsTrial
from backoffice.devices.rules import DeviceKind, DeviceStatus, StatusChangeRefused, TrialDecision, TrialState
from backoffice.patients.models import Patient
from backoffice.practice.models import Office
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import OPEN_STATUS_VALUES

ACTIVE = tuple(status.value for status in DeviceStatus if status.is_active)
NEEDS_RESERVOIR = "Give the pump's reservoir volume (20 or 40 mL, say)."
BATTERY_KINDS = tuple(kind.value for kind in DeviceKind if kind.has_battery)


@dataclass(frozen=True)
class DeviceSettings:
    """The device defaults (settings; see the README)."""

    alarm_ml: Decimal = Decimal(2)
    margin_days: int = 7
    stability_days: int = 90
    tolerance_ml: Decimal = Decimal(2)
    refill_window_days: int = 14
    trial_days: int = 7
    trial_overdue_days: int = 10
    eri_days: int = 90
    replacement_years: float = 6.5


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


class DeviceNotActive(Refused):
    """A change that only an implanted device can take (a refill of an explanted pump, say)."""

    def __init__(self, device: Device, action: str) -> None:
        when = f" on {device.explanted_on:%m/%d/%Y}" if device.explanted_on else ""
        super().__init__(f"This {device.kind_enum.label.lower()} was {device.status_enum.label.lower()}{when}; "
                         f"{action} cannot be recorded for it.")
        self.device_id = device.id
        self.status = device.status_enum


def _may_work(by: Actor) -> bool:
    return by.can(Permission.MANAGE_DEVICES)


def _may_read(by: Actor) -> bool:
    return by.can(Permission.READ_DEVICES)


# Reading.

def get_device(device_id: int, *, by: Actor, lock: bool = False) -> Device:
    if not _may_read(by):
        raise NotFound("device", device_id)
    return get_one(db.session, Device, device_id, entity="device", lock=lock)


def _device_to_change(device_id: int, by: Actor) -> Device:
    """The device, locked, for a nurse or physician; NotFound for anyone else."""
    if not _may_work(by):
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


def refills_of(device_id: int, *, limit: int | None = None) -> list[PumpRefill]:
    """The pump's refills, newest first (the last `limit` of them when given)."""
    query = (select(PumpRefill).where(PumpRefill.device_id == device_id)
             .options(joinedload(PumpRefill.office)).order_by(PumpRefill.refilled_on.desc(), PumpRefill.id.desc()))
    return list(db.session.scalars(query.limit(limit)))


def devices_of_patient(patient_id: int) -> list[Device]:
    query = (select(Device).where(Device.patient_id == patient_id)
             .options(joinedload(Device.physician), joinedload(Device.successor))
             .order_by(Device.implanted_on.desc(), Device.id.desc()))
    return list(db.session.scalars(query))


def _mri_unsafe_device() -> ColumnElement[bool]:
    return Device.status.in_(ACTIVE) & Device.mri_conditional.is_(False)


def all_mri_unsafe_patients() -> set[int]:
    """Every patient with an implant in them that is not MRI conditional (a short list: one query
    for a whole page)."""
    return set(db.session.scalars(select(Device.patient_id).where(_mri_unsafe_device()).distinct()))


def has_mri_unsafe_implant(patient_id: QueryableAttribute[int]) -> ColumnElement[bool]:
    """Whether the patient has an implant in them that is not MRI conditional, as a column of
    another query (each row of a calendar's)."""
    return exists().where(Device.patient_id == patient_id, _mri_unsafe_device())


def device_models() -> list[DeviceModel]:
    query = select(DeviceModel).where(DeviceModel.active.is_(True)).order_by(DeviceModel.manufacturer,
                                                                              DeviceModel.model)
    return list(db.session.scalars(query))


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


def catalog_models() -> list[DeviceModel]:
    """Every model, those no longer implanted too (the catalog page)."""
    return list(db.session.scalars(select(DeviceModel).order_by(DeviceModel.kind, DeviceModel.manufacturer,
                                                                DeviceModel.model)))


def get_device_model(device_model_id: int) -> DeviceModel:
    return get_one(db.session, DeviceModel, device_model_id, entity="device model")


def _model_problems(data: DeviceModelData, editing_id: int | None) -> dict[str, str]:
    errors = {}
    if data.gtin:
        other = model_by_gtin(data.gtin)
        if other is not None and other.id != editing_id:
            errors["gtin"] = f"The catalog has this GTIN already: {other.manufacturer} {other.model}."
    if data.kind is DeviceKind.PUMP and not data.reservoir_ml:
        errors["reservoir_ml"] = NEEDS_RESERVOIR
    if data.kind is not DeviceKind.PUMP and data.reservoir_ml:
        errors["reservoir_ml"] = "Only pumps have a reservoir."
    return errors


def _model_columns(data: DeviceModelData) -> dict[str, Any]:
    return {**vars(data), "kind": data.kind.value}


def add_device_model(data: DeviceModelData, *, by: Actor, now: datetime) -> DeviceModel:
    with transaction(db.session, by):
        if errors := _model_problems(data, None):
            raise FieldErrors(errors)
        device_model = DeviceModel(**_model_columns(data), **stamps(by, now))
        db.session.add(device_model)
    return device_model


def update_device_model(device_model_id: int, data: DeviceModelData, *, expected_version: int, by: Actor,
                        now: datetime) -> DeviceModel:
    with transaction(db.session, by):
        device_model = get_one(db.session, DeviceModel, device_model_id, entity="device model", lock=True)
        if errors := _model_problems(data, device_model_id):
            raise FieldErrors(errors)
        apply_edit(db.session, device_model, _model_columns(data), expected_version=expected_version, by=by,
                   now=now, what=f"The model {device_model.manufacturer} {device_model.model}")
    return device_model


def model_by_gtin(gtin: str) -> DeviceModel | None:
    return db.session.scalars(select(DeviceModel).where(DeviceModel.gtin == gtin)).first()


def procedure_id_by_code(code: str) -> int | None:
    return db.session.scalars(select(ProcedureType.id).where(ProcedureType.code == code,
                                                             ProcedureType.active.is_(True))).first()


def recent_devices(limit: int) -> list[Device]:
    query = (select(Device).options(joinedload(Device.patient))
             .order_by(Device.implanted_on.desc(), Device.id.desc()).limit(limit))
    return list(db.session.scalars(query))


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
    return {"kind": entry.kind.value, "device_model_id": entry.device_model_id, "manufacturer": entry.manufacturer,
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


def _history(device: Device, before: str | None, on: date, reason: str | None, by: Actor) -> None:
    db.session.add(DeviceStatusChange(device_id=device.id, patient_id=device.patient_id, from_status=before,
                                      to_status=device.status, changed_on=on, reason=reason,
                                      changed_by_id=by.user_id))


def add_device(patient_id: int, entry: DeviceEntry, *, by: Actor, now: datetime, today: date,
               replaces_id: int | None = None) -> Device:
    """Record a device implanted in a patient (a trial lead starts as a trial). When it replaces
    another device, that one becomes replaced, with this one as its successor."""
    if not _may_work(by):
        raise NotFound("patient", patient_id)
    _check_entry(entry, patient_id, today)
    with transaction(db.session, by):
        patient = get_one(db.session, Patient, patient_id, entity="patient")
        status = DeviceStatus.TRIAL if entry.kind is DeviceKind.TRIAL_LEAD else DeviceStatus.IMPLANTED
        device = Device(patient_id=patient_id, status=status.value, office_id=_office_of(entry, patient),
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
        rules.check_status_change(old.status_enum, DeviceStatus.REPLACED)
    except StatusChangeRefused as refused:
        raise FieldErrors({"replaces_id": str(refused)}) from refused
    if successor.implanted_on < old.implanted_on:
        raise FieldErrors({"implanted_on": f"The device it replaces was implanted on {old.implanted_on:%m/%d/%Y}; "
                                           "a replacement cannot be implanted before that."})
    before = old.status
    old.status = DeviceStatus.REPLACED.value
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
        device = _device_to_change(device_id, by)
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
        device = _device_to_change(device_id, by)
        ensure_current(db.session, device, expected_version, "This device")
        rules.check_status_change(device.status_enum, DeviceStatus.EXPLANTED)
        _explant(device, on=on, reason=reason.strip(), by=by, now=now, today=today)
    return device


def _explant(device: Device, *, on: date, reason: str, by: Actor, now: datetime, today: date) -> None:
    if on > today:
        raise FieldErrors({"explanted_on": "The explant date cannot be in the future."})
    if on < device.implanted_on:
        raise FieldErrors({"explanted_on": f"It was implanted on {device.implanted_on:%m/%d/%Y}; "
                                           "the explant cannot be earlier."})
    before = device.status
    device.status = DeviceStatus.EXPLANTED.value
    device.explanted_on = on
    device.explant_reason = reason
    device.next_refill_on = None
    mark_changed(device, by, now)
    _history(device, before, on, reason, by)


def record_eri(device_id: int, *, on: date, expected_version: int, by: Actor, now: datetime, today: date,
               settings: DeviceSettings) -> Device:
    """The elective replacement indicator showed: the replacement is due before the device stops."""
    with transaction(db.session, by):
        device = _device_to_change(device_id, by)
        ensure_current(db.session, device, expected_version, "This device")
        if not device.is_active:
            raise DeviceNotActive(device, "an elective replacement indicator")
        if not device.kind_enum.has_battery:
            raise FieldErrors({"eri_on": "Only pumps and generators have a battery."})
        if on > today or on < device.implanted_on:
            raise FieldErrors({"eri_on": "Give the day the indicator showed: not in the future, not before "
                                         "the implant."})
        device.eri_on = on
        device.replacement_due_on = rules.replacement_due(on, days_after_eri=settings.eri_days)
        mark_changed(device, by, now)
    return device


# Pump refills.

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
        device = _device_to_change(device_id, by)
        if device.kind_enum is not DeviceKind.PUMP:
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


@dataclass(slots=True)
class RefillRow:
    """A pump as the refill worklist shows it: plain values read in one query per section (not
    frozen: a frozen dataclass takes ten times as long to make)."""

    id: int
    patient_id: int
    next_refill_on: date | None
    patient_name: str  # "Last, First"
    mrn: str
    phone: str  # formatted; empty when none is on record
    name: str  # manufacturer and model
    reservoir_ml: Decimal | None
    drug: str | None
    concentration_mg_ml: Decimal | None
    daily_dose_mg: Decimal | None
    office_id: int | None
    office: str | None  # the office's name


@dataclass(slots=True)
class NextAppointment:
    """A patient's next open appointment, as the device worklists show it."""

    starts_at: datetime
    timezone: str  # its office's
    procedure_code: str


@dataclass
class RefillWorklist:
    overdue: list[RefillRow] = field(default_factory=list)
    due_soon: list[RefillRow] = field(default_factory=list)
    never_refilled: list[RefillRow] = field(default_factory=list)
    next_appointments: dict[int, NextAppointment] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # per section, beyond the rows shown
    limit: int = 0
    offsets: dict[str, int] = field(default_factory=dict)  # the rows skipped in each section (its pages)


def _with_patient(query: Select[Device]) -> Select[Device]:
    return query.options(joinedload(Device.patient), joinedload(Device.office))


def _refill_rows(query: Select[*tuple[Any, ...]]) -> list[RefillRow]:
    query = (query.add_columns(Patient.first_name, Patient.last_name, Patient.mrn, Patient.phone, Office.name)
             # Outer joins keep the device table first, read in due order from its index.
             .outerjoin(Patient, Device.patient_id == Patient.id).outerjoin(Office, Device.office_id == Office.id))
    # Unpacked in the order selected: reading a row's values by name takes longer than the rest.
    return [RefillRow(device_id, patient_id, next_refill_on, f"{last_name}, {first_name}", mrn, format_phone(phone),
                      f"{manufacturer} {model}", reservoir_ml, drug, concentration_mg_ml, daily_dose_mg, office_id,
                      office)
            for (device_id, patient_id, next_refill_on, manufacturer, model, reservoir_ml, drug, concentration_mg_ml,
                 daily_dose_mg, office_id, first_name, last_name, mrn, phone, office) in db.session.execute(query)]


def refill_worklist(*, office_id: int | None, today: date, window_days: int, limit: int, now: datetime,
                    by: Actor, offsets: dict[str, int] | None = None) -> RefillWorklist:
    """Active pumps whose refill is overdue or due within `window_days`, and pumps with no refill
    on record, with each patient's next appointment. Each section shows up to `limit` rows, so
    a long overdue list never hides the refills coming due."""
    if not _may_read(by):
        return RefillWorklist()
    where: list[ColumnElement[bool]] = [Device.kind == DeviceKind.PUMP.value, Device.status.in_(ACTIVE)]
    if office_id is not None:
        where.append(Device.office_id == office_id)
    sections = {"overdue": Device.next_refill_on < today,
                "due_soon": Device.next_refill_on.between(today, today + timedelta(days=window_days)),
                "never_refilled": Device.next_refill_on.is_(None)}
    order = {"never_refilled": (Device.implanted_on, Device.id)}
    rows = {name: _refill_rows(select(Device.id, Device.patient_id, Device.next_refill_on, Device.manufacturer,
                                      Device.model, Device.reservoir_ml, Device.drug, Device.concentration_mg_ml,
                                      Device.daily_dose_mg, Device.office_id).where(*where, condition)
                               .order_by(*order.get(name, (Device.next_refill_on, Device.id)))
                               .offset((offsets or {}).get(name, 0)).limit(limit))
            for name, condition in sections.items()}
    # Only the listed pumps are read for the counts, not every active pump of the practice.
    counted = db.session.execute(select(*(func.count().filter(condition).label(name)
                                          for name, condition in sections.items()))
                                 .where(*where, or_(*sections.values()))).one()
    worklist = RefillWorklist(overdue=rows["overdue"], due_soon=rows["due_soon"],
                              never_refilled=rows["never_refilled"], totals=dict(counted._mapping), limit=limit,
                              offsets=offsets or {})
    shown = [device for section in rows.values() for device in section]
    worklist.next_appointments = next_appointments({d.patient_id for d in shown}, now=now)
    record_reading(by, "device", office_id=office_id, subject=f"pump refill worklist: {len(shown)} listed")
    return worklist


def next_appointments(patient_ids: set[int], *, now: datetime) -> dict[int, NextAppointment]:
    """Each patient's next open appointment, in one query."""
    if not patient_ids:
        return {}
    first = (select(Appointment.patient_id, func.min(Appointment.starts_at).label("starts_at"))
             .where(Appointment.patient_id.in_(patient_ids), Appointment.starts_at >= now,
                    Appointment.status.in_(OPEN_STATUS_VALUES))
             .group_by(Appointment.patient_id).subquery())
    query = (select(Appointment.patient_id, Appointment.starts_at, Office.timezone, ProcedureType.code)
             .join(first, (Appointment.patient_id == first.c.patient_id)
                   & (Appointment.starts_at == first.c.starts_at))
             .join(Office, Appointment.office_id == Office.id)
             .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
             .where(Appointment.status.in_(OPEN_STATUS_VALUES)))
    return {patient_id: NextAppointment(starts_at, timezone, code)
            for patient_id, starts_at, timezone, code in db.session.execute(query)}


# Battery and service life.

@dataclass(frozen=True)
class ReplacementRow:
    device: Device
    years: float
    due_on: date | None
    reason: str


def replacement_planning(*, today: date, settings: DeviceSettings, limit: int, by: Actor) -> list[ReplacementRow]:
    """Active pumps and generators that showed their replacement indicator or have been in
    service `replacement_years` or longer."""
    if not _may_read(by):
        return []
    cutoff = today - timedelta(days=int(settings.replacement_years * 365.25) - 3)  # narrowed exactly below
    query = _with_patient(select(Device).where(Device.kind.in_(BATTERY_KINDS), Device.status.in_(ACTIVE),
                                               (Device.implanted_on <= cutoff) | Device.eri_on.is_not(None))
                          .order_by(Device.implanted_on).limit(limit))
    rows = []
    for device in db.session.scalars(query):
        if device.eri_on is None and not rules.is_due_for_replacement_planning(
                device.implanted_on, today, years=settings.replacement_years):
            continue
        years = rules.years_in_service(device.implanted_on, today)
        reason = (f"replacement indicator since {device.eri_on:%m/%d/%Y}" if device.eri_on
                  else f"{years:.1f} years in service")
        rows.append(ReplacementRow(device, years, device.replacement_due_on, reason))
    return sorted(rows, key=lambda row: (row.due_on or date.max, -row.years))


# SCS trials.

@dataclass(frozen=True)
class TrialEntry:
    started_on: date
    planned_end_on: date
    physician_id: int
    office_id: int
    appointment_id: int | None = None
    notes: str | None = None


@dataclass(frozen=True)
class TrialResult:
    pain_reduction_percent: int | None
    analgesic_reduction_percent: int | None
    decision: TrialDecision | None
    decided_on: date | None
    implant_appointment_id: int | None = None
    notes: str | None = None


def get_trial(trial_id: int, *, by: Actor, lock: bool = False) -> ScsTrial:
    if not _may_read(by):
        raise NotFound("trial", trial_id)
    return get_one(db.session, ScsTrial, trial_id, entity="trial", lock=lock)


def open_trial(trial_id: int, *, by: Actor) -> ScsTrial:
    """Opening an SCS trial's page shows its patient and result: audited."""
    trial = get_trial(trial_id, by=by)
    record_reading(by, "scs_trial", trial.id, patient_id=trial.patient_id, office_id=trial.office_id)
    return trial


def trials_of_patient(patient_id: int) -> list[ScsTrial]:
    query = select(ScsTrial).where(ScsTrial.patient_id == patient_id).order_by(ScsTrial.started_on.desc())
    return list(db.session.scalars(query))


def trial_leads(trial_id: int) -> list[Device]:
    return list(db.session.scalars(select(Device).where(Device.trial_id == trial_id).order_by(Device.id)))


def start_trial(patient_id: int, entry: TrialEntry, *, by: Actor, now: datetime, today: date) -> ScsTrial:
    if not _may_work(by):
        raise NotFound("patient", patient_id)
    errors = {}
    if entry.planned_end_on < entry.started_on:
        errors["planned_end_on"] = "The trial cannot end before it starts."
    if entry.started_on > today + timedelta(days=365):
        errors["started_on"] = "Give a start within the next year."
    if errors:
        raise FieldErrors(errors)
    with transaction(db.session, by):
        get_one(db.session, Patient, patient_id, entity="patient")
        trial = ScsTrial(patient_id=patient_id, physician_id=entry.physician_id, office_id=entry.office_id,
                         appointment_id=entry.appointment_id, started_on=entry.started_on,
                         planned_end_on=entry.planned_end_on, notes=entry.notes or None, **stamps(by, now))
        db.session.add(trial)
    return trial


def record_trial_result(trial_id: int, result: TrialResult, *, expected_version: int, by: Actor, now: datetime,
                        today: date) -> ScsTrial:
    """The trial's result and the decision; a decision ends the trial, so its leads come out."""
    errors = {}
    if result.decision and result.decided_on is None:
        errors["decided_on"] = "Give the day of the decision."
    if result.decided_on and result.decided_on > today:
        errors["decided_on"] = "The decision cannot be in the future."
    if result.implant_appointment_id and result.decision is not TrialDecision.IMPLANT:
        errors["implant_appointment_id"] = "Link an implant only when the decision is to implant."
    if errors:
        raise FieldErrors(errors)
    with transaction(db.session, by):
        trial = get_trial(trial_id, by=by, lock=True)
        if not _may_work(by):
            raise NotFound("trial", trial_id)
        if result.decided_on and result.decided_on < trial.started_on:
            raise FieldErrors({"decided_on": f"The trial started on {trial.started_on:%m/%d/%Y}."})
        if result.implant_appointment_id is not None:
            implant = db.session.get(Appointment, result.implant_appointment_id)
            if implant is None or implant.patient_id != trial.patient_id:
                raise FieldErrors({"implant_appointment_id": "Choose one of this patient's appointments."})
        apply_edit(db.session, trial, {
            "pain_reduction_percent": result.pain_reduction_percent,
            "analgesic_reduction_percent": result.analgesic_reduction_percent,
            "decision": result.decision.value if result.decision else None, "decided_on": result.decided_on,
            "implant_appointment_id": result.implant_appointment_id, "notes": result.notes or None},
            expected_version=expected_version, by=by, now=now, what="This trial")
        if result.decision and result.decided_on:
            for lead in trial_leads(trial.id):
                if lead.status == DeviceStatus.TRIAL.value:
                    _explant(lead, on=max(result.decided_on, lead.implanted_on), reason="Trial ended", by=by,
                             now=now, today=today)
    return trial


@dataclass
class TrialLists:
    ending_this_week: list[ScsTrial] = field(default_factory=list)
    awaiting_decision: list[ScsTrial] = field(default_factory=list)
    overdue: list[ScsTrial] = field(default_factory=list)
    running: list[ScsTrial] = field(default_factory=list)


def trial_lists(*, today: date, settings: DeviceSettings, by: Actor) -> TrialLists:
    """Trials without a decision, by state: running past the limit, awaiting a decision, ending
    this week, running."""
    lists = TrialLists()
    if not _may_read(by):
        return lists
    query = (select(ScsTrial).where(ScsTrial.decision.is_(None))
             .options(joinedload(ScsTrial.patient), joinedload(ScsTrial.physician), joinedload(ScsTrial.office))
             .order_by(ScsTrial.planned_end_on, ScsTrial.id))
    for trial in db.session.scalars(query):
        state = rules.trial_state(trial.started_on, trial.planned_end_on, today, decision=None,
                                  overdue_days=settings.trial_overdue_days)
        {TrialState.OVERDUE: lists.overdue, TrialState.AWAITING_DECISION: lists.awaiting_decision,
         TrialState.ENDING_THIS_WEEK: lists.ending_this_week}.get(state, lists.running).append(trial)
    return lists


@dataclass(frozen=True)
class DeviceOverview:
    trials: TrialLists
    replacements: list[ReplacementRow]
    recent: list[Device]


def device_overview(*, today: date, settings: DeviceSettings, limit: int, recent: int, by: Actor) -> DeviceOverview:
    """The devices page: open SCS trials by state, replacements to plan and the latest implants,
    each with its patient. Audited as an opening of patient data."""
    if not _may_read(by):
        return DeviceOverview(TrialLists(), [], [])
    trials = trial_lists(today=today, settings=settings, by=by)
    overview = DeviceOverview(trials, replacement_planning(today=today, settings=settings, limit=limit, by=by),
                              recent_devices(recent))
    listed = (len(trials.overdue) + len(trials.awaiting_decision) + len(trials.ending_this_week)
              + len(trials.running) + len(overview.replacements) + len(overview.recent))
    record_reading(by, "device", subject=f"device overview: {listed} listed")
    return overview


# Recall search.

@dataclass(frozen=True)
class RecallQuery:
    manufacturer: str = ""
    model: str = ""
    gtin: str = ""
    lot: str = ""
    serial: str = ""

    @property
    def is_empty(self) -> bool:
        return not any((self.manufacturer, self.model, self.gtin, self.lot, self.serial))

    def described(self) -> str:
        parts = [f"{name} {value}" for name, value in (("manufacturer", self.manufacturer), ("model", self.model),
                                                       ("GTIN", self.gtin), ("lot", self.lot),
                                                       ("serial", self.serial)) if value]
        return ", ".join(parts)


@dataclass
class RecallResult:
    devices: list[Device]
    next_appointments: dict[int, NextAppointment]


def recall_search(query: RecallQuery, *, now: datetime, by: Actor, export: bool = False) -> RecallResult:
    """Every active device matching the query (exact lot, serial and GTIN; manufacturer and model
    by their start, any case), with each patient's next appointment. The search is audited."""
    if not by.can(Permission.SEARCH_RECALLS) or query.is_empty:
        return RecallResult([], {})
    where: list[ColumnElement[bool]] = [Device.status.in_(ACTIVE)]
    if query.manufacturer:
        where.append(func.lower(Device.manufacturer).startswith(query.manufacturer.lower(), autoescape=True))
    if query.model:
        where.append(func.lower(Device.model).startswith(query.model.lower(), autoescape=True))
    for column, value in ((Device.gtin, query.gtin), (Device.lot, query.lot), (Device.serial, query.serial)):
        if value:
            where.append(column == value)
    with transaction(db.session, by):
        devices = list(db.session.scalars(_with_patient(select(Device).where(*where))
                                          .order_by(Device.manufacturer, Device.model, Device.lot, Device.id)))
        record_event(db.session, by, "export" if export else "search", "device_recall", None,
                     subject=f"{query.described()}: {len(devices)} devices",
                     details={"devices": [d.id for d in devices]})
    return RecallResult(devices, next_appointments({d.patient_id for d in devices}, now=now))

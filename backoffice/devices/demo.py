"""The demo device catalog, and a few synthetic patients' implants: pumps with their refill logs
(one overdue, one due soon), stimulators (one not MRI conditional), a pump old enough for
replacement planning and a running SCS trial."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from backoffice.auth.editing import stamps
from backoffice.catalog.models import DeviceModel
from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.devices import pump_refills, services, trials
from backoffice.devices.models import Device
from backoffice.devices.pump_refills import RefillEntry
from backoffice.devices.rules import DeviceSettings
from backoffice.devices.services import DeviceEntry
from backoffice.devices.trials import TrialEntry
from backoffice.patients.models import Patient
from backoffice.practice.models import Physician

ACTOR = Actor.system("demo-data")
WORKER = Actor(None, "demo-data", frozenset({"nurse", "physician"}), None)

# (manufacturer, model, GTIN, kind, MRI conditional, rechargeable, reservoir mL). The first GTIN is
# the one in the label example; the others use the GS1 example company prefix 0614141.
MODELS: tuple[tuple[str, str, str, DeviceKind, bool, bool, int | None], ...] = (
    ("Medtronic", "SynchroMed II 40 mL", "00643169001763", DeviceKind.PUMP, True, False, 40),
    ("Medtronic", "SynchroMed II 20 mL", "00614141000012", DeviceKind.PUMP, True, False, 20),
    ("Medtronic", "Ascenda intrathecal catheter", "00614141000029", DeviceKind.IT_CATHETER, True, False, None),
    ("Boston Scientific", "WaveWriter Alpha 16", "00614141000036", DeviceKind.SCS_GENERATOR, True, True, None),
    ("Abbott", "Proclaim XR", "00614141000043", DeviceKind.SCS_GENERATOR, True, False, None),
    ("Nevro", "Senza HFX iQ", "00614141000050", DeviceKind.SCS_GENERATOR, True, True, None),
    ("Boston Scientific", "Precision Plus (legacy)", "00614141000067", DeviceKind.SCS_GENERATOR, False, True, None),
    ("Boston Scientific", "Infinion 16 lead", "00614141000074", DeviceKind.SCS_LEAD, True, False, None),
    ("Medtronic", "Vectris trial lead", "00614141000081", DeviceKind.TRIAL_LEAD, True, False, None),
)


def load(now: datetime, today: date, settings: DeviceSettings, *, implants: bool = True) -> int:
    """The catalog, then the demo implants once. Returns how many devices were added."""
    _load_models(now)
    if not implants or db.session.scalar(select(func.count()).select_from(Device)):
        return 0
    patients = list(db.session.scalars(select(Patient.id).order_by(Patient.id.desc()).limit(8)))
    doctor = db.session.scalars(select(Physician.id).order_by(Physician.id)).first()
    if len(patients) < 8 or doctor is None:
        return 0
    models = {m.model: m for m in db.session.scalars(select(DeviceModel))}
    # Pumps whose last refill was 80, 62 and 20 days ago: overdue, due soon, later.
    for patient_id, years, last_refill in ((patients[0], 3, 80), (patients[1], 2, 62), (patients[2], 5, 20)):
        pump = _implant(patient_id, models["SynchroMed II 40 mL"], today - timedelta(days=365 * years), doctor,
                        now=now, serial=f"NGP{patient_id:06d}")
        for days_ago in (last_refill + 150, last_refill + 75, last_refill):
            on = today - timedelta(days=days_ago)
            pump_refills.record_refill(pump.id, RefillEntry(
                refilled_on=on, office_id=1 + patient_id % 2, drug="Morphine", concentration_mg_ml=Decimal(10),
                daily_dose_mg=Decimal(5), withdrawn_ml=Decimal("2.5"), added_ml=Decimal(40),
                alarm_ml=settings.alarm_ml, stability_days=settings.stability_days,
                margin_days=settings.margin_days), by=WORKER, now=now, today=on, settings=settings)
    _implant(patients[3], models["SynchroMed II 20 mL"], today - timedelta(days=int(365.25 * 7)), doctor, now=now,
             serial=f"NGP{patients[3]:06d}")
    for patient_id, model in ((patients[4], "WaveWriter Alpha 16"), (patients[5], "Precision Plus (legacy)")):
        _implant(patient_id, models[model], today - timedelta(days=400), doctor, now=now, serial=f"SC{patient_id:06d}")
        _implant(patient_id, models["Infinion 16 lead"], today - timedelta(days=400), doctor, now=now,
                 serial=f"LD{patient_id:06d}")
    trial = trials.start_trial(patients[6], TrialEntry(
        started_on=today - timedelta(days=5), planned_end_on=today + timedelta(days=2), physician_id=doctor,
        office_id=1), by=WORKER, now=now, today=today)
    for side in ("L", "R"):
        services.add_device(patients[6], DeviceEntry(
            kind=DeviceKind.TRIAL_LEAD, manufacturer="Medtronic", model="Vectris trial lead",
            implanted_on=trial.started_on, device_model_id=models["Vectris trial lead"].id, gtin="00614141000081",
            lot="TL2611", serial=f"TL{patients[6]:05d}{side}", physician_id=doctor, mri_conditional=True,
            trial_id=trial.id), by=WORKER, now=now, today=today)
    return db.session.scalar(select(func.count()).select_from(Device)) or 0


def _implant(patient_id: int, model: DeviceModel, on: date, doctor: int, *, now: datetime, serial: str) -> Device:
    return services.add_device(patient_id, DeviceEntry(
        kind=model.kind, manufacturer=model.manufacturer, model=model.model, implanted_on=on,
        device_model_id=model.id, gtin=model.gtin, lot=f"L{on:%y%m}", serial=serial,
        expiry=on + timedelta(days=700), physician_id=doctor, mri_conditional=model.mri_conditional,
        rechargeable=model.rechargeable, reservoir_ml=model.reservoir_ml), by=WORKER, now=now, today=on)


def _load_models(now: datetime) -> None:
    known = set(db.session.scalars(select(DeviceModel.gtin)))
    with transaction(db.session, ACTOR):
        for manufacturer, model, gtin, kind, mri, rechargeable, reservoir in MODELS:
            if gtin not in known:
                db.session.add(DeviceModel(manufacturer=manufacturer, model=model, gtin=gtin, kind=kind,
                                           mri_conditional=mri, rechargeable=rechargeable, **stamps(ACTOR, now),
                                           reservoir_ml=Decimal(reservoir) if reservoir else None))

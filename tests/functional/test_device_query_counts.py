"""The device pages send the same few SQL statements whatever the registry's size.

A small registry is built through the services (pumps overdue, due soon and never refilled, an old
pump for replacement planning, a stimulator and a pump of the recalled lot, the second explanted,
SCS trials in every state), and each page is counted under QueryCounter: the overview, the refill
list with its office filter, the recall search by lot and by manufacturer and their CSV exports.
Then a few thousand synthetic patients with their pumps and refill logs, stimulators, old devices,
explanted devices of the recalled lot, trials with their leads and a few upcoming appointments are
bulk-inserted (Core executemany) and the same pages must send exactly as many statements, while
showing the new rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, insert, select, text

from backoffice.auth.models import User
from backoffice.catalog.models import DeviceModel, ProcedureType
from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.core.timefmt import practice_today
from backoffice.devices import pump_refills, rules, services, trials
from backoffice.devices.models import Device, DeviceStatusChange, PumpRefill, ScsTrial
from backoffice.devices.pump_refills import RefillEntry
from backoffice.devices.rules import DeviceSettings, DeviceStatus, TrialDecision
from backoffice.devices.services import DeviceEntry
from backoffice.devices.trials import TrialEntry, TrialResult
from backoffice.patients.models import Patient
from backoffice.patients.rules import mrn_from_number, name_key
from backoffice.practice.models import Office, Physician, Room
from backoffice.scheduling.models import Appointment
from tests.conftest import QueryCounter

# Every device page must stay within this many SQL statements (SQLite's explicit BEGIN left out),
# however many devices the practice has. Measured on both engines: the overview sends 5 (the
# signed-in user, the open trials, replacement planning, the recent implants, the audit event);
# the refill list 7 (the user, the due pumps, the pumps never refilled, the next appointments, the
# audit event, the offices, the refill procedure); the recall search and its export 4 (the user,
# the devices, the audit event, the next appointments).
QUERY_CEILING = 12
SYNTHETIC_PATIENTS = 3_000
SYNTHETIC = "Synthetic"  # the last names of the bulk-inserted patients start so
RECALLED_LOT = "RC2409"
NURSE = Actor(2, "nurse", frozenset({"nurse"}), "192.0.2.22")
PHYSICIAN = Actor(3, "physician", frozenset({"physician"}), "192.0.2.21")
SETTINGS = DeviceSettings()
# A 40 mL pump of morphine 10 mg/mL at 5 mg a day: 0.5 mL a day, (40 - 2) / 0.5 = 76 days of drug,
# less the 7-day margin: refilled every 69 days.
DAILY_ML = rules.daily_volume(Decimal(5), Decimal(10))
INTERVAL = rules.plan_next_refill(date(2000, 1, 1), volume_ml=Decimal(40), alarm_ml=SETTINGS.alarm_ml,
                                  daily_ml=DAILY_ML, stability_days=SETTINGS.stability_days,
                                  margin_days=SETTINGS.margin_days).interval_days

INDEX_SECTIONS = ("trials-overdue", "trials-result-due", "trials-awaiting", "trials-implant", "trials-ending",
                  "trials-running", "replacements")
REFILL_SECTIONS = ("overdue", "soon", "never")


# The small registry, through the services.

@dataclass(frozen=True)
class SmallRegistry:
    """Whom each page lists (names as the pages print them)."""

    overdue: str        # a pump of the recalled lot, last refilled 80 days ago (office 1)
    due_soon: str       # a pump last refilled 62 days ago (office 2)
    never: str          # a pump with no refill on record
    old_pump: str       # a 20 mL pump implanted seven years ago
    stimulator: str     # a generator of the recalled lot, and its lead
    explanted: str      # a pump of the recalled lot, explanted
    ending: str         # a trial that ends in two days
    awaiting: str       # a trial that ended yesterday with its result
    overdue_trial: str  # a trial started twelve days ago
    running: str        # a trial planned for twelve days, started yesterday
    result_due: str     # a trial that ended yesterday without a result
    implant: str        # a trial decided for an implant, none booked


def shown(patient: Patient) -> str:
    return str(escape(patient.sortable_name))


def model(name: str) -> DeviceModel:
    return db.session.scalars(select(DeviceModel).where(DeviceModel.model == name)).one()


def implant(patient: Patient, name: str, on: date, *, lot: str, serial: str, today: date,
            trial_id: int | None = None) -> Device:
    found = model(name)
    return services.add_device(patient.id, DeviceEntry(
        kind=found.kind, manufacturer=found.manufacturer, model=found.model, implanted_on=on,
        device_model_id=found.id, gtin=found.gtin, lot=lot, serial=serial, mri_conditional=found.mri_conditional,
        rechargeable=found.rechargeable, reservoir_ml=found.reservoir_ml, trial_id=trial_id), by=NURSE,
        now=utcnow(), today=today)


def refill(device: Device, on: date, office_id: int, today: date) -> None:
    pump_refills.record_refill(device.id, RefillEntry(
        refilled_on=on, office_id=office_id, drug="Morphine", concentration_mg_ml=Decimal(10),
        daily_dose_mg=Decimal(5), withdrawn_ml=Decimal("2.5"), added_ml=Decimal(40), alarm_ml=SETTINGS.alarm_ml,
        stability_days=SETTINGS.stability_days, margin_days=SETTINGS.margin_days), by=NURSE, now=utcnow(),
        today=today, settings=SETTINGS)


def trial(patient: Patient, started: date, ends: date, physician_id: int, today: date, *, leads: bool = True,
          result: int | None = None, decision: TrialDecision | None = None) -> None:
    """A trial with its two leads, and its result (the trial ended as planned) when given."""
    found = trials.start_trial(patient.id, TrialEntry(started_on=started, planned_end_on=ends,
                                                        physician_id=physician_id, office_id=1),
                                 by=NURSE, now=utcnow(), today=today)
    for side in ("L", "R") if leads else ():
        implant(patient, "Vectris trial lead", started, lot="TL2611", serial=f"TL{patient.id:05d}{side}", today=today,
                trial_id=found.id)
    if result is not None:
        trials.record_trial_result(found.id, TrialResult(result, None, decision, ends if decision else None,
                                                         ended_on=ends),
                                   expected_version=found.version, by=PHYSICIAN, now=utcnow(), today=today)


def small_registry(app: Flask) -> SmallRegistry:
    with app.app_context():
        today = practice_today(utcnow())
        p = list(db.session.scalars(select(Patient).order_by(Patient.id)))
        doctor = db.session.scalars(select(Physician.id).order_by(Physician.id)).first()
        assert doctor is not None and len(p) >= 12
        for patient, last, office_id in ((p[0], 80, 1), (p[1], 62, 2)):
            pump = implant(patient, "SynchroMed II 40 mL", today - timedelta(days=3 * 365),
                           lot=RECALLED_LOT if patient is p[0] else "L2301", serial=f"NGP{patient.id:06d}",
                           today=today)
            for days_ago in (last + 2 * INTERVAL, last + INTERVAL, last):
                refill(pump, today - timedelta(days=days_ago), office_id, today)
        implant(p[2], "SynchroMed II 40 mL", today - timedelta(days=30), lot="L2502", serial="NGP-NEW", today=today)
        implant(p[3], "SynchroMed II 20 mL", today - timedelta(days=int(365.25 * 7)), lot="L1801", serial="NGP-OLD",
                today=today)
        implant(p[4], "WaveWriter Alpha 16", today - timedelta(days=400), lot=RECALLED_LOT, serial="SC-1", today=today)
        implant(p[4], "Infinion 16 lead", today - timedelta(days=400), lot="LD2301", serial="LD-1", today=today)
        gone = implant(p[5], "SynchroMed II 40 mL", today - timedelta(days=700), lot=RECALLED_LOT, serial="NGP-OUT",
                       today=today)
        services.explant_device(gone.id, on=today - timedelta(days=10), reason="Infection", expected_version=1,
                                by=NURSE, now=utcnow(), today=today)
        trial(p[6], today - timedelta(days=5), today + timedelta(days=2), doctor, today)
        trial(p[7], today - timedelta(days=8), today - timedelta(days=1), doctor, today, result=65)
        trial(p[8], today - timedelta(days=12), today - timedelta(days=5), doctor, today)
        trial(p[9], today - timedelta(days=1), today + timedelta(days=11), doctor, today)
        trial(p[10], today - timedelta(days=8), today - timedelta(days=1), doctor, today, leads=False)
        trial(p[11], today - timedelta(days=9), today - timedelta(days=2), doctor, today, leads=False, result=70,
              decision=TrialDecision.IMPLANT)
        registry = SmallRegistry(*(shown(patient) for patient in p[:12]))
        db.session.remove()
    return registry


# A few thousand more patients, bulk-inserted.

# In the order their foreign keys need.
TABLES: dict[str, Any] = {"patient": Patient, "scs_trial": ScsTrial, "device": Device,
                          "device_status_change": DeviceStatusChange, "pump_refill": PumpRefill,
                          "appointment": Appointment}
GENERATORS = ("WaveWriter Alpha 16", "Proclaim XR", "Senza HFX iQ")
OVERDUE, DUE_SOON, NEVER = 40, 40, 30  # pumps of each, few enough for the refill list's 100 rows a section
OLD = 60                               # pumps and generators past 6.5 years
ERI = 10                               # generators that showed their replacement indicator


class SyntheticRegistry:
    """Rows for the patient, device, device_status_change, pump_refill, scs_trial and appointment
    tables, with explicit ids; and how many of them each page should add."""

    def __init__(self, today: date, now: datetime) -> None:
        self.today, self.now = today, now
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.next_id = {name: (db.session.scalar(select(func.max(table.id))) or 0) + 1
                        for name, table in TABLES.items()}
        self.nurse = db.session.scalars(select(User.id).where(User.username == "nurse")).one()
        template = db.session.execute(select(Patient.__table__).order_by(Patient.id).limit(1)).mappings().one()
        self.template = {key: value for key, value in template.items() if key != "id"}
        self.models = {m.model: m for m in db.session.scalars(select(DeviceModel))}
        self.offices = list(db.session.scalars(select(Office.id).order_by(Office.id)))
        self.physicians = list(db.session.scalars(select(Physician.id).order_by(Physician.id)))
        self.rooms = db.session.execute(select(Room.id, Room.office_id).order_by(Room.id)).all()
        self.refill_procedure = db.session.scalars(select(ProcedureType)
                                                   .where(ProcedureType.code == "PUMP-REFILL")).one()
        self.booked = 0
        self.recalled_active = 0   # active devices of the recalled lot
        self.medtronic_active = 0  # active Medtronic devices

    def _id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table] - 1

    def _stamps(self, at: datetime) -> dict[str, Any]:
        return {"version": 1, "created_at": at, "updated_at": at, "updated_by_id": self.nurse}

    def patient(self, number: int) -> int:
        first_name, last_name = self.template["first_name"], f"{SYNTHETIC}{number:05d}"
        row = {**self.template, "id": self._id("patient"), "mrn": mrn_from_number(200_000 + number),
               "first_name": first_name, "last_name": last_name, "first_name_key": name_key(first_name),
               "last_name_key": name_key(last_name), **self._stamps(self.now)}
        self.rows["patient"].append(row)
        return int(row["id"])

    def device(self, patient_id: int, name: str, implanted_on: date, *, lot: str, serial: str,
               office_id: int | None, status: DeviceStatus | None = None, **values: Any) -> dict[str, Any]:
        """A device of a catalog model, with its implant (and explant) in its history."""
        found = self.models[name]
        kind = found.kind
        status = status or (DeviceStatus.TRIAL if kind is DeviceKind.TRIAL_LEAD else DeviceStatus.IMPLANTED)
        row: dict[str, Any] = {
            "id": self._id("device"), "patient_id": patient_id, "kind": kind.value, "device_model_id": found.id,
            "manufacturer": found.manufacturer, "model": found.model, "gtin": found.gtin, "lot": lot,
            "serial": serial, "expiry": implanted_on + timedelta(days=700), "manufactured": None,
            "implanted_on": implanted_on, "physician_id": self.physicians[0], "appointment_id": None,
            "trial_id": None, "office_id": office_id, "site": None, "mri_conditional": found.mri_conditional,
            "rechargeable": found.rechargeable, "status": status.value, "explanted_on": None,
            "explant_reason": None, "successor_id": None, "eri_on": None, "replacement_due_on": None,
            "reservoir_ml": found.reservoir_ml if kind is DeviceKind.PUMP else None, "drug": None,
            "concentration_mg_ml": None, "daily_dose_mg": None, "next_refill_on": None, "notes": None,
            **self._stamps(self.now)}
        row.update(values)
        first = DeviceStatus.TRIAL if kind is DeviceKind.TRIAL_LEAD else DeviceStatus.IMPLANTED
        self.history(row, None, first, implanted_on)
        if status is DeviceStatus.EXPLANTED:
            assert row["explanted_on"] is not None and row["explanted_on"] >= implanted_on
            self.history(row, first, status, row["explanted_on"], row["explant_reason"])
            row["version"] = 2
        if status.is_active:
            self.recalled_active += lot == RECALLED_LOT
            self.medtronic_active += found.manufacturer == "Medtronic"
        self.rows["device"].append(row)
        return row

    def history(self, device: dict[str, Any], before: DeviceStatus | None, after: DeviceStatus, on: date,
                reason: str | None = None) -> None:
        self.rows["device_status_change"].append({
            "id": self._id("device_status_change"), "device_id": device["id"], "patient_id": device["patient_id"],
            "from_status": before.value if before else None, "to_status": after.value, "changed_on": on,
            "reason": reason, "changed_by_id": self.nurse})

    def pump(self, patient_id: int, number: int, next_due: date | None, office_id: int,
             implanted: date | None = None) -> dict[str, Any]:
        """A 40 mL morphine pump refilled every 69 days, its last refill making `next_due` (None: no
        refill on record)."""
        refills = [] if next_due is None else [next_due - timedelta(days=INTERVAL * k) for k in (3, 2, 1)]
        implanted = implanted or (refills[0] if refills else self.today) - timedelta(days=30 + number % 300)
        filled = {"drug": "Morphine", "concentration_mg_ml": Decimal(10), "daily_dose_mg": Decimal(5),
                  "next_refill_on": next_due} if refills else {}
        device = self.device(patient_id, "SynchroMed II 40 mL", implanted, lot=f"L{implanted:%y%m}",
                             serial=f"SYN{number:06d}", office_id=office_id, **filled)
        previous: date | None = None
        for on in refills:
            expected = (None if previous is None else
                        rules.expected_residual(last_volume_ml=Decimal(40), daily_ml=DAILY_ML,
                                                days=(on - previous).days))
            plan = rules.plan_next_refill(on, volume_ml=Decimal(40), alarm_ml=SETTINGS.alarm_ml, daily_ml=DAILY_ML,
                                          stability_days=SETTINGS.stability_days, margin_days=SETTINGS.margin_days)
            at = datetime.combine(on, time(15), UTC)
            self.rows["pump_refill"].append({
                "id": self._id("pump_refill"), "device_id": device["id"], "patient_id": patient_id,
                "office_id": office_id, "appointment_id": None, "refilled_on": on, "drug": "Morphine",
                "concentration_mg_ml": Decimal(10), "daily_dose_mg": Decimal(5), "daily_ml": DAILY_ML,
                "expected_residual_ml": expected, "withdrawn_ml": expected if expected is not None else Decimal(0),
                "added_ml": Decimal(40), "alarm_ml": SETTINGS.alarm_ml, "stability_days": SETTINGS.stability_days,
                "margin_days": SETTINGS.margin_days, "mismatch": False, "next_due_on": plan.next_due,
                "alarm_note": None, "notes": None, "recorded_by_id": self.nurse, **self._stamps(at)})
            previous = on
        assert next_due is None or (previous is not None and previous + timedelta(days=INTERVAL) == next_due)
        return device

    def trial(self, patient_id: int, number: int, started: date, ends: date, result: bool,
              decision: TrialDecision | None = None) -> None:
        """A trial and its two leads, with its result when `result`; a decided trial has its leads explanted."""
        decided = decision is not None
        row = {"id": self._id("scs_trial"), "patient_id": patient_id, "physician_id": self.physicians[0],
               "office_id": self.offices[number % len(self.offices)], "appointment_id": None, "started_on": started,
               "planned_end_on": ends, "pain_reduction_percent": 60 if result else None,
               "analgesic_reduction_percent": None, "ended_on": ends if result else None,
               "result_source": "trial_page" if result else None, "decision": decision.value if decision else None,
               "decided_on": ends if decided else None, "implant_appointment_id": None, "notes": None,
               **self._stamps(self.now)}
        self.rows["scs_trial"].append(row)
        for side in ("L", "R"):
            ended = {"status": DeviceStatus.EXPLANTED, "explanted_on": ends, "explant_reason": "Trial ended"}
            self.device(patient_id, "Vectris trial lead", started, lot="TL2611", serial=f"TL{number:06d}{side}",
                        office_id=row["office_id"], trial_id=row["id"], **(ended if decided else {}))

    def appointment(self, patient_id: int) -> None:
        """A pump refill booked in six to eight weeks, in a lane (physician and room) of its own."""
        lanes = min(len(self.physicians), len(self.rooms))
        number, self.booked = self.booked, self.booked + 1
        day = self.today + timedelta(days=42 + number // (lanes * 6))
        starts = datetime.combine(day, time(13), UTC) + timedelta(hours=number // lanes % 6)
        room = self.rooms[number % lanes]
        ends = starts + timedelta(minutes=self.refill_procedure.duration_minutes)
        self.rows["appointment"].append({
            "id": self._id("appointment"), "patient_id": patient_id, "procedure_type_id": self.refill_procedure.id,
            "physician_id": self.physicians[number % lanes], "office_id": room.office_id, "room_id": room.id,
            "starts_at": starts, "ends_at": ends,
            "blocked_until": ends + timedelta(minutes=self.refill_procedure.turnover_minutes), "region": None,
            "side": None, "levels_count": None, "levels": None, "status": "scheduled", "status_changed_at": self.now,
            "cancel_reason": None, "cancel_note": None, "replaces_id": None, "override_reason": None,
            "prior_auth_ref": None, "notes": None, "baseline_nrs": None, "created_by_id": self.nurse,
            **self._stamps(self.now)})

    def add(self, number: int) -> None:
        """Patient `number`'s devices; three in ten have none."""
        patient_id = self.patient(number)
        group, rank = number % 10, number // 10
        office_id = self.offices[rank % len(self.offices)]
        today = self.today
        if group in (0, 1, 2):  # pumps: a few overdue, due soon or never refilled; most refilled not long ago
            if group == 0 and rank < OVERDUE:
                due: date | None = today - timedelta(days=1 + rank)
            elif group == 1 and rank < DUE_SOON:
                due = today + timedelta(days=rank % (SETTINGS.refill_window_days + 1))
            elif group == 2 and rank < NEVER:
                due = None
            else:
                due = today + timedelta(days=SETTINGS.refill_window_days + 1 + rank % 50)
            self.pump(patient_id, number, due, office_id)
            if due is not None and due <= today + timedelta(days=SETTINGS.refill_window_days) and rank % 2 == 0:
                self.appointment(patient_id)
        elif group in (3, 4):  # stimulators, one in five of the recalled lot
            implanted = today - timedelta(days=60 + rank * 3)
            recalled = rank % 5 == 0
            self.device(patient_id, GENERATORS[rank % 3], implanted, lot=RECALLED_LOT if recalled else "G2301",
                        serial=f"SC{number:06d}", office_id=office_id)
            self.device(patient_id, "Infinion 16 lead", implanted, lot="LD2301", serial=f"LD{number:06d}",
                        office_id=office_id)
            if recalled and rank % 2 == 0:
                self.appointment(patient_id)
        elif group == 5:
            if rank < OLD:  # past 6.5 years: generators, and pumps refilled not long ago
                implanted = today - timedelta(days=int(365.25 * 7) + rank * 20)
                if rank % 2:
                    self.pump(patient_id, number, today + timedelta(days=30), office_id, implanted)
                else:
                    self.device(patient_id, "Proclaim XR", implanted, lot="G1701", serial=f"SC{number:06d}",
                                office_id=office_id)
            elif rank < OLD + ERI:  # five years in, the replacement indicator showed ten days ago
                eri = today - timedelta(days=10)
                self.device(patient_id, "Senza HFX iQ", today - timedelta(days=5 * 365), lot="G2001",
                            serial=f"SC{number:06d}", office_id=office_id, eri_on=eri,
                            replacement_due_on=rules.replacement_due(eri, days_after_eri=SETTINGS.eri_days))
            else:  # explanted pumps of the recalled lot: never in a recall, never due a refill
                implanted = today - timedelta(days=400 + rank)
                self.device(patient_id, "SynchroMed II 40 mL", implanted, lot=RECALLED_LOT, serial=f"SYN{number:06d}",
                            office_id=office_id, status=DeviceStatus.EXPLANTED,
                            explanted_on=implanted + timedelta(days=200), explant_reason="Infection")
        elif group == 6:  # SCS trials, a seventh in each state listed and a seventh decided not to proceed
            state = rank % 7
            started, ends = {0: (today - timedelta(days=1), today + timedelta(days=11)),
                             1: (today - timedelta(days=3), today + timedelta(days=4)),
                             2: (today - timedelta(days=8), today - timedelta(days=1)),
                             3: (today - timedelta(days=12 + rank % 20), today - timedelta(days=5 + rank % 20))}.get(
                                 state, (today - timedelta(days=30 + rank), today - timedelta(days=23 + rank)))
            decision = {5: TrialDecision.IMPLANT, 6: TrialDecision.FAILED}.get(state)
            self.trial(patient_id, number, started, ends, result=state >= 4, decision=decision)


def add_synthetic_registry(app: Flask, count: int = SYNTHETIC_PATIENTS) -> SyntheticRegistry:
    """Insert `count` synthetic patients and their devices."""
    with app.app_context():
        now = utcnow()
        registry = SyntheticRegistry(practice_today(now), now)
        for number in range(count):
            registry.add(number)
        for name, table in TABLES.items():
            db.session.execute(insert(table.__table__), registry.rows[name])
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                        f"(SELECT max(id) FROM \"{name}\"))"))
        db.session.commit()
        db.session.remove()
    return registry


# Reading the pages.

def section(html: str, key: str) -> str:
    start = html.index(f'aria-labelledby="{key}">')
    return html[start:html.index("</section>", start)]


def total(html: str, key: str) -> int:
    """The section's count, as its heading shows it ("Overdue (12)"); 0 for a section not shown."""
    match = re.search(rf'id="{key}">[^<]*<span class="text-muted">\((\d+)\)</span>', html)
    return int(match.group(1)) if match else 0


def found(html: str) -> int:
    """How many devices a recall search found, as its heading says ("2 active devices for lot ...")."""
    match = re.search(r'id="found">(\d+) active devices? for ', html)
    assert match is not None
    return int(match.group(1))


def measured(app: Flask, client: FlaskClient, url: str) -> tuple[list[str], str]:
    """The SQL statements a GET sends (SQLite's explicit BEGIN left out) and the page."""
    with QueryCounter(app) as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return [s for s in counter.statements if not s.startswith("BEGIN")], response.get_data(as_text=True)


def csv_rows(body: str) -> list[str]:
    return body.splitlines()[1:]


Measured = dict[str, tuple[list[str], str]]  # URL: (the statements sent, the page)


def small_and_large(app: Flask, signed_in: Any, pages: list[tuple[str, str]]) -> tuple[Measured, Measured,
                                                                                        SyntheticRegistry]:
    """Each page as `role` sees it with the small registry, then with the synthetic one added;
    the statement counts must match and stay within the ceiling."""
    clients = {role: signed_in(role) for role in dict.fromkeys(role for role, _ in pages)}
    small = {url: measured(app, clients[role], url) for role, url in pages}
    added = add_synthetic_registry(app)
    assert len(added.rows["patient"]) == SYNTHETIC_PATIENTS and len(added.rows["device"]) > SYNTHETIC_PATIENTS // 2
    large = {url: measured(app, clients[role], url) for role, url in pages}
    for _, url in pages:
        assert len(large[url][0]) == len(small[url][0]), (url, small[url][0], large[url][0])
    counts = {url: (len(small[url][0]), len(large[url][0])) for _, url in pages}
    assert max(count for _, count in counts.values()) <= QUERY_CEILING, counts
    return small, large, added


def test_the_device_overview_sends_as_many_queries_for_thousands_of_devices_as_for_a_few(app, signed_in,
                                                                                          one_appointment):
    few = small_registry(app)
    small, large, _ = small_and_large(app, signed_in, [("nurse", "/devices")])
    before, after = small["/devices"][1], large["/devices"][1]
    for key, name in (("trials-overdue", few.overdue_trial), ("trials-awaiting", few.awaiting),
                      ("trials-ending", few.ending), ("trials-running", few.running),
                      ("trials-result-due", few.result_due), ("trials-implant", few.implant),
                      ("replacements", few.old_pump)):
        assert name in section(before, key), key
    for key in INDEX_SECTIONS:
        assert total(after, key) > total(before, key), key
        assert SYNTHETIC in section(after, key), key
    assert total(after, "replacements") == 1 + OLD + ERI
    assert SYNTHETIC not in section(before, "recent") and SYNTHETIC in section(after, "recent")


def test_the_refill_list_sends_as_many_queries_for_thousands_of_pumps_as_for_a_few(app, signed_in, one_appointment):
    few = small_registry(app)
    urls = ["/devices/refills", "/devices/refills?office=1", "/devices/refills?office=2"]
    small, large, _ = small_and_large(app, signed_in, [("nurse", url) for url in urls])
    both = small["/devices/refills"][1]
    assert few.overdue in section(both, "overdue") and few.due_soon in section(both, "soon")
    assert few.never in section(both, "never") and few.explanted not in both
    assert few.overdue in small["/devices/refills?office=1"][1]
    assert few.overdue not in small["/devices/refills?office=2"][1]
    for url in urls:
        for key in REFILL_SECTIONS:
            assert total(large[url][1], key) > total(small[url][1], key), (url, key)
            assert SYNTHETIC in section(large[url][1], key), (url, key)
    after = large["/devices/refills"][1]
    assert (total(after, "overdue"), total(after, "soon"), total(after, "never")) == (
        1 + OVERDUE, 1 + DUE_SOON, 2 + NEVER)
    assert "PUMP-REFILL" in section(after, "overdue")  # the next appointments booked for them


def test_the_recall_search_and_its_export_send_as_many_queries_for_thousands_of_devices_as_for_a_few(
        app, signed_in, one_appointment):
    few = small_registry(app)
    by_lot, by_maker = f"/devices/recall?lot={RECALLED_LOT}", "/devices/recall?manufacturer=Medtronic"
    urls = [by_lot, by_maker, f"{by_lot}&export=csv", f"{by_maker}&export=csv"]
    small, large, added = small_and_large(app, signed_in, [("manager", url) for url in urls])
    recalled = small[by_lot][1]
    assert found(recalled) == 2 and few.overdue in recalled and few.stimulator in recalled
    assert few.explanted not in recalled and few.due_soon not in recalled
    medtronic = found(small[by_maker][1])  # four pumps and the eight trial leads; not the explanted pump
    assert medtronic == 12 and few.explanted not in small[by_maker][1]
    assert len(csv_rows(small[f"{by_lot}&export=csv"][1])) == 2
    assert len(csv_rows(small[f"{by_maker}&export=csv"][1])) == medtronic

    assert added.recalled_active > 0 and added.medtronic_active > 0
    assert found(large[by_lot][1]) == 2 + added.recalled_active
    assert found(large[by_maker][1]) == medtronic + added.medtronic_active
    assert len(csv_rows(large[f"{by_lot}&export=csv"][1])) == 2 + added.recalled_active
    assert len(csv_rows(large[f"{by_maker}&export=csv"][1])) == medtronic + added.medtronic_active
    assert SYNTHETIC in large[by_lot][1] and SYNTHETIC in large[f"{by_lot}&export=csv"][1]
    assert "none booked" in large[by_lot][1] and "PUMP-REFILL" in large[by_lot][1]

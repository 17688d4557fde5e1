"""Read models of the device pages: the overview (open SCS trials by state, replacements to plan,
the latest implants), the pump refill worklist and the recall search, each with the patients it
lists. Every list is audited as an opening of patient data; none of them writes anything else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import joinedload

from backoffice.audit.readings import record_reading
from backoffice.audit.trail import record_event
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import DeviceKind
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.core.phones import format_phone
from backoffice.devices import rules, trials
from backoffice.devices.models import Device, ScsTrial
from backoffice.devices.rules import IN_THE_PATIENT, DeviceSettings, TrialDecision, TrialState
from backoffice.devices.services import can_read_devices
from backoffice.patients.models import Patient
from backoffice.practice.models import Office
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import OPEN_STATUSES

BATTERY_KINDS = tuple(kind for kind in DeviceKind if kind.has_battery)


# Pump refills due.

@dataclass(frozen=True)
class NextAppointment:
    """A patient's next open appointment, as the device worklists show it."""

    starts_at: datetime
    timezone: str  # its office's
    procedure_code: str


@dataclass(slots=True)
class RefillRow:
    """A pump as the refill worklist shows it, with its patient and office: the columns of
    one query per section, by name."""

    id: int
    patient_id: int
    next_refill_on: date | None
    manufacturer: str
    model: str
    reservoir_ml: Decimal | None
    drug: str | None
    concentration_mg_ml: Decimal | None
    daily_dose_mg: Decimal | None
    office_id: int | None
    first_name: str
    last_name: str
    mrn: str
    phone: str | None
    office: str | None  # the office's name

    @property
    def name(self) -> str:
        return f"{self.manufacturer} {self.model}"

    @property
    def patient_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)


@dataclass
class RefillWorklist:
    overdue: list[RefillRow] = field(default_factory=list)
    due_soon: list[RefillRow] = field(default_factory=list)
    never_refilled: list[RefillRow] = field(default_factory=list)
    next_appointments: dict[int, NextAppointment] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # per section, beyond the rows shown
    limit: int = 0
    offsets: dict[str, int] = field(default_factory=dict)  # the rows skipped in each section (its pages)


REFILL_COLUMNS = (Device.id, Device.patient_id, Device.next_refill_on, Device.manufacturer, Device.model,
                  Device.reservoir_ml, Device.drug, Device.concentration_mg_ml, Device.daily_dose_mg, Device.office_id,
                  Patient.first_name, Patient.last_name, Patient.mrn, Patient.phone, Office.name.label("office"))


def _refill_rows(query: Select[*tuple[Any, ...]]) -> list[RefillRow]:
    # Outer joins keep the device table first, read in due order from its index.
    query = query.outerjoin(Patient, Device.patient_id == Patient.id).outerjoin(Office, Device.office_id == Office.id)
    return [RefillRow(**row._mapping) for row in db.session.execute(query)]


def refill_worklist(*, office_id: int | None, today: date, window_days: int, limit: int, now: datetime,
                    by: Actor, offsets: dict[str, int] | None = None) -> RefillWorklist:
    """Active pumps whose refill is overdue or due within `window_days`, and pumps with no refill
    on record, with each patient's next appointment. Each section shows up to `limit` rows, so
    a long overdue list never hides the refills coming due."""
    if not can_read_devices(by):
        return RefillWorklist()
    offsets = offsets or {}
    where: list[ColumnElement[bool]] = [Device.kind == DeviceKind.PUMP, Device.status.in_(IN_THE_PATIENT)]
    if office_id is not None:
        where.append(Device.office_id == office_id)
    sections = {"overdue": Device.next_refill_on < today,
                "due_soon": Device.next_refill_on.between(today, today + timedelta(days=window_days)),
                "never_refilled": Device.next_refill_on.is_(None)}
    order = {"never_refilled": (Device.implanted_on, Device.id)}
    pumps = {name: _refill_rows(select(*REFILL_COLUMNS).where(*where, condition)
                                .order_by(*order.get(name, (Device.next_refill_on, Device.id)))
                                .offset(offsets.get(name, 0)).limit(limit))
             for name, condition in sections.items()}
    # Only the listed pumps are read for the counts, not every active pump of the practice.
    counted = db.session.execute(select(*(func.count().filter(condition).label(name)
                                          for name, condition in sections.items()))
                                 .where(*where, or_(*sections.values()))).one()
    shown = [pump for section in pumps.values() for pump in section]
    worklist = RefillWorklist(overdue=pumps["overdue"], due_soon=pumps["due_soon"],
                              never_refilled=pumps["never_refilled"],
                              next_appointments=next_appointments({pump.patient_id for pump in shown}, now=now),
                              totals=dict(counted._mapping), limit=limit, offsets=offsets)
    record_reading(by, "device", office_id=office_id, subject=f"pump refill worklist: {len(shown)} listed")
    return worklist


def next_appointments(patient_ids: set[int], *, now: datetime) -> dict[int, NextAppointment]:
    """Each patient's next open appointment, in one query."""
    if not patient_ids:
        return {}

    first = (select(Appointment.patient_id, func.min(Appointment.starts_at).label("starts_at"))
             .where(Appointment.patient_id.in_(patient_ids), Appointment.starts_at >= now,
                    Appointment.status.in_(OPEN_STATUSES))
             .group_by(Appointment.patient_id).subquery())
    query = (select(Appointment.patient_id, Appointment.starts_at, Office.timezone, ProcedureType.code)
             .join(first, (Appointment.patient_id == first.c.patient_id)
                   & (Appointment.starts_at == first.c.starts_at))
             .join(Office, Appointment.office_id == Office.id)
             .join(ProcedureType, Appointment.procedure_type_id == ProcedureType.id)
             .where(Appointment.status.in_(OPEN_STATUSES)))
    return {row.patient_id: NextAppointment(row.starts_at, row.timezone, row.code)
            for row in db.session.execute(query)}


# Battery and service life.

@dataclass(frozen=True)
class ReplacementRow:
    device: Device
    years: float
    due_on: date | None
    reason: str


def _with_patient(query: Select[Device]) -> Select[Device]:
    return query.options(joinedload(Device.patient), joinedload(Device.office))


def replacement_planning(*, today: date, settings: DeviceSettings, limit: int, by: Actor) -> list[ReplacementRow]:
    """Active pumps and generators that showed their replacement indicator or have been in
    service `replacement_years` or longer."""
    if not can_read_devices(by):
        return []
    cutoff = today - timedelta(days=int(settings.replacement_years * 365.25) - 3)  # narrowed exactly below
    query = _with_patient(select(Device).where(Device.kind.in_(BATTERY_KINDS), Device.status.in_(IN_THE_PATIENT),
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


# The overview: open SCS trials and the latest implants.

@dataclass
class TrialLists:
    """Trials not answered yet (no decision not to proceed, no implant since), by state."""

    ending_this_week: list[ScsTrial] = field(default_factory=list)
    result_due: list[ScsTrial] = field(default_factory=list)
    awaiting_decision: list[ScsTrial] = field(default_factory=list)
    implant_to_book: list[ScsTrial] = field(default_factory=list)
    overdue: list[ScsTrial] = field(default_factory=list)
    running: list[ScsTrial] = field(default_factory=list)

    def of(self, state: TrialState) -> list[ScsTrial] | None:
        """The list of trials in `state`; None for decided ones, which are not listed."""
        return {TrialState.RUNNING: self.running, TrialState.ENDING_THIS_WEEK: self.ending_this_week,
                TrialState.RESULT_DUE: self.result_due, TrialState.OVERDUE: self.overdue,
                TrialState.AWAITING_DECISION: self.awaiting_decision,
                TrialState.IMPLANT_TO_BOOK: self.implant_to_book}.get(state)

    def __len__(self) -> int:
        return sum(len(listed) for listed in (self.running, self.ending_this_week, self.result_due, self.overdue,
                                              self.awaiting_decision, self.implant_to_book))


def trial_lists(*, today: date, settings: DeviceSettings, by: Actor) -> TrialLists:
    """Trials not answered yet, by state (`rules.trial_state`): running past the limit, past the
    planned end without a result, ended with a result and awaiting a decision, decided to implant
    with no implant booked, ending this week, running. A trial with a result has ended, however
    long it ran; a decision not to proceed, an implant booked or done since the trial's start, or
    a later trial of the patient answers it, as it does the candidacy."""
    lists = TrialLists()
    if not can_read_devices(by):
        return lists
    query = (select(ScsTrial, trials.latest_implant_at().label("implant_at"))
             .where(or_(ScsTrial.decision.is_(None), ScsTrial.decision == TrialDecision.IMPLANT),
                    trials.is_the_patients_latest())
             .options(joinedload(ScsTrial.patient), joinedload(ScsTrial.physician), joinedload(ScsTrial.office))
             .order_by(ScsTrial.planned_end_on, ScsTrial.id))
    for trial, implant_at in db.session.execute(query):
        state = rules.trial_state(trial.started_on, trial.planned_end_on, today, ended_on=trial.ended_on,
                                  decision=trial.decision,
                                  implant_on=trials.local_day(implant_at, trial.office.timezone),
                                  overdue_days=settings.trial_overdue_days)
        listed = lists.of(state)
        if listed is not None:
            listed.append(trial)
    return lists


@dataclass(frozen=True)
class DeviceOverview:
    trials: TrialLists
    replacements: list[ReplacementRow]
    recent: list[Device]


def device_overview(*, today: date, settings: DeviceSettings, limit: int, recent: int, by: Actor) -> DeviceOverview:
    """The devices page: open SCS trials by state, replacements to plan and the latest implants,
    each with its patient. Audited as an opening of patient data."""
    if not can_read_devices(by):
        return DeviceOverview(TrialLists(), [], [])
    open_trials = trial_lists(today=today, settings=settings, by=by)
    overview = DeviceOverview(open_trials, replacement_planning(today=today, settings=settings, limit=limit, by=by),
                              recent_devices(recent))
    listed = len(open_trials) + len(overview.replacements) + len(overview.recent)
    record_reading(by, "device", subject=f"device overview: {listed} listed")
    return overview


def recent_devices(limit: int) -> list[Device]:
    query = (select(Device).options(joinedload(Device.patient))
             .order_by(Device.implanted_on.desc(), Device.id.desc()).limit(limit))
    return list(db.session.scalars(query))


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
    where: list[ColumnElement[bool]] = [Device.status.in_(IN_THE_PATIENT)]
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

"""A realistic practice history for benchmarks: years of appointments, follow-ups and devices.

    .venv/bin/python -m bench.generate [--years 10] [--patients 30000] [--database-url URL]

Fills a freshly migrated database (a temporary SQLite file by default) and prints the rows per
table and the time taken. The devices scale with the patients on the command line (one per ten).

How it works. The demo practice's base (offices, rooms, the demo sign-ins, the catalog, five
physicians) is loaded through the services; five more physicians get weekly schedules. Then every
patient gets a story, a Python generator that asks for one appointment at a time and reads what
became of it: a new-patient consult, a pair of medial branch blocks and an ablation, a series of
epidurals, a spinal cord stimulator trial and implant, a pump and its refills. A heap hands the
requests to the calendar earliest first, and the calendar places each one as a scheduler would:
on a day the office is open, within its hours and a physician's working block, in a room equipped
for the procedure, on the 5-minute grid, never overlapping another appointment of the room (with
its turnover), of the physician or of the patient, within the catalog's frequency limits. Past
appointments are mostly completed (with their follow-ups and outcomes), some cancelled or missed;
those ahead are scheduled or confirmed. Rows are plain values inserted in bulk with Core, so the
audit trail (written on ORM flushes) stays out of it.

The density is the same at every scale: `appointments_per_year` appointments a year; a longer
history is what a larger scale adds. New patients arrive evenly over the history; whenever the
days already filled hold fewer appointments than that rate, patients seen before come back for
another course (a repeat ablation, another epidural), so a one-year history with 3,000 patients
is as busy as a ten-year one with 30,000. Device systems are planned first so that their devices
add up to `scale.devices`, about a third of them pumps.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import tempfile
import time as stopwatch
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import flask_migrate
from faker import Faker
from sqlalchemy import Table, bindparam, func, insert, select, text, update
from stdnum import luhn

from backoffice import create_app, demo
from backoffice.auth.models import User
from backoffice.auth.sessions import auth_policy
from backoffice.catalog.models import DeviceModel, ProcedureType
from backoffice.catalog.rules import (
    DeviceKind,
    FollowUpOffset,
    MinimumInterval,
    one_year_after,
    one_year_before,
    parse_follow_ups,
)
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.core.phones import parse_phone, search_digits
from backoffice.core.timefmt import practice_today
from backoffice.devices import rules as device_rules
from backoffice.devices.models import Device, DeviceStatusChange, PumpRefill, ScsTrial
from backoffice.devices.rules import DeviceSettings, DeviceStatus, TrialDecision
from backoffice.insurance import demo as insurance_demo
from backoffice.insurance.models import Coverage, Payer
from backoffice.patients.models import Patient, PatientNameToken
from backoffice.patients.rules import mrn_from_number
from backoffice.patients.services import PatientData, name_token_rows
from backoffice.practice import services as practice
from backoffice.practice.models import Office, OfficeClosure, PhysicianLeave, Room
from backoffice.practice.models import Physician as PhysicianModel
from backoffice.practice.rules import Capability, is_valid_npi
from backoffice.procedures import candidacy, stored_candidacies
from backoffice.procedures import rules as procedure_rules
from backoffice.procedures.models import FollowUp, Outcome, PsychEvaluation
from backoffice.procedures.rules import Contact, FollowUpStatus, FunctionChange, PlanDecision, ReliefUnit
from backoffice.scheduling import rule_inputs as scheduling
from backoffice.scheduling import rules as scheduling_rules
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES, CancelReason, OfficeSpec, PhysicianSpec, RoomSpec, Status


@dataclass(frozen=True)
class Scale:
    years: int = 10
    patients: int = 30_000
    appointments_per_year: int = 15_000   # about 150,000 over 10 years
    devices: int = 3_000
    extra_physicians: int = 5             # the demo practice has 5; 10 in all


SMALL = Scale(years=1, patients=3_000, devices=300)
LARGE = Scale()

ACTOR = Actor.system("bench-data")
CHUNK = 5_000
FUTURE_DAYS = 56          # bookings run about eight weeks ahead
PRE_HISTORY_DAYS = 365    # patients arrive from a year before the history, so that its first months are as busy
MAX_WAIT_DAYS = 45        # how far the calendar looks for a free slot before giving up
OWN_DOCTOR_DAYS = 21      # how long a patient waits for their own physician before seeing another
DEVICE_HISTORY_YEARS = 6  # devices were implanted up to this long before the history starts
SETTINGS = DeviceSettings()

A, G = "annapolis", "glen-burnie"
MON, TUE, WED, THU, FRI = range(5)
# The extra physicians' weeks (office, weekday, from, to), chosen so that with the demo five each
# office has about as many physicians as rooms every weekday; a day split between the offices
# leaves an hour to travel.
EXTRA_WEEKS: tuple[tuple[tuple[str, int, str, str], ...], ...] = (
    ((A, MON, "07:00", "15:00"), (G, WED, "07:30", "15:30"), (A, FRI, "09:00", "17:00")),
    ((A, MON, "09:00", "17:00"), (G, TUE, "07:30", "16:30"), (G, FRI, "07:30", "16:30")),
    ((A, TUE, "12:00", "17:00"), (G, WED, "08:00", "16:30"), (A, THU, "09:00", "17:00"), (G, FRI, "08:00", "16:00")),
    ((G, MON, "07:30", "12:00"), (A, MON, "13:00", "17:00"), (A, WED, "09:00", "17:00"), (G, THU, "08:00", "16:30")),
    ((G, TUE, "08:00", "16:00"), (G, THU, "07:30", "11:00"), (A, THU, "12:00", "17:00"), (A, FRI, "07:00", "15:00")),
)

# Spinal levels by region, in order, for sites of one to three contiguous levels.
LEVELS = {"cervical": ("C3-C4", "C4-C5", "C5-C6", "C6-C7"), "thoracic": ("T10-T11", "T11-T12", "T12-L1"),
          "lumbar": ("L3-L4", "L4-L5", "L5-S1"), "sacral": ("L5-S1",)}
SIDES = ("left", "right", "bilateral")
GLEN_BURNIE_TOWNS = frozenset({"Glen Burnie", "Pasadena", "Millersville", "Odenton"})  # the rest: Annapolis
# What brings a new patient in, and how often.
CONDITIONS = {"facet": 32, "radicular": 34, "facet_joint": 10, "si_joint": 8, "myofascial": 6, "regenerative": 4,
              "medical": 6}
MISSED = (Status.CANCELLED, Status.NO_SHOW)
VERSION = {Status.SCHEDULED: 1, Status.CONFIRMED: 2, Status.CANCELLED: 2, Status.RESCHEDULED: 2,
           Status.CHECKED_IN: 3, Status.NO_SHOW: 3, Status.IN_ROOM: 4, Status.COMPLETED: 5}
CLOSED_REASONS = ("Could not reach the patient after three calls", "Seen by another provider",
                  "Patient declined the follow-up call", "Duplicate of the visit note")
CANCEL_NOTES = ("Admitted to hospital", "Family emergency", "Transportation fell through")
PSYCHOLOGISTS = ("Dr. Lena Marsh, PsyD (synthetic)", "Dr. Omar Haddad, PhD (synthetic)")
PUMP_EXPLANT = ("Infection at the pump pocket", "Therapy no longer needed", "Patient request", "Catheter failure")
SCS_EXPLANT = ("Loss of efficacy", "Infection", "Patient request", "Lead migration")
# Drug, concentrations (mg/mL) and stability (days) of intrathecal pump refills, with their weights.
DRUGS: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    ("Morphine", ("10", "20", "25"), 90, 45), ("Hydromorphone", ("2", "5", "10"), 90, 25),
    ("Baclofen", ("0.5", "1", "2"), 90, 20), ("Ziconotide", ("0.025", "0.1"), 60, 10))
PUMPS = ("SynchroMed II 40 mL", "SynchroMed II 40 mL", "SynchroMed II 40 mL", "SynchroMed II 20 mL")
GENERATORS = ("WaveWriter Alpha 16", "WaveWriter Alpha 16", "Proclaim XR", "Proclaim XR", "Senza HFX iQ",
              "Senza HFX iQ", "Precision Plus (legacy)")
CATHETER, LEAD, TRIAL_LEAD = "Ascenda intrathecal catheter", "Infinion 16 lead", "Vectris trial lead"
CATHETER_SITE = "Intrathecal, tip at T10"


def _days(low: int, high: int, rng: random.Random) -> timedelta:
    return timedelta(days=rng.randint(low, high))


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _at(day: date, minute: int, timezone: str) -> datetime:
    """The UTC instant of a wall-clock minute at an office, as the app converts booked times."""
    instant = scheduling_rules.local_to_utc(day, time(minute // 60, minute % 60), timezone)
    assert instant is not None  # office hours are far from the small hours when clocks change
    return instant


def _between(low: datetime, high: datetime, rng: random.Random) -> datetime:
    if high <= low:
        return low
    return low + timedelta(seconds=rng.randint(0, int((high - low).total_seconds())))


def _weekday_from(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# The practice as the generator sees it.

@dataclass(frozen=True)
class Procedure:
    """A catalog entry: what the calendar, the frequency limits and the follow-ups need."""

    id: int
    code: str
    category: str
    kind: str
    minutes: int
    turnover: int
    needs: frozenset[Capability]
    asks_region: bool
    asks_side: bool
    asks_levels: bool
    max_levels: int
    prior_authorization: bool
    frequency_group: str | None
    max_per_year: int | None
    min_interval: MinimumInterval | None
    interval_scope: str
    follow_ups: tuple[FollowUpOffset, ...]

    @classmethod
    def of(cls, row: ProcedureType) -> Procedure:
        return cls(row.id, row.code, row.category, row.kind, row.duration_minutes, row.turnover_minutes,
                   row.capabilities, row.asks_region, row.asks_side, row.asks_levels, row.max_levels,
                   row.prior_authorization, row.frequency_group, row.max_per_year, row.minimum_interval,
                   row.interval_scope, tuple(parse_follow_ups(row.follow_ups)))


@dataclass(frozen=True)
class ModelInfo:
    id: int
    manufacturer: str
    model: str
    gtin: str | None
    kind: DeviceKind
    mri_conditional: bool
    rechargeable: bool
    reservoir_ml: Decimal | None


@dataclass(frozen=True)
class Window:
    """The history: from `first` to today, and bookings up to `last`."""

    first: date
    today: date
    last: date
    now: datetime
    timezone: str


@dataclass(frozen=True)
class Staff:
    scheduler: int
    nurse: int
    physician: int


# What the stories ask for and get back.

@dataclass(frozen=True)
class Site:
    region: str | None = None
    side: str | None = None
    levels: tuple[str, ...] = ()

    def of(self, procedure: Procedure) -> tuple[str | None, str | None, str | None, int | None]:
        """Region, side, levels and their count, for what the procedure asks."""
        region = self.region if procedure.asks_region else None
        side = self.side if procedure.asks_side else None
        if procedure.asks_levels and self.levels:
            levels = self.levels[:procedure.max_levels]
            return region, side, ", ".join(levels), len(levels)
        return region, side, None, None


@dataclass(frozen=True)
class Relief:
    """What the procedure did: percent relief at its best, for how many hours, and the decision
    the physician records at its last follow-up."""

    percent: int
    hours: int
    decision: str | None = None


@dataclass(eq=False)
class PatientState:
    id: int
    office_id: int
    arrival: date
    physician_id: int | None = None
    condition: str = "medical"  # what brought them (a key of CONDITIONS)
    site: Site | None = None
    code: str | None = None
    good: bool = False
    last_day: date | None = None
    days: set[int] = field(default_factory=set)
    # (day, region, side) of the procedures that count against each frequency group's limits.
    counted: dict[str, list[tuple[date, str | None, str | None]]] = field(default_factory=lambda: defaultdict(list))
    first_seen: datetime | None = None


@dataclass(frozen=True, eq=False)
class Request:
    patient: PatientState
    code: str
    earliest: date
    site: Site = field(default_factory=Site)
    relief: Relief | None = None
    office_id: int | None = None
    revival: bool = False  # the first request of a patient brought back to keep the calendar at its rate


@dataclass(frozen=True)
class Visit:
    day: date
    status: Status
    appointment_id: int | None  # None: before the history, not on record
    physician_id: int | None
    office_id: int
    ends_at: datetime | None

    @property
    def done(self) -> bool:
        return self.status is Status.COMPLETED


def _went(visit: Visit | None) -> bool:
    return visit is not None and visit.done


Story = Generator[Request, Visit | None, None]
Step = Generator[Request, Visit | None, Visit | None]


# Rows, as plain values named like their columns.

@dataclass(slots=True)
class AppointmentRow:
    id: int
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    region: str | None
    side: str | None
    levels_count: int | None
    levels: str | None
    status: str
    status_changed_at: datetime
    cancel_reason: str | None
    cancel_note: str | None
    replaces_id: int | None
    override_reason: str | None
    prior_auth_ref: str | None
    notes: str | None
    baseline_nrs: int | None
    created_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


@dataclass(slots=True)
class FollowUpRow:
    id: int
    appointment_id: int
    patient_id: int
    physician_id: int
    office_id: int
    delay: str
    due_at: datetime
    status: str
    closed_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


@dataclass(slots=True)
class OutcomeRow:
    id: int
    follow_up_id: int
    appointment_id: int
    patient_id: int
    recorded_on: date
    contact: str
    baseline_nrs: int | None
    post_nrs: int | None
    percent_relief: int
    relief_amount: int | None
    relief_unit: str | None
    relief_hours: int | None
    relief_ongoing: bool
    function_change: str | None
    odi_answers: list[int | None] | None
    odi_score: int | None
    complications: str | None
    decision: str | None
    notes: str | None
    recorded_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


@dataclass(slots=True)
class DeviceRow:
    id: int
    patient_id: int
    kind: str
    device_model_id: int | None
    manufacturer: str
    model: str
    gtin: str | None
    lot: str | None
    serial: str | None
    expiry: date | None
    manufactured: date | None
    implanted_on: date
    physician_id: int | None
    appointment_id: int | None
    trial_id: int | None
    office_id: int | None
    site: str | None
    mri_conditional: bool
    rechargeable: bool
    status: str
    explanted_on: date | None
    explant_reason: str | None
    successor_id: int | None
    eri_on: date | None
    replacement_due_on: date | None
    reservoir_ml: Decimal | None
    drug: str | None
    concentration_mg_ml: Decimal | None
    daily_dose_mg: Decimal | None
    next_refill_on: date | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


@dataclass(slots=True)
class StatusChangeRow:
    id: int
    device_id: int
    patient_id: int
    from_status: str | None
    to_status: str
    changed_on: date
    reason: str | None
    changed_by_id: int | None


@dataclass(slots=True)
class RefillRow:
    id: int
    device_id: int
    patient_id: int
    office_id: int
    appointment_id: int | None
    refilled_on: date
    drug: str
    concentration_mg_ml: Decimal
    daily_dose_mg: Decimal
    daily_ml: Decimal
    expected_residual_ml: Decimal | None
    withdrawn_ml: Decimal
    added_ml: Decimal
    alarm_ml: Decimal
    stability_days: int
    margin_days: int
    mismatch: bool
    next_due_on: date
    alarm_note: str | None
    notes: str | None
    recorded_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


@dataclass(slots=True)
class TrialRow:
    id: int
    patient_id: int
    physician_id: int
    office_id: int
    appointment_id: int | None
    started_on: date
    planned_end_on: date
    pain_reduction_percent: int | None
    analgesic_reduction_percent: int | None
    ended_on: date | None
    result_source: str | None
    decision: str | None
    decided_on: date | None
    implant_appointment_id: int | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


@dataclass(slots=True)
class PsychRow:
    id: int
    patient_id: int
    evaluated_on: date
    cleared: bool
    evaluator: str
    notes: str | None
    recorded_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by_id: int | None


class Ledger:
    """The rows to insert, table by table, with the ids they will have (assigned here so that rows
    can point at one another before any is written)."""

    def __init__(self, first_ids: dict[str, int]) -> None:
        self._ids = {table: itertools.count(first) for table, first in first_ids.items()}
        self.appointments: list[AppointmentRow] = []
        self.follow_ups: list[FollowUpRow] = []
        self.outcomes: list[OutcomeRow] = []
        self.devices: list[DeviceRow] = []
        self.status_changes: list[StatusChangeRow] = []
        self.refills: list[RefillRow] = []
        self.trials: list[TrialRow] = []
        self.psych: list[PsychRow] = []

    def next_id(self, table: str) -> int:
        return next(self._ids[table])


# The calendar.

@dataclass(frozen=True)
class Slot:
    day: date
    office: OfficeSpec
    room_id: int
    physician_id: int
    start: int  # minutes after local midnight


class Calendar:
    """Places appointments: only where the office is open and a physician works, in an equipped
    room, on the 5-minute grid, never overlapping a room's bookings with their turnover nor a
    physician's. Times are minutes after the office's local midnight; each room's and physician's
    day is a sorted list of [start, end) intervals."""

    TRIES = 6  # random starts tried before the first free start is taken, to spread the day

    def __init__(self, offices: Sequence[OfficeSpec], rooms: Sequence[RoomSpec],
                 physicians: Sequence[PhysicianSpec], rng: random.Random) -> None:
        self.offices = {office.id: office for office in offices}
        # Least equipped first, as the app offers them: the implant suite stays free for implants.
        self.rooms = {office.id: sorted((r for r in rooms if r.office_id == office.id and r.active),
                                        key=lambda r: (len(r.capabilities), r.name)) for office in offices}
        self.physicians = [p for p in physicians if p.active]
        self.rng = rng
        self._spans: dict[tuple[date, int], list[tuple[int, int, int]]] = {}
        self._rooms: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)
        self._doctors: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)

    def spans(self, day: date, office_id: int) -> list[tuple[int, int, int]]:
        """(physician, from, to) of everyone working at the office that day."""
        key = (day, office_id)
        if key not in self._spans:
            self._spans[key] = self._working(day, self.offices[office_id])
        return self._spans[key]

    def _working(self, day: date, office: OfficeSpec) -> list[tuple[int, int, int]]:
        hours = office.hours.get(day.weekday())
        if hours is None or day in office.closed or not office.active:
            return []
        opens, closes = _minutes(hours[0]), _minutes(hours[1])
        found = []
        for physician in self.physicians:
            if any(leave.first_day <= day <= leave.last_day for leave in physician.leave):
                continue
            for starts, ends in scheduling_rules.working_spans(physician, office.id, day):
                low, high = max(opens, _minutes(starts)), min(closes, _minutes(ends))
                if high > low:
                    found.append((physician.id, low, high))
        return found

    def take(self, procedure: Procedure, day: date, office_id: int, physician_id: int | None) -> Slot | None:
        """A free slot that day at that office (with that physician), booked; None when full."""
        spans = [s for s in self.spans(day, office_id) if physician_id is None or s[0] == physician_id]
        rooms = [r.id for r in self.rooms[office_id] if procedure.needs <= r.capabilities]
        if not spans or not rooms:
            return None
        found = self._random_fit(procedure, day, spans, rooms) or self._first_fit(procedure, day, spans, rooms)
        if found is None:
            return None
        doctor, room, start = found
        insort(self._doctors[doctor, day], (start, start + procedure.minutes))
        insort(self._rooms[room, day], (start, start + procedure.minutes + procedure.turnover))
        return Slot(day, self.offices[office_id], room, doctor, start)

    def _free_room(self, procedure: Procedure, day: date, rooms: list[int], start: int) -> int | None:
        until = start + procedure.minutes + procedure.turnover
        return next((room for room in rooms if _is_free(self._rooms.get((room, day), []), start, until)), None)

    def _random_fit(self, procedure: Procedure, day: date, spans: list[tuple[int, int, int]],
                    rooms: list[int]) -> tuple[int, int, int] | None:
        for _ in range(self.TRIES):
            doctor, low, high = self.rng.choice(spans)
            if high - low < procedure.minutes:
                continue
            start = low + 5 * self.rng.randrange((high - low - procedure.minutes) // 5 + 1)
            if not _is_free(self._doctors.get((doctor, day), []), start, start + procedure.minutes):
                continue
            room = self._free_room(procedure, day, rooms, start)
            if room is not None:
                return doctor, room, start
        return None

    def _first_fit(self, procedure: Procedure, day: date, spans: list[tuple[int, int, int]],
                   rooms: list[int]) -> tuple[int, int, int] | None:
        """The earliest free start of a physician (taken in random order): only the start of their
        span and the ends of bookings can be one."""
        for doctor, low, high in self.rng.sample(spans, len(spans)):
            busy = self._doctors.get((doctor, day), [])
            ends = {low, *(end for _, end in busy)}
            for room in rooms:
                ends.update(end for _, end in self._rooms.get((room, day), []))
            for start in sorted(e for e in ends if low <= e <= high - procedure.minutes):
                if _is_free(busy, start, start + procedure.minutes):
                    room_id = self._free_room(procedure, day, rooms, start)
                    if room_id is not None:
                        return doctor, room_id, start
        return None


def _is_free(intervals: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) misses every interval of a sorted list of non-overlapping ones: only
    the last that starts before `end` can reach into it."""
    index = bisect_left(intervals, (end,))
    return index == 0 or intervals[index - 1][1] <= start


# Booking: the calendar, the statuses and what completing a procedure brings.

class Clinic:
    """Books what the stories ask for and writes the appointment, follow-up and outcome rows."""

    def __init__(self, window: Window, calendar: Calendar, procedures: dict[str, Procedure], staff: Staff,
                 ledger: Ledger, rng: random.Random) -> None:
        self.window = window
        self.calendar = calendar
        self.procedures = procedures
        self.staff = staff
        self.ledger = ledger
        self.rng = rng
        self.booked_on: dict[int, int] = defaultdict(int)  # appointments per day (ordinal)
        self.office_ids = sorted(calendar.offices)

    # Booking.

    def book(self, request: Request, replaces: AppointmentRow | None = None) -> Visit | None:
        procedure = self.procedures[request.code]
        patient = request.patient
        earliest = max(self._allowed_from(patient, procedure, request.site, request.earliest), self.window.first)
        slot = self._find(procedure, earliest, patient, request.office_id or patient.office_id)
        if slot is None:
            return None
        row = self._appointment(request, procedure, slot, replaces)
        patient.days.add(slot.day.toordinal())
        patient.last_day = max(patient.last_day or slot.day, slot.day)
        self.booked_on[slot.day.toordinal()] += 1
        status = Status(row.status)
        if status is Status.RESCHEDULED:
            return self._moved(request, row, slot)
        if status in ACTIVE_STATUSES and procedure.frequency_group:
            patient.counted[procedure.frequency_group].append((slot.day, row.region, row.side))
        if patient.physician_id is None:
            patient.physician_id = slot.physician_id
        if status is Status.COMPLETED:
            self._follow_ups(row, procedure, request.relief)
        return Visit(slot.day, status, row.id, row.physician_id, row.office_id, row.ends_at)

    def _moved(self, request: Request, old: AppointmentRow, slot: Slot) -> Visit | None:
        """A rescheduled appointment: a new one takes its place a few days later, pointing back at it."""
        later = replace(request, earliest=slot.day + _days(2, 14, self.rng))
        visit = self.book(later, replaces=old)
        if visit is None:  # no room later on: the patient cancelled instead
            old.status, old.cancel_reason = Status.CANCELLED.value, CancelReason.PATIENT_REQUEST.value
            return Visit(slot.day, Status.CANCELLED, old.id, old.physician_id, old.office_id, old.ends_at)
        return visit

    def _allowed_from(self, patient: PatientState, procedure: Procedure, site: Site, earliest: date) -> date:
        """The first day the catalog's frequency limits allow, as a scheduler would pick."""
        if procedure.frequency_group is None:
            return earliest
        region, side, _, _ = site.of(procedure)
        done = patient.counted[procedure.frequency_group]
        same_region = [day for day, r, _ in done if not procedure.asks_region or r == region]
        if procedure.max_per_year and len(same_region) >= procedure.max_per_year:
            earliest = max(earliest, one_year_after(same_region[-procedure.max_per_year]))
        if procedure.min_interval:
            scope = {"patient": [day for day, _, _ in done],
                     "region": [day for day, r, _ in done if r == region],
                     "region_side": [day for day, r, s in done if r == region and s == side]}
            near = scope.get(procedure.interval_scope, [])
            if near:
                earliest = max(earliest, procedure.min_interval.after(near[-1]))
        return earliest

    def _find(self, procedure: Procedure, earliest: date, patient: PatientState, office_id: int) -> Slot | None:
        offices = [office_id, *(o for o in self.office_ids if o != office_id)]
        for offset in range(MAX_WAIT_DAYS):
            day = earliest + timedelta(days=offset)
            if day > self.window.last:
                return None
            if day.toordinal() in patient.days:
                continue
            physician = patient.physician_id if offset < OWN_DOCTOR_DAYS else None
            for office in offices:
                slot = self.calendar.take(procedure, day, office, physician)
                if slot is not None:
                    return slot
        return None

    # The appointment row.

    def _appointment(self, request: Request, procedure: Procedure, slot: Slot,
                     replaces: AppointmentRow | None) -> AppointmentRow:
        starts_at = _at(slot.day, slot.start, slot.office.timezone)
        ends_at = starts_at + timedelta(minutes=procedure.minutes)
        status = self._status(starts_at, ends_at, may_move=replaces is None)
        booked_at = replaces.status_changed_at if replaces else self._booked_at(starts_at)
        changed_at = self._changed_at(status, starts_at, ends_at, booked_at)
        region, side, levels, levels_count = request.site.of(procedure)
        reason, note = self._cancel_reason() if status is Status.CANCELLED else (None, None)
        clinical = status in (Status.COMPLETED, Status.IN_ROOM, Status.CHECKED_IN) and procedure.category != "visit"
        by_nurse = status in (Status.CHECKED_IN, Status.IN_ROOM, Status.COMPLETED, Status.NO_SHOW)
        row = AppointmentRow(
            id=self.ledger.next_id("appointment"), patient_id=request.patient.id, procedure_type_id=procedure.id,
            physician_id=slot.physician_id, office_id=slot.office.id, room_id=slot.room_id, starts_at=starts_at,
            ends_at=ends_at, blocked_until=ends_at + timedelta(minutes=procedure.turnover), region=region, side=side,
            levels_count=levels_count, levels=levels, status=status.value, status_changed_at=changed_at,
            cancel_reason=reason, cancel_note=note, replaces_id=replaces.id if replaces else None,
            override_reason=None, notes=None,
            prior_auth_ref=f"PA{self.rng.randint(100000, 999999)}" if procedure.prior_authorization else None,
            baseline_nrs=self.rng.randint(4, 9) if clinical and self.rng.random() < 0.75 else None,
            created_by_id=self.staff.scheduler, version=VERSION[status], created_at=booked_at,
            updated_at=changed_at, updated_by_id=self.staff.nurse if by_nurse else self.staff.scheduler)
        self.ledger.appointments.append(row)
        patient = request.patient
        if patient.first_seen is None or booked_at < patient.first_seen:
            patient.first_seen = booked_at
        return row

    def _status(self, starts_at: datetime, ends_at: datetime, *, may_move: bool) -> Status:
        roll, now = self.rng.random(), self.window.now
        if ends_at <= now:
            if roll < 0.05:
                return Status.NO_SHOW
            if roll < 0.12:
                return Status.CANCELLED
            return Status.RESCHEDULED if may_move and roll < 0.14 else Status.COMPLETED
        if starts_at <= now:
            return Status.IN_ROOM
        if starts_at - now < timedelta(hours=1):
            return Status.CHECKED_IN
        if roll < 0.03:
            return Status.CANCELLED
        if may_move and roll < 0.05:
            return Status.RESCHEDULED
        soon = starts_at - now < timedelta(days=3)  # confirmation calls go out a few days ahead
        return Status.CONFIRMED if roll < (0.75 if soon else 0.15) else Status.SCHEDULED

    def _booked_at(self, starts_at: datetime) -> datetime:
        booked = starts_at - timedelta(days=self.rng.randint(2, 35), hours=self.rng.randint(0, 8))
        latest = self.window.now - timedelta(minutes=10)
        return booked if booked < latest else latest - timedelta(minutes=self.rng.randint(0, 2880))

    def _changed_at(self, status: Status, starts_at: datetime, ends_at: datetime, booked_at: datetime) -> datetime:
        now, rng = self.window.now, self.rng
        moments = {
            Status.SCHEDULED: booked_at,
            Status.CONFIRMED: max(booked_at, min(now, starts_at - timedelta(days=rng.randint(1, 3)))),
            Status.CHECKED_IN: max(booked_at, min(now, starts_at - timedelta(minutes=rng.randint(10, 30)))),
            Status.IN_ROOM: starts_at,
            Status.COMPLETED: min(now, ends_at + timedelta(minutes=rng.randint(0, 15))),
            Status.NO_SHOW: min(now, starts_at + timedelta(minutes=rng.randint(15, 45))),
        }
        if status in moments:
            return moments[status]
        # Cancelled or moved: some time between the booking and the appointment (or now).
        latest = min(starts_at - timedelta(hours=2), now)
        return _between(max(booked_at, latest - timedelta(days=7)), latest, rng)

    def _cancel_reason(self) -> tuple[str, str | None]:
        if self.rng.random() < 0.1:
            return CancelReason.OTHER.value, self.rng.choice(CANCEL_NOTES)
        return self.rng.choice(list(CancelReason)[:4]).value, None

    # Follow-ups and outcomes, as completing a procedure creates them and nurses record them.

    def _follow_ups(self, appointment: AppointmentRow, procedure: Procedure, relief: Relief | None) -> None:
        if not procedure.follow_ups:
            return
        relief = relief or default_relief(procedure.code, self.rng)
        due_list = procedure_rules.follow_ups_due(appointment.ends_at, procedure.follow_ups)
        for number, (offset, due_at) in enumerate(due_list, start=1):
            status, changed_at = self._follow_up_status(due_at)
            created = appointment.status_changed_at
            row = FollowUpRow(
                id=self.ledger.next_id("follow_up"), appointment_id=appointment.id,
                patient_id=appointment.patient_id, physician_id=appointment.physician_id,
                office_id=appointment.office_id, delay=str(offset), due_at=due_at, status=status.value,
                closed_reason=self.rng.choice(CLOSED_REASONS) if status is FollowUpStatus.CLOSED else None,
                version=1 if status is FollowUpStatus.OPEN else 2, created_at=created,
                updated_at=max(changed_at or created, created), updated_by_id=self.staff.nurse)
            self.ledger.follow_ups.append(row)
            if status is FollowUpStatus.DONE:
                last = number == len(due_list)
                self._outcome(row, appointment, procedure, offset, relief, last)

    def _follow_up_status(self, due_at: datetime) -> tuple[FollowUpStatus, datetime | None]:
        """Open until due; most of those due are done, some closed, and of the last weeks' some
        still open (the overdue list)."""
        now, roll = self.window.now, self.rng.random()
        age = now - due_at
        done_at = min(now, due_at + timedelta(hours=self.rng.randint(0, 40)))
        if age < timedelta(days=1):
            return FollowUpStatus.OPEN, None
        if age < timedelta(days=60):
            if roll < 0.2:
                return FollowUpStatus.OPEN, None
            return (FollowUpStatus.CLOSED, done_at) if roll < 0.25 else (FollowUpStatus.DONE, done_at)
        return (FollowUpStatus.CLOSED, done_at) if roll < 0.08 else (FollowUpStatus.DONE, done_at)

    def _outcome(self, follow_up: FollowUpRow, appointment: AppointmentRow, procedure: Procedure,
                 offset: FollowUpOffset, relief: Relief, last: bool) -> None:
        rng = self.rng
        recorded_at = follow_up.updated_at
        zone = self.calendar.offices[appointment.office_id].timezone
        percent, amount, unit, ongoing = relief_found(procedure.kind, offset, relief, last, rng)
        baseline = appointment.baseline_nrs or rng.randint(5, 9)
        answers: list[int | None] | None = None
        if rng.random() < 0.15:  # the Oswestry questionnaire, now and then
            answers = [rng.randint(0, procedure_rules.ODI_MAX_PER_SECTION) for _ in procedure_rules.ODI_SECTIONS]
        function = (FunctionChange.BETTER if percent >= 50 else FunctionChange.SAME if percent >= 20
                    else rng.choice([FunctionChange.SAME, FunctionChange.WORSE]))
        decision = relief.decision if last else None
        contact = Contact.PORTAL if offset.unit == "h" else rng.choice([Contact.PHONE] * 4 + [Contact.VISIT])
        self.ledger.outcomes.append(OutcomeRow(
            id=self.ledger.next_id("outcome"), follow_up_id=follow_up.id, appointment_id=appointment.id,
            patient_id=appointment.patient_id, recorded_on=recorded_at.astimezone(ZoneInfo(zone)).date(),
            contact=contact.value, baseline_nrs=baseline, post_nrs=round(baseline * (100 - percent) / 100),
            percent_relief=percent, relief_amount=amount, relief_unit=unit.value if unit else None,
            relief_hours=procedure_rules.relief_hours(amount, unit), relief_ongoing=ongoing,
            function_change=function.value if rng.random() < 0.7 else None, odi_answers=answers,
            odi_score=procedure_rules.odi_score(answers) if answers else None,
            complications="Transient soreness at the injection site" if rng.random() < 0.02 else None,
            decision=decision, notes=None,
            recorded_by_id=self.staff.physician if decision else self.staff.nurse, version=1, created_at=recorded_at,
            updated_at=recorded_at, updated_by_id=self.staff.physician if decision else self.staff.nurse))


def _as_amount(hours: int) -> tuple[int, ReliefUnit]:
    """A duration as a person says it: hours, days, weeks or months."""
    if hours < 48:
        return max(1, hours), ReliefUnit.HOURS
    if hours < 14 * 24:
        return round(hours / 24), ReliefUnit.DAYS
    if hours < 90 * 24:
        return round(hours / 168), ReliefUnit.WEEKS
    return max(1, round(hours / 730)), ReliefUnit.MONTHS


def relief_found(kind: str, offset: FollowUpOffset, relief: Relief, last: bool,
                 rng: random.Random) -> tuple[int, int | None, ReliefUnit | None, bool]:
    """Percent relief, how long it lasted (amount, unit) and whether it still does, as a follow-up
    `offset` after the procedure finds it. A diagnostic block's diary reports the hours of relief;
    later calls report relief so far, or how long it lasted when it has worn off."""
    percent = relief.percent
    if not last:  # an earlier call sees about the same; the last one is what the rules read
        percent = max(0, min(100, percent + rng.randint(-5, 5)))
    if percent == 0:
        return 0, None, None, False
    if kind == "diagnostic_facet":
        return percent, relief.hours, ReliefUnit.HOURS, False
    elapsed = int(offset.delay.total_seconds() // 3600)
    ongoing = relief.hours > elapsed
    amount, unit = _as_amount(elapsed if ongoing else relief.hours)
    return percent, amount, unit, ongoing


def default_relief(code: str, rng: random.Random) -> Relief:
    """What a procedure usually does, when its story does not say."""
    week = 168
    table = {"IT-TRIAL": (50, 90, 12, 24), "PUMP-IMPLANT": (40, 80, 200 * 24, 400 * 24),
             "SCS-IMPLANT": (50, 85, 300 * 24, 600 * 24), "IPG-REPLACE": (50, 80, 300 * 24, 600 * 24),
             "SIJ": (30, 90, 2 * week, 12 * week), "REGEN": (20, 70, 4 * week, 26 * week),
             "FJI": (30, 80, 2 * week, 16 * week), "RFA": (50, 90, 16 * week, 52 * week)}
    low, high, short, long = table.get(code, (20, 80, 2 * week, 16 * week))
    return Relief(5 * rng.randint(low // 5, high // 5), rng.randint(short, long))


# Devices, trials and refills.

@dataclass
class Pump:
    """A pump's refill state: what was last put in and when, and the drug as it is now given."""

    row: DeviceRow
    drug: str
    concentration: Decimal
    dose: Decimal
    programmed_ml: Decimal  # the daily volume it was set up for: titrations stay near it
    stability_days: int
    last_day: date
    last_added: Decimal
    last_daily_ml: Decimal
    refilled: bool = False
    catheter: DeviceRow | None = None  # stays in when the pump is replaced; comes out with it otherwise

    @property
    def daily_ml(self) -> Decimal:
        return device_rules.daily_volume(self.dose, self.concentration)

    def next_due(self) -> date:
        return device_rules.plan_next_refill(
            self.last_day, volume_ml=self.last_added, alarm_ml=SETTINGS.alarm_ml, daily_ml=self.last_daily_ml,
            stability_days=self.stability_days, margin_days=SETTINGS.margin_days).next_due


class Registry:
    """Devices with their status history, pump refills, SCS trials and psychological evaluations."""

    def __init__(self, window: Window, ledger: Ledger, models: dict[str, ModelInfo], staff: Staff,
                 physician_ids: list[int], rng: random.Random) -> None:
        self.window = window
        self.ledger = ledger
        self.models = models
        self.staff = staff
        self.physician_ids = physician_ids
        self.rng = rng

    def _stamp(self, day: date, visit: Visit | None) -> datetime:
        """When a device change was entered: after the procedure, else at noon that day."""
        if visit is not None and visit.ends_at is not None:
            return visit.ends_at
        return min(self.window.now, _at(day, 12 * 60, self.window.timezone))

    def implant(self, patient: PatientState, model_name: str, day: date, visit: Visit | None, *,
                site: str | None = None, trial_id: int | None = None) -> DeviceRow:
        model, rng = self.models[model_name], self.rng
        kind = model.kind
        status = DeviceStatus.TRIAL if kind is DeviceKind.TRIAL_LEAD else DeviceStatus.IMPLANTED
        device_id = self.ledger.next_id("device")
        prefix = {DeviceKind.PUMP: "NGP", DeviceKind.SCS_GENERATOR: "SC", DeviceKind.SCS_LEAD: "LD",
                  DeviceKind.TRIAL_LEAD: "TL", DeviceKind.IT_CATHETER: "CT"}[kind]
        at = self._stamp(day, visit)
        if patient.first_seen is None or at < patient.first_seen:  # registered before anything is recorded
            patient.first_seen = at
        row = DeviceRow(
            id=device_id, patient_id=patient.id, kind=kind.value, device_model_id=model.id,
            manufacturer=model.manufacturer, model=model.model, gtin=model.gtin,
            lot=f"L{day:%y%m}{rng.choice('ABCDEFGH')}", serial=f"{prefix}{device_id:08d}",
            expiry=day + _days(120, 700, rng), manufactured=day - _days(60, 500, rng), implanted_on=day,
            physician_id=visit.physician_id if visit else patient.physician_id or rng.choice(self.physician_ids),
            appointment_id=visit.appointment_id if visit else None, trial_id=trial_id,
            office_id=visit.office_id if visit else patient.office_id, site=site,
            mri_conditional=model.mri_conditional, rechargeable=model.rechargeable, status=status.value,
            explanted_on=None, explant_reason=None, successor_id=None, eri_on=None, replacement_due_on=None,
            reservoir_ml=model.reservoir_ml, drug=None, concentration_mg_ml=None, daily_dose_mg=None,
            next_refill_on=None, notes=None, version=1, created_at=at, updated_at=at, updated_by_id=self.staff.nurse)
        self.ledger.devices.append(row)
        self._history(row, None, status, day, None)
        return row

    def _history(self, device: DeviceRow, before: DeviceStatus | None, after: DeviceStatus, day: date,
                 reason: str | None) -> None:
        self.ledger.status_changes.append(StatusChangeRow(
            id=self.ledger.next_id("device_status_change"), device_id=device.id, patient_id=device.patient_id,
            from_status=before.value if before else None, to_status=after.value, changed_on=day, reason=reason,
            changed_by_id=self.staff.nurse))

    def _changed(self, device: DeviceRow, day: date) -> None:
        device.version += 1
        device.updated_at = max(device.updated_at, self._stamp(day, None))

    def explant(self, device: DeviceRow, day: date, reason: str) -> None:
        before = DeviceStatus(device.status)
        device.status, device.explanted_on, device.explant_reason = DeviceStatus.EXPLANTED.value, day, reason
        device.next_refill_on = None
        self._changed(device, day)
        self._history(device, before, DeviceStatus.EXPLANTED, day, reason)

    def replace(self, old: DeviceRow, new: DeviceRow) -> None:
        """The old device replaced by the new one, its replacement indicator having shown before."""
        day = new.implanted_on
        self.indicate_end(old, day - _days(30, 90, self.rng))
        old.status, old.explanted_on = DeviceStatus.REPLACED.value, day
        old.explant_reason = f"Replaced by {new.manufacturer} {new.model}"
        old.successor_id, old.next_refill_on = new.id, None
        self._changed(old, day)
        self._history(old, DeviceStatus.IMPLANTED, DeviceStatus.REPLACED, day, old.explant_reason)

    def indicate_end(self, device: DeviceRow, eri_on: date) -> None:
        """The elective replacement indicator showed (pumps and generators)."""
        eri_on = max(eri_on, device.implanted_on)
        device.eri_on = eri_on
        device.replacement_due_on = device_rules.replacement_due(eri_on, days_after_eri=SETTINGS.eri_days)
        self._changed(device, eri_on)

    # Pumps.

    def pump(self, patient: PatientState, model_name: str, day: date, visit: Visit | None) -> Pump:
        """A pump implanted and filled (the implant's fill is no refill: the first refill after it
        has no expected residual)."""
        rng = self.rng
        row = self.implant(patient, model_name, day, visit,
                           site=rng.choice(["Right lower abdomen", "Left lower abdomen"]))
        drug, concentrations, stability, _ = rng.choices(DRUGS, [weight for *_, weight in DRUGS])[0]
        concentration = Decimal(rng.choice(concentrations))
        reservoir = row.reservoir_ml or Decimal(40)
        # A daily volume that makes the reservoir last two to three months, as pumps are programmed.
        programmed = reservoir * Decimal(rng.randint(95, 150)) / 10000
        dose = self._dose(concentration, programmed)
        return Pump(row, drug, concentration, dose, programmed, stability, day, reservoir,
                    device_rules.daily_volume(dose, concentration))

    @staticmethod
    def _dose(concentration: Decimal, daily_ml: Decimal) -> Decimal:
        return max(Decimal("0.001"), (concentration * daily_ml).quantize(Decimal("0.001")))

    def refill(self, pump: Pump, day: date, office_id: int, visit: Visit | None) -> None:
        """One refill, as the refill service records it: the expected residual from the last refill,
        what came out, the mismatch flag, the volume added and when the next is due."""
        rng, row = self.rng, pump.row
        if rng.random() < 0.15:  # titrated at this visit
            pump.dose = self._dose(pump.concentration, pump.programmed_ml * Decimal(rng.randint(85, 115)) / 100)
        days = (day - pump.last_day).days
        left = device_rules.expected_residual(last_volume_ml=pump.last_added, daily_ml=pump.last_daily_ml, days=days)
        expected = left if pump.refilled else None
        drift = Decimal(rng.choice([-1, 1]) * rng.randint(25, 50)) / 10 if rng.random() < 0.03 else \
            Decimal(round(rng.gauss(0, 0.5), 1))
        withdrawn = max(Decimal(0), (left + drift).quantize(Decimal("0.1")))
        reservoir = row.reservoir_ml or Decimal(40)
        added = reservoir if rng.random() < 0.95 else reservoir - rng.randint(1, 3)
        check = device_rules.check_refill(reservoir_ml=reservoir, expected_residual_ml=expected,
                                          withdrawn_ml=withdrawn, added_ml=added, tolerance_ml=SETTINGS.tolerance_ml)
        daily_ml = pump.daily_ml
        plan = device_rules.plan_next_refill(day, volume_ml=added, alarm_ml=SETTINGS.alarm_ml, daily_ml=daily_ml,
                                             stability_days=pump.stability_days, margin_days=SETTINGS.margin_days)
        at = self._stamp(day, visit)
        self.ledger.refills.append(RefillRow(
            id=self.ledger.next_id("pump_refill"), device_id=row.id, patient_id=row.patient_id, office_id=office_id,
            appointment_id=visit.appointment_id if visit else None, refilled_on=day, drug=pump.drug,
            concentration_mg_ml=pump.concentration, daily_dose_mg=pump.dose, daily_ml=daily_ml,
            expected_residual_ml=expected, withdrawn_ml=withdrawn, added_ml=added, alarm_ml=SETTINGS.alarm_ml,
            stability_days=pump.stability_days, margin_days=SETTINGS.margin_days, mismatch=check.mismatch,
            next_due_on=plan.next_due, notes=None, recorded_by_id=self.staff.nurse, version=1, created_at=at,
            updated_at=at, updated_by_id=self.staff.nurse,
            alarm_note="Residual differs from expected: pump interrogated, catheter access confirmed"
            if check.mismatch else None))
        pump.last_day, pump.last_added, pump.last_daily_ml, pump.refilled = day, added, daily_ml, True
        row.drug, row.concentration_mg_ml, row.daily_dose_mg = pump.drug, pump.concentration, pump.dose
        row.next_refill_on, row.office_id = plan.next_due, office_id
        row.version += 1
        row.updated_at = max(row.updated_at, at)

    # SCS trials and psychological evaluations.

    def evaluate(self, patient: PatientState, day: date) -> None:
        at = min(self.window.now, _at(day, 15 * 60, self.window.timezone))
        self.ledger.psych.append(PsychRow(
            id=self.ledger.next_id("psych_evaluation"), patient_id=patient.id, evaluated_on=day, cleared=True,
            evaluator=self.rng.choice(PSYCHOLOGISTS), notes=None, recorded_by_id=self.staff.nurse, version=1,
            created_at=at, updated_at=at, updated_by_id=self.staff.nurse))

    def trial(self, patient: PatientState, visit: Visit, relief: Relief, success: bool, region: str) -> TrialRow:
        """A trial from its appointment, with its two leads: decided some days after its planned
        end (then the leads come out), or still running or awaiting the decision."""
        assert visit.physician_id is not None
        rng, started = self.rng, visit.day
        planned_end = device_rules.planned_trial_end(started, trial_days=SETTINGS.trial_days)
        decided = planned_end + _days(0, 3, rng)
        decision = None
        if decided <= self.window.today:
            decision = TrialDecision.IMPLANT if success else TrialDecision.FAILED
        at = self._stamp(started, visit)
        row = TrialRow(
            id=self.ledger.next_id("scs_trial"), patient_id=patient.id, physician_id=visit.physician_id,
            office_id=visit.office_id, appointment_id=visit.appointment_id, started_on=started,
            planned_end_on=planned_end, pain_reduction_percent=relief.percent if decision else None,
            analgesic_reduction_percent=rng.randint(0, 60) if decision else None,
            ended_on=planned_end if decision else None, result_source="trial_page" if decision else None,
            decision=decision.value if decision else None, decided_on=decided if decision else None,
            implant_appointment_id=None, notes=None, version=2 if decision else 1, created_at=at,
            updated_at=self._stamp(decided, None) if decision else at, updated_by_id=self.staff.nurse)
        self.ledger.trials.append(row)
        for side in ("Left", "Right"):
            lead = self.implant(patient, TRIAL_LEAD, started, visit, site=f"{side} {region} epidural", trial_id=row.id)
            if decision:
                self.explant(lead, decided, "Trial ended")
        return row


# Device systems, planned before the stories tell them so that their devices add up to the scale.

@dataclass(frozen=True)
class SystemPlan:
    pump: bool
    implant: date            # the first implant, as planned
    in_window: bool          # implanted here during the history: its consult (and trial) are on record
    transferred: bool        # implanted elsewhere; the patient comes here for refills or follow-up
    catheter: bool
    trial: date | None       # a stimulator trial here, the implant following it
    trial_success: bool
    model: str
    lives: tuple[int, ...]   # days each device in turn lasts before it is replaced
    explant_after: int | None  # days after the last one's implant that it comes out, if it does

    def device_count(self, today: date) -> int:
        if self.pump:
            return len(self.lives) + self.catheter
        if self.trial is None:
            return len(self.lives) + 2
        if not self.trial_success or self.implant > today - timedelta(days=14):
            return 2  # the trial's leads only: it failed, or the implant is still to come
        return 2 + len(self.lives) + 2


class Planner:
    """Device systems: when each was implanted, how long each device in turn lasts, how it ends."""

    RECENT_TRIALS = 3  # stimulator trials of the last days, running or awaiting their decision

    def __init__(self, window: Window, rng: random.Random) -> None:
        self.window = window
        self.rng = rng

    def systems(self, target: int) -> list[SystemPlan]:
        """Pumps (about a third of the devices) and stimulators, until there are `target` devices."""
        today = self.window.today
        plans = [self._scs_trial(today - _days(1, 12, self.rng)) for _ in range(min(self.RECENT_TRIALS, target // 10))]
        devices = sum(plan.device_count(today) for plan in plans)
        pumps = 0
        while devices < target:
            plan = self._plan(pump=pumps * 3 <= devices)
            if devices + plan.device_count(today) > target:
                plan = self._transferred_pump()  # one device: the count comes out even
            plans.append(plan)
            devices += plan.device_count(today)
            pumps += len(plan.lives) if plan.pump else 0
        return plans

    def _day(self, first: date, last: date) -> date:
        return date.fromordinal(self.rng.randint(first.toordinal(), last.toordinal()))

    def _plan(self, *, pump: bool) -> SystemPlan:
        rng, window = self.rng, self.window
        implant = self._day(window.first - timedelta(days=int(365.25 * DEVICE_HISTORY_YEARS)),
                            window.today - timedelta(days=60))
        in_window = implant - timedelta(days=100) >= window.first
        transferred = rng.random() < (0.35 if pump else 0.1)
        if not pump and in_window and not transferred:  # trialled here first, up to the last days
            return self._scs_trial(self._day(window.first + timedelta(days=60), window.today - timedelta(days=2)))
        model = rng.choice(PUMPS if pump else GENERATORS)
        lives, explant_after = self._lives(pump, model, implant)
        return SystemPlan(pump, implant, in_window, transferred, pump and (not transferred or rng.random() < 0.3),
                          None, True, model, lives, explant_after)

    def _scs_trial(self, trial: date) -> SystemPlan:
        """A stimulator trialled here; its implant about six weeks later when the trial succeeds."""
        model = self.rng.choice(GENERATORS[:-1])  # the legacy model is no longer implanted
        implant = trial + timedelta(days=40)
        lives, explant_after = self._lives(False, model, implant)
        return SystemPlan(False, implant, True, False, False, trial, self.rng.random() < 0.75, model, lives,
                          explant_after)

    def _transferred_pump(self) -> SystemPlan:
        implant = self._day(self.window.today - timedelta(days=4 * 365), self.window.today - timedelta(days=60))
        in_window = implant - timedelta(days=100) >= self.window.first
        return SystemPlan(True, implant, in_window, True, False, None, True, PUMPS[0], (7 * 365,), None)

    def _life(self, pump: bool, model: str) -> int:
        """Battery lives: about 6.5 to 7 years for pumps and rechargeable generators (so a handful
        at a time are past the 6.5 years of replacement planning), 4.5 to 6 for the others."""
        if pump:
            years = self.rng.uniform(6.55, 6.95)
        elif model == "Proclaim XR":  # not rechargeable: the battery runs down sooner
            years = self.rng.uniform(4.5, 6.3)
        else:
            years = self.rng.uniform(6.55, 7.2)
        return int(365.25 * years)

    def _lives(self, pump: bool, model: str, implant: date) -> tuple[tuple[int, ...], int | None]:
        """Each device's life in turn until one is still in service today or comes out."""
        lives: list[int] = []
        day, today = implant, self.window.today
        while True:
            life = self._life(pump, model)
            if self.rng.random() < (0.05 if pump else 0.07):
                after = int(life * self.rng.uniform(0.15, 0.9))
                if day + timedelta(days=after) <= today - timedelta(days=7):
                    return (*lives, life), after
            lives.append(life)
            if day + timedelta(days=life) > today - timedelta(days=21):
                return tuple(lives), None
            day += timedelta(days=life)


# The stories.

class Stories:
    """Each patient's course as a generator of appointment requests (see the module docstring)."""

    def __init__(self, clinic: Clinic, registry: Registry, rng: random.Random) -> None:
        self.clinic = clinic
        self.registry = registry
        self.window = clinic.window
        self.rng = rng

    # Seeing the patient.

    def _off_record(self, patient: PatientState, day: date) -> Visit:
        """What happened before the history: done, but not in the database."""
        patient.last_day = _weekday_from(day)
        return Visit(_weekday_from(day), Status.COMPLETED, None, patient.physician_id, patient.office_id, None)

    def see(self, patient: PatientState, code: str, earliest: date, *, site: Site | None = None,
            relief: Relief | None = None, persistent: bool = False,
            office_id: int | None = None) -> Step:
        """Book until the patient comes: a cancellation or a no-show is rebooked a week or two later
        (most patients come back; `persistent` ones always do). Returns the visit that happened or
        is booked, or None when the patient gave up or the calendar had nothing."""
        earliest = self._after_last(patient, earliest)
        if earliest < self.window.first:
            return self._off_record(patient, earliest)
        request = Request(patient, code, earliest, site or Site(), relief, office_id)
        for _ in range(4):
            visit = yield request
            if visit is None or visit.status not in MISSED:
                return visit
            if not persistent and self.rng.random() < 0.3:
                return None
            request = replace(request, earliest=visit.day + _days(5, 21, self.rng))
        return None

    @staticmethod
    def _after_last(patient: PatientState, day: date) -> date:
        """A patient's next appointment (or explant) comes after their last one, however late that ran."""
        return max(day, patient.last_day + timedelta(days=1)) if patient.last_day else day

    def _review(self, patient: PatientState, after: date, chance: float) -> Step:
        """A follow-up visit some weeks after a treatment, for some patients."""
        if self.rng.random() >= chance:
            return None
        return (yield from self.see(patient, "FOLLOW-UP", after + _days(28, 56, self.rng)))

    # Sites and reliefs.

    def site(self, code: str) -> Site:
        rng = self.rng
        if code in ("MBB", "FJI", "RFA"):
            region = rng.choices(["lumbar", "cervical", "thoracic"], [65, 25, 10])[0]
        elif code == "CESI":
            region = "sacral"
        elif code in ("SCS-TRIAL", "SCS-IMPLANT"):
            region = rng.choices(["thoracic", "cervical"], [85, 15])[0]
        elif code == "REGEN":
            region = rng.choice(["lumbar", "sacral", "cervical"])
        else:
            region = rng.choices(["lumbar", "cervical", "thoracic"], [70, 25, 5])[0]
        spine = LEVELS[region]
        count = min(len(spine), rng.choices([1, 2, 3], [40, 45, 15])[0])
        first = rng.randint(0, len(spine) - count)
        return Site(region, rng.choices(SIDES, [40, 40, 20])[0], spine[first:first + count])

    def _block_relief(self, likely_good: bool) -> Relief:
        weights = [25, 25, 18, 12, 6, 6, 5, 3] if likely_good else [10, 18, 16, 14, 10, 12, 12, 8]
        return Relief(self.rng.choices([95, 90, 85, 80, 75, 60, 40, 20], weights)[0], self.rng.randint(2, 10))

    def _relief(self, low: int, high: int, weeks_low: int, weeks_high: int, decision: str | None = None) -> Relief:
        return Relief(5 * self.rng.randint(low // 5, high // 5), 168 * self.rng.randint(weeks_low, weeks_high),
                      decision)

    # Patients without devices.

    def regular(self, patient: PatientState) -> Story:
        """A new patient: the consult, then a first course of treatment for what brought them."""
        patient.condition = self.rng.choices(list(CONDITIONS), list(CONDITIONS.values()))[0]
        visit = yield from self.see(patient, "NEW", patient.arrival)
        if _went(visit):
            assert visit is not None
            yield from self._episode(patient, visit.day + _days(7, 21, self.rng), first=True)

    def returning(self, patient: PatientState, start: date) -> Story:
        """A patient seen before comes back for more of the same (see Simulation.run)."""
        request_number = 0
        episode = self._episode(patient, start, first=False)
        try:  # the first request is marked, so that the simulation knows when it has been booked
            request = next(episode)
            while True:
                request_number += 1
                visit = yield replace(request, revival=request_number == 1)
                request = episode.send(visit)
        except StopIteration:
            return

    def _episode(self, patient: PatientState, start: date, *, first: bool) -> Step:
        """A course of treatment for the patient's condition, starting on `start`."""
        episodes: dict[str, Callable[[PatientState, date, bool], Step]] = {
            "facet": self._facet, "radicular": self._radicular, "facet_joint": self._facet_joint,
            "si_joint": self._si_joint, "myofascial": self._myofascial, "regenerative": self._regenerative,
            "medical": self._medical}
        return (yield from episodes[patient.condition](patient, start, first))

    def _facet(self, patient: PatientState, start: date, first: bool) -> Step:
        """Medial branch blocks, then an ablation when two gave enough relief; a repeat ablation
        when one helped."""
        rng = self.rng
        if not first and patient.good:  # the ablation helped: repeat it (the limits say when)
            relief = self._rfa_relief()
            rfa = yield from self.see(patient, "RFA", start, site=patient.site, relief=relief)
            return (yield from self._after_rfa(patient, rfa, relief))
        patient.site = patient.site or self.site("MBB")
        site, day = patient.site, start
        blocks: list[bool] = []  # whether each block gave enough relief to count for an ablation
        block: Visit | None = None
        for number in range(3):
            relief = self._block_relief(likely_good=bool(blocks) and blocks[0])
            if True in blocks and relief.percent >= 80 and rng.random() < 0.4:  # the physician's call, on record
                relief = replace(relief, decision=PlanDecision.PROCEED_RFA.value)
            block = yield from self.see(patient, "MBB", day, site=site, relief=relief)
            if not _went(block):
                return block
            assert block is not None
            blocks.append(relief.percent >= 80)
            day = block.day + _days(14, 28, rng)
            if blocks.count(True) == 2 or (number == 0 and not blocks[0]) or (number == 1 and rng.random() < 0.5):
                break
        assert block is not None
        if blocks.count(True) < 2 or rng.random() < 0.12:  # no ablation (yet): a candidate on the worklist
            return (yield from self._review(patient, block.day, 0.25)) or block
        relief = self._rfa_relief()
        rfa = yield from self.see(patient, "RFA", block.day + _days(21, 45, rng), site=site, relief=relief)
        return (yield from self._after_rfa(patient, rfa, relief))

    def _rfa_relief(self) -> Relief:
        if self.rng.random() < 0.2:  # it did not help much: sometimes the physician stops there
            return self._relief(20, 45, 2, 8, PlanDecision.NO_FURTHER.value if self.rng.random() < 0.3 else None)
        return self._relief(50, 90, 16, 52)

    def _after_rfa(self, patient: PatientState, rfa: Visit | None, relief: Relief) -> Step:
        if not _went(rfa):
            return rfa
        assert rfa is not None
        patient.good = relief.percent >= 50
        return (yield from self._review(patient, rfa.day, 0.35)) or rfa

    def _radicular(self, patient: PatientState, start: date, first: bool) -> Step:
        """Epidural steroid injections, one to three a few weeks apart."""
        patient.code = patient.code or self.rng.choices(["TFESI", "ILESI", "CESI"], [50, 35, 15])[0]
        return (yield from self._series(patient, patient.code, start, self.rng.choices([1, 2, 3], [55, 35, 10])[0],
                                        self._epidural_relief))

    def _epidural_relief(self) -> Relief:
        relief = self._relief(20, 90, 2, 20)
        if relief.percent >= 60 and self.rng.random() < 0.15:
            return replace(relief, decision=PlanDecision.REPEAT_BLOCK.value)
        if relief.percent < 40 and self.rng.random() < 0.2:
            return replace(relief, decision=PlanDecision.NO_FURTHER.value)
        return relief

    def _series(self, patient: PatientState, code: str, start: date, count: int,
                relief: Callable[[], Relief | None]) -> Step:
        """`count` injections a few weeks apart, then sometimes a follow-up visit."""
        site = patient.site = patient.site or self.site(code)
        day, last = start, None
        for _ in range(count):
            visit = yield from self.see(patient, code, day, site=site, relief=relief())
            if not _went(visit):
                return visit
            assert visit is not None
            last, day = visit, visit.day + _days(18, 35, self.rng)
        assert last is not None
        return (yield from self._review(patient, last.day, 0.2)) or last

    def _facet_joint(self, patient: PatientState, start: date, first: bool) -> Step:
        return (yield from self._series(patient, "FJI", start, 1, lambda: self._relief(30, 80, 2, 16)))

    def _si_joint(self, patient: PatientState, start: date, first: bool) -> Step:
        return (yield from self._series(patient, "SIJ", start, self.rng.choice([1, 1, 2]),
                                        lambda: self._relief(30, 90, 2, 12)))

    def _myofascial(self, patient: PatientState, start: date, first: bool) -> Step:
        return (yield from self._series(patient, "TPI", start, self.rng.randint(1, 3), lambda: None))

    def _regenerative(self, patient: PatientState, start: date, first: bool) -> Step:
        return (yield from self._series(patient, "REGEN", start, 1, lambda: self._relief(20, 70, 4, 26)))

    def _medical(self, patient: PatientState, start: date, first: bool) -> Step:
        """Medication management: a follow-up visit."""
        return (yield from self.see(patient, "FOLLOW-UP", start))

    # Patients with a pump.

    def pump_patient(self, patient: PatientState, plan: SystemPlan) -> Story:
        rng, registry = self.rng, self.registry
        if plan.in_window:
            new = yield from self.see(patient, "NEW", patient.arrival, persistent=True)
            if not _went(new):
                return
            assert new is not None
            if plan.transferred:  # implanted elsewhere: here for refills
                pump = registry.pump(patient, plan.model, plan.implant, None)
                if plan.catheter:
                    pump.catheter = registry.implant(patient, CATHETER, plan.implant, None, site=CATHETER_SITE)
                yield from self._pump_life(patient, pump, plan, 0, first_refill=new.day + _days(1, 10, rng))
                return
            trial = yield from self.see(patient, "IT-TRIAL", new.day + _days(14, 28, rng), persistent=True)
            if not _went(trial):
                return
            assert trial is not None
            implant = yield from self.see(patient, "PUMP-IMPLANT", trial.day + _days(21, 42, rng), persistent=True)
            if not _went(implant):
                return
            assert implant is not None
            pump = registry.pump(patient, plan.model, implant.day, implant)
        else:
            implant = None
            pump = registry.pump(patient, plan.model, _weekday_from(plan.implant), None)
        if plan.catheter:
            pump.catheter = registry.implant(patient, CATHETER, pump.row.implanted_on, implant, site=CATHETER_SITE)
        yield from self._pump_life(patient, pump, plan, 0)

    def _pump_life(self, patient: PatientState, pump: Pump, plan: SystemPlan, generation: int,
                   first_refill: date | None = None) -> Step:
        """Refills every two to three months until the pump comes out or is replaced."""
        rng, registry, window = self.rng, self.registry, self.window
        implanted = pump.row.implanted_on
        last = generation == len(plan.lives) - 1
        ends = implanted + timedelta(days=plan.lives[generation])
        if last and plan.explant_after is not None:
            ends = implanted + timedelta(days=plan.explant_after)
        target = first_refill or pump.next_due() - _days(0, 10, rng)
        while target < ends:
            if target < window.first:
                registry.refill(pump, _weekday_from(target), patient.office_id, None)
            else:
                if window.today - timedelta(days=30) <= target <= window.today and rng.random() < 0.2:
                    target = window.today + _days(1, 12, rng)  # missed it: overdue, booked again
                visit = yield from self.see(patient, "PUMP-REFILL", target, persistent=True)
                if not _went(visit):
                    return visit
                assert visit is not None
                registry.refill(pump, visit.day, visit.office_id, visit)
            target = max(pump.next_due() - _days(0, 10, rng), pump.last_day + timedelta(days=14))
        if last and plan.explant_after is not None:
            out = _weekday_from(self._after_last(patient, ends))
            if out <= window.today:  # (else the story ran late: it comes out another day)
                reason = rng.choice(PUMP_EXPLANT)
                for device in (pump.row, pump.catheter):
                    if device is not None:
                        registry.explant(device, out, reason)
            return None
        if last:  # still in service: its battery may be showing the end
            if ends - timedelta(days=SETTINGS.eri_days) <= window.today:
                registry.indicate_end(pump.row, ends - timedelta(days=SETTINGS.eri_days))
            return None
        new_day, visit = _weekday_from(self._after_last(patient, ends)), None
        if ends >= window.first:
            visit = yield from self.see(patient, "PUMP-IMPLANT", ends - timedelta(days=14), persistent=True)
            if not _went(visit):
                registry.indicate_end(pump.row, min(window.today, ends - timedelta(days=SETTINGS.eri_days)))
                return visit
            assert visit is not None
            new_day = visit.day
        successor = registry.pump(patient, pump.row.model, new_day, visit)
        successor.catheter = pump.catheter
        registry.replace(pump.row, successor.row)
        return (yield from self._pump_life(patient, successor, plan, generation + 1))

    # Patients with a spinal cord stimulator.

    def scs_patient(self, patient: PatientState, plan: SystemPlan) -> Story:
        rng, registry = self.rng, self.registry
        site = self.site("SCS-TRIAL")
        if plan.trial is not None:
            new = yield from self.see(patient, "NEW", patient.arrival, persistent=True)
            if not _went(new):
                return
            assert new is not None
            evaluated = max(new.day, min(new.day + _days(7, 21, rng), plan.trial - timedelta(days=3)))
            if evaluated > self.window.today:
                return
            registry.evaluate(patient, evaluated)
            relief = self._relief(50, 85, 1, 1) if plan.trial_success else self._relief(10, 45, 1, 1)
            visit = yield from self.see(patient, "SCS-TRIAL", max(plan.trial, evaluated + timedelta(days=1)),
                                        site=site, relief=relief, persistent=True)
            if not _went(visit):
                return
            assert visit is not None
            trial = registry.trial(patient, visit, relief, plan.trial_success, site.region or "thoracic")
            if trial.decision != TrialDecision.IMPLANT.value or trial.decided_on is None:
                return
            # Most book the implant within weeks; some take months to decide (candidates meanwhile).
            wait = _days(14, 35, rng) if rng.random() < 0.8 else _days(60, 150, rng)
            implant = yield from self.see(patient, "SCS-IMPLANT", trial.decided_on + wait, site=site, persistent=True)
            if implant is None:
                return
            trial.implant_appointment_id = implant.appointment_id
            if not implant.done:
                return
            day: date = implant.day
        else:
            implant = None
            if plan.in_window:  # implanted elsewhere: a consult, then follow-up here
                new = yield from self.see(patient, "NEW", patient.arrival, persistent=True)
                if not _went(new):
                    return
            day = _weekday_from(plan.implant)
        pocket = rng.choice(["Right buttock", "Left flank"])
        generator = registry.implant(patient, plan.model, day, implant, site=pocket)
        leads = [registry.implant(patient, LEAD, day, implant, site=f"{side} {site.region or 'thoracic'} epidural")
                 for side in ("Left", "Right")]
        yield from self._scs_life(patient, generator, leads, plan, 0)

    def _scs_life(self, patient: PatientState, generator: DeviceRow, leads: list[DeviceRow], plan: SystemPlan,
                  generation: int) -> Step:
        """Yearly follow-up visits; a new generator when the battery runs down; explant if it fails."""
        rng, registry, window = self.rng, self.registry, self.window
        implanted = generator.implanted_on
        last = generation == len(plan.lives) - 1
        ends = implanted + timedelta(days=plan.explant_after if last and plan.explant_after else plan.lives[generation])
        review = implanted + _days(60, 120, rng)
        while review < min(ends, window.last):
            if review >= window.first:
                visit = yield from self.see(patient, "FOLLOW-UP", review)
                if visit is not None and not visit.done:  # booked ahead: the story is told up to today
                    return visit
            review += _days(180, 365, rng)
        if last and plan.explant_after is not None:
            out = _weekday_from(self._after_last(patient, ends))
            if out <= window.today:
                reason = rng.choice(SCS_EXPLANT)
                for device in (generator, *leads):
                    registry.explant(device, out, reason)
            return None
        if last:
            if ends - timedelta(days=SETTINGS.eri_days) <= window.today and not generator.rechargeable:
                registry.indicate_end(generator, ends - timedelta(days=SETTINGS.eri_days))
            return None
        new_day, visit = _weekday_from(self._after_last(patient, ends)), None
        if ends >= window.first:
            visit = yield from self.see(patient, "IPG-REPLACE", ends - timedelta(days=14), persistent=True)
            if not _went(visit):
                registry.indicate_end(generator, min(window.today, ends - timedelta(days=SETTINGS.eri_days)))
                return visit
            assert visit is not None
            new_day = visit.day
        model = "WaveWriter Alpha 16" if generator.model.endswith("(legacy)") else generator.model
        successor = registry.implant(patient, model, new_day, visit, site=generator.site)
        registry.replace(generator, successor)
        return (yield from self._scs_life(patient, successor, leads, plan, generation + 1))


# Putting it together.

class Returns:
    """Patients between courses of treatment, who may come back once their last visit is a month old."""

    REST = timedelta(days=30)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._resting: list[tuple[int, int, PatientState]] = []
        self._ready: list[PatientState] = []
        self._sequence = itertools.count()

    def add(self, patient: PatientState) -> None:
        if patient.last_day is not None:
            heapq.heappush(self._resting, (patient.last_day.toordinal(), next(self._sequence), patient))

    def take(self, day: date) -> PatientState | None:
        """Someone rested enough by `day`, at random (swapped to the end to be taken in O(1))."""
        rested = (day - self.REST).toordinal()
        while self._resting and self._resting[0][0] <= rested:
            self._ready.append(heapq.heappop(self._resting)[2])
        if not self._ready:
            return None
        index = self.rng.randrange(len(self._ready))
        self._ready[index], self._ready[-1] = self._ready[-1], self._ready[index]
        return self._ready.pop()


Entry = tuple[int, int, Request, Story, bool]  # earliest day, order, request, its story, may come back after


class Simulation:
    """Creates the patients and their stories, then runs the stories against the calendar."""

    def __init__(self, window: Window, seed: int) -> None:
        self.window = window
        self.rng = random.Random(seed)
        self._sequence = itertools.count()

    def run(self, clinic: Clinic, stories: Stories, patients: list[PatientState], plans: list[SystemPlan],
            per_day: float) -> None:
        """Every story's requests, earliest first, so the calendar fills day by day as it would
        have. No request placed later can land before the earliest day being processed, so the
        days before it are final: when they hold fewer appointments than `per_day` a day, patients
        seen before come back for another course (new patients alone cannot keep a short history
        as busy as a long one)."""
        heap: list[Entry] = []
        returns = Returns(random.Random(self.rng.random()))
        for number, patient in enumerate(patients):
            plan = plans[number] if number < len(plans) else None
            if plan is None:
                self._advance(heap, stories.regular(patient), None, patient, returns, first=True)
            else:
                story = stories.pump_patient(patient, plan) if plan.pump else stories.scs_patient(patient, plan)
                self._advance(heap, story, None, patient, None, first=True)
        first, today = self.window.first.toordinal(), self.window.today.toordinal()
        day, final, awaited, shown = first, 0, 0, 0
        while heap:
            ordinal, _, request, story, comes_back = heapq.heappop(heap)
            while day < min(ordinal, today + 1):
                final += clinic.booked_on.get(day, 0)
                day += 1
                behind = per_day * (day - first) - final - awaited
                awaited += self._bring_back(heap, stories, returns, date.fromordinal(day), int(behind))
            visit = clinic.book(request)
            awaited -= request.revival
            self._advance(heap, story, visit, request.patient, returns if comes_back else None)
            if len(clinic.ledger.appointments) >= shown + 25_000:
                shown = len(clinic.ledger.appointments)
                _say(f"  {shown:,} appointments placed, up to {request.earliest:%Y-%m}")

    def _bring_back(self, heap: list[Entry], stories: Stories, returns: Returns, day: date, count: int) -> int:
        """Up to `count` patients booked for another course in the next days; how many came."""
        came = 0
        for _ in range(min(count, 50)):
            patient = returns.take(day)
            if patient is None:
                break
            story = stories.returning(patient, day + _days(0, 10, self.rng))
            self._advance(heap, story, None, patient, returns, first=True)
            came += 1
        return came

    def _advance(self, heap: list[Entry], story: Story, visit: Visit | None, patient: PatientState,
                 returns: Returns | None, *, first: bool = False) -> None:
        """The story's next request onto the heap; a finished story's patient may come back later."""
        try:
            request = next(story) if first else story.send(visit)
        except StopIteration:
            if returns is not None:
                returns.add(patient)
            return
        heapq.heappush(heap, (request.earliest.toordinal(), next(self._sequence), request, story,
                              returns is not None))

    def patients(self, count: int, plans: list[SystemPlan], office_ids: dict[str, int],
                 physician_ids: list[int]) -> list[PatientState]:
        """Patients in the order of `plans` first (device patients), then everyone else, arriving
        evenly from a little before the history to shortly before the last bookings."""
        rng, window = self.rng, self.window
        first = (window.first - timedelta(days=PRE_HISTORY_DAYS)).toordinal()
        last = (window.last - timedelta(days=7)).toordinal()
        states = []
        for number in range(count):
            plan = plans[number] if number < len(plans) else None
            arrival, physician = date.fromordinal(rng.randint(first, last)), None
            if plan is not None and not plan.in_window:  # an established patient, with their physician
                arrival, physician = window.first - timedelta(days=1), rng.choice(physician_ids)
            elif plan is not None and plan.transferred:  # comes to us some time after the implant elsewhere
                arrival = min(plan.implant + _days(30, 400, rng), window.today - timedelta(days=30))
            elif plan is not None and plan.trial is not None:  # consult, evaluation, then the trial
                arrival = max(plan.trial - _days(30, 50, rng), window.first)
            elif plan is not None:  # consult, trial, then the implant on the planned day
                arrival = max(plan.implant - timedelta(days=70), window.first)
            states.append(PatientState(number + 1, office_ids[_home(number + 1)[2]], arrival, physician))
        return states


def _home(number: int) -> tuple[str, str, str]:
    """Town, ZIP code and the office nearest to it, for patient `number`."""
    town, postal_code = demo.TOWNS[number % len(demo.TOWNS)]
    return town, postal_code, G if town in GLEN_BURNIE_TOWNS else A


def _patient_rows(states: list[PatientState], window: Window, seed: int, scheduler: int) -> list[dict[str, Any]]:
    """Synthetic people (Faker, seeded): names (one in ten with a hyphenated or two-word surname),
    a birth date, sex, a 555-01xx phone number, an example.com address, an emergency
    contact and the physicians outside the practice; the search keys as the app computes them.
    Names, streets and outside physicians come from pools drawn once (Faker takes a fifth of a
    millisecond a name); what the record gained later is drawn by a generator of its own, so the
    rest stays as it was."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng, more = random.Random(seed), random.Random(seed + 1)
    pool = min(len(states), 4000)
    first_names = [fake.first_name() for _ in range(pool)]
    last_names = [fake.last_name() for _ in range(pool)]
    streets = [fake.street_address() for _ in range(pool)]
    outside = _outside_physicians(fake, min(len(states) // 20 + 1, 400))
    phones: dict[str, tuple[str | None, str | None]] = {}
    numbers: dict[int, str | None] = {}
    rows = []
    for state in states:
        number = state.id
        town, postal_code, _ = _home(number)
        raw_phone = f"{('410', '443', '667')[number % 3]}-555-01{number % 100:02d}"
        if raw_phone not in phones:  # parsing is slow and there are only 300 numbers
            phone = parse_phone(raw_phone)
            phones[raw_phone] = phone, search_digits(phone)
        phone, digits = phones[raw_phone]
        first_name, last_name = rng.choice(first_names), rng.choice(last_names)
        if number % 10 == 9:
            last_name += ("-" if number % 20 == 9 else " ") + more.choice(last_names)
        born = window.today - timedelta(days=rng.randint(25 * 365, 90 * 365))
        email = f"{first_name}.{last_name}{number}@example.com".lower().replace("'", "").replace(" ", "")
        data = PatientData(
            first_name=first_name, last_name=last_name, date_of_birth=born, phone=None,
            email=email if number % 3 else None, address=rng.choice(streets), city=town, state="MD",
            postal_code=postal_code, preferred_office_id=state.office_id, sex=demo.sex_of(first_name, number))
        _draw_former_member_id(rng)
        registered = min(window.now, state.first_seen or _at(max(state.arrival, window.first), 9 * 60, window.timezone))
        rows.append({**data.columns(), **_contacts(number, first_names, last_names, outside, numbers, more),
                     "phone": phone, "phone_digits": digits, "id": state.id,
                     "mrn": mrn_from_number(1_000_000 + number), "version": 1, "created_at": registered,
                     "updated_at": registered, "updated_by_id": scheduler})
    return rows


def _draw_former_member_id(rng: random.Random) -> None:
    """Patients had a member ID drawn here before coverage had rows of its own (`_coverage_rows`):
    it is still drawn, so that what is drawn after it stays as it was."""
    rng.choice("ABCDEFGHJKMNPRSTUVWXYZ")
    rng.randint(10**9, 10**10 - 1)


def _coverage_rows(patients: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Each patient's coverage, as the demo practice gives its patients (`insurance.demo`), with the
    payers the practice base loaded."""
    payer_ids = {name: payer_id for name, payer_id in db.session.execute(select(Payer.name, Payer.id))}
    return [{**row, "patient_id": patient["id"], "version": 1, "created_at": patient["created_at"],
             "updated_at": patient["created_at"], "updated_by_id": patient["updated_by_id"]}
            for patient in patients
            for row in insurance_demo.coverage_rows(patient["id"], patient["last_name"], today, payer_ids)]


def _outside_physicians(fake: Faker, count: int) -> list[tuple[str, str]]:
    """Names and practices of the physicians who refer patients or are their primary care."""
    kinds = ("Family Medicine", "Internal Medicine", "Orthopedics", "Neurosurgery")
    return [(f"Dr. {fake.first_name()} {fake.last_name()}", f"{fake.last_name()} {kinds[number % len(kinds)]}")
            for number in range(count)]


def _contacts(number: int, first_names: list[str], last_names: list[str], outside: list[tuple[str, str]],
              numbers: dict[int, str | None], rng: random.Random) -> dict[str, Any]:
    """An emergency contact for three patients in four, a primary care physician for two in three,
    a referring physician for four in five; the outside physicians' numbers follow their index."""
    def number_of(index: int) -> str | None:
        if index % 100 not in numbers:  # parsing is slow
            numbers[index % 100] = parse_phone(f"443-555-01{index % 100:02d}")
        return numbers[index % 100]

    values: dict[str, Any] = {}
    if number % 4:
        values |= {"emergency_contact_name": f"{rng.choice(first_names)} {rng.choice(last_names)}",
                   "emergency_contact_relationship": demo.RELATIONSHIPS[number % len(demo.RELATIONSHIPS)],
                   "emergency_contact_phone": number_of(number * 7)}
    for prefix, wanted in (("primary_care", number % 3), ("referring", number % 5)):
        if wanted:
            index = rng.randrange(len(outside))
            name, practice_name = outside[index]
            values |= {f"{prefix}_name": name, f"{prefix}_practice": practice_name,
                       f"{prefix}_phone": number_of(index), f"{prefix}_fax": number_of(index + 1)}
    return values


# The practice's base, through the services.

def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _npi(rng: random.Random) -> str:
    body = str(rng.randint(100_000_000, 199_999_999))
    npi = body + luhn.calc_check_digit("80840" + body)
    assert is_valid_npi(npi)
    return npi


def _add_physicians(count: int, now: datetime, rng: random.Random, fake: Faker) -> None:
    offices = {office.slug: office.id for office in practice.list_offices()}
    for number in range(count):
        physician = practice.create_physician(practice.PhysicianData(
            fake.first_name(), fake.last_name(), rng.choice(["MD", "MD", "DO"]), _npi(rng), None), by=ACTOR, now=now)
        for slug, weekday, starts, ends in EXTRA_WEEKS[number % len(EXTRA_WEEKS)]:
            practice.add_schedule_block(physician.id, practice.ScheduleData(
                offices[slug], weekday, _hm(starts), _hm(ends), None, None), by=ACTOR)


def _holidays(year: int) -> list[tuple[date, str]]:
    """US federal holidays the offices close for, on the weekday they are observed."""
    def observed(day: date) -> date:
        return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day

    def nth(month: int, weekday: int, n: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    last_monday_of_may = nth(5, MON, 5) if nth(5, MON, 5).month == 5 else nth(5, MON, 4)
    return [(observed(date(year, 1, 1)), "New Year's Day"), (last_monday_of_may, "Memorial Day"),
            (observed(date(year, 7, 4)), "Independence Day"), (nth(9, MON, 1), "Labor Day"),
            (nth(11, THU, 4), "Thanksgiving Day"), (observed(date(year, 12, 25)), "Christmas Day")]


def _add_closures_and_leave(window: Window, rng: random.Random) -> None:
    """The holidays of every year of the history, and a week of summer vacation a year for each
    physician, so that the calendar has the gaps a real one has."""
    known = {(office_id, day) for office_id, day in db.session.execute(select(OfficeClosure.office_id,
                                                                              OfficeClosure.day))}
    closures = [{"office_id": office_id, "day": day, "reason": reason}
                for year in range(window.first.year, window.last.year + 1) for day, reason in _holidays(year)
                for office_id in db.session.scalars(select(Office.id))
                if window.first <= day <= window.last and (office_id, day) not in known]
    if closures:
        db.session.execute(insert(_table(OfficeClosure)), closures)
    leave = []
    for physician_id in db.session.scalars(select(PhysicianModel.id).order_by(PhysicianModel.id)):
        for year in range(window.first.year, window.today.year + 1):
            monday = _weekday_from(date(year, 6, 1) + _days(0, 75, rng))
            monday -= timedelta(days=monday.weekday())
            if window.first <= monday and monday + timedelta(days=4) < window.today:
                leave.append({"physician_id": physician_id, "first_day": monday,
                              "last_day": monday + timedelta(days=4), "reason": "Vacation"})
    if leave:
        db.session.execute(insert(_table(PhysicianLeave)), leave)
    db.session.commit()


def _load_base(scale: Scale, now: datetime, window: Window, rng: random.Random, seed: int) -> None:
    demo.load(patient_count=0, policy=auth_policy(), now=now, appointments=False)
    fake = Faker("en_US")
    fake.seed_instance(seed + 1)
    _add_physicians(scale.extra_physicians, now, rng, fake)
    _add_closures_and_leave(window, rng)


def _read_practice() -> tuple[list[OfficeSpec], list[RoomSpec], list[PhysicianSpec], dict[str, Procedure]]:
    db.session.expire_all()  # commits keep objects loaded (expire_on_commit=False): closures were added since
    offices = [scheduling.office_spec(o) for o in db.session.scalars(scheduling.offices_query()).unique()]
    rooms = [scheduling.room_spec(room) for room in db.session.scalars(select(Room).order_by(Room.id))]
    physicians = [scheduling.physician_spec(p) for p in
                  db.session.scalars(scheduling.physicians_query().order_by(PhysicianModel.id)).unique()]
    procedures = {p.code: Procedure.of(p) for p in db.session.scalars(select(ProcedureType)) if p.active}
    return sorted(offices, key=lambda o: o.id), rooms, physicians, procedures


def _read_models() -> dict[str, ModelInfo]:
    return {m.model: ModelInfo(m.id, m.manufacturer, m.model, m.gtin, m.kind, m.mri_conditional,
                               m.rechargeable, m.reservoir_ml) for m in db.session.scalars(select(DeviceModel))}


def _read_staff() -> Staff:
    users = {username: user_id for username, user_id in db.session.execute(select(User.username, User.id))}
    return Staff(users["scheduler"], users["nurse"], users["physician"])


# Writing.

def _table(model: type[Any]) -> Table:
    """The model's table, for Core statements (which the audit trail, hooked on ORM flushes, never sees)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _dicts(rows: Sequence[Any]) -> Iterator[list[dict[str, Any]]]:
    """The rows as mappings, a chunk at a time (building all at once would hold them all twice)."""
    if not rows:
        return
    names = [f.name for f in fields(rows[0])]
    for start in range(0, len(rows), CHUNK):
        yield [{name: getattr(row, name) for name in names} for row in rows[start:start + CHUNK]]


def _insert(table: Table, chunks: Iterator[list[dict[str, Any]]] | list[dict[str, Any]]) -> None:
    if isinstance(chunks, list):
        chunks = iter([chunks[start:start + CHUNK] for start in range(0, len(chunks), CHUNK)])
    for chunk in chunks:
        db.session.execute(insert(table), chunk)


def _write(ledger: Ledger, patients: list[dict[str, Any]], coverage: list[dict[str, Any]]) -> None:
    """Parents before children; a device's successor (a later row) is set once every device is in."""
    successors = {d.id: d.successor_id for d in ledger.devices if d.successor_id}
    for device in ledger.devices:
        device.successor_id = None
    tables: list[tuple[Any, Iterator[list[dict[str, Any]]] | list[dict[str, Any]], int]] = [
        (Patient, patients, len(patients)),
        (Coverage, coverage, len(coverage)),
        (Appointment, _dicts(ledger.appointments), len(ledger.appointments)),
        (FollowUp, _dicts(ledger.follow_ups), len(ledger.follow_ups)),
        (Outcome, _dicts(ledger.outcomes), len(ledger.outcomes)),
        (PsychEvaluation, _dicts(ledger.psych), len(ledger.psych)),
        (ScsTrial, _dicts(ledger.trials), len(ledger.trials)),
        (Device, _dicts(ledger.devices), len(ledger.devices)),
        (DeviceStatusChange, _dicts(ledger.status_changes), len(ledger.status_changes)),
        (PumpRefill, _dicts(ledger.refills), len(ledger.refills)),
    ]
    for model, rows, count in tables:
        started = stopwatch.perf_counter()
        _insert(_table(model), rows)
        _say(f"  {model.__tablename__}: {count:,} rows in {stopwatch.perf_counter() - started:.1f} s")
    _insert_name_tokens(patients)
    if successors:
        devices = _table(Device)
        db.session.execute(update(devices).where(devices.c.id == bindparam("b_id"))
                           .values(successor_id=bindparam("b_successor")),
                           [{"b_id": old, "b_successor": new} for old, new in successors.items()])
        for row in ledger.devices:
            row.successor_id = successors.get(row.id)
    if db.session.get_bind().dialect.name == "postgresql":
        for model, _, _ in tables:  # explicit ids: move the sequences past them
            name = model.__tablename__
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                    f"coalesce((SELECT max(id) FROM \"{name}\"), 1))"))


def _insert_name_tokens(patients: list[dict[str, Any]]) -> None:
    """The words of each patient's names the search finds them by, as the patient services write them."""
    started = stopwatch.perf_counter()
    rows = [row for patient in patients
            for row in name_token_rows(patient["id"], patient["first_name"], patient["last_name"])]
    _insert(_table(PatientNameToken), rows)
    _say(f"  patient_name_token: {len(rows):,} rows in {stopwatch.perf_counter() - started:.1f} s")


def _fast_load(on: bool) -> None:
    """Loading is one transaction that can be redone, so it need not wait for the disk. On SQLite
    (WAL, synchronous NORMAL) a single transaction syncs once anyway; a larger page cache keeps the
    indexes being filled in memory. It belongs to the pooled connection, so it is put back after."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = {-262144 if on else -2000}")
    elif on:
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")


def _first_ids() -> dict[str, int]:
    tables = [_table(model) for model in (Appointment, FollowUp, Outcome, Device, DeviceStatusChange, PumpRefill,
                                          ScsTrial, PsychEvaluation)]
    return {table.name: (db.session.scalar(select(func.max(table.c.id))) or 0) + 1 for table in tables}


def _window(scale: Scale, now: datetime, timezone: str) -> Window:
    today = practice_today(now)
    first = today
    for _ in range(scale.years):
        first = one_year_before(first)
    return Window(first, today, today + timedelta(days=FUTURE_DAYS), now, timezone)


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables}


def _say(line: str) -> None:
    print(line, flush=True)


def _require_empty() -> None:
    if db.session.scalar(select(func.count()).select_from(Patient)) or \
            db.session.scalar(select(func.count()).select_from(Appointment)):
        raise RuntimeError("generate() fills an empty database; this one has patients or appointments")


def _simulate(scale: Scale, window: Window, seed: int) -> tuple[Ledger, list[PatientState], Staff]:
    """Every patient's story told against the calendar; the rows kept in a ledger. Each part has a
    random generator of its own, so that changing one part leaves the others' choices alone."""
    offices, rooms, physicians, procedures = _read_practice()
    window = replace(window, timezone=offices[0].timezone)
    physician_ids = [p.id for p in physicians]
    ledger, staff = Ledger(_first_ids()), _read_staff()
    simulation = Simulation(window, seed)
    plans = Planner(window, random.Random(seed + 2)).systems(scale.devices)[:scale.patients]
    office_ids = {office.slug: office.id for office in practice.list_offices()}
    patients = simulation.patients(scale.patients, plans, office_ids, physician_ids)
    calendar = Calendar(offices, rooms, physicians, random.Random(seed + 3))
    clinic = Clinic(window, calendar, procedures, staff, ledger, random.Random(seed + 4))
    registry = Registry(window, ledger, _read_models(), staff, physician_ids, random.Random(seed + 5))
    stories = Stories(clinic, registry, random.Random(seed + 6))
    db.session.commit()  # the reads end here; the load that follows is one transaction
    simulation.run(clinic, stories, patients, plans, scale.appointments_per_year / 365.25)
    return ledger, patients, staff


def generate(scale: Scale, *, now: datetime, seed: int = 1) -> dict[str, int]:
    """Inside an app context on a migrated, EMPTY database: load the demo practice base
    (demo.load(patient_count=0, ..., appointments=False) — offices, rooms, accounts incl. the demo
    sign-ins, catalog, 5 physicians), add the extra physicians with weekly schedules, then bulk-insert
    patients, `scale.years` of appointment history up to `now` plus ~8 weeks of future bookings,
    follow-ups (+ outcomes) for completed procedures, devices with status history and pump refill
    logs, SCS trials. Commit. Return row counts per table name."""
    _require_empty()
    started = stopwatch.perf_counter()
    window = _window(scale, now, "America/New_York")
    _load_base(scale, now, window, random.Random(seed), seed)
    _say(f"Practice base loaded in {stopwatch.perf_counter() - started:.1f} s; "
         f"history {window.first} to {window.today}, bookings to {window.last}")
    ledger, patients, staff = _simulate(scale, window, seed)
    _say(f"Simulated {len(ledger.appointments):,} appointments in {stopwatch.perf_counter() - started:.1f} s")
    patient_rows = _patient_rows(patients, window, seed, staff.scheduler)
    _say(f"Made {len(patient_rows):,} patients in {stopwatch.perf_counter() - started:.1f} s; writing")
    _fast_load(True)
    _write(ledger, patient_rows, _coverage_rows(patient_rows, window.today))
    db.session.commit()
    _fast_load(False)
    db.session.commit()
    _say(f"Written in {stopwatch.perf_counter() - started:.1f} s")
    candidacy.mark_all_candidacies_stale()  # the bulk insert bypassed the marking of changed patients
    assessed = stored_candidacies.reassess_stale_candidacies(today=window.today).patients
    _say(f"Candidacies of {assessed:,} patients worked out in {stopwatch.perf_counter() - started:.1f} s")
    return row_counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=LARGE.years)
    parser.add_argument("--patients", type=int, default=LARGE.patients)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    devices = round(args.patients * LARGE.devices / LARGE.patients)
    scale = Scale(years=args.years, patients=args.patients, devices=devices)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "BACKOFFICE_INSTANCE_PATH": folder})
    with app.app_context():
        flask_migrate.upgrade()
        started = stopwatch.perf_counter()
        counts = generate(scale, now=datetime.now(UTC))
        elapsed = stopwatch.perf_counter() - started
    width = max(len(name) for name in counts)
    for name, count in sorted(counts.items()):
        print(f"  {name:<{width}} {count:>9,}")
    print(f"Generated {scale} in {elapsed:.1f} s ({url.split(':')[0]}): {url}")


if __name__ == "__main__":
    main()

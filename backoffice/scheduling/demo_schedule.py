"""Demo appointments: four weeks back and two weeks ahead, placed by the booking rules.

Every appointment passes `slot_rules.slot_problems` against those placed before it (rooms with
turnover, physicians with travel, patients, frequency limits), so the demo calendar is one the
app itself could have booked. Past ones are mostly completed, with some no-shows and
cancellations; today's move along the day's flow; future ones are scheduled or confirmed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import Region, Side
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Room
from backoffice.scheduling import rule_inputs, rules, slot_rules
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Booked, CancelReason, Limits, PriorProcedure, SlotRequest, Status
from backoffice.scheduling.slot_rules import BusyIndex

ACTOR = Actor.system("demo-data")
SEED = 2026
DAYS_BACK, DAYS_AHEAD = 28, 14
# How often each procedure comes up in a working day (codes of the catalog).
MIX = {"MBB": 6, "TFESI": 6, "ILESI": 4, "CESI": 1, "FJI": 3, "RFA": 4, "SIJ": 2, "TPI": 2, "NEW": 4,
       "FOLLOW-UP": 6, "PUMP-REFILL": 2, "SCS-TRIAL": 1, "SCS-IMPLANT": 1, "PUMP-IMPLANT": 1, "REGEN": 1}
REGIONS = [Region.LUMBAR] * 6 + [Region.CERVICAL] * 2 + [Region.THORACIC, Region.SACRAL]


def load(now: datetime) -> int:
    """Place the demo appointments once; a second run adds none."""
    if db.session.scalar(select(func.count()).select_from(Appointment)):
        return 0
    random_ = random.Random(SEED)
    offices = list(db.session.scalars(select(Office)))
    procedures = {p.code: p for p in db.session.scalars(select(ProcedureType))}
    patient_ids = list(db.session.scalars(select(Patient.id).order_by(Patient.id)))
    if not offices or not patient_ids or not procedures:
        return 0
    office_specs = {o.id: rule_inputs.office_spec(o) for o in db.session.scalars(rule_inputs.offices_query()).unique()}
    in_use = db.session.scalars(select(Room).where(Room.active.is_(True)))
    rooms = sorted((rule_inputs.room_spec(room) for room in in_use), key=lambda r: (len(r.capabilities), r.name))
    physicians = [rule_inputs.physician_spec(p) for p in db.session.scalars(rule_inputs.physicians_query()).unique()]
    specs = {code: rule_inputs.procedure_spec(p) for code, p in procedures.items() if code in MIX}
    codes = [code for code in MIX if code in specs]
    weights = [MIX[code] for code in codes]
    placed: list[Booked] = []
    history: dict[int, list[PriorProcedure]] = defaultdict(list)
    booked_days: dict[int, set[date]] = defaultdict(set)
    rows: list[Appointment] = []
    zone = ZoneInfo(offices[0].timezone)
    today = now.astimezone(zone).date()
    for offset in range(-DAYS_BACK, DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        busy = BusyIndex([b for b in placed if abs((b.start.astimezone(zone).date() - day).days) <= 1])
        for physician in physicians:
            for block in sorted((b for b in physician.blocks if b.weekday == day.weekday()), key=lambda b: b.starts):
                office = office_specs[block.office_id]
                cursor = datetime.combine(day, block.starts)
                while cursor.time() < block.ends:
                    code = random_.choices(codes, weights)[0]
                    spec = specs[code]
                    patient_id = random_.choice(patient_ids)
                    if day in booked_days[patient_id]:
                        cursor += timedelta(minutes=15)
                        continue
                    start = rules.local_to_utc(day, cursor.time(), office.timezone)
                    booking = _try_place(spec, office, rooms, physician, start, patient_id, busy,
                                         history[patient_id], random_) if start else None
                    if booking is None:
                        cursor += timedelta(minutes=15)
                        continue
                    request, item = booking
                    placed.append(item)
                    busy.add(item)
                    rows.append(_appointment(request, procedures[code], now, random_))
                    history[patient_id].append(PriorProcedure(0, day, spec.frequency_group, request.region,
                                                              spec.name, rows[-1].status))
                    booked_days[patient_id].add(day)
                    cursor += spec.duration + spec.turnover + timedelta(minutes=random_.choice([0, 0, 15, 30, 45]))
    with transaction(db.session, ACTOR):
        db.session.add_all(rows)
    return len(rows)


def _try_place(spec: rules.ProcedureSpec, office: rules.OfficeSpec, rooms: list[rules.RoomSpec],
               physician: rules.PhysicianSpec, start: datetime, patient_id: int, busy: BusyIndex,
               history: list[PriorProcedure], random_: random.Random) -> tuple[SlotRequest, Booked] | None:
    region = random_.choice(REGIONS) if spec.asks_region else None
    side = random_.choice(list(Side)) if spec.asks_side else None
    levels = random_.randint(1, min(2, spec.max_levels)) if spec.asks_levels else None
    for room in (r for r in rooms if r.office_id == office.id):
        request = SlotRequest(spec, office, room, physician, start, patient_id, region, side, levels)
        # Judged as if booked the day before, so that past days can be filled too.
        if not slot_rules.slot_problems(request, busy, now=start - timedelta(days=1), limits=Limits(), history=history):
            item = Booked(0, office.id, room.id, physician.id, patient_id, request.start, request.end,
                          request.blocked_until, spec.label, physician.name, room.name, office.name,
                          office.timezone)
            return request, item
    return None


def _appointment(request: SlotRequest, procedure: ProcedureType, now: datetime,
                 random_: random.Random) -> Appointment:
    status, reason = _status(request, now, random_)
    booked_at = request.start - timedelta(days=random_.randint(3, 30))
    return Appointment(
        patient_id=request.patient_id, procedure_type_id=procedure.id, physician_id=request.physician.id,
        office_id=request.office.id, room_id=request.room.id, starts_at=request.start, ends_at=request.end,
        blocked_until=request.blocked_until, region=request.region, side=request.side,
        levels_count=request.levels_count, status=status, status_changed_at=min(now, request.start),
        cancel_reason=reason,
        prior_auth_ref=f"PA{random_.randint(100000, 999999)}" if procedure.prior_authorization else None,
        created_at=min(booked_at, now), updated_at=min(booked_at, now))


def _status(request: SlotRequest, now: datetime, random_: random.Random) -> tuple[Status, CancelReason | None]:
    roll = random_.random()
    if request.end <= now:
        if roll < 0.07:
            return Status.NO_SHOW, None
        if roll < 0.15:
            return Status.CANCELLED, random_.choice(list(CancelReason)[:4])
        return Status.COMPLETED, None
    if request.start <= now:
        return Status.IN_ROOM, None
    if request.start - now < timedelta(hours=1):
        return Status.CHECKED_IN, None
    if roll < 0.35:
        return Status.CONFIRMED, None
    return Status.SCHEDULED, None


"""Demo follow-ups and outcomes, and a few patients whose course shows each candidacy.

The demo schedule's completed procedures get their follow-ups; most of those already due have
an outcome, some are left open (overdue). A handful of patients without demo appointments get a
story over the past months: two good medial branch blocks (a rhizotomy candidate), one good and
one poor (needs a confirmatory block), an ablation four months ago (a repeat becomes eligible
later), successful SCS trials with and without a psychological evaluation, and so on. Each of
their procedures is placed where next-available finds room, so the calendar stays consistent.
One more has procedures done elsewhere only (two good blocks and a recent epidural).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import Category, ProcedureKind
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.devices import trials
from backoffice.history.models import OutsideProcedure
from backoffice.patients.models import Patient
from backoffice.practice.models import Office
from backoffice.procedures.followups import OutcomeEntry, create_follow_ups, outcome_columns
from backoffice.procedures.handoff import hand_off_decision
from backoffice.procedures.models import FollowUp, Outcome, PsychEvaluation
from backoffice.procedures.rules import Contact, FollowUpStatus, PlanDecision, ReliefUnit
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Limits, Status

ACTOR = Actor.system("demo-data")
DEMO_PHYSICIAN = Actor(None, "demo-data", frozenset({"physician"}))  # decides in the stories
SEED = 4


@dataclass(frozen=True)
class Result:
    relief: int
    amount: int | None = None
    unit: ReliefUnit | None = None
    ongoing: bool = False
    decision: PlanDecision | None = None


@dataclass(frozen=True)
class Step:
    days_ago: int
    code: str
    region: str | None = None
    side: str | None = None
    levels: str | None = None
    results: tuple[Result | None, ...] = ()  # one per follow-up; None leaves it open


H, W, M = ReliefUnit.HOURS, ReliefUnit.WEEKS, ReliefUnit.MONTHS
L45 = "L4-L5, L5-S1"
STORIES: tuple[tuple[int | None, tuple[Step, ...]], ...] = (
    # Two qualifying lumbar right blocks: a rhizotomy candidate.
    (None, (Step(45, "MBB", "lumbar", "right", L45, (Result(90, 5, H), Result(90, 6, H))),
            Step(24, "MBB", "lumbar", "right", L45, (Result(85, 4, H),
                                                     Result(85, 4, H, decision=PlanDecision.PROCEED_RFA))))),
    # One good block and one below 80%: needs a confirmatory block.
    (None, (Step(38, "MBB", "lumbar", "left", L45, (Result(90, 6, H), Result(90, 6, H))),
            Step(12, "MBB", "lumbar", "left", L45, (Result(70, 3, H), Result(70, 3, H))))),
    # One good cervical block and a second one yesterday whose follow-ups are still open.
    (None, (Step(20, "MBB", "cervical", "right", "C5-C6", (Result(85, 5, H), Result(85, 5, H))),
            Step(1, "MBB", "cervical", "right", "C5-C6"))),
    # A lumbar RFA four months ago, relief still going on: a repeat is eligible from a date.
    (None, (Step(300, "MBB", "lumbar", "right", L45, (Result(90, 5, H), Result(90, 5, H))),
            Step(280, "MBB", "lumbar", "right", L45, (Result(85, 4, H), Result(85, 4, H))),
            Step(122, "RFA", "lumbar", "right", L45, (Result(80, 6, W, ongoing=True),)))),
    # An RFA seven months ago that helped for six: a repeat is eligible now.
    (None, (Step(215, "RFA", "lumbar", "left", L45, (Result(75, 6, W, ongoing=True), Result(70, 6, M))),)),
    # An epidural that helped for nine weeks: a repeat is eligible.
    (None, (Step(80, "TFESI", "lumbar", "right", "L5-S1", (Result(60, 9, W),)),)),
    # An epidural that barely helped: no repeat.
    (None, (Step(55, "ILESI", "cervical", None, None, (Result(30, 1, W),)),)),
    # A facet injection with three months of relief: a repeat is eligible.
    (None, (Step(105, "FJI", "lumbar", "bilateral", L45, (Result(60, 2, W, ongoing=True), Result(55, 3, M))),)),
    # Successful SCS trials, one with the psychological evaluation on record.
    (75, (Step(10, "SCS-TRIAL", "thoracic", results=(Result(65, 7, ReliefUnit.DAYS),)),)),
    (None, (Step(13, "SCS-TRIAL", "thoracic", results=(Result(55, 7, ReliefUnit.DAYS),)),)),
    # Good blocks, but the physician decided against going further.
    (None, (Step(60, "MBB", "lumbar", "left", "L3-L4", (Result(85, 4, H), Result(85, 4, H))),
            Step(40, "MBB", "lumbar", "left", "L3-L4",
                 (Result(80, 3, H), Result(80, 3, H, decision=PlanDecision.NO_FURTHER))))),
)


def load(now: datetime) -> int:
    """Add the demo follow-ups once; a second run adds none. Returns how many were created."""
    if db.session.scalar(select(func.count()).select_from(FollowUp)):
        return 0
    types = {t.code: t for t in db.session.scalars(select(ProcedureType))}
    if not types:
        return 0
    random_ = random.Random(SEED)
    created = _follow_up_the_schedule(now, random_)
    lonely = list(db.session.scalars(
        select(Patient.id).where(~Patient.id.in_(select(Appointment.patient_id))).order_by(Patient.id)))
    for (psych_days_ago, steps), patient_id in zip(STORIES, lonely, strict=False):
        created += _tell(patient_id, steps, psych_days_ago, types, now)
    if len(lonely) > len(STORIES):
        _done_elsewhere(lonely[len(STORIES)], types, now)
    return created


# A patient referred with two good blocks done at another practice (a rhizotomy candidate without
# a block here) and an epidural there last week (an epidural here waits for the 14 days).
ELSEWHERE = (("MBB", 70, "lumbar", "left", "L4-L5", 90, 6), ("MBB", 50, "lumbar", "left", "L4-L5", 85, 5),
             ("ILESI", 8, "cervical", None, None, None, None))


def _done_elsewhere(patient_id: int, types: dict[str, ProcedureType], now: datetime) -> None:
    zone = ZoneInfo(db.session.scalars(select(Office.timezone)).first() or "America/New_York")
    today = now.astimezone(zone).date()
    with transaction(db.session, ACTOR):
        for code, days_ago, region, side, levels, relief, hours in ELSEWHERE:
            if code not in types:
                continue
            db.session.add(OutsideProcedure(
                patient_id=patient_id, procedure_type_id=types[code].id, performed_on=today - timedelta(days=days_ago),
                region=region, side=side, levels=levels, levels_count=1 if levels else None,
                facility="Chesapeake Spine Center", performed_by="Dr. Amir Haddad (synthetic)",
                percent_relief=relief, relief_amount=hours, relief_unit=ReliefUnit.HOURS if hours else None,
                created_at=now, updated_at=now))


def _local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def _entry(result: Result, recorded_on: date, random_: random.Random | None = None,
           contact: Contact = Contact.PHONE) -> OutcomeEntry:
    baseline = (random_.randint(6, 9) if random_ else 8)
    return OutcomeEntry(recorded_on=recorded_on, contact=contact, baseline_nrs=baseline,
                        post_nrs=round(baseline * (100 - result.relief) / 100), percent_relief=result.relief,
                        relief_amount=result.amount, relief_unit=result.unit, relief_ongoing=result.ongoing,
                        decision=result.decision)


def _record(follow_up: FollowUp, entry: OutcomeEntry, now: datetime, kind: ProcedureKind) -> Outcome:
    outcome = Outcome(follow_up_id=follow_up.id, appointment_id=follow_up.appointment_id,
                      patient_id=follow_up.patient_id, **outcome_columns(entry, decision=entry.decision),
                      created_at=now, updated_at=now)
    db.session.add(outcome)
    follow_up.status = FollowUpStatus.DONE
    if kind is ProcedureKind.SCS_TRIAL and entry.percent_relief is not None:  # the trial keeps its result
        trials.record_result_from_follow_up(follow_up.appointment_id, reduction_percent=entry.percent_relief,
                                            on=entry.recorded_on, declined=entry.decision is PlanDecision.NO_FURTHER,
                                            by=ACTOR, now=now, today=entry.recorded_on)
    return outcome


def _put_trial_on_record(appointment: Appointment) -> None:
    """A trial procedure done: its trial is on record, as completing it in the app does."""
    if appointment.procedure_type.kind is ProcedureKind.SCS_TRIAL:
        trials.trial_for_appointment(appointment, by=ACTOR, now=appointment.ends_at)


def _random_result(kind: ProcedureKind, delay: str, random_: random.Random) -> Result:
    if kind is ProcedureKind.DIAGNOSTIC_FACET:
        return Result(random_.choice([95, 90, 85, 80, 75, 60, 40]), random_.randint(2, 8), H)
    if delay.endswith("h") or delay == "1d":
        return Result(random_.choice([80, 60, 50, 30]), random_.randint(4, 24), H)
    relief = random_.choice([80, 70, 60, 50, 40, 20])
    return Result(relief, random_.randint(1, 6), W, ongoing=relief >= 50 and random_.random() < 0.6,
                  decision=random_.choice([None, None, None, PlanDecision.REPEAT_BLOCK, PlanDecision.NO_FURTHER]))


def _follow_up_the_schedule(now: datetime, random_: random.Random) -> int:
    """Follow-ups for the demo schedule's completed procedures; outcomes for most of those due."""
    done = list(db.session.scalars(
        select(Appointment).where(Appointment.status == Status.COMPLETED)
        .options(joinedload(Appointment.procedure_type), joinedload(Appointment.office))
        .order_by(Appointment.starts_at)).unique())
    created = 0
    with transaction(db.session, ACTOR):
        for appointment in done:
            if appointment.procedure_type.category is not Category.VISIT and random_.random() < 0.6:
                appointment.baseline_nrs = random_.randint(5, 9)
            _put_trial_on_record(appointment)
            kind = appointment.procedure_type.kind
            for follow_up in create_follow_ups(appointment, ACTOR, appointment.ends_at):
                created += 1
                if follow_up.due_at > now - timedelta(days=1) or random_.random() < 0.12:
                    continue  # not due yet, or forgotten: on the overdue list
                db.session.flush()
                recorded_on = _local_day(follow_up.due_at, appointment.office.timezone)
                _record(follow_up, _entry(_random_result(kind, follow_up.delay, random_), recorded_on, random_), now,
                        kind)
    return created


def _tell(patient_id: int, steps: tuple[Step, ...], psych_days_ago: int | None, types: dict[str, ProcedureType],
          now: datetime) -> int:
    """One patient's story, step by step, each procedure placed where there is room then."""
    zone = ZoneInfo(db.session.scalars(select(Office.timezone)).first() or "America/New_York")
    today = now.astimezone(zone).date()
    created = 0
    physician_id: int | None = None
    for step in steps:
        procedure = types.get(step.code)
        if procedure is None:
            continue
        earliest = datetime.combine(today - timedelta(days=step.days_ago), time(7, 0), zone).astimezone(UTC)
        slots = find_next_available(
            procedure.id, physician_id=physician_id, earliest=earliest, now=earliest - timedelta(days=1),
            limits=Limits(), count=1, days=10, patient_id=patient_id, region=step.region, side=step.side,
            apply_booking_checks=False)  # a story's procedures were decided on, as if overridden
        if not slots or slots[0].start + _duration(procedure) > now:
            continue
        slot = slots[0]
        physician_id = slot.physician.id
        with transaction(db.session, ACTOR):
            appointment = Appointment(
                patient_id=patient_id, procedure_type=procedure, physician_id=slot.physician.id,
                office_id=slot.office.id, room_id=slot.room.id, starts_at=slot.start,
                ends_at=slot.start + _duration(procedure),
                blocked_until=slot.start + _duration(procedure)
                + timedelta(minutes=procedure.turnover_minutes),
                region=step.region, side=step.side, levels=step.levels,
                levels_count=len(step.levels.split(",")) if step.levels else None,
                status=Status.COMPLETED, status_changed_at=slot.start, baseline_nrs=8,
                prior_auth_ref="PA100200" if procedure.prior_authorization else None,
                created_at=slot.start - timedelta(days=14), updated_at=slot.start)
            db.session.add(appointment)
            db.session.flush()
            _put_trial_on_record(appointment)
            for follow_up, result in zip(create_follow_ups(appointment, ACTOR, slot.start),
                                         step.results + (None,) * 4, strict=False):
                created += 1
                if result is None or follow_up.due_at > now:
                    continue
                db.session.flush()
                outcome = _record(follow_up, _entry(result, _local_day(follow_up.due_at, slot.office.timezone)), now,
                                  procedure.kind)
                if result.decision is not None:  # the story's decision goes to the schedulers, as in the app
                    db.session.flush()
                    hand_off_decision(outcome, follow_up, priority=None, note=None, by=DEMO_PHYSICIAN, now=now,
                                      today=today)
    if psych_days_ago is not None:
        with transaction(db.session, ACTOR):
            db.session.add(PsychEvaluation(patient_id=patient_id, evaluated_on=today - timedelta(days=psych_days_ago),
                                           cleared=True, evaluator="Dr. Lena Marsh, PsyD (synthetic)",
                                           created_at=now, updated_at=now))
    return created


def _duration(procedure: ProcedureType) -> timedelta:
    return timedelta(minutes=procedure.duration_minutes)

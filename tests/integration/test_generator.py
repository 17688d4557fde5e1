"""The benchmark data generator (bench/generate.py) fills a practice the app itself could have
booked: the scale asked for, no double booking, every appointment where and when the office,
the physician's schedule and the room allow it, follow-ups only after completed procedures, and
the demo sign-ins still working. A small scale, so each test takes a second or two."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from backoffice.auth.models import User
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import parse_follow_ups
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.devices.models import Device, PumpRefill
from backoffice.patients import rules as patient_rules
from backoffice.patients import services as patient_services
from backoffice.patients.models import Patient, PatientNameToken
from backoffice.practice.models import Room
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.scheduling import rule_inputs
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES, working_spans
from bench.generate import Scale, generate
from tests.conftest import sign_in

TINY = Scale(years=1, patients=300, appointments_per_year=1500, devices=40)
NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 11:00 at the offices: today has done, current and coming visits


def generated(app: Flask) -> dict[str, int]:
    with app.app_context():
        counts = generate(TINY, now=NOW)
        db.session.remove()
    return counts


def test_the_practice_has_the_scale_asked_for_and_the_demo_sign_ins_work(app: Flask, client: FlaskClient):
    counts = generated(app)

    assert counts["patient"] == TINY.patients
    assert counts["payer"] >= 10 and counts["coverage"] >= TINY.patients  # a primary each, some a secondary too
    assert counts["physician"] == 5 + TINY.extra_physicians
    # A year of history at the rate asked, and up to eight weeks of bookings ahead.
    assert 0.85 * TINY.appointments_per_year <= counts["appointment"] <= 1.3 * TINY.appointments_per_year
    assert 0.9 * TINY.devices <= counts["device"] <= TINY.devices
    assert counts["follow_up"] > counts["appointment"] / 4 and 0 < counts["outcome"] < counts["follow_up"]
    assert counts["pump_refill"] > 0 and counts["device_status_change"] >= counts["device"]
    with app.app_context():
        assert db.session.scalars(select(User).where(User.username == "scheduler")).one().active
        statuses = Counter(db.session.scalars(select(Appointment.status)))
    assert statuses["completed"] > counts["appointment"] / 2
    assert {"cancelled", "no_show", "scheduled"} <= set(statuses)
    assert sign_in(client, "scheduler").status_code == 302
    assert client.get("/").status_code == 200


def overlaps(key: str, end: str) -> int:
    """Pairs of active appointments of the same room, physician or patient that overlap."""
    a, b = Appointment.__table__.alias("a"), Appointment.__table__.alias("b")
    same = (a.c[key] == b.c[key]) & (a.c.id < b.c.id) & (a.c.starts_at < b.c[end]) & (b.c.starts_at < a.c[end])
    query = (select(func.count()).select_from(a.join(b, same))
             .where(a.c.status.in_(ACTIVE_STATUSES), b.c.status.in_(ACTIVE_STATUSES)))
    return db.session.scalar(query) or 0


def test_no_two_active_appointments_overlap_in_a_room_for_a_physician_or_for_a_patient(app: Flask):
    generated(app)
    with app.app_context():
        assert overlaps("room_id", "blocked_until") == 0  # the room with its turnover
        assert overlaps("physician_id", "ends_at") == 0
        assert overlaps("patient_id", "ends_at") == 0


def test_every_appointment_is_where_and_when_the_practice_could_have_booked_it(app: Flask):
    generated(app)
    with app.app_context():
        offices = {o.id: rule_inputs.office_spec(o) for o in db.session.scalars(rule_inputs.offices_query()).unique()}
        physicians = {p.id: rule_inputs.physician_spec(p)
                      for p in db.session.scalars(rule_inputs.physicians_query()).unique()}
        rooms = {r.id: r for r in db.session.scalars(select(Room))}
        procedures = {p.id: p for p in db.session.scalars(select(ProcedureType))}
        appointments = list(db.session.scalars(select(Appointment)))
        for appointment in appointments:
            office, procedure = offices[appointment.office_id], procedures[appointment.procedure_type_id]
            physician, room = physicians[appointment.physician_id], rooms[appointment.room_id]
            zone = ZoneInfo(office.timezone)
            starts, ends = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
            day = starts.date()
            where = (appointment.id, starts, office.name)
            assert day not in office.closed and day.weekday() in office.hours, where
            opens, closes = office.hours[day.weekday()]
            assert opens <= starts.time() and ends.date() == day and ends.time() <= closes, where
            assert starts.minute % 5 == 0 and starts.second == 0, where
            assert not any(leave.first_day <= day <= leave.last_day for leave in physician.leave), where
            assert any(s <= starts.time() and ends.time() <= e
                       for s, e in working_spans(physician, office.id, day)), where
            assert room.office_id == office.id and procedure.capabilities <= room.capabilities, where
            assert appointment.ends_at - appointment.starts_at == timedelta(minutes=procedure.duration_minutes)
            assert appointment.blocked_until - appointment.ends_at == timedelta(minutes=procedure.turnover_minutes)
            assert (appointment.region is not None) == procedure.asks_region, where
            assert (appointment.side is not None) == procedure.asks_side, where
            assert (appointment.levels_count is not None) == procedure.asks_levels, where
            assert appointment.created_at <= appointment.status_changed_at <= NOW, where


def test_follow_ups_come_from_completed_procedures_and_refills_from_pumps_in_service(app: Flask):
    generated(app)
    with app.app_context():
        follow_ups = Counter(db.session.scalars(
            select(Appointment.status).join(FollowUp, FollowUp.appointment_id == Appointment.id)))
        assert follow_ups and set(follow_ups) == {"completed"}
        completed = db.session.execute(
            select(ProcedureType.follow_ups, func.count(FollowUp.id))
            .join(Appointment, Appointment.procedure_type_id == ProcedureType.id)
            .outerjoin(FollowUp, FollowUp.appointment_id == Appointment.id)
            .where(Appointment.status == "completed").group_by(Appointment.id, ProcedureType.follow_ups)).all()
        assert all(count == len(parse_follow_ups(delays)) for delays, count in completed)
        outcomes_of = Counter(db.session.scalars(select(FollowUp.status).join(Outcome)))
        assert set(outcomes_of) == {"done"}
        refills = db.session.execute(select(Device, PumpRefill).join(PumpRefill, PumpRefill.device_id == Device.id)
                                     .order_by(PumpRefill.refilled_on)).all()
        assert refills and {device.kind for device, _ in refills} == {"pump"}
        last: dict[int, PumpRefill] = {}
        for device, refill in refills:
            assert device.implanted_on <= refill.refilled_on <= (device.explanted_on or NOW.date()), refill.id
            last[device.id] = refill
        for device, _ in refills:
            if device.status == "implanted":  # the refill worklist reads the date the last refill planned
                assert device.next_refill_on == last[device.id].next_due_on, device.id


def test_generated_patients_are_found_by_each_word_of_their_names_and_have_a_full_record(app: Flask):
    generated(app)
    with app.app_context():
        untokened = db.session.scalar(select(func.count()).select_from(Patient).where(
            ~Patient.id.in_(select(PatientNameToken.patient_id))))
        hyphenated = db.session.scalars(select(Patient).where(Patient.last_name.like("%-%"))).first()
        assert untokened == 0 and hyphenated is not None
        second_word = hyphenated.last_name.split("-")[1]
        scheduler = Actor(1, "scheduler", frozenset({"scheduler"}))
        found = patient_services.search_patients(patient_rules.parse_search(second_word), by=scheduler, limit=1000)
        assert hyphenated.id in {p.id for p in found}
        assert db.session.scalar(select(func.count()).select_from(Patient).where(Patient.sex.is_(None))) == 0
        assert db.session.scalar(select(func.count()).select_from(Patient).where(
            Patient.emergency_contact_phone.is_not(None))) > TINY.patients / 2

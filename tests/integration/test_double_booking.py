"""Concurrent staff cannot double-book a room, a physician or a patient: on SQLite because every
write takes the write lock first, on PostgreSQL because of row locks and exclusion constraints."""

from __future__ import annotations

import threading
from datetime import time, timedelta
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from backoffice.core.errors import DomainError
from backoffice.core.extensions import db
from backoffice.scheduling import services
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES, CancelReason
from tests.conftest import make_app

from .scheduling_helpers import LIMITS, MONDAY, NOW, SCHEDULER, book, patients, request


def test_twenty_people_booking_one_slot_get_one_booking_and_nineteen_clear_refusals(database_url, demo):
    app = make_app(database_url)
    with app.app_context():
        requests = [request(patient=patient, at=time(10, 0)) for patient in patients()[:20]]
        db.session.remove()
    barrier = threading.Barrier(len(requests))
    booked: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def attempt(booking: services.BookingRequest) -> None:
        with app.app_context():
            try:
                barrier.wait()
                booked.append(services.book_appointment(booking, by=SCHEDULER, now=NOW, limits=LIMITS).id)
            except services.BookingConflict as conflict:
                refused.append(conflict.message)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        stored = db.session.scalars(select(Appointment)).all()
        db.session.remove()
        db.engine.dispose()
    assert errors == []
    assert len(booked) == 1 and len(refused) == 19 and len(stored) == 1
    assert all("Procedure Room 1, Annapolis, is taken 10:00-10:30 by a medial branch block with Dr. Reyes"
               in message for message in refused)


@pytest.fixture
def postgres_app(postgres_url):
    from tests.conftest import truncate_postgres

    truncate_postgres(postgres_url)
    app = make_app(postgres_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _load_practice(app):
    from backoffice import demo
    from backoffice.auth.sessions import auth_policy

    with app.app_context():
        demo.load(patient_count=5, policy=auth_policy(), now=NOW, appointments=False)
        db.session.remove()


def test_postgres_refuses_overlaps_that_skip_the_check(postgres_app):
    _load_practice(postgres_app)
    with postgres_app.app_context():
        first = book()
        for column, changes in (("room", {"patient_id": patients()[1].id, "physician_id": 2}),
                                ("physician", {"patient_id": patients()[1].id, "room_id": first.room_id + 1}),
                                ("patient", {"physician_id": 2, "room_id": first.room_id + 1})):
            values = {c.name: getattr(first, c.name) for c in Appointment.__table__.columns if c.name != "id"}
            values.update(changes)
            values["starts_at"] = first.starts_at + timedelta(minutes=10)
            values["ends_at"] = first.ends_at + timedelta(minutes=10)
            values["blocked_until"] = first.blocked_until + timedelta(minutes=10)
            with pytest.raises(IntegrityError, match=f"ex_appointment_{column}"), db.session.begin_nested():
                db.session.execute(Appointment.__table__.insert().values(**values))
        db.session.rollback()


def test_postgres_turns_a_race_the_check_missed_into_the_conflict_message(postgres_app, monkeypatch):
    _load_practice(postgres_app)
    real_problems = services._problems
    calls = {"count": 0}

    def blind_once(*args, **kwargs):
        calls["count"] += 1
        return [] if calls["count"] == 1 else real_problems(*args, **kwargs)

    with postgres_app.app_context():
        book()
        monkeypatch.setattr(services, "_problems", blind_once)
        with pytest.raises(services.BookingConflict) as conflict:
            book(patient=patients()[1], at=time(9, 15))
        assert "is taken 09:00-09:30" in conflict.value.message


SLOTS = [time(8, 0) .replace(hour=8 + quarter // 4, minute=15 * (quarter % 4)) for quarter in range(16)]
PLACES = [("annapolis", "Procedure Room 1", "Reyes"), ("annapolis", "Procedure Room 2", "Reyes"),
          ("glen-burnie", "Procedure Room 1", "Okafor"), ("glen-burnie", "Procedure Room 2", "Whitfield"),
          ("glen-burnie", "Procedure Room 1", "Natarajan")]
operations = st.lists(st.one_of(
    st.tuples(st.just("book"), st.integers(0, len(SLOTS) - 1), st.integers(0, len(PLACES) - 1),
              st.integers(0, 4), st.sampled_from(["MBB", "RFA", "TFESI"])),
    st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, len(SLOTS) - 1), st.integers(0, len(PLACES) - 1)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
), max_size=14)


def _overlaps(a: Appointment, b: Appointment) -> list[str]:
    found = []
    if a.room_id == b.room_id and a.starts_at < b.blocked_until and b.starts_at < a.blocked_until:
        found.append("room")
    for field in ("physician_id", "patient_id"):
        if getattr(a, field) == getattr(b, field) and a.starts_at < b.ends_at and b.starts_at < a.ends_at:
            found.append(field)
    return found


def _apply(step: tuple, people: list) -> None:
    from .scheduling_helpers import office, physician, room

    kind = step[0]
    active = list(db.session.scalars(select(Appointment).where(
        Appointment.status.in_([s.value for s in ACTIVE_STATUSES])).order_by(Appointment.id)))
    try:
        if kind == "book":
            _, slot, place, patient, code = step
            slug, room_name, doctor = PLACES[place]
            book(code=code, slug=slug, room_name=room_name, doctor=doctor, patient=people[patient], at=SLOTS[slot])
        elif kind == "move" and active:
            _, which, slot, place = step
            old = active[which % len(active)]
            slug, room_name, doctor = PLACES[place]
            move = services.Move(physician(doctor).id, office(slug).id, room(slug, room_name).id, MONDAY, SLOTS[slot])
            services.reschedule_appointment(old.id, move, expected_version=old.version, by=SCHEDULER, now=NOW,
                                            limits=LIMITS)
        elif kind == "cancel" and active:
            old = active[step[1] % len(active)]
            services.cancel_appointment(old.id, CancelReason.PATIENT_REQUEST, None, expected_version=old.version,
                                        by=SCHEDULER, now=NOW)
    except DomainError:
        pass  # refused: the property is about what was accepted


@pytest.mark.usefixtures("demo", "app_context")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_after_any_bookings_moves_and_cancellations_no_two_active_appointments_overlap(steps):
    db.session.execute(delete(Appointment).where(Appointment.replaces_id.is_not(None)))
    db.session.execute(delete(Appointment))
    db.session.commit()
    people = patients()[:5]
    for step in steps:
        _apply(step, people)
    active = db.session.scalars(select(Appointment).where(
        Appointment.status.in_([s.value for s in ACTIVE_STATUSES]))).all()
    clashes = [(a.id, b.id, _overlaps(a, b)) for a, b in combinations(active, 2) if _overlaps(a, b)]
    assert clashes == []



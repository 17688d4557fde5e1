"""Finding the demo practice's records and booking in them, for scheduling tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from backoffice.catalog.models import ProcedureType
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician, Room
from backoffice.scheduling import services
from backoffice.scheduling.rules import Limits

SCHEDULER = Actor(1, "scheduler", frozenset({"scheduler"}), "192.0.2.20")
PHYSICIAN = Actor(3, "physician", frozenset({"physician"}), "192.0.2.21")
LIMITS = Limits()
# Bookings in tests are judged as of this moment, so their dates are fixed and in the future.
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def office(slug: str) -> Office:
    return db.session.scalars(select(Office).where(Office.slug == slug)).one()


def room(slug: str, name: str) -> Room:
    return db.session.scalars(select(Room).join(Room.office).where(Office.slug == slug, Room.name == name)).one()


def physician(last_name: str) -> Physician:
    return db.session.scalars(select(Physician).where(Physician.last_name == last_name)).one()


def procedure(code: str) -> ProcedureType:
    return db.session.scalars(select(ProcedureType).where(ProcedureType.code == code)).one()


def patients() -> list[Patient]:
    return list(db.session.scalars(select(Patient).order_by(Patient.id)))


def weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


# Dr. Reyes: Annapolis Mondays 07:30-16:30, Glen Burnie Tuesdays 08:00-16:00.
MONDAY = weekday_on_or_after(date(2026, 2, 2), 0)
TUESDAY = MONDAY + timedelta(days=1)


def request(*, code: str = "MBB", slug: str = "annapolis", room_name: str = "Procedure Room 1",
            doctor: str = "Reyes", patient: Patient | None = None, day: date = MONDAY, at: time = time(9, 0),
            region: str | None = "lumbar", side: str | None = "right", levels: int | None = 1,
            override: str | None = None) -> services.BookingRequest:
    who = patient or patients()[0]
    return services.BookingRequest(who.id, procedure(code).id, physician(doctor).id, office(slug).id,
                                   room(slug, room_name).id, day, at, region, side, levels,
                                   override_reason=override)


def book(by: Actor = SCHEDULER, now: datetime = NOW, **kwargs):
    return services.book_appointment(request(**kwargs), by=by, now=now, limits=LIMITS)

"""Booking an appointment sends the same few SQL statements whatever the practice's size.

A scheduler books a medial branch block through POST /appointments/new and its statements are
counted under QueryCounter. Then the room and the physician are given a few hundred bookings on
the days either side of a second booking, and its patient two years of epidurals (Core executemany),
and the second booking must send exactly as many statements, still writing its audit row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import insert, select

from backoffice.core.extensions import db
from backoffice.models import Appointment, Office, Patient, ProcedureType, Room
from tests.conftest import QueryCounter
from tests.functional.test_scheduling_pages import MONDAY, booking, ids, patient_mrns

# The SQL statements one booking sends (SQLite's explicit BEGIN left out). Before the write
# transaction: the signed-in user, and for the form's choices the offices with their rooms, the
# physicians (with whether they work at the office that day) and the procedures, then the patient
# by MRN. In it: the procedure, office, room (the physician, patient and room rows locked), the
# physician's schedule and leave, the bookings in the way and the patient's history (one UNION
# ALL), the open scheduling request the booking fulfils (locked; none here), the appointment, the
# audit chain's last hash (read under the append lock) and the audit row, and the mark that the
# patient's candidacies need working out.
BOOKING_QUERIES = 13
SLOT = timedelta(minutes=5)


def _row(start: datetime, **values: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"starts_at": start, "ends_at": start + SLOT, "blocked_until": start + SLOT, "status": "completed",
            "status_changed_at": now, "version": 1, "created_at": now, "updated_at": now, **values}


def _crowd_around(app: Flask, day: date, patient_mrn: str) -> int:
    """Fill room and physician of `booking` on the days before and after `day` with five-minute
    bookings, and give the patient an epidural every day from 60 to 720 days before it (never
    overlapping, so PostgreSQL's exclusion constraints accept them); return the rows added."""
    known = ids(app)
    with app.app_context():
        office = db.session.get(Office, known["office"])
        assert office is not None
        zone = ZoneInfo(office.timezone)
        rooms = {room.name: room.id for room in db.session.scalars(select(Room).where(Room.office_id == office.id))}
        others = list(db.session.scalars(select(Patient.id).where(Patient.mrn != patient_mrn)))
        patient_id = db.session.scalars(select(Patient.id).where(Patient.mrn == patient_mrn)).one()
        epidural = db.session.scalars(select(ProcedureType.id).where(ProcedureType.code == "ILESI")).one()
        rows = [_row((datetime.combine(near, time(0), zone) + n * SLOT).astimezone(UTC),
                     patient_id=others[n % len(others)], procedure_type_id=known["mbb"],
                     physician_id=known["reyes"], office_id=office.id, room_id=rooms["Procedure Room 1"])
                for near in (day - timedelta(days=1), day + timedelta(days=1)) for n in range(24 * 12)]
        rows += [_row(datetime.combine(day - timedelta(days=days), time(6, 0), zone).astimezone(UTC),
                      patient_id=patient_id, procedure_type_id=epidural, physician_id=known["reyes"],
                      office_id=office.id, room_id=rooms["Procedure Room 2"], region="lumbar")
                 for days in range(60, 721)]
        db.session.execute(insert(Appointment), rows)
        db.session.commit()
        db.session.remove()
    return len(rows)


def _booked(app: Flask, client: Any, data: dict[str, str]) -> list[str]:
    """The statements of one booking that succeeds, BEGIN left out."""
    with QueryCounter(app) as counter:
        response = client.post("/appointments/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return [s for s in counter.statements if not s.startswith("BEGIN")]


def test_a_booking_sends_as_many_queries_with_a_crowded_calendar_and_history_as_with_an_empty_one(app, signed_in):
    client = signed_in("scheduler")
    first, second = patient_mrns(app)[:2]
    few = _booked(app, client, booking(app, patient=first))

    later = MONDAY + timedelta(weeks=3)
    assert _crowd_around(app, later, second) > 1000
    many = _booked(app, client, booking(app, patient=second, date=later.isoformat()))

    assert len(many) == len(few) <= BOOKING_QUERIES, (few, many)
    assert sum(s.startswith("INSERT INTO audit_event") for s in many) == 1
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert any("FOR NO KEY UPDATE OF physician, patient, room" in s for s in many), many
        booked = db.session.scalars(select(Appointment).order_by(Appointment.id.desc())).first()
        assert booked is not None and booked.starts_at.astimezone(ZoneInfo("America/New_York")).date() == later

"""The day board through HTTP: it keeps itself current without re-showing (and re-auditing) an
unchanged list or keeping an idle session alive, refuses the room and completion before the
appointment's start, and shows each patient's phone, as does the day sheet."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from backoffice.audit.models import AuditEvent
from backoffice.core.extensions import db
from backoffice.core.phones import format_phone
from backoffice.models import Appointment, Patient

from .test_idle_logoff import idle_for, seen_at
from .test_scheduling_pages import MONDAY, at_annapolis, booking


def appointment_day(app, appointment_id: int) -> date:
    with app.app_context():
        return db.session.get(Appointment, appointment_id).starts_at.astimezone(ZoneInfo("America/New_York")).date()


def board_readings(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.subject.like("day board%")))


def refresh_of(board_page: str) -> tuple[str, str]:
    """The URL the board's script asks for its list, and the digest of the list it shows."""
    tag = re.search(r'<div id="board-list"[^>]*>', board_page).group(0)
    url = unescape(re.search(r'data-refresh-url="([^"]+)"', tag).group(1))
    return url, re.search(r'data-digest="([^"]+)"', tag).group(1)


def test_the_board_list_is_sent_again_only_when_something_on_it_changed(app, signed_in, one_appointment):
    day = appointment_day(app, one_appointment)
    client = signed_in("scheduler")
    url, digest = refresh_of(client.get(f"/offices/annapolis/board?date={day.isoformat()}").get_data(as_text=True))
    assert url == f"/offices/annapolis/board/list?date={day.isoformat()}"
    response = client.get(url)
    assert response.mimetype == "text/html"
    first = response.get_data(as_text=True)
    assert first.lstrip().startswith('<div id="board-list"') and "<html" not in first
    assert ">Confirm</button>" in first
    # Its buttons come back to the board, not to the list.
    assert f'name="back" value="/offices/annapolis/board?date={day.isoformat()}"' in first
    readings = board_readings(app)

    unchanged = client.get(url, headers={"If-None-Match": f'"{digest}"'})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert board_readings(app) == readings              # nothing shown, nothing audited

    signed_in("nurse").post(f"/appointments/{one_appointment}/status", data={"version": "1", "target": "confirmed"})
    changed = client.get(url, headers={"If-None-Match": f'"{digest}"'})
    html = changed.get_data(as_text=True)
    assert changed.status_code == 200 and changed.headers["ETag"] != f'"{digest}"'
    assert "Confirmed" in html and ">Check in</button>" not in html   # check in is on the day
    assert board_readings(app) == readings + 1
    assert refresh_of(html)[1] == changed.headers["ETag"].strip('"')


def test_refreshing_the_board_does_not_keep_an_idle_session_signed_in(signed_in):
    client = signed_in("scheduler")
    idle_for(client, 14.5)
    before = seen_at(client)
    assert client.get("/offices/annapolis/board/list").status_code == 200
    assert seen_at(client) == before
    idle_for(client, 15)
    assert client.get("/offices/annapolis/board/list").location.startswith("/login")


def test_the_board_and_the_day_sheet_show_the_patients_phone(app, signed_in, one_appointment):
    day = appointment_day(app, one_appointment)
    with app.app_context():
        phone = db.session.scalar(select(Patient.phone).join(Appointment, Appointment.patient_id == Patient.id)
                                  .where(Appointment.id == one_appointment))
    assert phone and format_phone(phone).startswith("(")
    client = signed_in("nurse")
    for page in (f"/offices/annapolis/board?date={day.isoformat()}",
                 f"/offices/annapolis/day-sheet?date={day.isoformat()}"):
        assert format_phone(phone) in client.get(page).get_data(as_text=True), page


def test_a_patient_without_a_phone_says_so_on_the_board(app, signed_in, one_appointment):
    day = appointment_day(app, one_appointment)
    with app.app_context():
        patient_id = db.session.get(Appointment, one_appointment).patient_id
        db.session.execute(update(Patient).where(Patient.id == patient_id).values(phone=None))
        db.session.commit()
    board = signed_in("scheduler").get(f"/offices/annapolis/board?date={day.isoformat()}").get_data(as_text=True)
    assert "no phone" in board


def test_in_room_and_complete_are_refused_before_the_start_with_the_time(app, signed_in, monkeypatch):
    client = signed_in("nurse")
    appointment_id = signed_in("scheduler").post("/appointments/new", data=booking(app)).location.rsplit("/", 1)[1]
    monkeypatch.setattr("backoffice.scheduling.views.utcnow", lambda: at_annapolis(MONDAY, 8, 30))

    def move(version: int, target: str) -> str:
        moved = client.post(f"/appointments/{appointment_id}/status",
                            data={"version": str(version), "target": target}, follow_redirects=True)
        return unescape(moved.get_data(as_text=True))

    move(1, "confirmed")
    page = move(2, "checked_in")               # patients arrive early
    assert "In room from the appointment's start, 09:00." in page
    refused = move(3, "in_room")
    assert f"“In room” is possible from the appointment's start, 09:00 on {MONDAY:%m/%d/%Y}, not before." in refused
    monkeypatch.setattr("backoffice.scheduling.views.utcnow", lambda: at_annapolis(MONDAY, 3, 7))
    with app.app_context():
        db.session.execute(update(Appointment).where(Appointment.id == int(appointment_id))
                           .values(status="in_room", version=4))
        db.session.commit()
    refused = move(4, "completed")
    assert "“Complete” is possible from the appointment's start, 09:00" in refused
    with app.app_context():
        assert db.session.get(Appointment, int(appointment_id)).status == "in_room"



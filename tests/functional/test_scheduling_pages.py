from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from backoffice.core.extensions import db
from backoffice.models import Appointment, Office, Patient, Physician, ProcedureType, Room
from backoffice.practice import services as practice
from backoffice.practice.services import ScheduleData
from tests.conftest import QueryCounter
from tests.integration.scheduling_helpers import SCHEDULER

from .browser_form import form_values


def _quiet_monday() -> date:
    """A Monday a few weeks ahead (Dr. Reyes works at Annapolis 07:30-16:30) from which the next
    five Mondays three weeks apart avoid the demo practice's closed days."""
    from backoffice.demo import CLOSED_DAYS

    closed = {day for day, _ in CLOSED_DAYS}
    monday = date.today() + timedelta(days=21 - date.today().weekday())
    while any(monday + timedelta(weeks=3 * k) in closed for k in range(5)):
        monday += timedelta(weeks=1)
    return monday


MONDAY = _quiet_monday()


def ids(app) -> dict[str, int]:
    with app.app_context():
        def one(model, **where):
            query = select(model.id)
            for key, value in where.items():
                query = query.where(getattr(model, key) == value)
            return db.session.scalars(query).first()
        return {
            "office": one(Office, slug="annapolis"), "room": one(Room, name="Procedure Room 1", office_id=1),
            "room2": one(Room, name="Procedure Room 2", office_id=1), "reyes": one(Physician, last_name="Reyes"),
            "mbb": one(ProcedureType, code="MBB"), "rfa": one(ProcedureType, code="RFA"),
            "ilesi": one(ProcedureType, code="ILESI"),
        }


def patient_mrns(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Patient.mrn).order_by(Patient.id)))


def booking(app, **changes) -> dict[str, str]:
    known = ids(app)
    data = {"patient": patient_mrns(app)[0], "procedure_type_id": str(known["mbb"]),
            "physician_id": str(known["reyes"]), "office_id": str(known["office"]), "room_id": str(known["room"]),
            "date": MONDAY.isoformat(), "time": "09:00", "region": "lumbar", "side": "right", "levels_count": "1"}
    data.update(changes)
    return data


def test_a_booked_procedure_shows_on_the_day_and_week_calendars_and_the_physicians_day(app, signed_in):
    client = signed_in("scheduler")
    response = client.post("/appointments/new", data=booking(app))
    assert response.status_code == 302, response.get_data(as_text=True)
    appointment_page = client.get(response.location).get_data(as_text=True)
    assert "Medial branch block" in appointment_page and "Scheduled" in appointment_page

    day = client.get(f"/offices/annapolis/calendar?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert "09:00-09:30 MBB" in day
    week = client.get(f"/offices/annapolis/calendar?date={MONDAY.isoformat()}&view=week").get_data(as_text=True)
    assert "09:00-09:30 MBB" in week
    physician_day = client.get(f"/physicians/{ids(app)['reyes']}/day?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert "09:00-09:30" in physician_day and "Annapolis, Procedure Room 1" in physician_day


def test_a_conflict_names_what_is_in_the_way_next_to_the_field_and_offers_other_times(app, signed_in):
    client = signed_in("scheduler")
    client.post("/appointments/new", data=booking(app))
    refused = client.post("/appointments/new", data=booking(app, patient=patient_mrns(app)[1], time="09:15"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert ("Procedure Room 1, Annapolis, is taken 09:00-09:30 by a medial branch block with Dr. Reyes, "
            "then turned over until 09:45.") in html
    assert re.search(r'<select[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="room_id"', html)
    alternative = re.search(r'href="(/appointments/new\?[^"]+)">Use this time', html).group(1).replace("&amp;", "&")
    prefilled = form_values(client.get(alternative).get_data(as_text=True))
    assert prefilled["patient"] == [patient_mrns(app)[1]] and prefilled["procedure_type_id"] == [str(ids(app)["mbb"])]
    assert client.post("/appointments/new", data={**booking(app), **{k: v[0] for k, v in prefilled.items() if v},
                                                  "region": "lumbar", "side": "right", "levels_count": "1"}
                       ).status_code == 302


def test_a_limit_can_be_overridden_only_by_a_physician_with_a_reason(app, signed_in):
    scheduler, physician = signed_in("scheduler"), signed_in("physician")
    for weeks in (0, 3, 6, 9):
        day = (MONDAY + timedelta(weeks=weeks)).isoformat()
        assert scheduler.post("/appointments/new", data=booking(
            app, procedure_type_id=str(ids(app)["ilesi"]), date=day, side="", levels_count="")).status_code == 302
    fifth = booking(app, procedure_type_id=str(ids(app)["ilesi"]), date=(MONDAY + timedelta(weeks=12)).isoformat(),
                    side="", levels_count="")
    refused = scheduler.post("/appointments/new", data=fifth)
    assert refused.status_code == 409
    assert "Ask a physician" in refused.get_data(as_text=True)
    assert 'name="override_reason"' not in refused.get_data(as_text=True)
    page = physician.post("/appointments/new", data=fifth).get_data(as_text=True)
    assert 'name="override_reason"' in page
    overridden = physician.post("/appointments/new", data={**fifth, "override_reason": "Severe flare; documented"})
    assert overridden.status_code == 302
    assert "Severe flare; documented" in physician.get(overridden.location).get_data(as_text=True)


@pytest.mark.parametrize("changes, field, message", [
    ({"region": ""}, "region", "Choose the spinal region"),
    ({"levels_count": "4"}, "levels_count", "between 1 and 3"),
    ({"patient": "12345678"}, "patient", "No patient has this MRN"),
    ({"patient": "Smith"}, "patient", "Choose a patient from the list"),
    ({"time": "06:00"}, "time", "is open 07:00-17:00"),
    ({"date": "2020-01-06"}, "time", "That time has passed"),
    ({"room_id": "999999"}, "room_id", "Not a valid choice"),
])
def test_booking_problems_are_explained_next_to_their_field(app, signed_in, changes, field, message):
    response = signed_in("scheduler").post("/appointments/new", data=booking(app, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 409)
    assert message in html
    assert re.search(rf'<(?:input|select)[^>]*class="[^"]*is-invalid[^"]*"[^>]*(?:id|name)="{field}"', html), field


def test_reschedule_and_cancel_from_the_appointment_page(app, signed_in):
    client = signed_in("scheduler")
    first = client.post("/appointments/new", data=booking(app)).location
    appointment_id = int(first.rsplit("/", 1)[1])
    form = form_values(client.get(f"/appointments/{appointment_id}/reschedule").get_data(as_text=True))
    moved = client.post(f"/appointments/{appointment_id}/reschedule", data={**{k: v[0] for k, v in form.items() if v},
                                                                           "time": "11:00"})
    assert moved.status_code == 302
    new_page = client.get(moved.location).get_data(as_text=True)
    assert "Replaces" in new_page and "11:00" in new_page
    assert "Rescheduled to" in client.get(first).get_data(as_text=True)
    new_id = int(moved.location.rsplit("/", 1)[1])
    cancel_form = form_values(client.get(f"/appointments/{new_id}/cancel").get_data(as_text=True))
    refused = client.post(f"/appointments/{new_id}/cancel", data={**{k: v[0] for k, v in cancel_form.items() if v}})
    assert refused.status_code == 400 and "Choose the reason" in refused.get_data(as_text=True)
    done = client.post(f"/appointments/{new_id}/cancel", data={**{k: v[0] for k, v in cancel_form.items() if v},
                                                              "reason": "patient_request"})
    assert done.status_code == 302
    assert "Patient request" in client.get(done.location).get_data(as_text=True)
    calendar = client.get(f"/offices/annapolis/calendar?date={MONDAY.isoformat()}").get_data(as_text=True)
    off_grid = calendar.split('id="off-grid"', 1)[1]
    assert re.search(r"11:00-\d\d:\d\d MBB</a>", off_grid) and "patient request" in off_grid
    assert f'href="/appointments/{new_id}"' not in calendar.split('id="off-grid"', 1)[0]   # its time is free


def test_a_move_to_where_and_when_it_is_already_booked_is_refused(app, signed_in):
    client = signed_in("scheduler")
    first = client.post("/appointments/new", data=booking(app)).location
    appointment_id = int(first.rsplit("/", 1)[1])
    form = form_values(client.get(f"/appointments/{appointment_id}/reschedule").get_data(as_text=True))
    unchanged = client.post(f"/appointments/{appointment_id}/reschedule",
                            data={k: v[0] for k, v in form.items() if v})
    assert unchanged.status_code == 400
    assert "This is where and when it is booked now" in unchanged.get_data(as_text=True)
    assert "Rescheduled to" not in client.get(first).get_data(as_text=True)


def test_times_are_typed_as_24_hour_text_not_the_browsers_am_pm_picker(signed_in):
    page = signed_in("scheduler").get("/appointments/new").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="time"[^>]*>', page).group(0)
    assert 'type="text"' in tag and 'placeholder="HH:MM"' in tag


def at_annapolis(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo("America/New_York")).astimezone(UTC)


def test_the_day_board_moves_an_appointment_through_the_day(app, signed_in, monkeypatch):
    client = signed_in("scheduler")
    appointment_url = client.post("/appointments/new", data=booking(app)).location
    appointment_id = appointment_url.rsplit("/", 1)[1]
    clock = {"now": at_annapolis(MONDAY, 8, 50)}   # the morning of the 09:00 appointment
    monkeypatch.setattr("backoffice.scheduling.views.utcnow", lambda: clock["now"])

    def move(target: str, button: str) -> str:
        board = client.get("/offices/annapolis/board").get_data(as_text=True)
        assert f">{button}</button>" in board
        version = form_values(board, action=f"/appointments/{appointment_id}/status")["version"][0]
        moved = client.post(f"/appointments/{appointment_id}/status",
                            data={"version": version, "target": target, "back": "/offices/annapolis/board"})
        assert moved.location == f"/offices/annapolis/board#appointment-{appointment_id}"  # back to its row
        return client.get("/offices/annapolis/board").get_data(as_text=True)

    move("confirmed", "Confirm")
    board = move("checked_in", "Check in")    # patients arrive early
    assert ">In room</button>" not in board and "In room from 09:00" in board
    clock["now"] = at_annapolis(MONDAY, 9, 0)
    move("in_room", "In room")
    assert "Completed" in move("completed", "Complete")


def test_a_move_from_an_old_board_is_refused_with_a_message(app, signed_in, monkeypatch):
    client = signed_in("scheduler")
    appointment_id = client.post("/appointments/new", data=booking(app)).location.rsplit("/", 1)[1]
    client.post(f"/appointments/{appointment_id}/status", data={"version": "1", "target": "confirmed"})
    stale = client.post(f"/appointments/{appointment_id}/status", data={"version": "1", "target": "confirmed"},
                        follow_redirects=True)
    assert "was changed by Dana Whitaker" in stale.get_data(as_text=True)
    refused = client.post(f"/appointments/{appointment_id}/status", data={"version": "2", "target": "completed"},
                          follow_redirects=True)
    assert "cannot become completed" in refused.get_data(as_text=True)


def test_managers_see_the_calendar_without_patient_names(app, signed_in):
    signed_in("scheduler").post("/appointments/new", data=booking(app))
    with app.app_context():
        name = db.session.scalars(select(Patient).order_by(Patient.id)).first().sortable_name
    url = f"/offices/annapolis/calendar?date={MONDAY.isoformat()}"
    assert name in signed_in("nurse").get(url).get_data(as_text=True)
    manager_view = signed_in("manager").get(url).get_data(as_text=True)
    assert name not in manager_view and "09:00-09:30 MBB" in manager_view and "Booked" in manager_view


def test_the_day_sheet_lists_what_the_front_desk_needs(app, signed_in):
    client = signed_in("scheduler")
    client.post("/appointments/new", data=booking(app, prior_auth_ref=""))
    sheet = client.get(f"/offices/annapolis/day-sheet?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert patient_mrns(app)[0] in sheet and "Medial branch block <span class=\"small\">(MBB)</span>" in sheet
    assert "Lumbar, right, 1 level" in sheet and "Scheduled" in sheet and "Printed " in sheet


def test_a_bad_date_in_a_calendar_url_shows_today_with_a_note(signed_in):
    html = signed_in("scheduler").get("/offices/annapolis/calendar?date=31-31-2026").get_data(as_text=True)
    assert "That is not a date" in html


def test_an_unknown_office_is_not_found(signed_in):
    assert signed_in("scheduler").get("/offices/atlantis/calendar").status_code == 404


def test_patient_search_as_you_type_returns_the_fields_to_pick_a_patient(app, signed_in):
    results = signed_in("scheduler").get("/patients/search.json?q=a").get_json()
    assert results and set(results[0]) == {"mrn", "label"}
    assert "born" in results[0]["label"] and "MRN" in results[0]["label"]


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1)])
def test_day_views_on_clock_change_days_place_appointments_at_their_local_time(app, signed_in, day):
    """Both days are Sundays when the clocks change; the office opens specially for the test."""
    from backoffice.scheduling import services
    from backoffice.scheduling.rules import Limits

    with app.app_context():
        office = db.session.scalars(select(Office).where(Office.slug == "annapolis")).one()
        practice.set_office_hours(office.id, {d: (time(7), time(17)) for d in range(7)},
                                  expected_version=office.version, by=SCHEDULER, now=datetime.now(UTC))
        reyes = db.session.scalars(select(Physician).where(Physician.last_name == "Reyes")).one()
        practice.add_schedule_block(reyes.id, ScheduleData(office.id, 6, time(7), time(17), None, None), by=SCHEDULER)
        known = ids(app)
        patient = db.session.scalars(select(Patient).order_by(Patient.id)).first()
        booked = services.book_appointment(
            services.BookingRequest(patient.id, known["mbb"], known["reyes"], known["office"], known["room"], day,
                                    time(9, 0), "lumbar", "left", 1),
            by=SCHEDULER, now=datetime(2026, 1, 1, tzinfo=UTC), limits=Limits())
        expected_utc_hour = 13 if day.month == 3 else 14
        assert booked.starts_at.hour == expected_utc_hour
        db.session.remove()
    html = signed_in("scheduler").get(f"/offices/annapolis/calendar?date={day.isoformat()}").get_data(as_text=True)
    nine = next(row for row in html.split("<tr") if 'class="time">09:00<' in row)
    assert "09:00-09:30 MBB" in nine


def _many_appointments(app, count: int, day: date, first: int = 0) -> None:
    """`count` appointments on one day at Annapolis, five minutes each, never overlapping
    (numbered from `first`, so that a second batch follows the first)."""
    with app.app_context():
        office = db.session.scalars(select(Office).where(Office.slug == "annapolis")).one()
        rooms = [r.id for r in office.rooms]
        physicians = list(db.session.scalars(select(Physician.id)))
        patients = list(db.session.scalars(select(Patient.id)))
        procedure = db.session.scalars(select(ProcedureType.id).where(ProcedureType.code == "TPI")).one()
        midnight = datetime.combine(day, time(0), ZoneInfo(office.timezone))
        now = datetime.now(UTC)
        rows = []
        for index in range(first, first + count):
            start = (midnight + timedelta(minutes=5 * (index // len(rooms)))).astimezone(UTC)
            rows.append({"patient_id": patients[index % len(patients)], "procedure_type_id": procedure,
                         "physician_id": physicians[index % len(physicians)], "office_id": office.id,
                         "room_id": rooms[index % len(rooms)], "starts_at": start,
                         "ends_at": start + timedelta(minutes=5), "blocked_until": start + timedelta(minutes=5),
                         "status": "scheduled", "status_changed_at": now, "version": 1, "created_at": now,
                         "updated_at": now})
        db.session.execute(insert(Appointment), rows)
        db.session.commit()
        db.session.remove()


PAGES = [f"/offices/annapolis/calendar?date={MONDAY.isoformat()}",
         f"/offices/annapolis/calendar?date={MONDAY.isoformat()}&view=week",
         f"/offices/annapolis/board?date={MONDAY.isoformat()}",
         f"/offices/annapolis/day-sheet?date={MONDAY.isoformat()}",
         f"/physicians/1/day?date={MONDAY.isoformat()}",
         "/availability?procedure_type_id=1&office_id=1"]


def test_calendars_board_and_availability_use_the_same_queries_at_10_and_1000_appointments(app, signed_in):
    client = signed_in("scheduler")
    counts = {}
    for first, count in ((0, 10), (12, 990)):
        _many_appointments(app, count, MONDAY, first)
        for page in PAGES:
            with QueryCounter(app) as counter:
                assert client.get(page).status_code == 200
            counts.setdefault(page, []).append(counter.count)
    # At most 13: the page's reads, then the audit row saying who saw the patients it names (on
    # SQLite its BEGIN IMMEDIATE, the read of the audit chain's head and the INSERT).
    for page, (few, many) in counts.items():
        assert few == many <= 13, (page, few, many)


def _fill_annapolis(app, first_day: date, days: int) -> None:
    """Every Annapolis room taken all day from `first_day` for `days` days, what was booked there
    then cancelled (so that PostgreSQL's exclusion constraints accept the new rows)."""
    with app.app_context():
        office = db.session.scalars(select(Office).where(Office.slug == "annapolis")).one()
        zone = ZoneInfo(office.timezone)
        start = datetime.combine(first_day, time(0), zone).astimezone(UTC)
        end = datetime.combine(first_day + timedelta(days=days), time(0), zone).astimezone(UTC)
        db.session.execute(update(Appointment).where(Appointment.starts_at < end, Appointment.blocked_until > start)
                           .values(status="cancelled", cancel_reason="other"))
        physicians = list(db.session.scalars(select(Physician.id)))
        patients = list(db.session.scalars(select(Patient.id)))
        procedure = db.session.scalars(select(ProcedureType.id).where(ProcedureType.code == "TPI")).one()
        now = datetime.now(UTC)
        rows = []
        for day in (first_day + timedelta(days=n) for n in range(days)):
            midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
            last = datetime.combine(day, time(23, 55), zone).astimezone(UTC)
            for number, room in enumerate(office.rooms):
                rows.append({"patient_id": patients[len(rows) % len(patients)], "procedure_type_id": procedure,
                             "physician_id": physicians[number], "office_id": office.id, "room_id": room.id,
                             "starts_at": midnight, "ends_at": last, "blocked_until": last, "status": "scheduled",
                             "status_changed_at": now, "version": 1, "created_at": now, "updated_at": now})
        # Last day first: stored in that order, they come back in start order only when asked to.
        db.session.execute(insert(Appointment), rows[::-1])
        db.session.commit()
        db.session.remove()


def test_next_available_sends_as_many_queries_when_its_first_two_weeks_are_full(app, signed_in):
    client = signed_in("scheduler")
    url = f"/availability?procedure_type_id={ids(app)['mbb']}&office_id={ids(app)['office']}&earliest={MONDAY}"

    def first_days_offered() -> tuple[int, list[str]]:
        with QueryCounter(app) as counter:
            html = client.get(url).get_data(as_text=True)
        return counter.count, sorted(set(re.findall(r"date=(\d{4}-\d\d-\d\d)", html)))

    open_count, open_days = first_days_offered()
    _fill_annapolis(app, MONDAY, 14)
    full_count, full_days = first_days_offered()

    assert open_days[0] == MONDAY.isoformat()
    assert full_days and full_days[0] >= (MONDAY + timedelta(days=14)).isoformat()
    assert full_count == open_count <= 12


def test_a_manager_books_moves_and_cancels_nothing_and_opens_no_appointment(app, signed_in):
    manager = signed_in("manager")
    assert manager.post("/appointments/new", data=booking(app)).status_code == 403
    appointment_id = signed_in("scheduler").post("/appointments/new", data=booking(app)).location.rsplit("/", 1)[1]
    for page in ("", "/reschedule", "/cancel"):
        assert manager.get(f"/appointments/{appointment_id}{page}").status_code == 403
    assert manager.post(f"/appointments/{appointment_id}/cancel",
                        data={"reason": "patient_request", "version": "1"}).status_code == 403
    with app.app_context():
        assert db.session.scalars(select(Appointment.status)).all() == ["scheduled"]


def test_a_move_to_a_time_the_clocks_skip_is_explained_next_to_the_time(app, signed_in):
    client = signed_in("scheduler")
    appointment_id = client.post("/appointments/new", data=booking(app)).location.rsplit("/", 1)[1]
    form = {k: v[0] for k, v in form_values(client.get(f"/appointments/{appointment_id}/reschedule")
                                            .get_data(as_text=True)).items() if v}
    response = client.post(f"/appointments/{appointment_id}/reschedule",
                           data={**form, "date": "2027-03-14", "time": "02:30"})
    assert response.status_code == 400
    assert "does not exist on 03/14/2027: the clocks change" in response.get_data(as_text=True)


def test_a_suggested_time_fills_the_reschedule_form(app, signed_in):
    client = signed_in("scheduler")
    appointment_id = client.post("/appointments/new", data=booking(app)).location.rsplit("/", 1)[1]
    url = (f"/appointments/{appointment_id}/reschedule?office_id={ids(app)['office']}&room_id={ids(app)['room2']}"
           f"&physician_id={ids(app)['reyes']}&date={MONDAY.isoformat()}&time=10:15")
    values = form_values(client.get(url).get_data(as_text=True))
    assert values["time"] == ["10:15"] and values["room_id"] == [str(ids(app)["room2"])]


def test_next_available_for_a_patient_keeps_to_their_limits(app, signed_in):
    client = signed_in("scheduler")
    ilesi = str(ids(app)["ilesi"])
    client.post("/appointments/new", data=booking(app, procedure_type_id=ilesi, side="", levels_count=""))
    html = client.get("/availability", query_string={
        "procedure_type_id": ilesi, "physician_id": ids(app)["reyes"], "earliest": MONDAY.isoformat(),
        "region": "lumbar", "patient": patient_mrns(app)[0]}).get_data(as_text=True)
    first_day = re.search(r'scope="rowgroup">\w+ (\d\d/\d\d/\d{4})<', html).group(1)
    assert datetime.strptime(first_day, "%m/%d/%Y").date() >= MONDAY + timedelta(days=14)


def test_the_board_offers_only_moves_that_can_happen_now(app, signed_in):
    client = signed_in("scheduler")
    client.post("/appointments/new", data=booking(app))
    board = client.get(f"/offices/annapolis/board?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert ">Confirm</button>" in board
    assert ">Check in</button>" not in board and ">No-show</button>" not in board   # weeks ahead


def test_free_slots_in_the_past_are_not_offered_for_booking(signed_in):
    client = signed_in("scheduler")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert 'class="book-slot"' not in client.get(f"/offices/annapolis/calendar?date={yesterday}").get_data(as_text=True)
    html = client.get(f"/offices/annapolis/calendar?date={MONDAY.isoformat()}").get_data(as_text=True)
    assert 'aria-label="Book Procedure Room 1 at 07:00 on' in html


def test_a_physician_reaches_their_own_day_from_the_menu(signed_in):
    client = signed_in("physician")
    assert "My day" in client.get("/").get_data(as_text=True)
    assert client.get("/my-day").location.startswith("/physicians/1/day")


def test_a_cancelled_appointment_cannot_be_cancelled_or_moved_again(app, signed_in):
    client = signed_in("scheduler")
    appointment_id = client.post("/appointments/new", data=booking(app)).location.rsplit("/", 1)[1]
    client.post(f"/appointments/{appointment_id}/cancel", data={"version": "1", "reason": "weather"})
    for action in ("cancel", "reschedule"):
        response = client.get(f"/appointments/{appointment_id}/{action}")
        assert response.location == f"/appointments/{appointment_id}"

"""Each role's day in a real browser: the scheduler books, reschedules and cancels; the front desk
takes a patient through the day board; the nurse records a follow-up and a pump refill; the manager
looks at both offices' weeks and the audit trail. (The physician's day, from a follow-up to the
rhizotomy booked from /candidates, is in test_physician_journey.py.)"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.demo import CLOSED_DAYS
from backoffice.practice import services as practice
from backoffice.practice.models import OfficeClosure, PhysicianLeave, PhysicianSchedule
from backoffice.scheduling import services
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Status
from tests.conftest import make_app
from tests.integration.scheduling_helpers import book, office, patients, physician

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("America/New_York")
SETUP = Actor.system("test-setup")
NURSE = Actor(2, "nurse", frozenset({"nurse"}), "192.0.2.22")


def shown_name(appointment: Appointment) -> str:
    return appointment.patient.sortable_name


def booked_on(database_url: str, day: date, *bookings: tuple[int, time]) -> list[tuple[int, str]]:
    """MBBs with Dr. Reyes in Annapolis Procedure Room 1 on `day`, for (patient index, time),
    booked the day before: their (id, patient as listed)."""
    app = make_app(database_url)
    with app.app_context():
        everyone = patients()
        made = []
        for index, at in bookings:
            appointment = book(day=day, at=at, patient=everyone[index],
                               now=datetime.combine(day - timedelta(days=1), time(12), ZONE))
            made.append((appointment.id, shown_name(appointment)))
        db.session.remove()
        db.engine.dispose()
    return made


def open_today(database_url: str) -> date:
    """Whatever day the suite runs on, Annapolis is open today and Dr. Reyes works there."""
    today = datetime.now(ZONE).date()
    app = make_app(database_url)
    with app.app_context():
        annapolis, reyes = office("annapolis"), physician("Reyes")
        hours = {weekday: (time(7), time(17)) for weekday in range(7)}
        practice.set_office_hours(annapolis.id, hours, expected_version=annapolis.version, by=SETUP,
                                  now=datetime.now(ZONE))
        for closure in db.session.scalars(select(OfficeClosure).where(OfficeClosure.day == today)).all():
            practice.remove_closure(closure.office_id, closure.id, by=SETUP)
        for leave in db.session.scalars(select(PhysicianLeave).where(PhysicianLeave.physician_id == reyes.id)).all():
            practice.remove_leave(reyes.id, leave.id, by=SETUP)
        for block in db.session.scalars(select(PhysicianSchedule).where(
                PhysicianSchedule.physician_id == reyes.id, PhysicianSchedule.weekday == today.weekday())).all():
            practice.remove_schedule_block(reyes.id, block.id, by=SETUP)
        practice.add_schedule_block(reyes.id, practice.ScheduleData(annapolis.id, today.weekday(), time(7), time(17),
                                                                    None, None), by=SETUP)
        db.session.remove()
        db.engine.dispose()
    return today


def a_monday_ahead() -> date:
    """A Monday two to three weeks ahead (Dr. Reyes is in Annapolis on Mondays), not a holiday."""
    day = date.today() + timedelta(days=14 + (7 - date.today().weekday()) % 7)
    while day in {closed for closed, _ in CLOSED_DAYS}:
        day += timedelta(days=7)
    return day


def calendar_block(page: Any, text: str) -> Any:
    return page.locator("td.appt").filter(has_text=text)


def test_a_scheduler_books_reschedules_and_cancels_and_sees_all_three_on_the_office_calendars(
        page, live_server, database_url):
    monday = a_monday_ahead()
    (moved_id, moved_name), (cancelled_id, cancelled_name) = booked_on(database_url, monday, (1, time(9)),
                                                                       (2, time(10)))
    page.goto("/availability")
    sign_in(page, "scheduler")
    page.wait_for_url("**/availability")

    # Books the next free medial branch block with Dr. Reyes for the fourth patient.
    page.get_by_label("Procedure").select_option(label="Medial branch block (MBB)")
    page.get_by_label("Physician").select_option(label="Dr. Elena Reyes")
    page.get_by_role("button", name="Find free times").click()
    page.locator("table tbody tr:has(td)").first.get_by_role("link", name="Book").click()
    page.wait_for_url("**/appointments/new?**")
    patient = page.get_by_role("combobox", name="Patient")
    patient.fill(booked_name := patients_name(database_url, 3))
    suggestion = page.locator("#patient-suggestions [role=option]").first
    suggestion.wait_for()
    suggestion.click()
    page.get_by_label("Spinal region").select_option("lumbar")
    page.get_by_label("Side").select_option("left")
    page.get_by_label("Levels", exact=True).fill("1")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r".*/appointments/\d+$"))
    assert page.get_by_text("Booked. The appointment is on the office calendar.").is_visible()
    page.get_by_role("link", name="On the calendar").click()
    page.wait_for_url("**/calendar?date=*")
    assert calendar_block(page, booked_name).count() == 1

    # Moves the 09:00 one to 11:30 the same day.
    page.goto(f"/appointments/{moved_id}")
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_label("Time").fill("11:30")
    page.get_by_role("button", name="Move the appointment").click()
    page.wait_for_url(re.compile(r".*/appointments/\d+$"))
    assert "11:30" in page.locator("main").inner_text()

    # Cancels the 10:00 one because of the weather.
    page.goto(f"/appointments/{cancelled_id}")
    page.get_by_role("link", name="Cancel appointment…").click()
    page.get_by_label("Reason").select_option(label="Weather")
    page.get_by_role("button", name="Cancel the appointment").click()
    page.wait_for_url(re.compile(rf".*/appointments/{cancelled_id}$"))
    assert page.get_by_text("Weather").first.is_visible()

    page.goto(f"/offices/annapolis/calendar?date={monday.isoformat()}")
    assert calendar_block(page, moved_name).inner_text().startswith("11:30-")
    assert calendar_block(page, "09:00-").count() == 0 and calendar_block(page, cancelled_name).count() == 0
    cancelled = page.locator("#off-grid + ul li").filter(has_text=cancelled_name)
    assert "10:00-" in cancelled.inner_text() and "weather" in cancelled.inner_text()
    page.get_by_role("link", name="Week").click()
    assert page.locator("main").get_by_text(moved_name).count() == 1
    assert page.console_errors == []


def patients_name(database_url: str, index: int) -> str:
    app = make_app(database_url)
    with app.app_context():
        name = patients()[index].sortable_name
        db.session.remove()
        db.engine.dispose()
    return name


def set_office_clock(monkeypatch, day: date, at: time) -> datetime:
    """The time the served pages take it to be (the front desk's pages ask scheduling.views)."""
    now = datetime.combine(day, at, ZONE).astimezone(UTC)
    monkeypatch.setattr("backoffice.scheduling.views.utcnow", lambda: now)
    return now


def test_the_front_desk_checks_a_patient_in_and_completes_the_procedure_from_the_day_board(
        page, live_server, database_url, monkeypatch):
    today = open_today(database_url)
    [(appointment_id, name)] = booked_on(database_url, today, (5, time(7, 30)))
    set_office_clock(monkeypatch, today, time(7, 10))     # the patient arrives early
    page.on("dialog", lambda dialog: dialog.accept())     # "Complete: …? This cannot be undone."
    page.goto("/offices/annapolis/board")
    sign_in(page, "scheduler")
    page.wait_for_url("**/offices/annapolis/board")
    row = page.locator(f"#appointment-{appointment_id}")
    assert name in row.inner_text()

    def step(button: str, status: str) -> None:
        row.get_by_role("button", name=f"{button}: {name}, 07:30").click()
        page.wait_for_url("**/board**")
        assert row.locator(".status-badge").inner_text() == status

    step("Confirm", "Confirmed")
    step("Check in", "Checked in")
    # Not in the room before its 07:30 start: the board says from when.
    assert row.get_by_role("button").count() == 0 and "In room from 07:30" in row.inner_text()
    set_office_clock(monkeypatch, today, time(7, 31))
    page.evaluate("window.dispatchEvent(new Event('focus'))")    # back to the board: it brings itself up to date
    step("In room", "In room")
    step("Complete", "Completed")
    assert row.get_by_role("button").count() == 0     # nothing more to do today
    row.get_by_role("link", name="07:30-08:00").click()
    assert page.locator("main .status-badge").first.inner_text() == "Completed"
    assert page.console_errors == []


def moved_elsewhere(database_url: str, appointment_id: int, target: Status, now: datetime) -> None:
    """Another member of staff moves the appointment on, from another screen."""
    app = make_app(database_url)
    with app.app_context():
        version = db.session.get(Appointment, appointment_id).version
        services.change_status(appointment_id, target, expected_version=version, by=NURSE, now=now)
        db.session.remove()
        db.engine.dispose()


def test_the_board_keeps_itself_current_but_never_over_a_half_typed_pain_score(
        page, live_server, database_url, monkeypatch):
    from playwright.sync_api import expect

    today = open_today(database_url)
    [(first, _), (second, second_name)] = booked_on(database_url, today, (5, time(10, 0)), (6, time(11, 0)))
    now = set_office_clock(monkeypatch, today, time(7, 45))
    page.clock.install()
    page.goto("/offices/annapolis/board")
    sign_in(page, "nurse")
    page.wait_for_url("**/offices/annapolis/board")
    page.evaluate("window.sameBoard = true")            # gone if the page were loaded again
    first_status = page.locator(f"#appointment-{first} .status-badge")
    second_row = page.locator(f"#appointment-{second}")
    live = page.locator("#board-live")
    assert live.inner_text() == "This board updates itself every minute."

    moved_elsewhere(database_url, first, Status.CONFIRMED, now)
    page.clock.run_for(60_000)                          # a minute later
    expect(first_status).to_have_text("Confirmed")
    moved_elsewhere(database_url, second, Status.CONFIRMED, now)
    page.evaluate("window.dispatchEvent(new Event('focus'))")   # the tab comes back to the front
    expect(second_row.locator(".status-badge")).to_have_text("Confirmed")
    assert page.evaluate("window.sameBoard") is True

    second_row.get_by_label("Pain now (0-10)").fill("7")       # checking the second patient in
    page.get_by_role("heading", level=1).click()                # ... and looking elsewhere for a moment
    moved_elsewhere(database_url, first, Status.CHECKED_IN, now)
    page.clock.run_for(60_000)
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(live).to_contain_text("Not updated while you fill in a form on the board")
    assert second_row.get_by_label("Pain now (0-10)").input_value() == "7"
    assert first_status.inner_text() == "Confirmed"

    second_row.get_by_role("button", name=f"Check in: {second_name}, 11:00").click()
    page.wait_for_url("**/board**")
    assert first_status.inner_text() == second_row.locator(".status-badge").inner_text() == "Checked in"
    assert page.console_errors == []


def test_a_nurse_records_a_follow_up_then_a_pump_refill(page, one_follow_up, one_device):
    page.goto("/followups")
    sign_in(page, "nurse")
    page.wait_for_url("**/followups")
    record = page.get_by_role("link", name=re.compile(r"^Record the outcome for ")).first
    name = (record.get_attribute("aria-label") or "").removeprefix("Record the outcome for ").rsplit(", ", 1)[0]
    record.click()
    page.wait_for_url(re.compile(r".*/followups/\d+"))
    page.get_by_label("Contact", exact=True).select_option("phone")
    page.get_by_label("Pain now (0-10)").fill("3")
    page.get_by_label("Relief lasted").fill("4")
    page.get_by_label("Unit").select_option("hours")
    page.get_by_role("button", name="Save outcome").click()
    page.wait_for_url(re.compile(r".*/followups\??$"))
    last, first = name.split(", ", 1)
    assert page.get_by_text(f"Outcome saved for {first} {last}.").is_visible()

    page.get_by_role("link", name="Refills").first.click()
    page.wait_for_url("**/devices/refills")
    pump = page.locator("section:has(#never) tr").filter(has_text="SynchroMed II 40 mL")
    pump.get_by_role("link", name=re.compile("^Record a refill for")).click()
    page.get_by_role("combobox", name=re.compile(r"^Drug")).fill("Baclofen")
    page.get_by_label("Concentration (mg/mL)").fill("2")
    page.get_by_label("Daily dose (mg/day)").fill("0.6")    # 0.3 mL a day: the 90-day stability decides
    page.get_by_label("Withdrawn (mL)").fill("0")
    page.get_by_role("button", name="Record refill").click()
    page.wait_for_url(re.compile(r".*/devices/\d+$"))
    due = (date.today() + timedelta(days=83)).strftime("%m/%d/%Y")
    assert page.get_by_text(f"Next refill due {due}").is_visible()
    assert page.console_errors == []


def test_a_manager_looks_at_both_offices_weeks_and_the_audit_trail(page, live_server, database_url):
    monday = a_monday_ahead()
    [(_, name)] = booked_on(database_url, monday, (7, time(9)))
    page.goto(f"/offices/annapolis/calendar?date={monday.isoformat()}&view=week")
    sign_in(page, "manager")
    page.wait_for_url("**/calendar?**view=week")
    week = page.locator("main")
    assert "MBB" in week.inner_text() and name not in week.inner_text()   # managers see bookings, not names
    page.get_by_role("navigation", name="Calendar views").get_by_role("link", name="Glen Burnie").click()
    page.wait_for_url("**/offices/glen-burnie/calendar?**view=week")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Glen Burnie")

    page.get_by_role("link", name="Audit trail").click()
    page.wait_for_url("**/audit")
    page.get_by_label("Record type").select_option("appointment")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr").filter(has_text="scheduler")
    assert rows.count() >= 1 and "create" in rows.first.inner_text()
    assert page.console_errors == []


def focus_is_visible(page: Any) -> bool:
    """The focused control shows the focus ring (an outline), as keyboard users need."""
    return page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_a_scheduler_books_with_the_keyboard_alone(page, live_server, database_url, first_patient):
    last_name, mrn = first_patient
    monday = a_monday_ahead()
    page.goto("/login")
    sign_in(page, "scheduler")
    page.wait_for_load_state()
    # As the calendar's + for Procedure Room 1 at 09:00 opens it.
    page.goto(f"/appointments/new?office_id=1&room_id=1&date={monday.isoformat()}&time=09:00")
    patient = page.get_by_role("combobox", name="Patient")
    assert page.evaluate("document.activeElement.name") == "patient"     # the form opens on the first field
    page.keyboard.type(last_name[:4], delay=50)
    page.locator("#patient-suggestions [role=option]").filter(has_text=mrn).wait_for()
    while page.evaluate("document.querySelector('#patient-suggestions [aria-selected=true]')?.textContent || ''") \
            .find(mrn) < 0:
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")                                          # picks the suggestion, books nothing
    assert patient.input_value() == mrn and page.url.endswith("time=09:00")
    steps = {"procedure_type_id": "Medial", "region": "Lumbar", "side": "Right"}
    for name, typed in steps.items():
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == name and focus_is_visible(page), name
        page.keyboard.type(typed)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "levels_count"
    page.keyboard.type("1")
    for name in ("levels", "office_id", "room_id", "physician_id"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == name and focus_is_visible(page), name
    page.keyboard.type("Dr. Elena")
    passed = []
    for _ in range(10):     # the date and time inputs take a Tab for each of their parts
        page.keyboard.press("Tab")
        passed.append(page.evaluate("document.activeElement.name"))
        if passed[-1] == "prior_auth_ref":
            break
    assert set(passed) == {"date", "time", "prior_auth_ref"}, passed
    page.keyboard.press("Enter")                                          # Enter in a field submits the form
    page.wait_for_url(re.compile(r".*/appointments/\d+$"))
    assert page.get_by_text("Booked. The appointment is on the office calendar.").is_visible()
    assert "Medial branch block" in page.locator("h1").inner_text()
    assert page.console_errors == []

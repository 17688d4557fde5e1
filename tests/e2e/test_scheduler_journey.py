"""The scheduler's journey in a real browser: find the next free time, book it, see it on the
office calendar."""

from __future__ import annotations

import re

import pytest

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_a_scheduler_finds_the_next_free_time_books_it_and_sees_it_on_the_calendar(page, first_patient):
    last_name, mrn = first_patient
    page.goto("/availability")
    sign_in(page, "scheduler")
    page.wait_for_url("**/availability")
    page.get_by_label("Procedure").select_option(label="Medial branch block (MBB)")
    page.get_by_label("Physician").select_option(label="Dr. Elena Reyes")
    page.get_by_role("button", name="Find free times").click()
    first_slot = page.locator("table tbody tr:has(td)").first
    start = first_slot.locator("td").first.inner_text()          # "07:30", under its day
    first_slot.get_by_role("link", name="Book").click()
    page.wait_for_url("**/appointments/new?**")

    patient = page.get_by_role("combobox", name="Patient")
    patient.click()
    patient.type(last_name[:4], delay=50)
    suggestion = page.locator("#patient-suggestions [role=option]").filter(has_text=mrn)
    suggestion.wait_for()
    chosen = suggestion.inner_text()
    suggestion.click()
    assert patient.input_value() == mrn
    assert page.locator("#chosen-patient").inner_text() == chosen
    page.get_by_label("Spinal region").select_option("lumbar")
    page.get_by_label("Side").select_option("right")
    page.get_by_label("Levels", exact=True).fill("2")
    assert page.locator("#booking-end").inner_text().startswith("Ends ")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r".*/appointments/\d+$"))
    assert page.get_by_text("Booked. The appointment is on the office calendar.").is_visible()

    page.get_by_role("link", name="On the calendar").click()
    page.wait_for_url("**/calendar?date=*")
    block = page.locator("td.appt").filter(has_text=f"{start}-")
    assert block.count() == 1
    assert "MBB" in block.inner_text() and chosen.split(",")[0] in block.inner_text()
    assert page.console_errors == []

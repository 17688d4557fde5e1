"""The hand-off in a real browser: a physician records "proceed to RFA" on an outcome a nurse
recorded; a scheduler sees the request on /scheduling-requests, books it from there with the
levels carried, and the request closes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from tests.conftest import make_app
from tests.e2e.conftest import watched_page
from tests.integration.course_helpers import NURSE, block_with_relief, done, follow_ups_of, record

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def second_block_recorded_by_the_nurse(live_server: str, database_url: str) -> str:
    """A patient whose lumbar right blocks (L4-L5, L5-S1) five and three weeks ago both gave
    enough relief; the nurse recorded the second one's next-day call. Their name, as listed."""
    app = make_app(database_url)
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(5).limit(1)).one()
        block_with_relief(date.today() - timedelta(days=35), 90, 5, patient=patient)
        second = done("MBB", date.today() - timedelta(days=21), patient=patient)
        record(follow_ups_of(second)[-1], 85, 4, by=NURSE)
        name = patient.sortable_name
        db.session.remove()
        db.engine.dispose()
    return name


@pytest.fixture
def scheduler_page(browser: Any, live_server: str) -> Iterator[Any]:
    """A second browser, the scheduler's, beside the physician's `page`."""
    with watched_page(browser, live_server) as page:
        yield page


def test_the_physician_proceeds_to_rfa_and_the_scheduler_books_it_from_the_request_with_its_levels(
        page, scheduler_page, second_block_recorded_by_the_nurse):
    name = second_block_recorded_by_the_nurse
    page.goto("/")
    sign_in(page, "physician")
    page.wait_for_url("**/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Decisions")).click()
    page.wait_for_url("**/followups/decisions")
    row = page.locator("tr").filter(has_text=name).filter(has_text="85% relief for 4 hours")
    assert "Rhizotomy (RFA) candidate" in row.inner_text()
    row.get_by_label("Note").fill("Mornings suit her best")
    row.get_by_role("button", name="Proceed to RFA").click()
    page.wait_for_url("**/followups/decisions**")
    assert page.get_by_text("The schedulers are asked to book radiofrequency ablation").is_visible()
    assert page.locator("tr").filter(has_text=name).filter(has_text="85% relief for 4 hours").count() == 0

    scheduler = scheduler_page
    scheduler.goto("/scheduling-requests")
    sign_in(scheduler, "scheduler")
    scheduler.wait_for_url("**/scheduling-requests")
    request = scheduler.locator("tbody tr").filter(has_text=name)
    listed = request.inner_text()
    assert "Radiofrequency ablation" in listed and "L4-L5, L5-S1" in listed and "Mornings suit her best" in listed
    assert "relief" not in scheduler.locator("main").inner_text()
    request.get_by_role("link", name=re.compile(r"^Book")).click()
    scheduler.wait_for_url("**/availability?**")
    assert scheduler.locator("#scheduling-request").inner_text().startswith(f"Booking the request for {name}")
    assert scheduler.get_by_label("Procedure").locator("option:checked").inner_text().endswith("(RFA)")
    scheduler.locator("table tbody tr:has(td)").first.get_by_role("link", name="Book").click()
    scheduler.wait_for_url("**/appointments/new?**")
    assert scheduler.locator("#chosen-patient").inner_text().startswith(name)
    assert scheduler.get_by_label("Spinal region").input_value() == "lumbar"
    assert scheduler.get_by_label("Side").input_value() == "right"
    assert scheduler.get_by_label("Levels", exact=True).input_value() == "2"
    assert scheduler.get_by_label("Which levels").input_value() == "L4-L5, L5-S1"
    scheduler.get_by_role("button", name="Book").click()
    scheduler.wait_for_url(re.compile(r".*/appointments/\d+$"))
    assert scheduler.get_by_text("The scheduling request is closed.").is_visible()
    assert scheduler.locator("h1").inner_text().startswith("Radiofrequency ablation")

    scheduler.goto("/scheduling-requests")
    assert scheduler.locator("tbody tr").filter(has_text=name).count() == 0
    assert scheduler.get_by_text("Nothing to schedule").is_visible()
    assert page.console_errors == [] and scheduler.console_errors == []

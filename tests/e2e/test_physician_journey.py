"""The physician's journey in a real browser: record the follow-up of a patient's second medial
branch block, see the patient become a rhizotomy candidate, and schedule the RFA from the list."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from backoffice.procedures import followups
from tests.conftest import make_app
from tests.integration.course_helpers import NURSE, block_with_relief, done, follow_ups_of

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def second_block_to_follow_up(live_server: str, database_url: str) -> str:
    """A patient whose first lumbar right block gave 90% for 5 hours a month ago, and whose second,
    last week, awaits its next-day call (the pain diary was not returned). Their name, as listed."""
    app = make_app(database_url)
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(4).limit(1)).one()
        block_with_relief(date.today() - timedelta(days=35), 90, 5, patient=patient)
        diary, call = follow_ups_of(done("MBB", date.today() - timedelta(days=8), patient=patient))
        followups.close_follow_up(diary.id, "Pain diary not returned", expected_version=diary.version, by=NURSE,
                                  now=datetime.now(UTC))
        assert call.status == "open"
        name = patient.sortable_name
        db.session.remove()
        db.engine.dispose()
    return name


def test_a_physician_records_the_second_block_sees_a_rhizotomy_candidate_and_schedules_the_rfa(
        page, second_block_to_follow_up):
    name = second_block_to_follow_up
    page.goto("/followups")
    sign_in(page, "physician")
    page.wait_for_url("**/followups")
    row = page.locator("section:has(#overdue) tr").filter(has_text=name).filter(has_text="1 day after")
    row.get_by_role("link", name=f"Record the outcome for {name}").click()
    page.wait_for_url(re.compile(r".*/followups/\d+"))
    assert page.get_by_label("Baseline pain (0-10)").input_value() == "8"   # taken at check-in
    page.get_by_label("Pain now (0-10)").fill("1")
    page.get_by_label("Relief lasted").fill("5")
    page.get_by_label("Unit").select_option("hours")
    page.get_by_label("Physician's decision").select_option(label="Proceed to RFA")
    page.get_by_role("button", name="Save outcome").click()
    page.wait_for_url(re.compile(r".*/followups\??$"))   # back to the list it was opened from
    assert page.get_by_text(f"Outcome saved for {name.split(', ')[1]}").is_visible()

    page.get_by_role("link", name="Candidates").first.click()
    page.wait_for_url("**/candidates")
    rfa = page.locator("section:has(#rfa)")
    candidate = rfa.locator("tr").filter(has_text=name)
    assert "90% relief for 5 hours" in candidate.inner_text()
    assert "88% relief for 5 hours" in candidate.inner_text()
    candidate.get_by_role("link", name=re.compile(r"^Schedule")).click()
    page.wait_for_url("**/availability?**")
    assert page.get_by_label("Procedure").locator("option:checked").inner_text().endswith("(RFA)")
    page.locator("table tbody tr:has(td)").first.get_by_role("link", name="Book").click()
    page.wait_for_url("**/appointments/new?**")
    assert page.locator("#chosen-patient").inner_text().startswith(name)
    assert page.get_by_label("Spinal region").input_value() == "lumbar"
    assert page.get_by_label("Side").input_value() == "right"
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r".*/appointments/\d+$"))
    assert page.get_by_text("Booked. The appointment is on the office calendar.").is_visible()
    assert page.locator("h1").inner_text().startswith("Radiofrequency ablation")
    assert page.console_errors == []

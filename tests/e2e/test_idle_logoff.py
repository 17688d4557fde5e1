"""Idle logoff in a real browser, with a 12-second idle limit: the warning 6 seconds before, "Stay
signed in", and a half-filled form kept in the tab for the same user only."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.patients import services as patients
from backoffice.patients.models import Patient
from tests.conftest import make_app
from tests.integration.scheduling_helpers import PHYSICIAN

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser

IDLE_LIMIT_SECONDS = 12
EDIT_PAGE = "/patients/1/edit"


@pytest.fixture
def live_server_settings() -> dict[str, Any]:
    return {"IDLE_TIMEOUT_MINUTES": IDLE_LIMIT_SECONDS / 60}


def saved_in_tab(page) -> dict[str, Any]:
    """What this tab's sessionStorage holds, by key."""
    return {key: json.loads(value) for key, value in page.evaluate("Object.entries(sessionStorage)")}


def kept_fields(page) -> dict[str, str]:
    [saved] = saved_in_tab(page).values()
    return {field["name"]: field.get("value") for form in saved["forms"] for field in form["fields"]}


def leave_a_form_half_filled(page, username: str) -> str:
    """Sign in on the patient's edit form, change the city, wait for the idle sign-out; the city
    the record holds."""
    page.goto(EDIT_PAGE)
    sign_in(page, username)
    page.wait_for_url(f"**{EDIT_PAGE}")
    city = page.get_by_label("City", exact=True)
    original = city.input_value()
    city.fill("Severna Park")
    page.wait_for_url(re.compile(r"/login\?next="), timeout=3 * IDLE_LIMIT_SECONDS * 1000)
    assert parse_qs(urlsplit(page.url).query)["next"] == [EDIT_PAGE]
    assert page.get_by_text("You were signed out after a period of inactivity.").is_visible()
    return original


def test_the_warning_before_an_idle_sign_out_keeps_the_session_when_asked(page):
    page.goto("/patients")
    sign_in(page, "scheduler")
    page.wait_for_url("**/patients")
    warning = page.get_by_role("region", name="Still there?")
    stay = warning.get_by_role("button", name="Stay signed in")
    stay.wait_for(state="visible", timeout=2 * IDLE_LIMIT_SECONDS * 1000)
    assert "You will be signed out in" in warning.inner_text()
    stay.click()
    warning.wait_for(state="hidden")
    # Past the limit as counted from the page's own request; the click restarted the clock.
    page.wait_for_timeout(IDLE_LIMIT_SECONDS * 1000 // 2 + 1000)
    assert page.url.endswith("/patients")
    page.reload()
    assert page.url.endswith("/patients")
    assert page.get_by_role("heading", level=1).inner_text() == "Patients"
    assert page.console_errors == []


def test_a_half_filled_form_is_offered_back_to_the_same_user_after_signing_in_again(page):
    original = leave_a_form_half_filled(page, "scheduler")
    kept = kept_fields(page)
    assert kept["city"] == "Severna Park"
    assert "version" in kept and "original" in kept  # so that a stale save is still caught
    assert "csrf_token" not in kept
    assert page.evaluate("localStorage.length") == 0

    sign_in(page, "scheduler")
    page.wait_for_url(f"**{EDIT_PAGE}")
    city = page.get_by_label("City", exact=True)
    assert city.input_value() == original
    offer = page.get_by_role("region", name="Restore what you were typing?")
    offer.get_by_role("button", name="Restore").click()
    assert city.input_value() == "Severna Park"
    assert offer.is_hidden()
    assert saved_in_tab(page) == {}
    page.get_by_role("button", name="Save patient").click()
    page.wait_for_url("**/patients/1")
    assert page.get_by_text("Saved the patient's details.").is_visible()
    assert page.console_errors == []


def test_another_user_signing_in_on_the_same_tab_is_not_offered_the_form(page):
    original = leave_a_form_half_filled(page, "scheduler")
    assert kept_fields(page)["city"] == "Severna Park"

    sign_in(page, "nurse")
    page.wait_for_url(f"**{EDIT_PAGE}")
    assert page.get_by_label("City", exact=True).input_value() == original
    assert page.get_by_text("Restore what you were typing?").is_hidden()
    assert saved_in_tab(page) == {}


def someone_else_saves_the_address(database_url: str, address: str) -> None:
    app = make_app(database_url)
    with app.app_context():
        patient = db.session.get(Patient, 1)
        data = patients.PatientData(**{f.name: getattr(patient, f.name) for f in fields(patients.PatientData)})
        patients.update_patient(1, patients.PatientData(**{**data.__dict__, "address": address}),
                                expected_version=patient.version, confirm_duplicate=True,
                                by=PHYSICIAN, now=utcnow())
        db.session.remove()
        db.engine.dispose()


def test_a_restored_form_saved_after_someone_else_changed_the_record_is_caught_as_stale(page, database_url):
    leave_a_form_half_filled(page, "scheduler")
    someone_else_saves_the_address(database_url, "40 Duke of Gloucester St")

    sign_in(page, "scheduler")
    page.wait_for_url(f"**{EDIT_PAGE}")
    page.get_by_role("button", name="Restore").click()
    page.get_by_role("button", name="Save patient").click()
    assert page.get_by_role("heading", name=re.compile(r"^What .* saved at")).is_visible()
    # Both changes are in the form to save again: the user's city and the other user's street address.
    assert page.get_by_label("City", exact=True).input_value() == "Severna Park"
    assert page.get_by_label("Street address", exact=True).input_value() == "40 Duke of Gloucester St"


def test_a_form_sent_after_the_limit_is_kept_rather_than_refused(page):
    page.clock.install()
    page.goto(EDIT_PAGE)
    sign_in(page, "scheduler")
    page.wait_for_url(f"**{EDIT_PAGE}")
    # The page's timers stop, as on a laptop that slept through the warning and the sign-out.
    page.clock.pause_at(datetime.now() + timedelta(seconds=1))
    page.get_by_label("City", exact=True).fill("Severna Park")
    page.wait_for_timeout((IDLE_LIMIT_SECONDS + 1) * 1000)
    page.clock.set_system_time(datetime.now() + timedelta(seconds=1))
    page.get_by_role("button", name="Save patient").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    assert kept_fields(page)["city"] == "Severna Park"
    assert page.get_by_text("You were signed out after a period of inactivity.").is_visible()

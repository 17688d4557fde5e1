"""Two-step sign-in in a real browser: enrol by reading the setup key next to the QR code, then
sign in again with a code, as every account must in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest

from tests.conftest import DEMO_PASSWORDS

from .test_accessibility import serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server_settings() -> dict[str, Any]:
    """The app as the e2e conftest serves it, but with MFA required of every role."""
    return {"MFA_REQUIRED_ROLES": "all"}


def sign_in(page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()


def test_a_nurse_enrols_an_authenticator_then_signs_in_with_a_code(page):
    page.goto("/patients")
    sign_in(page, "nurse")
    page.wait_for_url("**/account/two-step/setup?next=/patients")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step sign-in"
    qr_code = page.get_by_role("img", name="QR code to add this account to an authenticator app")
    assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0")
    assert serious_violations(page) == []
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    authenticator = pyotp.TOTP(secret)

    page.get_by_label("Code from the app").fill(authenticator.now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Two-step sign-in is on"
    assert page.locator(".recovery-codes code").count() == 10
    page.get_by_role("link", name="I have kept my recovery codes: continue").click()
    page.wait_for_url("**/patients")

    page.get_by_role("button", name="Luis Ortega").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto("/appointments/new")
    sign_in(page, "nurse")
    page.wait_for_url("**/login/code?next=/appointments/new")
    page.goto("/patients")
    page.wait_for_url("**/login/code?next=/patients")

    assert serious_violations(page) == []
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    assert "That code is not right" in page.locator(".invalid-feedback").inner_text()
    # The code enrolment used is spent: the next one the app will show is accepted early.
    next_code = authenticator.at(datetime.now(UTC) + timedelta(seconds=30))
    page.get_by_label("Code").fill(next_code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/patients")
    assert page.get_by_role("heading", level=1).inner_text() == "Patients"
    # The only errors are the refused code's 401: the Content-Security-Policy blocked nothing
    # (the QR code is a data: image, the page has no inline script).
    assert page.console_errors and all("401" in error for error in page.console_errors)

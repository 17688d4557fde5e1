from __future__ import annotations

import pytest

from tests.conftest import DEMO_PASSWORDS

pytestmark = pytest.mark.browser


def sign_in(page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()


def test_a_scheduler_signs_in_through_the_real_login_page(page):
    page.goto("/patients")
    assert page.url.endswith("/login?next=/patients")
    sign_in(page, "scheduler")
    page.wait_for_url("**/patients")
    assert page.get_by_role("heading", level=1).inner_text() == "Patients"
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Patients").is_visible()
    assert nav.get_by_text("Practice setup").count() == 0
    page.get_by_label("Find a patient").fill("a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients?q=a")
    assert page.locator("table tbody tr").count() > 0
    assert page.console_errors == []  # the Content-Security-Policy blocked nothing


def test_a_wrong_password_keeps_the_user_on_the_login_page_with_a_message(page):
    page.goto("/login")
    page.get_by_label("Username").fill("nurse")
    page.get_by_label("Password").fill("not the right one")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("Wrong username or password.")
    assert page.evaluate("document.activeElement.name") == "password"


def test_an_admin_signs_in_and_out_through_the_menu(page):
    page.goto("/")
    sign_in(page, "admin")
    page.wait_for_url("**/")
    page.get_by_role("button", name="Alex Kim").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.get_by_text("You are signed out.").is_visible()

"""The key pages, populated with the demo practice, checked in Chromium by axe-core (installed with
the axe-playwright-python package) and by the structure every page promises: one h1, a banner, a
main landmark and the main navigation, a label for every form control."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backoffice import demo as demo_data
from backoffice.auth.sessions import auth_policy
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from tests.conftest import make_app

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}
TODAY = date.today().isoformat()
PAGES: dict[str, tuple[str, ...]] = {
    "scheduler": ("/offices/annapolis/calendar", "/offices/glen-burnie/calendar?view=week", "/offices/annapolis/board",
                  "/availability?procedure_type_id=1", "/appointments/new", "/patients?q=a", "/patients/1",
                  "/appointments/1", "/appointments/1/reschedule", "/appointments/1/cancel", "/scheduling-requests",
                  "/patients/1/coverage/new", "/coverage/1/edit", "/coverage/1/delete"),
    "nurse": ("/followups", "/candidates", "/patients/1", "/devices", "/devices/refills", "/devices/1",
              "/devices/1/refills/new", "/patients/1/devices/new", "/devices/recall?lot=A", "/followups/1"),
    "physician": ("/my-day", "/candidates?who=all", "/settings/clinical-rules", "/devices/trials/1",
                  "/followups/decisions?who=all"),
    "manager": ("/offices/annapolis/calendar?view=week", "/offices/glen-burnie/calendar?view=week", "/audit",
                "/devices/recall?manufacturer=Medtronic"),
    "admin": ("/admin/users", "/admin/offices", "/admin/offices/1", "/admin/physicians/1",
              "/admin/procedures", "/admin/device-models", "/admin/payers", "/admin/payers/1"),
}


@pytest.fixture
def populated(live_server: str, database_url: str) -> str:
    """The demo practice with its appointments, follow-ups and devices, as `make run` serves it."""
    app = make_app(database_url)
    with app.app_context():
        demo_data.load(patient_count=20, policy=auth_policy(), now=utcnow(), appointments=True)
        db.session.remove()
        db.engine.dispose()
    return live_server


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]


def problems_of(page: Any) -> list[str]:
    found = serious_violations(page)
    if page.locator("h1").count() != 1:
        found.append(f"{page.locator('h1').count()} h1 headings")
    for landmark in ("banner", "main"):
        if page.get_by_role(landmark).count() != 1:
            found.append(f"no single {landmark} landmark")
    if page.get_by_role("navigation", name="Main").count() != 1:
        found.append("no main navigation")
    unlabelled = page.locator("input:not([type=hidden]):not([type=submit]), select, textarea").evaluate_all(
        "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name || e.id)")
    if unlabelled:
        found.append(f"controls without a label: {unlabelled}")
    return found


@pytest.mark.parametrize("role", list(PAGES))
def test_key_pages_have_no_serious_accessibility_violations(page, populated, role):
    page.goto("/login")
    sign_in(page, role)
    page.wait_for_load_state()
    problems = {}
    for url in PAGES[role]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        if found := problems_of(page):
            problems[url] = found
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())
    assert page.console_errors == []


def test_the_sign_in_page_has_no_serious_accessibility_violations(page):
    page.goto("/login")
    assert serious_violations(page) == []
    assert page.locator("h1").count() == 1 and page.get_by_role("main").count() == 1


LAYOUT_PAGES = {"scheduler": ("/offices/annapolis/calendar", "/offices/annapolis/calendar?view=week",
                              "/offices/annapolis/board", "/appointments/new"),
                "physician": ("/followups", "/candidates?who=all", "/patients/1"),
                "nurse": ("/devices/refills", "/devices")}


@pytest.mark.parametrize("width", [1024, 1366, 1920])
def test_pages_fit_tablet_laptop_and_desktop_widths_and_the_menu_stays_on_one_line(browser, populated, width):
    problems = []
    for role, urls in LAYOUT_PAGES.items():
        context = browser.new_context(base_url=populated, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto("/login")
        sign_in(page, role)
        page.wait_for_load_state()
        menu = page.get_by_role("navigation", name="Main")
        if menu.bounding_box()["height"] > 60:
            problems.append(f"{role}: the menu wraps onto {menu.bounding_box()['height']:.0f} px")
        for url in urls:
            page.goto(url)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{role} {url}: {overflow} px wider than the window")
        context.close()
    assert problems == []

"""A real server on a free port and the system Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from backoffice.core.extensions import db
from tests.conftest import make_app, unavailable

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        unavailable("browser tests need Chromium (Debian package chromium) or CHROMIUM_PATH")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server_settings() -> dict[str, Any]:
    """Settings of the served app a test module changes by overriding this fixture."""
    return {}


@pytest.fixture
def live_server(database_url: str, demo: None, live_server_settings: dict[str, Any]) -> Iterator[str]:
    """The app as a browser meets it: CSRF on, errors handled, served over HTTP."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True, TESTING=False, **live_server_settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    with app.app_context():
        db.engine.dispose()


@contextmanager
def watched_page(browser: Any, live_server: str) -> Iterator[Any]:
    """A page in a browser context of its own that keeps its console errors and failed responses
    in `page.console_errors`."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("response", lambda response: response.status >= 400 and page.console_errors.append(
        f"{response.status} {response.url}"))
    yield page
    context.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    with watched_page(browser, live_server) as page:
        yield page


@pytest.fixture
def first_patient(live_server: str, database_url: str) -> tuple[str, str]:
    """(last name, MRN) of the first demo patient, to type into searches."""
    from sqlalchemy import select

    from backoffice.patients.models import Patient

    app = make_app(database_url)
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id)).first()
        found = (patient.last_name, patient.mrn)
        db.session.remove()
        db.engine.dispose()
    return found

"""No input a user can send yields a 500, and no form works without its CSRF token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from tests.conftest import DEMO_PASSWORDS, make_app, sign_in

from .test_access import DEMO_ACCOUNTS, EXPECTED, app_endpoints

GARBAGE = ["", "x" * 5000, "<script>alert(1)</script>", "' OR 1=1 --", "\x00\x01", "%00", "🙂" * 50,
           "-1", "99999999999999999999", "2026-13-45", "../../etc/passwd", "{{7*7}}"]


def field_names(html: str) -> set[str]:
    return set(re.findall(r'name="([^"]+)"', html)) - {"csrf_token"}


@pytest.mark.parametrize("role", list(DEMO_ACCOUNTS))
def test_no_input_yields_a_500(signed_in, role):
    client = signed_in(DEMO_ACCOUNTS[role])
    for endpoint, method, url in app_endpoints(client.application):
        if endpoint in ("auth.logout", "auth.login"):
            continue
        allowed = not isinstance(EXPECTED[endpoint], frozenset) or role in EXPECTED[endpoint]
        if not allowed:
            continue
        names = field_names(client.get(url).get_data(as_text=True)) if method == "POST" else set()
        names |= {"q", "version", "before", "username", "first_day"}
        for value in GARBAGE:
            data = {name: value for name in names}
            response = client.open(url, method=method, data=data if method == "POST" else None,
                                   query_string=data if method == "GET" else None)
            assert response.status_code < 500, (endpoint, method, value)


@pytest.mark.parametrize("path", ["/patients/0", "/patients/99999999", "/patients/abc",
                                  "/admin/offices/999/hours", "/no/such/page", "/audit?before=x",
                                  "/patients?q=%FF%FE", "/admin/users/99999"])
def test_odd_urls_answer_404_or_a_message(signed_in, path):
    for account in ("scheduler", "admin"):
        assert signed_in(account).get(path).status_code in (200, 400, 403, 404, 405)


def test_an_unexpected_error_shows_a_friendly_page_without_a_trace(app, signed_in):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")
    boom.access = "signed in"
    response = signed_in("nurse").get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "secret internals" not in html and "Traceback" not in html


def count_rows() -> int:
    return sum(db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables)


def test_every_form_refuses_a_post_without_its_csrf_token(database_url, demo):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"username": "admin", "password": DEMO_PASSWORDS["admin"],
                                       "csrf_token": token}).status_code == 302
    with app.app_context():
        before = count_rows()
    posts = [(endpoint, url) for endpoint, method, url in app_endpoints(app) if method == "POST"]
    assert len(posts) > 15
    for endpoint, url in posts:
        if endpoint.startswith("patients."):
            continue  # admins have no patient access; covered below as a scheduler
        response = client.post(url, data={"name": "x", "username": "x"})
        assert response.status_code == 400, endpoint
        assert "did not come from this site" in response.get_data(as_text=True)
    scheduler = app.test_client()
    sign_in(scheduler, "scheduler")  # refused: no token
    assert scheduler.get("/patients").status_code == 302
    with app.app_context():
        assert count_rows() == before
        db.engine.dispose()


HUGE = "9" * 25


@pytest.mark.parametrize("path", [f"/patients/{HUGE}", f"/patients/{HUGE}/edit", f"/admin/users/{HUGE}",
                                  f"/admin/offices/{HUGE}", f"/admin/rooms/{HUGE}", "/patients/2147483648"])
def test_ids_too_large_for_the_database_are_not_found(signed_in, path):
    account = "scheduler" if path.startswith("/patients") else "admin"
    assert signed_in(account).get(path).status_code == 404


@pytest.mark.parametrize("query", [f"before={HUGE}", "last_day=9999-12-31", "first_day=0001-01-01",
                                   "before=-5"])
def test_audit_filters_out_of_range_are_explained(signed_in, query):
    response = signed_in("manager").get(f"/audit?{query}")
    assert response.status_code == 400


def test_unlocking_with_a_huge_id_is_not_found(signed_in):
    assert signed_in("admin").post(f"/admin/users/{HUGE}/unlock").status_code == 404

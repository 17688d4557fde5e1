"""No input a user can send yields a 500 (the walk over every route is test_hostile_input.py), and no form works
without its CSRF token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.core.extensions import db
from tests.conftest import DEMO_PASSWORDS, make_app, sign_in

from .test_access import app_endpoints
from .test_bad_input import has_error_next_to


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


# Requests that once answered 500 (issue 14): each now gets a page, a message or a 404.
SUPERSCRIPT_TWO = "%C2%B2"  # "²": str.isdigit() says yes, int() says no


@pytest.mark.parametrize("who, path", [
    ("physician", f"/followups?office={SUPERSCRIPT_TWO}"),
    ("physician", f"/followups?days={SUPERSCRIPT_TWO}"),
    ("physician", f"/followups?overdue_page={SUPERSCRIPT_TWO}&office={HUGE}"),
    ("nurse", f"/candidates?office={SUPERSCRIPT_TWO}&rfa_page={SUPERSCRIPT_TWO}"),
    ("nurse", f"/devices/refills?office={SUPERSCRIPT_TWO}&overdue_page={SUPERSCRIPT_TWO}"),
    ("nurse", "/devices/refills?office=2147483648&due_soon_page=-1"),
    ("scheduler", f"/appointments/new?office_id={SUPERSCRIPT_TWO}&date=2027-01-04"),
    ("scheduler", f"/appointments/new?office_id={HUGE}&date=2027-01-04"),
    ("scheduler", "/appointments/new?office_id=2147483648&date=2027-01-04"),
])
def test_numbers_in_a_query_string_that_are_not_plain_ids_are_ignored(signed_in, who, path):
    response = signed_in(who).get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("office_id", ["²", HUGE, "2147483648", "-1"])
def test_a_booking_for_an_office_that_cannot_exist_is_explained(signed_in, office_id):
    response = signed_in("scheduler").post("/appointments/new", data={"office_id": office_id, "date": "2027-01-04"})
    assert response.status_code == 400
    assert has_error_next_to(response.get_data(as_text=True), "office_id")


def test_a_recall_search_with_an_odd_export_value_shows_the_page_and_a_plain_export_link(signed_in, one_device):
    response = signed_in("manager").get("/devices/recall?manufacturer=Medtronic&export=CSV&endpoint=x")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "/devices/recall?export=csv&amp;manufacturer=Medtronic" in html


@pytest.mark.parametrize("query", ["endpoint=x", "_method=POST", "_external=1&_anchor=x&values=y",
                                   "before=1000000&endpoint=x&username=man"])
def test_query_keys_of_no_audit_filter_are_dropped_from_its_links(signed_in, query):
    response = signed_in("manager").get(f"/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "endpoint=" not in html and "_method=" not in html
    if "before=" in query:
        assert 'href="/audit?username=man">' in html   # "Newest events" keeps the real filter


def test_a_stale_save_with_an_altered_snapshot_keeps_what_was_typed(signed_in):
    from .test_bad_input import PATIENT

    response = signed_in("scheduler").post("/patients/1/edit", data={
        **PATIENT, "first_name": "Adaline", "version": "0", "original": '["first_name"]'})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'value="Adaline"' in html


@pytest.mark.parametrize("back", ["/offices/annapolis/board\r\nSet-Cookie: x=1", "/offices/annapolis/board%0d%0a",
                                  "https://evil.example/offices/", "/offices/annapolis/board\x00"])
def test_a_status_change_with_a_mangled_way_back_returns_to_the_appointment(signed_in, one_appointment, back):
    response = signed_in("scheduler").post(f"/appointments/{one_appointment}/status",
                                           data={"target": "confirmed", "version": "1", "back": back})
    assert response.status_code == 302
    assert response.location == f"/appointments/{one_appointment}"


@pytest.mark.parametrize("page", ["calendar", "board", "day-sheet"])
@pytest.mark.parametrize("slug", ["%00", "annapolis%00", "a%0d%0ab", "%7f"])
def test_an_office_name_with_control_characters_is_not_found(signed_in, page, slug):
    assert signed_in("scheduler").get(f"/offices/{slug}/{page}").status_code == 404


@pytest.mark.parametrize("field", ["withdrawn_ml", "added_ml", "alarm_ml", "concentration_mg_ml", "daily_dose_mg"])
@pytest.mark.parametrize("value", ["sNaN", "NaN", "Infinity", "-Infinity"])
def test_a_refill_amount_that_is_not_a_number_is_explained(app, signed_in, one_device, field, value):
    from .test_bad_input import REFILL

    response = signed_in("nurse").post(f"/devices/{one_device}/refills/new", data={**REFILL, field: value})
    assert response.status_code == 400
    assert has_error_next_to(response.get_data(as_text=True), field)


@pytest.mark.parametrize("url", ["/patients/1/devices/new", "/devices/1/edit", "/admin/device-models/new"])
def test_a_reservoir_that_is_not_a_number_is_explained(signed_in, one_device, url):
    from .test_bad_input import DEVICE, DEVICE_MODEL

    who, valid = ("admin", DEVICE_MODEL) if url.startswith("/admin") else ("nurse", {**DEVICE, "version": "1"})
    response = signed_in(who).post(url, data={**valid, "reservoir_ml": "sNaN"})
    assert response.status_code == 400
    assert has_error_next_to(response.get_data(as_text=True), "reservoir_ml")

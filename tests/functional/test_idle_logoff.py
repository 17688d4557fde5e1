"""Idle logoff from the page's side: the time left, "Stay signed in", and coming back after."""

from __future__ import annotations

import re
from datetime import timedelta

from backoffice.auth.sessions import SEEN_AT, SIGNED_IN_AT
from backoffice.core.db import utcnow
from tests.conftest import DEMO_PASSWORDS, make_app, sign_in


def idle_for(client, minutes: float) -> None:
    with client.session_transaction() as session:
        session[SEEN_AT] = (utcnow() - timedelta(minutes=minutes)).timestamp()


def seen_at(client) -> float:
    with client.session_transaction() as session:
        return session[SEEN_AT]


def test_staying_signed_in_restarts_the_idle_clock(signed_in):
    client = signed_in("scheduler")
    idle_for(client, 14.5)
    response = client.post("/session/stay")
    assert response.status_code == 200
    assert response.json["remaining_seconds"] > 14 * 60
    assert response.json["limit_seconds"] == 15 * 60
    assert response.json["extendable"] is True
    assert utcnow().timestamp() - seen_at(client) < 60
    idle_for(client, 1)  # fourteen minutes later than without the click, the session still stands
    assert client.get("/patients").status_code == 200


def test_asking_the_time_left_does_not_keep_the_session_alive(signed_in):
    client = signed_in("scheduler")
    idle_for(client, 14.5)
    before = seen_at(client)
    response = client.get("/session/time-left")
    assert response.status_code == 200
    assert 0 < response.json["remaining_seconds"] <= 30
    assert response.json["warning_seconds"] == 60
    assert seen_at(client) == before
    idle_for(client, 15)
    response = client.get("/session/time-left")
    assert response.location.startswith("/login")
    assert client.get("/patients").status_code == 302


def test_the_time_left_says_when_the_absolute_limit_comes_first(signed_in):
    client = signed_in("scheduler")
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = (utcnow() - timedelta(hours=11, minutes=59)).timestamp()
    state = client.post("/session/stay").json
    assert state["extendable"] is False and state["remaining_seconds"] <= 60


def test_staying_signed_in_needs_a_session(client, demo):
    response = client.post("/session/stay")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert client.get("/session/time-left").location.startswith("/login")


def test_staying_signed_in_needs_the_pages_csrf_token(database_url, demo):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "nurse", "password": DEMO_PASSWORDS["nurse"], "csrf_token": token})
    page = client.get("/").get_data(as_text=True)
    idle_for(client, 10)
    before = seen_at(client)

    refused = client.post("/session/stay")
    assert refused.status_code == 400
    assert seen_at(client) == before

    page_token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    assert client.post("/session/stay", headers={"X-CSRFToken": page_token}).status_code == 200
    assert seen_at(client) > before


def test_a_signed_in_page_tells_its_script_the_limit_the_time_left_and_the_user(signed_in):
    page = signed_in("nurse").get("/patients").get_data(as_text=True)
    assert 'data-limit-seconds="900"' in page
    assert 'data-warning-seconds="60"' in page
    remaining = int(re.search(r'data-remaining-seconds="(\d+)"', page).group(1))
    assert 890 <= remaining <= 900
    assert re.search(r'data-user-id="\d+"', page)
    assert '<script src="/static/js/idle.js"></script>' in page


def test_the_login_page_has_no_idle_timer(client, demo):
    assert "data-remaining-seconds" not in client.get("/login").get_data(as_text=True)


def test_after_an_idle_sign_out_signing_in_returns_to_the_page(client, demo):
    sign_in(client, "scheduler")
    assert client.get("/patients/1/edit").status_code == 200
    idle_for(client, 16)
    response = client.get("/patients/1/edit")
    assert response.location == "/login?next=/patients/1/edit"
    assert "inactivity" in client.get(response.location).get_data(as_text=True)
    assert sign_in_at(client, response.location, "scheduler").location == "/patients/1/edit"


def test_the_page_script_sends_to_login_with_the_page_and_its_query(client, demo):
    sign_in(client, "scheduler")
    idle_for(client, 16)
    assert client.get("/session/time-left").location.startswith("/login")
    response = sign_in_at(client, "/login?next=/patients%3Fq%3Dsmith", "scheduler")
    assert response.location == "/patients?q=smith"


def test_a_form_sent_after_an_idle_sign_out_returns_to_the_page_it_was_on(client, demo):
    sign_in(client, "scheduler")
    idle_for(client, 16)
    response = client.post("/patients/1/edit", data={"first_name": "x"},
                           headers={"Referer": "http://localhost/patients/1/edit"})
    assert response.location == "/login?next=/patients/1/edit"


def test_a_referrer_from_another_site_is_not_a_page_to_return_to(client, demo):
    sign_in(client, "scheduler")
    idle_for(client, 16)
    response = client.post("/patients/1/edit", data={"first_name": "x"},
                           headers={"Referer": "https://evil.example/patients/1/edit"})
    assert response.location == "/login"


def sign_in_at(client, login_url: str, username: str):
    return client.post(login_url, data={"username": username, "password": DEMO_PASSWORDS[username]})

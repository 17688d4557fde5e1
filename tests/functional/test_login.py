from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from backoffice.auth.models import User
from backoffice.auth.sessions import SEEN_AT, SIGNED_IN_AT
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from tests.conftest import DEMO_PASSWORDS, give_roles, make_app, sign_in

from .browser_form import form_values


def page(response) -> str:
    return response.get_data(as_text=True)


def test_signing_in_lands_on_the_page_asked_for(client, demo):
    response = client.get("/admin/users")
    assert response.location == "/login?next=/admin/users"
    response = client.post(response.location, data={"username": "admin",
                                                    "password": DEMO_PASSWORDS["admin"]})
    assert response.location == "/admin/users"


@pytest.mark.parametrize("target", ["//evil.example/x", "/%09/evil.example", "/\t/evil.example",
                                    "/\\evil.example", "https://evil.example/", "/%0d%0a/evil.example",
                                    "javascript:alert(1)", "/ /evil.example"])
def test_sign_in_never_redirects_to_another_site(client, demo, target):
    response = client.post("/login", query_string={"next": target}, data={
        "username": "admin", "password": DEMO_PASSWORDS["admin"]})
    assert response.location == "/"


def test_a_wrong_password_is_refused_with_a_message(client, demo):
    response = sign_in(client, "nurse", "not the password at all")
    assert response.status_code == 401
    assert "Wrong username or password. After 3 wrong passwords, each next try" in page(response)
    password_box = re.search(r'<input[^>]*name="password"[^>]*>', page(response)).group(0)
    username_box = re.search(r'<input[^>]*name="username"[^>]*>', page(response)).group(0)
    assert "autofocus" in password_box and "autofocus" not in username_box
    assert client.get("/").status_code == 302


NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 09:00 EST


@pytest.fixture
def clock(monkeypatch):
    """The time the sign-in view hands to the service; tests move it."""
    class Clock:
        now = NOW

    monkeypatch.setattr("backoffice.auth.views.utcnow", lambda: Clock.now)
    return Clock


def _without_token_and_username(html: str, username: str) -> str:
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "csrf_token", html)
    return html.replace(f'value="{username}"', 'value="USERNAME"')


def test_an_unknown_username_a_locked_account_and_a_real_one_get_the_same_answers(database_url, demo,
                                                                                 clock):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.session.execute(update(User).where(User.username == "scheduler").values(locked_at=NOW))
        db.session.commit()
    answers = {}
    for username in ("nurse", "nobody", "scheduler"):
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          page(client.get("/login"))).group(1)
        responses = [client.post("/login", data={"username": username, "password": "not the password",
                                                 "csrf_token": token}) for _ in range(6)]
        answers[username] = [(response.status_code, _without_token_and_username(page(response), username))
                             for response in responses]
    assert answers["nurse"] == answers["nobody"] == answers["scheduler"]
    assert [status for status, _ in answers["nurse"]] == [401, 401, 401, 429, 429, 429]
    assert "Try again after 09:00:15 EST." in answers["nobody"][3][1]
    with app.app_context():
        db.engine.dispose()


def test_a_stranger_typing_wrong_passwords_does_not_lock_out_a_colleague(client, demo, clock):
    stranger = {"REMOTE_ADDR": "203.0.113.66"}
    for _ in range(6):
        refused = client.post("/login", data={"username": "nurse", "password": "not the password"},
                              environ_base=stranger)
    assert refused.status_code == 429
    assert "Too many wrong passwords for this username from this address" in page(refused)
    assert sign_in(client, "nurse").status_code == 302


def test_a_username_longer_once_lower_cased_is_refused_like_any_other(client, demo):
    response = sign_in(client, "\u0130" * 40, "not the password at all")  # "İ" lower-cases to two characters
    assert response.status_code == 401 and "Wrong username or password." in page(response)


def test_after_three_wrong_passwords_the_next_try_must_wait(client, demo, clock):
    for _ in range(3):
        assert sign_in(client, "nurse", "not the password at all").status_code == 401
    too_soon = sign_in(client, "nurse")
    assert too_soon.status_code == 429 and "Try again after 09:00:15 EST." in page(too_soon)
    clock.now = NOW + timedelta(seconds=15)
    assert sign_in(client, "nurse").status_code == 302


def test_the_account_cap_locks_until_an_admin_unlocks_it(database_url, demo):
    app = make_app(database_url, LOCKOUT_ATTEMPTS=3)
    for number in range(3):
        wrong = app.test_client().post("/login", data={"username": "nurse", "password": "not it at all"},
                                       environ_base={"REMOTE_ADDR": f"198.51.100.{number}"})
        assert wrong.status_code == 401
    client = app.test_client()
    locked = sign_in(client, "nurse")
    assert locked.status_code == 401  # told no more than a wrong password is
    assert "Wrong username or password." in page(locked) and "ask a practice administrator" in page(locked)

    admin = app.test_client()
    sign_in(admin, "admin")
    with app.app_context():
        nurse_id = db.session.scalars(select(User.id).where(User.username == "nurse")).one()
    assert "Locked since" in page(admin.get("/admin/users"))
    admin.post(f"/admin/users/{nurse_id}/unlock")
    assert sign_in(client, "nurse").status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_a_session_idle_past_the_timeout_is_signed_out(client, demo):
    sign_in(client, "scheduler")
    assert client.get("/patients").status_code == 200
    with client.session_transaction() as session:
        session[SEEN_AT] = (utcnow() - timedelta(minutes=15, seconds=1)).timestamp()
    response = client.get("/patients")
    assert response.location.startswith("/login")
    assert "inactivity" in page(client.get(response.location))
    assert client.get("/patients").status_code == 302


def test_a_session_ends_after_twelve_hours_however_active(client, demo):
    sign_in(client, "scheduler")
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = (utcnow() - timedelta(hours=12)).timestamp()
    assert client.get("/patients").location.startswith("/login")


def test_activity_keeps_a_session_alive(client, demo):
    sign_in(client, "scheduler")
    with client.session_transaction() as session:
        session[SEEN_AT] = (utcnow() - timedelta(minutes=14)).timestamp()
    assert client.get("/patients").status_code == 200
    with client.session_transaction() as session:
        assert utcnow().timestamp() - session[SEEN_AT] < 60


def test_the_session_is_renewed_at_sign_in(client, demo):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, "scheduler")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(app, client, demo):
    sign_in(client, "scheduler")
    copied = client.get_cookie("session").value
    assert client.post("/logout").location == "/login"
    assert client.get("/patients").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", copied)
    assert replay.get("/patients").status_code == 302


def test_deactivating_an_account_ends_its_sessions(app, signed_in):
    nurse = signed_in("nurse")
    admin = signed_in("admin")
    with app.app_context():
        nurse_id = db.session.scalars(select(User.id).where(User.username == "nurse")).one()
    admin.post(f"/admin/users/{nurse_id}/deactivate")
    assert nurse.get("/patients").status_code == 302
    refused = sign_in(app.test_client(), "nurse")
    assert refused.status_code == 403 and "This account is deactivated" in page(refused)


def test_a_temporary_password_must_be_replaced_before_anything_else(app, signed_in):
    admin = signed_in("admin")
    with app.app_context():
        nurse_id = db.session.scalars(select(User.id).where(User.username == "nurse")).one()
    shown = page(admin.post(f"/admin/users/{nurse_id}/reset-password"))
    temporary = shown.split("<code>")[1].split("</code>")[0]
    nurse = app.test_client()
    assert sign_in(nurse, "nurse", temporary).status_code == 302
    assert nurse.get("/patients").location == "/account/password"
    response = nurse.post("/account/password", data={
        "current_password": temporary, "new_password": "blue-heron-marsh-walk",
        "confirm_password": "blue-heron-marsh-walk"})
    assert response.location == "/"
    assert nurse.get("/patients").status_code == 200


def test_changing_ones_password_refuses_a_near_copy_of_the_current_one(signed_in):
    client = signed_in("nurse")
    response = client.post("/account/password", data={
        "current_password": DEMO_PASSWORDS["nurse"], "new_password": "severn-river-sunrise2",
        "confirm_password": "severn-river-sunrise2"})
    assert response.status_code == 400
    assert "too close to your current password" in page(response)


def test_changing_ones_password_refuses_a_common_one(signed_in):
    client = signed_in("nurse")
    response = client.post("/account/password", data={
        "current_password": DEMO_PASSWORDS["nurse"], "new_password": "password1234",
        "confirm_password": "password1234"})
    assert response.status_code == 400
    assert "very common password" in page(response) and "less common" in page(response)


def test_the_login_form_is_rate_limited_per_address(database_url, demo):
    app = make_app(database_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, "nobody", "wrong password here").status_code == 401
    limited = sign_in(client, "scheduler")
    assert limited.status_code == 429
    assert "Too many sign-in attempts" in page(limited)
    other_address = app.test_client()
    response = other_address.post("/login", data={"username": "scheduler",
                                                  "password": DEMO_PASSWORDS["scheduler"]},
                                  environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert response.status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_the_account_form_shows_the_roles_the_account_holds(app, signed_in):
    admin = signed_in("admin")
    give_roles(app, "manager", "manager,nurse")
    with app.app_context():
        manager = db.session.scalars(select(User).where(User.username == "manager")).one()
    html = page(admin.get(f"/admin/users/{manager.id}"))
    assert set(form_values(html)["roles"]) == {"manager", "nurse"}
    response = admin.post(f"/admin/users/{manager.id}", data={
        "full_name": "Morgan Blake", "email": "mblake@example.com", "roles": ["manager", "nurse"],
        "version": str(manager.version)})
    assert response.status_code == 302

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.auth.models import User
from backoffice.auth.sessions import SEEN_AT, SIGNED_IN_AT
from backoffice.db import utcnow
from backoffice.extensions import db
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
    assert "Wrong username or password. After 5 wrong passwords in a row" in page(response)
    password_box = re.search(r'<input[^>]*name="password"[^>]*>', page(response)).group(0)
    username_box = re.search(r'<input[^>]*name="username"[^>]*>', page(response)).group(0)
    assert "autofocus" in password_box and "autofocus" not in username_box
    assert client.get("/").status_code == 302


def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(app, client, demo):
    for _ in range(4):
        assert sign_in(client, "nurse", "not the password at all").status_code == 401
    locked = sign_in(client, "nurse", "not the password at all")
    assert locked.status_code == 403 and "locked" in page(locked)
    right = sign_in(client, "nurse")
    assert right.status_code == 403
    assert "locked after too many wrong passwords" in page(right)
    assert "ask an administrator to unlock it" in page(right)

    admin = app.test_client()
    sign_in(admin, "admin")
    with app.app_context():
        nurse_id = db.session.scalars(select(User.id).where(User.username == "nurse")).one()
    assert "Locked until" in page(admin.get("/admin/users"))
    admin.post(f"/admin/users/{nurse_id}/unlock")
    assert sign_in(client, "nurse").status_code == 302


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

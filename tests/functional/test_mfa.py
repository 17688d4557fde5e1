"""Two-step sign-in through HTTP, on both engines: a "password only" session reaches nothing but
the code, enrolment and sign-out pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.auth import mfa
from backoffice.auth.mfa_models import MfaCredential, RecoveryCode
from backoffice.auth.models import User
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from tests.conftest import DEMO_PASSWORDS, make_app, sign_in

from .browser_form import form_values

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PAGES = ["/", "/patients", "/appointments/new", "/patients/1", "/account/password", "/account/two-step",
         "/admin/users", "/audit"]
CLOCK_USERS = ("backoffice.auth.views", "backoffice.auth.sessions", "backoffice.auth.mfa",
               "backoffice.auth.mfa_views")


@pytest.fixture
def mfa_app(database_url: str, demo: None) -> Iterator[Flask]:
    """The demo practice with MFA required of every role, as in production."""
    application = make_app(database_url, MFA_REQUIRED_ROLES="all")
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.username == username)).one()


def enrol(app: Flask, username: str) -> list[str]:
    """Set up SECRET as the account's authenticator, with a code from five minutes ago."""
    earlier = utcnow() - timedelta(minutes=5)
    with app.app_context():
        codes = mfa.enrol(user_id(app, username), SECRET, pyotp.TOTP(SECRET).at(earlier),
                          by=Actor.system("test"), now=earlier)
        db.session.remove()
    return codes


def code(at_offset_steps: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(utcnow() + timedelta(seconds=30 * at_offset_steps))


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        db.session.remove()
    return found


def set_clock(monkeypatch: pytest.MonkeyPatch, moment) -> None:
    for module in CLOCK_USERS:
        monkeypatch.setattr(f"{module}.utcnow", lambda: moment)


def test_an_account_that_must_use_mfa_reaches_no_page_until_it_enrols(mfa_app):
    client = mfa_app.test_client()
    assert sign_in(client, "admin").status_code == 302
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/account/two-step/setup?next="), path
    assert client.post("/patients/new", data={"last_name": "Probe"}).location.startswith(
        "/account/two-step/setup")

    setup = client.get("/account/two-step/setup")
    html = setup.get_data(as_text=True)
    assert setup.status_code == 200 and 'src="data:image/svg+xml' in html
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert client.get("/account/two-step/setup").get_data(as_text=True).count(secret[:4]) >= 1

    wrong = client.post("/account/two-step/setup", data={"code": "000000"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.get_data(as_text=True)
    done = client.post("/account/two-step/setup?next=/admin/users",
                       data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    shown = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>",
                       done.get_data(as_text=True))
    assert len(shown) == 10
    assert client.get("/admin/users").status_code == 200
    with mfa_app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not set(shown) & set(stored)
    assert [event.subject for event in events(mfa_app, "mfa_enrolled")] == [
        "authenticator app, 10 recovery codes"]
    assert [event.subject for event in events(mfa_app, "mfa_failed")] == ["wrong code while setting up"]


def test_an_enrolled_account_reaches_no_page_without_its_code(mfa_app):
    enrol(mfa_app, "scheduler")
    client = mfa_app.test_client()
    response = client.post("/login?next=/patients", data={"username": "scheduler",
                                                          "password": "harbor-lighthouse-42"})
    assert response.location == "/patients"
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login/code?next="), path
    assert client.get("/login/code").status_code == 200

    wrong = client.post("/login/code?next=/patients", data={"code": "123456"})
    assert wrong.status_code == 401 and "That code is not right" in wrong.get_data(as_text=True)
    assert client.get("/patients").location.startswith("/login/code")

    right = client.post("/login/code?next=/appointments/new", data={"code": code()})
    assert right.location == "/appointments/new"
    assert client.get("/patients").status_code == 200
    assert client.get("/appointments/new").status_code == 200
    assert [event.subject for event in events(mfa_app, "mfa_failed")] == ["wrong code"]
    assert [event.subject for event in events(mfa_app, "mfa_passed")] == ["authenticator code"]


def test_a_code_is_accepted_only_once(mfa_app):
    enrol(mfa_app, "nurse")
    first, second = mfa_app.test_client(), mfa_app.test_client()
    used = code()
    sign_in(first, "nurse")
    assert first.post("/login/code", data={"code": used}).status_code == 302
    sign_in(second, "nurse")
    assert second.post("/login/code", data={"code": used}).status_code == 401
    assert second.get("/patients").location.startswith("/login/code")
    assert second.post("/login/code", data={"code": code(+1)}).status_code == 302


def test_a_recovery_code_works_once(mfa_app):
    recovery = enrol(mfa_app, "physician")[3]
    client = mfa_app.test_client()
    sign_in(client, "physician")
    response = client.post("/login/code", data={"code": recovery.upper()}, follow_redirects=True)
    assert response.status_code == 200
    assert "You signed in with a recovery code; it cannot be used again. 9 recovery codes are left." \
        in response.get_data(as_text=True)
    assert client.get("/patients").status_code == 200
    client.post("/logout")

    sign_in(client, "physician")
    assert client.post("/login/code", data={"code": recovery}).status_code == 401
    assert client.get("/patients").location.startswith("/login/code")
    assert [event.subject for event in events(mfa_app, "mfa_recovery_code_used")] == ["9 recovery codes left"]


def test_remembering_the_device_skips_the_code_for_twelve_hours(mfa_app, monkeypatch):
    enrol(mfa_app, "manager")
    start = utcnow()
    set_clock(monkeypatch, start)
    client = mfa_app.test_client()
    sign_in(client, "manager")
    response = client.post("/login/code", data={"code": code(), "remember": "y"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("mfa_device="))
    assert "HttpOnly" in cookie and "Max-Age=43200" in cookie
    client.post("/logout")

    set_clock(monkeypatch, start + timedelta(hours=11, minutes=59))
    assert sign_in(client, "manager").status_code == 302
    assert client.get("/availability").status_code == 200
    assert [event.subject for event in events(mfa_app, "mfa_passed")] == [
        "authenticator code", "remembered device"]
    client.post("/logout")

    set_clock(monkeypatch, start + timedelta(hours=12))
    sign_in(client, "manager")
    assert client.get("/availability").location.startswith("/login/code")


def test_a_remembered_device_is_forgotten_when_the_password_is_reset(mfa_app):
    enrol(mfa_app, "manager")
    client = mfa_app.test_client()
    sign_in(client, "manager")
    client.post("/login/code", data={"code": code(), "remember": "y"})
    client.post("/logout")
    sign_in(client, "manager")
    assert client.get("/").status_code == 200
    client.post("/logout")

    admin = mfa_app.test_client()
    enrol(mfa_app, "admin")
    sign_in(admin, "admin")
    admin.post("/login/code", data={"code": code()})
    temporary = admin.post(f"/admin/users/{user_id(mfa_app, 'manager')}/reset-password").get_data(as_text=True)
    password = re.search(r'class="temporary-password"><code>([^<]+)</code>', temporary).group(1)
    sign_in(client, "manager", password)
    assert client.get("/").location.startswith("/login/code")


def test_an_admin_reset_forces_the_account_to_enrol_again(mfa_app):
    enrol(mfa_app, "admin")
    enrol(mfa_app, "nurse")
    nurse = mfa_app.test_client()
    sign_in(nurse, "nurse")
    nurse.post("/login/code", data={"code": code(), "remember": "y"})
    assert nurse.get("/patients").status_code == 200

    admin = mfa_app.test_client()
    sign_in(admin, "admin")
    admin.post("/login/code", data={"code": code(+1)})
    nurse_id = user_id(mfa_app, "nurse")
    account_page = admin.get(f"/admin/users/{nurse_id}").get_data(as_text=True)
    assert f'action="/admin/users/{nurse_id}/reset-two-step"' in account_page
    response = admin.post(f"/admin/users/{nurse_id}/reset-two-step", follow_redirects=True)
    assert "Two-step sign-in of nurse is reset" in response.get_data(as_text=True)

    assert nurse.get("/patients").location.startswith("/login?next=/patients")  # signed out
    sign_in(nurse, "nurse")  # the remembered device is forgotten too
    assert nurse.get("/patients").location.startswith("/account/two-step/setup")
    with mfa_app.app_context():
        assert db.session.scalars(select(MfaCredential).where(MfaCredential.user_id == nurse_id)).first() is None
        assert not db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == nurse_id)).all()
    reset = events(mfa_app, "mfa_reset")
    assert [(event.username, event.entity_id) for event in reset] == [("admin", nurse_id)]


def test_only_an_admin_resets_two_step_sign_in(mfa_app):
    enrol(mfa_app, "manager")
    manager = mfa_app.test_client()
    sign_in(manager, "manager")
    manager.post("/login/code", data={"code": code()})
    assert manager.post(f"/admin/users/{user_id(mfa_app, 'nurse')}/reset-two-step").status_code == 403


def test_five_wrong_codes_in_a_row_refuse_even_the_right_code_for_a_while(mfa_app):
    enrol(mfa_app, "scheduler")
    client = mfa_app.test_client()
    sign_in(client, "scheduler")
    for _ in range(4):
        assert client.post("/login/code", data={"code": "000000"}).status_code == 401
    assert client.post("/login/code", data={"code": "000000"}).status_code == 401
    blocked = client.post("/login/code", data={"code": code()})
    assert blocked.status_code == 403
    assert "Too many wrong codes in a row" in blocked.get_data(as_text=True)
    assert client.get("/patients").location.startswith("/login/code")
    assert [event.subject for event in events(mfa_app, "mfa_failed")] == [
        "wrong code"] * 4 + ["wrong code; codes refused for a while",
                             "code not checked: codes refused for a while"]


def test_in_development_only_accounts_that_opted_in_are_asked_for_a_code(app, signed_in):
    nurse = signed_in("nurse")
    assert nurse.get("/patients").status_code == 200
    page = nurse.get("/account/two-step").get_data(as_text=True)
    assert "Off: you sign in with your password alone." in page
    setup = nurse.get("/account/two-step/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', setup).group(1).replace(" ", "")
    assert nurse.post("/account/two-step/setup", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert "recovery codes are unused" in nurse.get("/account/two-step").get_data(as_text=True)
    nurse.post("/logout")

    sign_in(nurse, "nurse")
    assert nurse.get("/patients").location.startswith("/login/code")
    assert signed_in("scheduler").get("/patients").status_code == 200


def test_a_temporary_password_is_changed_after_the_code_and_the_code_is_not_asked_again(mfa_app):
    enrol(mfa_app, "admin")
    enrol(mfa_app, "nurse")
    admin = mfa_app.test_client()
    sign_in(admin, "admin")
    admin.post("/login/code", data={"code": code()})
    temporary = admin.post(f"/admin/users/{user_id(mfa_app, 'nurse')}/reset-password").get_data(as_text=True)
    password = re.search(r'class="temporary-password"><code>([^<]+)</code>', temporary).group(1)

    nurse = mfa_app.test_client()
    sign_in(nurse, "nurse", password)
    assert nurse.get("/account/password").location.startswith("/login/code")
    assert nurse.post("/login/code", data={"code": code(+1)}).status_code == 302
    assert nurse.get("/patients").location == "/account/password"
    changed = nurse.post("/account/password", data={
        "current_password": password, "new_password": "tidewater-oyster-lantern",
        "confirm_password": "tidewater-oyster-lantern"})
    assert changed.location == "/"
    assert nurse.get("/patients").status_code == 200


def test_a_password_only_session_gets_no_menu_but_a_way_to_sign_out(mfa_app):
    enrol(mfa_app, "physician")
    client = mfa_app.test_client()
    sign_in(client, "physician")
    page = client.get("/login/code").get_data(as_text=True)
    assert 'id="nav-menu"' not in page and "Patients" not in page
    assert 'action="/logout"' in page
    client.post("/login/code", data={"code": code()})
    assert 'id="nav-menu"' in client.get("/").get_data(as_text=True)


def test_setting_up_twice_in_two_tabs_keeps_the_first_and_asks_for_a_code(app, signed_in):
    nurse = signed_in("nurse")
    setup = nurse.get("/account/two-step/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', setup).group(1).replace(" ", "")
    first = pyotp.TOTP(secret).now()
    assert nurse.post("/account/two-step/setup", data={"code": first}).status_code == 200
    again = nurse.post("/account/two-step/setup", data={"code": first})
    assert again.status_code == 302 and again.location == "/account/two-step"
    assert len(events(app, "mfa_enrolled")) == 1


def test_in_production_every_role_needs_mfa_and_the_device_cookie_is_secure(database_url, demo):
    app = make_app(database_url, BACKOFFICE_ENV="production", SESSION_COOKIE_SECURE=True,
                   FORCE_HTTPS=True)
    try:
        client = app.test_client()
        https = {"base_url": "https://backoffice.example"}
        for username in ("scheduler", "manager"):
            client.post("/login", data={"username": username,
                                        "password": DEMO_PASSWORDS[username]}, **https)
            assert client.get("/", **https).location.startswith("/account/two-step/setup"), username
            client.post("/logout", **https)
        enrol(app, "scheduler")
        client.post("/login", data={"username": "scheduler", "password": DEMO_PASSWORDS["scheduler"]},
                    **https)
        response = client.post("/login/code", data={"code": code(), "remember": "y"}, **https)
        cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("__Host-mfa_device="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Domain=" not in cookie
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_reset_button_on_the_account_page_posts_with_its_csrf_token(database_url, demo):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        enrol(app, "nurse")
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={**{k: v[0] for k, v in form_values(login_page).items()},
                                    "username": "admin", "password": DEMO_PASSWORDS["admin"]})
        nurse_id = user_id(app, "nurse")
        action = f"/admin/users/{nurse_id}/reset-two-step"
        account_page = client.get(f"/admin/users/{nurse_id}").get_data(as_text=True)
        assert client.post(action).status_code == 400  # no token
        assert events(app, "mfa_reset") == []
        form = {name: values[0] for name, values in form_values(account_page, action).items()}
        assert client.post(action, data=form).location == f"/admin/users/{nurse_id}"
        assert [event.entity_id for event in events(app, "mfa_reset")] == [nurse_id]
    finally:
        with app.app_context():
            db.engine.dispose()

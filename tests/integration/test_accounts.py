from __future__ import annotations

from datetime import timedelta

import pytest

from backoffice.auth import services as accounts
from backoffice.auth.sessions import auth_policy
from backoffice.core.actor import Actor
from backoffice.core.errors import FieldErrors, Refused, StaleEdit
from backoffice.core.extensions import db
from backoffice.core.permissions import Role
from tests.conftest import make_app

from .helpers import NOW, actor_for, audit_rows, make_user

PASSWORD = "harbor-lighthouse-42"


def attempt(password: str, now=NOW, address="192.0.2.7", username="dwhitaker"):
    return accounts.authenticate(username, password, client_address=address,
                                 policy=auth_policy(), now=now)


def test_wrong_passwords_are_counted_in_the_database_across_server_processes(database_url):
    """Two app instances stand for two gunicorn workers: failures on either count."""
    first, second = make_app(database_url), make_app(database_url)
    with first.app_context():
        make_user()
    for app in (first, second, first):
        with app.app_context(), pytest.raises(accounts.InvalidCredentials):
            attempt("wrong password here")
    with second.app_context(), pytest.raises(accounts.SignInThrottled) as throttled:
        attempt(PASSWORD)  # even the right password waits
    assert throttled.value.retry_at == NOW + timedelta(seconds=15)
    with first.app_context():
        assert attempt(PASSWORD, now=NOW + timedelta(seconds=15)).username == "dwhitaker"
        assert [row.action for row in audit_rows(entity_type="staff_user")].count("login_failed") == 3
        db.session.remove()
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


@pytest.mark.usefixtures("app_context")
def test_a_stranger_cannot_lock_out_a_colleague_from_another_address():
    make_user()
    for second in range(0, 600, 20):  # a wrong password every 20 seconds for 10 minutes
        with pytest.raises((accounts.InvalidCredentials, accounts.SignInThrottled)):
            attempt("wrong password here", now=NOW + timedelta(seconds=second), address="203.0.113.66")
    user = attempt(PASSWORD, now=NOW + timedelta(minutes=10), address="192.0.2.7")
    assert user.locked_at is None and user.failed_logins == 0


@pytest.mark.usefixtures("app_context")
def test_an_unknown_username_is_throttled_like_a_real_one():
    make_user()
    for username in ("dwhitaker", "nobody"):
        for _ in range(3):
            with pytest.raises(accounts.InvalidCredentials):
                attempt("wrong password here", username=username)
        with pytest.raises(accounts.SignInThrottled) as throttled:
            attempt("wrong password here", username=username)
        assert throttled.value.retry_at == NOW + timedelta(seconds=15)
    assert [row.subject for row in audit_rows(action="login_failed")].count("Unknown username") == 3


def test_the_absolute_cap_locks_the_account_until_an_admin_unlocks_it(database_url):
    app = make_app(database_url, LOCKOUT_ATTEMPTS=5)
    with app.app_context():
        admin = make_user("akim", Role.ADMIN)
        user = make_user()
        for number in range(5):  # from five addresses, so no address is made to wait
            with pytest.raises(accounts.InvalidCredentials):
                attempt("wrong password here", address=f"198.51.100.{number}")
        assert len(audit_rows(action="account_locked")) == 1
        with pytest.raises(accounts.InvalidCredentials):  # the same answer as a wrong password
            attempt(PASSWORD, address="192.0.2.200", now=NOW + timedelta(days=3))
        accounts.unlock_user(user.id, by=actor_for(admin), now=NOW)
        assert attempt(PASSWORD, address="192.0.2.200", now=NOW + timedelta(days=3)).username == "dwhitaker"
        assert [row.subject for row in audit_rows(action="login_failed")][-1] == "Account locked"
        db.session.remove()
        db.engine.dispose()


@pytest.mark.usefixtures("app_context")
def test_a_correct_password_resets_the_failure_count():
    make_user()
    for _ in range(2):
        with pytest.raises(accounts.InvalidCredentials):
            attempt("wrong password here")
    attempt(PASSWORD)
    for _ in range(3):  # the address's count started again: three free tries
        with pytest.raises(accounts.InvalidCredentials):
            attempt("wrong password here")
    assert attempt(PASSWORD, now=NOW + timedelta(seconds=15)).failed_logins == 0


@pytest.mark.usefixtures("app_context")
def test_an_admin_unlock_lifts_the_wait_from_every_address():
    admin = make_user("akim", Role.ADMIN)
    user = make_user()
    for _ in range(3):
        with pytest.raises(accounts.InvalidCredentials):
            attempt("wrong password here")
    with pytest.raises(accounts.SignInThrottled):
        attempt(PASSWORD)
    accounts.unlock_user(user.id, by=actor_for(admin), now=NOW)
    assert attempt(PASSWORD).username == "dwhitaker"
    assert audit_rows(action="account_unlocked")[0].username == "akim"


@pytest.mark.usefixtures("app_context")
def test_only_the_right_password_learns_that_an_account_is_deactivated():
    admin = make_user("akim", Role.ADMIN)
    user = make_user()
    with pytest.raises(accounts.InvalidCredentials):
        accounts.authenticate("nobody", PASSWORD, client_address=None, policy=auth_policy(), now=NOW)
    accounts.set_user_active(user.id, False, by=actor_for(admin), now=NOW)
    with pytest.raises(accounts.InvalidCredentials):
        attempt("wrong password here")
    with pytest.raises(accounts.AccountInactive):
        attempt(PASSWORD)


@pytest.mark.usefixtures("app_context")
def test_password_change_checks_the_current_password_and_the_policy():
    user = make_user()
    actor = actor_for(user)
    with pytest.raises(FieldErrors) as wrong:
        accounts.change_own_password(user.id, "not it at all", "severn-river-sunrise", by=actor,
                                     policy=auth_policy(), now=NOW)
    assert "current_password" in wrong.value.errors
    with pytest.raises(FieldErrors) as weak:
        accounts.change_own_password(user.id, PASSWORD, "password1234", by=actor,
                                     policy=auth_policy(), now=NOW)
    assert "new_password" in weak.value.errors
    with pytest.raises(FieldErrors) as near_copy:
        accounts.change_own_password(user.id, PASSWORD, "harbor-lighthouse-43", by=actor,
                                     policy=auth_policy(), now=NOW)
    assert "too close to your current password" in near_copy.value.errors["new_password"]
    with pytest.raises(FieldErrors) as own_name:
        accounts.change_own_password(user.id, PASSWORD, "whitaker-osprey-nest", by=actor,
                                     policy=auth_policy(), now=NOW)
    assert "your name" in own_name.value.errors["new_password"]
    old_token = user.session_token
    changed = accounts.change_own_password(user.id, PASSWORD, "severn-river-sunrise", by=actor,
                                           policy=auth_policy(), now=NOW)
    assert changed.session_token != old_token  # every other session of this user ends


@pytest.mark.usefixtures("app_context")
def test_reset_gives_a_temporary_password_that_must_be_changed():
    admin = make_user("akim", Role.ADMIN)
    user = make_user()
    _, temporary = accounts.reset_password(user.id, by=actor_for(admin), policy=auth_policy(), now=NOW)
    signed_in = attempt(temporary)
    assert signed_in.must_change_password
    with pytest.raises(accounts.InvalidCredentials):
        attempt(PASSWORD)


@pytest.mark.usefixtures("app_context")
def test_the_last_active_admin_cannot_be_removed():
    admin = make_user("akim", Role.ADMIN)
    other = make_user("bkim", Role.MANAGER)
    with pytest.raises(Refused):
        accounts.set_user_active(admin.id, False, by=actor_for(other), now=NOW)
    data = accounts.AccountData("akim", "Alex Kim", None, frozenset({Role.MANAGER}))
    with pytest.raises(FieldErrors, match="last active admin"):
        accounts.update_user(admin.id, data, expected_version=admin.version, by=actor_for(other),
                             now=NOW)


@pytest.mark.usefixtures("app_context")
def test_usernames_are_unique_whatever_their_case():
    make_user()
    with pytest.raises(FieldErrors, match="taken"):
        make_user("DWhitaker")


@pytest.mark.usefixtures("app_context")
def test_a_second_editor_of_an_account_is_told_who_saved_first():
    admin = make_user("akim", Role.ADMIN, full_name="Alex Kim")
    user = make_user()
    loaded_version = user.version
    first = accounts.AccountData("dwhitaker", "Dana Whitaker-Lee", None, frozenset({Role.SCHEDULER}))
    accounts.update_user(user.id, first, expected_version=loaded_version, by=actor_for(admin), now=NOW)
    second = accounts.AccountData("dwhitaker", "Dana W.", None, frozenset({Role.NURSE}))
    with pytest.raises(StaleEdit) as stale:
        accounts.update_user(user.id, second, expected_version=loaded_version,
                             by=Actor(None, "someone", frozenset({"admin"})), now=NOW)
    assert stale.value.changed_by == "Alex Kim"
    assert accounts.get_user(user.id).full_name == "Dana Whitaker-Lee"

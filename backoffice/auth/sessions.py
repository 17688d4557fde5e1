"""Signed-in sessions: start, end, idle and absolute limits, and the guard every request passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from backoffice.auth import mfa, rules
from backoffice.auth.models import User
from backoffice.auth.policy import AuthPolicy
from backoffice.core.access import PUBLIC, access_of, is_allowed, is_static_endpoint
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.extensions import db, login_manager
from backoffice.core.forms import local_path

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# Where a user who must replace a temporary password may still go (the second sign-in step, which
# comes first, included).
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "auth.mfa_code",
                                       "auth.mfa_enrol"})

F = TypeVar("F", bound=Callable[..., Any])


def not_activity(view: F) -> F:
    """A request that does not keep its session alive: a page asking how long it has left must not
    postpone the idle sign-out it is asking about."""
    view.counts_as_activity = False  # type: ignore[attr-defined]
    return view


def _counts_as_activity(endpoint: str) -> bool:
    return getattr(current_app.view_functions.get(endpoint), "counts_as_activity", True)


def auth_policy() -> AuthPolicy:
    policy: AuthPolicy = current_app.extensions["backoffice.auth_policy"]
    return policy


def current_actor() -> Actor:
    """The signed-in user as services and the audit trail see them."""
    return Actor(user_id=current_user.id, username=current_user.username,
                 roles=frozenset(str(role) for role in current_user.role_set),
                 client_address=request.remote_addr)


def anonymous_actor(username: str = "anonymous") -> Actor:
    return Actor(user_id=None, username=username, client_address=request.remote_addr)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def start_session(user: User, now: datetime) -> None:
    """A fresh session for `user`: nothing from the anonymous session survives sign-in."""
    session.clear()
    login_user(user)
    session.permanent = True
    session[SIGNED_IN_AT] = now.timestamp()
    session[SEEN_AT] = now.timestamp()


def record_activity(now: datetime) -> None:
    """Restart the session's idle clock."""
    session[SEEN_AT] = now.timestamp()


def session_time_left(now: datetime) -> rules.TimeLeft | None:
    """How long the signed-in session has, or None outside one."""
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if not current_user.is_authenticated or not isinstance(signed_in_at, float) \
            or not isinstance(seen_at, float):
        return None
    return rules.time_left(datetime.fromtimestamp(signed_in_at, UTC), datetime.fromtimestamp(seen_at, UTC),
                           now, auth_policy().sessions)


def end_session() -> None:
    logout_user()
    session.clear()


def _page_the_user_was_on() -> str | None:
    """Where to come back after signing in: the page asked for, or for a form sent after the session
    ended, the page the form was on (the browser names it; only a path on this site is taken)."""
    if request.method in ("GET", "HEAD"):
        target = request.full_path.removesuffix("?")
    else:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc != request.host:
            return None
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return local_path(target)


def _login_redirect() -> Response:
    return redirect(url_for("auth.login", next=_page_the_user_was_on()))


def _expire_session(now: datetime, activity: bool) -> Response | None:
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if not isinstance(signed_in_at, float) or not isinstance(seen_at, float):
        reason: str | None = rules.EXPIRED
    else:
        reason = rules.session_end_reason(datetime.fromtimestamp(signed_in_at, UTC),
                                          datetime.fromtimestamp(seen_at, UTC), now,
                                          auth_policy().sessions)
    if reason is None:
        if activity:
            record_activity(now)
        return None
    end_session()
    if reason == rules.IDLE:
        flash("You were signed out after a period of inactivity. Please sign in again.", "info")
    else:
        flash("Your session has ended. Please sign in again.", "info")
    return _login_redirect()


def guard_request() -> Response | None:
    """Runs before every request: session limits, the second sign-in step, then the endpoint's
    declared access."""
    endpoint = request.endpoint
    if endpoint is None or is_static_endpoint(endpoint):
        return None
    if current_user.is_authenticated:
        expired = _expire_session(utcnow(), _counts_as_activity(endpoint))
        if expired is not None:
            return expired
        # Before the access check: a "password only" session learns nothing of what it may open.
        second_step = mfa.require_second_factor()
        if second_step is not None:
            return second_step
    access = access_of(current_app, endpoint)
    if is_allowed(access, current_user):
        if (current_user.is_authenticated and current_user.must_change_password
                and endpoint not in PASSWORD_CHANGE_ENDPOINTS and access != PUBLIC):
            return redirect(url_for("auth.change_password"))
        return None
    if not current_user.is_authenticated:
        return _login_redirect()
    abort(403)


def init_app(app: Flask) -> None:
    app.extensions["backoffice.auth_policy"] = AuthPolicy.from_config(app.config)
    # Flask-Login's own context processor loads the user for every template rendered, error
    # pages included; the proxy loads them only when a template reads it.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.session_protection = "strong"
    app.before_request(guard_request)

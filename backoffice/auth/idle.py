"""Idle logoff seen from the page: how long the session has left, and "Stay signed in".

The server ends an idle session whatever the page does (`sessions.guard_request`); these endpoints
only let `static/js/idle.js` warn a minute before and save what the user was typing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify
from werkzeug.wrappers import Response

from backoffice.auth import rules
from backoffice.auth.sessions import auth_policy, not_activity, record_activity, session_time_left
from backoffice.core.access import signed_in
from backoffice.core.db import utcnow

bp = Blueprint("idle", __name__, url_prefix="/session")


def idle_state(time_left: rules.TimeLeft) -> dict[str, Any]:
    """What the page's script needs: whole seconds, rounded down so it never acts late."""
    limits = auth_policy().sessions
    return {
        "limit_seconds": int(limits.idle.total_seconds()),
        "warning_seconds": int(rules.idle_warning_lead(limits).total_seconds()),
        "remaining_seconds": int(time_left.remaining.total_seconds()),
        "extendable": time_left.extendable,
    }


@bp.app_template_global()
def page_idle_state(user: Any) -> dict[str, Any] | None:
    """For base.html: the state a signed-in page starts from, None on pages outside a session.
    `user` is the one the page already has: error pages pass None rather than load it."""
    if user is None or not user.is_authenticated:
        return None
    time_left = session_time_left(utcnow())
    if time_left is None:
        return None
    return {**idle_state(time_left), "user_id": user.id}


def _current_state() -> Response:
    time_left = session_time_left(utcnow())
    if time_left is None:  # the guard lets only live sessions this far; a session without times
        abort(401)         # has already been ended there
    return jsonify(idle_state(time_left))


@bp.get("/time-left")
@signed_in
@not_activity
def time_left() -> Response:
    """Asked before warning or signing out, so that activity in another tab is not missed."""
    return _current_state()


@bp.post("/stay")
@signed_in
def stay_signed_in() -> Response:
    """The warning's "Stay signed in" (CSRF-checked like every POST)."""
    record_activity(utcnow())
    return _current_state()

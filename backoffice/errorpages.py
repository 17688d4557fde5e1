"""Friendly error pages: a message and a way on, never a stack trace.

An error page never reads the database: it may be answering because the database failed, and a
second failure while rendering it would leave the user gunicorn's bare "Internal Server Error".
The menu is shown only when this request already loaded the signed-in user.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import inspect
from werkzeug.exceptions import HTTPException, InternalServerError

from backoffice.auth.models import User
from backoffice.core.errors import DomainError, NotFound

MESSAGES = {
    400: ("Something in that request was not right", "Go back, check what you entered and try again."),
    403: ("Not available to your role", "Your account does not give access to this page. "
                                        "Ask an administrator if you need it."),
    404: ("Not found", "There is nothing at this address, or it is not yours to see."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: ("Not saved", "Someone else changed this at the same moment. Reload the page and try again."),
    429: ("Too many attempts", "Wait a minute before trying again."),
    500: ("Something went wrong on our side", "Nothing you entered was lost on purpose: go back "
                                              "and try again. If it happens again, tell the "
                                              "practice's administrator what you were doing."),
}


USER_COLUMNS = frozenset(column.key for column in inspect(User).column_attrs)


def user_already_loaded() -> User | None:
    """The signed-in user, if this request loaded them and none of their columns has been expired
    since (a rollback expires them); otherwise None. Never sends a query."""
    # Flask-Login keeps the user it loaded for this request in g._login_user.
    user = g.get("_login_user")
    if not isinstance(user, User) or inspect(user).unloaded & USER_COLUMNS:
        return None
    return user


def log_refusal(what: str) -> None:
    """A security control refused a request: logged with the endpoint and the account id only
    (the path and query string can carry patient data)."""
    user = g.get("_login_user")
    logging.getLogger("backoffice.security").warning(
        "%s: %s %s by user %s from %s", what, request.method, request.endpoint or "(no endpoint)",
        getattr(user, "id", None) if isinstance(user, User) else None, request.remote_addr)


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(status, MESSAGES[400])
    return render_template("errors/error.html", status=status, title=title, message=detail or message,
                           menu_user=user_already_loaded()), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        log_refusal("CSRF check failed")
        return render_error(400, "The form had expired or did not come from this site. "
                                 "Nothing was saved. Reload the page and try again.")

    @app.errorhandler(NotFound)
    def domain_not_found(error: NotFound) -> tuple[str, int]:
        return render_error(404)

    @app.errorhandler(DomainError)
    def refused(error: DomainError) -> tuple[str, int]:
        # A refusal the view did not place next to a field: say it on a page of its own.
        return render_error(409, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        if status in (403, 429):
            log_refusal("refused by access control" if status == 403 else "rate limit reached")
        detail = error.description if status == 429 else None
        return render_error(status, detail)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        # The traceback names code, not data; SQL parameters are hidden by the engine options.
        app.logger.exception("unhandled error: %s", type(error).__name__)
        return render_error(500)

    @app.errorhandler(InternalServerError)
    def internal(error: InternalServerError) -> tuple[str, int]:
        return render_error(500)

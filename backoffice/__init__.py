"""Back office for an interventional pain practice."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter
from werkzeug.wrappers import Response

from backoffice.config import PROJECT_ROOT, instance_path_from, load_config
from backoffice.core.access import is_static_endpoint
from backoffice.core.db import MAX_ID, configure_sqlite
from backoffice.core.extensions import bootstrap, csrf, db, limiter, migrate

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_path_from(os.environ)),
                template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    app.config.from_mapping(load_config(os.environ, config, Path(app.instance_path)))
    _configure_logging(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    _init_extensions(app)
    app.url_map.converters["int"] = DatabaseIdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = PathTextConverter
    _register_blueprints(app)
    _connect_subscribers()

    from backoffice import cli, errorpages, templating
    from backoffice.devices import flags  # noqa: F401  (flags patients with an MRI unsafe implant on the calendars)
    errorpages.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """Every `<int:...>` in a route: an id the database can hold, so a 20-digit number in a URL
    is a plain 404 rather than an integer overflow in the driver."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class PathTextConverter(UnicodeConverter):
    """Every `<name>` in a route (an office's slug): one path segment without control characters.
    No slug holds a NUL or a line break, and PostgreSQL refuses NUL in any text it is sent, so
    `/offices/%00/calendar` is a plain 404 rather than a driver error."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]", 1)


def _init_extensions(app: Flask) -> None:
    from backoffice import models  # noqa: F401  (every table on the metadata, for migrations)
    from backoffice.auth import limiter_storage, mfa, sessions  # noqa: F401  (limiter_storage registers database://)

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    Talisman(app, force_https=app.config["FORCE_HTTPS"],
             session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
             strict_transport_security=app.config["FORCE_HTTPS"],
             content_security_policy=CONTENT_SECURITY_POLICY, frame_options="DENY",
             referrer_policy="same-origin")
    sessions.init_app(app)
    mfa.init_app(app)
    app.after_request(_no_store)


def _no_store(response: Response) -> Response:
    """Pages can hold patient data: browsers and proxies must not keep them. Static assets may."""
    if request.endpoint is None or not is_static_endpoint(request.endpoint):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _connect_subscribers() -> None:
    """Higher packages react to lower ones through signals (domain events, booking checks, page
    sections, questions; docs/architecture.md lists them): their handlers subscribe when their
    modules are imported, here, whatever pages a process serves."""
    from backoffice.devices import patient_page as devices_on_patient_page  # noqa: F401
    from backoffice.devices import trials  # noqa: F401  (a trial procedure completed puts its trial on record)
    from backoffice.insurance import patient_page as coverage_on_patient_page  # noqa: F401
    from backoffice.procedures import appointment_page, booking_checks, followups, staleness  # noqa: F401
    from backoffice.procedures import patient_page as course_on_patient_page  # noqa: F401
    from backoffice.scheduling import closures as bookings_on_closed_days  # noqa: F401
    from backoffice.scheduling import patient_page as appointments_on_patient_page  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from backoffice.auditlog.views import bp as auditlog_bp
    from backoffice.auth.idle import bp as idle_bp
    from backoffice.auth.views import bp as auth_bp
    from backoffice.catalog.views import bp as catalog_bp
    from backoffice.core.views import bp as core_bp
    from backoffice.devices.views import bp as devices_bp
    from backoffice.history.views import bp as history_bp
    from backoffice.insurance.views import bp as insurance_bp
    from backoffice.patients.views import bp as patients_bp
    from backoffice.practice.views import bp as practice_bp
    from backoffice.procedures.views import bp as procedures_bp
    from backoffice.scheduling.details_views import bp as appointment_details_bp
    from backoffice.scheduling.request_views import bp as scheduling_requests_bp
    from backoffice.scheduling.views import bp as scheduling_bp

    for blueprint in (core_bp, auth_bp, practice_bp, catalog_bp, procedures_bp, patients_bp, insurance_bp,
                      scheduling_bp, scheduling_requests_bp, appointment_details_bp, devices_bp, history_bp,
                      auditlog_bp, idle_bp):
        app.register_blueprint(blueprint)


class _RedactQueryStrings(logging.Filter):
    """Access logs must not carry patient data: search terms travel in query strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_strip_query(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


def _strip_query(text: str) -> str:
    if "?" not in text:
        return text
    before, _, after = text.partition("?")
    rest = after.split(" ", 1)
    return before + ("?[redacted]" + (" " + rest[1] if len(rest) > 1 else ""))


def _configure_logging(app: Flask) -> None:
    app.logger.setLevel(app.config["LOG_LEVEL"])
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _RedactQueryStrings) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(_RedactQueryStrings())

"""Every setting of the app, read from the environment here and nowhere else.

`SETTINGS` is the single table of what can be configured; the README's table of settings is
generated from the same descriptions (`flask --app backoffice settings`), so they cannot drift.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable app (for example production without a key)."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(f"must be a positive whole number, got {raw!r}")
    return value


def _positive_number(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError(f"must be a positive number, got {raw!r}")
    return value


def _role_names(raw: str) -> frozenset[str]:
    """`all`, `none`, or role names separated by commas."""
    from backoffice.core.permissions import ALL_ROLES

    names = {name.strip().lower() for name in raw.split(",") if name.strip()}
    if names == {"all"}:
        return frozenset(str(role) for role in ALL_ROLES)
    if names == {"none"}:
        return frozenset()
    unknown = names - {str(role) for role in ALL_ROLES}
    if unknown:
        raise ValueError(f"unknown roles {', '.join(sorted(unknown))}; use role names, all or none")
    return frozenset(names)


def _whole_days(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"must be 0 or more days, got {raw!r}")
    return value


@dataclass(frozen=True)
class Setting:
    env: str
    key: str
    parse: Callable[[str], Any]
    default: Any
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("BACKOFFICE_ENV", "BACKOFFICE_ENV", str, "development",
            "`development`, `production` or `test`. Production requires `SECRET_KEY`, "
            "sends cookies only over HTTPS and redirects HTTP to HTTPS."),
    Setting("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", str, None,
            "SQLAlchemy URL. Default: an SQLite file `instance/backoffice.sqlite3`. "
            "PostgreSQL: `postgresql+psycopg://user:password@host/dbname`."),
    Setting("MIGRATION_DATABASE_URL", "MIGRATION_DATABASE_URL", str, None,
            "PostgreSQL: the URL of the role that owns the tables, which `flask db upgrade` then "
            "uses; `DATABASE_URL` names the app's own role, and each upgrade grants it exactly "
            "what the app needs (see Running in production)."),
    Setting("SECRET_KEY", "SECRET_KEY", str, None,
            "Signs sessions and CSRF tokens. When unset outside production, one is generated "
            "into `instance/secret_key` on first run and reused."),
    Setting("BACKOFFICE_INSTANCE_PATH", "INSTANCE_PATH", str, "instance",
            "Folder for the SQLite file and the generated secret key (default: `instance/` in "
            "the project folder)."),
    Setting("PRACTICE_TIMEZONE", "PRACTICE_TIMEZONE", str, "America/New_York",
            "Time zone for times that belong to no office (audit trail, account pages)."),
    Setting("IDLE_TIMEOUT_MINUTES", "IDLE_TIMEOUT_MINUTES", _positive_int, 15,
            "Minutes without a request after which a session is signed out."),
    Setting("SESSION_MAX_HOURS", "SESSION_MAX_HOURS", _positive_int, 12,
            "Hours after sign-in after which a session ends however active it is."),
    Setting("SIGN_IN_FREE_ATTEMPTS", "SIGN_IN_FREE_ATTEMPTS", _positive_int, 3,
            "Wrong passwords for one username from one address before each next attempt from "
            "there must wait."),
    Setting("SIGN_IN_FIRST_DELAY_SECONDS", "SIGN_IN_FIRST_DELAY_SECONDS", _positive_int, 15,
            "The first such wait in seconds; it doubles with each further wrong password."),
    Setting("SIGN_IN_MAX_DELAY_MINUTES", "SIGN_IN_MAX_DELAY_MINUTES", _positive_int, 15,
            "The longest such wait in minutes."),
    Setting("LOCKOUT_ATTEMPTS", "LOCKOUT_ATTEMPTS", _positive_int, 100,
            "Wrong passwords in a row for one account, from any addresses, after which it is "
            "locked until an admin unlocks it."),
    Setting("LOGIN_RATE_LIMIT", "LOGIN_RATE_LIMIT", str, "20 per minute",
            "Sign-in attempts allowed per client address, whatever the username "
            "(Flask-Limiter syntax)."),
    Setting("RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_URI", str, "database://",
            "Where the per-address counters live: `database://` keeps them in the app's "
            "database, shared by every server process and machine; a shared store such as "
            "`redis://host:6379` (with `pip install redis`) works too. Never `memory://` with "
            "more than one process."),
    Setting("PASSWORD_MIN_LENGTH", "PASSWORD_MIN_LENGTH", _positive_int, 12,
            "Shortest password accepted."),
    Setting("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_TIME_COST", _positive_int, 3,
            "Argon2id iterations."),
    Setting("PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_MEMORY_KIB", _positive_int, 65536,
            "Argon2id memory in KiB."),
    Setting("PASSWORD_HASH_PARALLELISM", "PASSWORD_HASH_PARALLELISM", _positive_int, 4,
            "Argon2id lanes."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", "SQLITE_BUSY_TIMEOUT_MS", _positive_int, 30000,
            "How long an SQLite writer waits for another writer to finish."),
    Setting("TRUSTED_PROXIES", "TRUSTED_PROXIES", int, 0,
            "Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto "
            "headers are trusted (1 behind nginx)."),
    Setting("SESSION_COOKIE_SECURE", "SESSION_COOKIE_SECURE", _bool, None,
            "Send the session cookie only over HTTPS. Default: on in production, off otherwise."),
    Setting("FORCE_HTTPS", "FORCE_HTTPS", _bool, None,
            "Redirect plain HTTP to HTTPS. Default: on in production, off otherwise."),
    Setting("MFA_REQUIRED_ROLES", "MFA_REQUIRED_ROLES", _role_names, None,
            "Roles that must sign in with a code from an authenticator app: role names separated "
            "by commas, `all` or `none`. Default: `all` in production, `none` otherwise."),
    Setting("TRAVEL_MINUTES", "TRAVEL_MINUTES", _positive_int, 30,
            "Minutes a physician needs between a case at one office and a case at another."),
    Setting("AVAILABILITY_DAYS", "AVAILABILITY_DAYS", _positive_int, 60,
            "How many days ahead “next available” looks."),
    Setting("PUMP_ALARM_ML", "PUMP_ALARM_ML", _positive_number, 2,
            "Low-reservoir alarm volume of a pump (mL), the refill form's default."),
    Setting("REFILL_MARGIN_DAYS", "REFILL_MARGIN_DAYS", _whole_days, 7,
            "Safety margin taken off the computed refill interval (days), the refill form's default."),
    Setting("DRUG_STABILITY_DAYS", "DRUG_STABILITY_DAYS", _positive_int, 90,
            "Stability of the drug in the pump (days; morphine: 90), the refill form's default."),
    Setting("REFILL_TOLERANCE_ML", "REFILL_TOLERANCE_ML", _positive_number, 2,
            "A withdrawn volume further than this from the expected residual (mL) is flagged."),
    Setting("REFILL_WINDOW_DAYS", "REFILL_WINDOW_DAYS", _positive_int, 14,
            "The refill list shows refills due within this many days, besides overdue ones."),
    Setting("SCS_TRIAL_DAYS", "SCS_TRIAL_DAYS", _positive_int, 7, "Planned length of an SCS trial (days)."),
    Setting("SCS_TRIAL_OVERDUE_DAYS", "SCS_TRIAL_OVERDUE_DAYS", _positive_int, 10,
            "An SCS trial running longer than this (days) is flagged."),
    Setting("ERI_DAYS", "ERI_DAYS", _positive_int, 90,
            "Days from the elective replacement indicator to the end of service: the replacement is due by then."),
    Setting("REPLACEMENT_YEARS", "REPLACEMENT_YEARS", _positive_number, 6.5,
            "Pumps and generators in service this many years are listed for replacement planning."),
    Setting("LOG_LEVEL", "LOG_LEVEL", str, "INFO", "Python logging level."),
)


def instance_path_from(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("BACKOFFICE_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)


def _secret_key_from_instance(instance_path: Path) -> str:
    """The key kept in `instance/secret_key`, created on first use."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_config(environ: Mapping[str, str], overrides: Mapping[str, Any] | None,
                instance_path: Path) -> dict[str, Any]:
    """Flask config from the environment, then the explicit overrides (tests pass these)."""
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            config[setting.key] = setting.default
            continue
        try:
            config[setting.key] = setting.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{setting.env}: {error}") from error
    config.update(overrides or {})

    production = config["BACKOFFICE_ENV"] == "production"
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance_path.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance_path / 'backoffice.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config.get("MIGRATION_DATABASE_URL"):
        config["MIGRATION_DATABASE_URL"] = normalise_database_url(config["MIGRATION_DATABASE_URL"])
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError("SECRET_KEY must be set when BACKOFFICE_ENV=production.")
        config["SECRET_KEY"] = _secret_key_from_instance(instance_path)
    for key in ("SESSION_COOKIE_SECURE", "FORCE_HTTPS"):
        if config.get(key) is None:
            config[key] = production
    if config.get("MFA_REQUIRED_ROLES") is None:
        config["MFA_REQUIRED_ROLES"] = _role_names("all" if production else "none")
    elif isinstance(config["MFA_REQUIRED_ROLES"], str):
        config["MFA_REQUIRED_ROLES"] = _role_names(config["MFA_REQUIRED_ROLES"])

    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config["SQLALCHEMY_DATABASE_URI"],
                                                         config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for this host only
    # and for every path: no other site or subdomain can plant or shadow it. Plain HTTP (the
    # development server) cannot carry such a cookie, hence the plain name there.
    config.setdefault("SESSION_COOKIE_NAME", "__Host-session" if config["SESSION_COOKIE_SECURE"] else "session")
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    config.setdefault("WTF_CSRF_TIME_LIMIT", config["SESSION_MAX_HOURS"] * 3600)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    return config


def engine_options(url: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options for this database, under any the caller gave explicitly."""
    # SQL parameters can hold patient data; keep them out of error messages and logs.
    options: dict[str, Any] = {"hide_parameters": True}
    if not url.startswith("sqlite"):
        # A server can drop pooled connections (a restart, a failover, an idle timeout, an
        # administrator ending sessions): test each one as it leaves the pool and reconnect,
        # rather than fail the next request of every worker. An SQLite file cannot drop them.
        options["pool_pre_ping"] = True
    return {**options, **given}


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling of the URL was given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url

"""Account rules: password policy, lockout, session lifetime. Pure: time and limits are arguments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from zxcvbn import zxcvbn

MAX_PASSWORD_LENGTH = 128
# zxcvbn's score 3 is "safely unguessable: moderate protection from offline attacks"; below it
# sit the common passwords and their easy variants ("password1234", "qwertyuiop12").
MIN_GUESSABILITY_SCORE = 3
USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{2,39}$")
USERNAME_RULE = ("Use 3-40 characters: lower-case letters, digits, '.', '_' or '-', "
                 "starting with a letter.")


def normalise_username(raw: str) -> str:
    return raw.strip().lower() if isinstance(raw, str) else raw


def is_valid_username(username: str) -> bool:
    return bool(USERNAME_PATTERN.match(username))


def password_problems(password: str, *, username: str, other_inputs: Iterable[str] = (),
                      min_length: int = 12) -> list[str]:
    """Why a new password is refused; empty when it is acceptable.

    NIST SP 800-63B: a minimum length, no composition rules, and no password that is known to be
    common or is built from the account's own name.
    """
    if len(password) < min_length:
        return [f"Use at least {min_length} characters."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    if username and username.lower() in password.lower():
        return ["Do not use your username in your password."]
    result = zxcvbn(password, user_inputs=[username, *other_inputs])
    if result["score"] < MIN_GUESSABILITY_SCORE:
        warning = result["feedback"].get("warning") or "This password is too easy to guess."
        return [f"{warning} Choose a less common one; a few unrelated words work well."]
    return []


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_minutes: int = 15


@dataclass(frozen=True)
class FailureOutcome:
    failed_logins: int
    locked_until: datetime | None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failed_login(failed_logins: int, policy: LockoutPolicy, now: datetime) -> FailureOutcome:
    """Count one more wrong password; the last allowed one locks the account and restarts the count."""
    failures = failed_logins + 1
    if failures >= policy.max_failures:
        return FailureOutcome(0, now + timedelta(minutes=policy.lock_minutes))
    return FailureOutcome(failures, None)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    absolute: timedelta


IDLE = "idle"
EXPIRED = "expired"


def session_end_reason(signed_in_at: datetime, last_seen_at: datetime, now: datetime,
                       limits: SessionLimits) -> str | None:
    """`IDLE` or `EXPIRED` when a session must end now, else None."""
    if now - signed_in_at >= limits.absolute:
        return EXPIRED
    if now - last_seen_at >= limits.idle:
        return IDLE
    return None


# The page warns this long before an idle sign-out (half the limit when the limit is shorter than two
# of these), so that one click can keep the session.
IDLE_WARNING = timedelta(minutes=1)


@dataclass(frozen=True)
class TimeLeft:
    """How long a session has before it ends: `idle` if no request comes, `session` whatever comes."""

    idle: timedelta
    session: timedelta

    @property
    def remaining(self) -> timedelta:
        return max(min(self.idle, self.session), timedelta(0))

    @property
    def extendable(self) -> bool:
        """Whether activity can push the end back (not when the absolute limit comes first)."""
        return self.idle < self.session


def time_left(signed_in_at: datetime, last_seen_at: datetime, now: datetime,
              limits: SessionLimits) -> TimeLeft:
    return TimeLeft(idle=last_seen_at + limits.idle - now, session=signed_in_at + limits.absolute - now)


def idle_warning_lead(limits: SessionLimits) -> timedelta:
    return min(IDLE_WARNING, limits.idle / 2)


def format_roles(roles: Iterable[str]) -> str:
    return ",".join(sorted(set(roles)))

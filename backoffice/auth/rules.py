"""Account rules: password policy, sign-in throttling, session lifetime. Pure: time and limits are arguments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from jellyfish import damerau_levenshtein_distance
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


def name_parts(full_name: str) -> list[str]:
    """The words of a person's name long enough to be worth refusing in a password."""
    return [part.lower() for part in re.findall(r"[^\W\d_]+", full_name) if len(part) >= 3]


def password_problems(password: str, *, username: str, full_name: str = "",
                      current: str | None = None, min_length: int = 12) -> list[str]:
    """Why a new password is refused; empty when it is acceptable.

    NIST SP 800-63B: a minimum length, no composition rules, and no password that is known to be
    common or is built from the account's own name. `current` is the password being replaced,
    when the person changes their own: a near copy of it is refused too.
    """
    if len(password) < min_length:
        return [f"Use at least {min_length} characters."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    lowered = password.lower()
    if username and username.lower() in lowered:
        return ["Do not use your username in your password."]
    if any(part in lowered for part in name_parts(full_name)):
        return ["Do not use your name in your password."]
    if current is not None and is_near_copy(password, current):
        return [f"This is too close to your current password: change more than "
                f"{NEAR_COPY_DISTANCE} characters, not only a number at its end."]
    inputs = [username, *full_name.split(), *([current] if current else [])]
    result = zxcvbn(password, user_inputs=inputs)
    if result["score"] < MIN_GUESSABILITY_SCORE:
        warning = result["feedback"].get("warning") or "This password is too easy to guess."
        return [f"{warning} Choose a less common one; a few unrelated words work well."]
    return []


# A new password within this many edits (insert, delete, replace or swap two neighbours) of the
# current one is a near copy: whoever learnt the old one would guess it.
NEAR_COPY_DISTANCE = 3
_TRAILING_DIGITS = re.compile(r"[\d\W_]+$")


def is_near_copy(new: str, current: str) -> bool:
    """`new` differs from `current` only by a few characters (ignoring case), or only by the
    digits and punctuation at its end ("sunrise-2025" after "sunrise-2024!")."""
    new, current = new.lower(), current.lower()
    if damerau_levenshtein_distance(new, current) <= NEAR_COPY_DISTANCE:
        return True
    stem = _TRAILING_DIGITS.sub("", new)
    return bool(stem) and stem == _TRAILING_DIGITS.sub("", current)


@dataclass(frozen=True)
class ThrottlePolicy:
    """Sign-in throttling (NIST SP 800-63B 5.2.2).

    Wrong passwords are counted per username and client address together: after `free_attempts`
    of them each next attempt from that address for that username must wait, twice as long each
    time from `first_delay` up to `max_delay`, so a stranger slows only themselves down. The
    count of a pair is forgotten `forget_after` its last failure. Separately, `account_cap` wrong
    passwords in a row from any addresses lock the account until an admin unlocks it: the
    absolute bound on guesses against one account.
    """

    free_attempts: int = 3
    first_delay: timedelta = timedelta(seconds=15)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)
    account_cap: int = 100


def sign_in_delay(failures: int, policy: ThrottlePolicy) -> timedelta:
    """How long after the last of `failures` wrong passwords the next attempt must wait."""
    if failures < policy.free_attempts:
        return timedelta(0)
    doublings = failures - policy.free_attempts
    if doublings >= 40:  # far past any sensible cap; keeps the multiplication bounded
        return policy.max_delay
    return min(policy.first_delay * 2 ** doublings, policy.max_delay)


def failures_in_effect(failures: int, last_failure_at: datetime | None, now: datetime,
                       policy: ThrottlePolicy) -> int:
    """A pair's count, or 0 once its last failure is `forget_after` old."""
    if last_failure_at is None or now - last_failure_at >= policy.forget_after:
        return 0
    return failures


def next_attempt_at(failures: int, last_failure_at: datetime | None, now: datetime,
                    policy: ThrottlePolicy) -> datetime | None:
    """When the next attempt of a pair may be made, or None when it may be made now."""
    counted = failures_in_effect(failures, last_failure_at, now, policy)
    if counted == 0 or last_failure_at is None:
        return None
    allowed_at = last_failure_at + sign_in_delay(counted, policy)
    return allowed_at if now < allowed_at else None


def reaches_account_cap(failed_logins: int, policy: ThrottlePolicy) -> bool:
    """`failed_logins` wrong passwords in a row lock the account until an admin unlocks it."""
    return failed_logins >= policy.account_cap


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

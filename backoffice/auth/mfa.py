"""Multi-factor sign-in: enrolment, codes, recovery codes, remembered devices, admin reset, and the
request check that holds a "password only" session at the code page.

A session passes the second factor once per sign-in: `session[PASSED]` then holds the session's
identity (user id and session token), so it cannot be carried to another account or outlive a
sign-out. Until then every page but the code, enrolment and sign-out pages redirects to the code
page (or to enrolment for an account that must enrol and has not). The decision is made in one
place, `require_second_factor`, which the session guard runs before every request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app, redirect, request, session, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from backoffice.audit.trail import record_event
from backoffice.auth import mfa_rules
from backoffice.auth.mfa_models import MfaCredential, RecoveryCode
from backoffice.auth.models import User
from backoffice.core.access import is_static_endpoint
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, get_one, transaction, utcnow
from backoffice.core.errors import DomainError, FieldErrors, Refused
from backoffice.core.extensions import db

PASSED = "mfa_passed"
PENDING_SECRET = "mfa_pending_secret"
REMEMBER_COOKIE = "mfa_device"


def _remember_cookie_name() -> str:
    """Like the session cookie: with the __Host- prefix (Secure, this host only, path /) whenever
    cookies are sent over HTTPS only, as in production."""
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    return f"__Host-{REMEMBER_COOKIE}" if secure else REMEMBER_COOKIE

# What a session that has not passed the second factor may still open.
SECOND_FACTOR_ENDPOINTS = frozenset({"auth.mfa_code", "auth.mfa_enrol", "auth.logout"})
WRONG_CODE = "That code is not right, or it was already used. Enter the newest code your app shows."


class WrongCode(FieldErrors):
    def __init__(self) -> None:
        super().__init__({"code": WRONG_CODE})


class CodesBlocked(DomainError):
    def __init__(self, until: datetime) -> None:
        super().__init__("Too many wrong codes in a row: codes are refused for a while.")
        self.until = until


# Reading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SecondFactor:
    """Where an account stands: whether its roles require MFA and its credential, if enrolled."""

    required: bool
    credential: MfaCredential | None
    recovery_codes_left: int = 0

    @property
    def enrolled(self) -> bool:
        return self.credential is not None

    @property
    def needed(self) -> bool:
        return self.required or self.enrolled


def _credential(user_id: int, *, lock: bool = False) -> MfaCredential | None:
    query = select(MfaCredential).where(MfaCredential.user_id == user_id)
    return db.session.scalars(for_update(query) if lock else query).first()


def _unused_codes(user_id: int) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all())


def required_roles() -> frozenset[str]:
    return frozenset(current_app.config["MFA_REQUIRED_ROLES"])


def second_factor_of(user: User, *, count_codes: bool = False) -> SecondFactor:
    credential = _credential(user.id)
    return SecondFactor(
        required=mfa_rules.requires_mfa(user.role_set, required_roles()),
        credential=credential,
        recovery_codes_left=_unused_codes(user.id) if count_codes and credential else 0)


def fingerprint(user: User, credential: MfaCredential) -> str:
    return mfa_rules.account_fingerprint(user.id, user.password_hash, credential.secret)


# Services: each one user action, one transaction ----------------------------------------------

def enrol(user_id: int, secret: str, code: str, *, by: Actor, now: datetime) -> list[str]:
    """Keep `secret` as the account's second factor once `code` proves the app has it. Returns
    the recovery codes, in clear this once."""
    step = mfa_rules.accepted_step(secret, mfa_rules.normalise_code(code), now, None)
    codes: list[str] = []
    with transaction(db.session, by):
        get_one(db.session, User, user_id, entity="user", lock=True)
        if _credential(user_id) is not None:
            raise Refused("Two-step sign-in is already set up for this account.")
        if step is None:
            record_event(db.session, by, "mfa_failed", "staff_user", user_id,
                         subject="wrong code while setting up")
        else:
            db.session.add(MfaCredential(user_id=user_id, secret=secret, enrolled_at=now,
                                         last_used_step=step, failed_codes=0))
            codes = mfa_rules.new_recovery_codes()
            db.session.add_all(RecoveryCode(user_id=user_id,
                                            code_hash=mfa_rules.recovery_code_hash(user_id, recovery))
                               for recovery in codes)
            record_event(db.session, by, "mfa_enrolled", "staff_user", user_id,
                         subject=f"authenticator app, {len(codes)} recovery codes")
    if step is None:
        raise WrongCode()
    return codes


@dataclass(frozen=True)
class Passed:
    by_recovery_code: bool
    recovery_codes_left: int


def check_code(user_id: int, code: str, *, by: Actor, now: datetime, block_minutes: int) -> Passed:
    """The second sign-in step: an authenticator code, or one of the recovery codes (each works
    once). Raises WrongCode or CodesBlocked; a wrong code is counted and recorded."""
    typed = mfa_rules.normalise_code(code)
    passed: Passed | None = None
    blocked_until: datetime | None = None
    with transaction(db.session, by):
        credential = _credential(user_id, lock=True)
        if credential is None:
            raise Refused("Two-step sign-in is not set up for this account.")
        if mfa_rules.is_blocked(credential.blocked_until, now):
            blocked_until = credential.blocked_until
            record_event(db.session, by, "mfa_failed", "staff_user", user_id,
                         subject="code not checked: codes refused for a while")
        else:
            passed = _accept(credential, typed, by=by, now=now)
            if passed is None:
                outcome = mfa_rules.after_wrong_code(credential.failed_codes, now, block_minutes)
                credential.failed_codes = outcome.failures
                credential.blocked_until = outcome.blocked_until
                record_event(db.session, by, "mfa_failed", "staff_user", user_id,
                             subject="wrong code" + ("; codes refused for a while"
                                                     if outcome.blocked_until else ""))
            else:
                credential.failed_codes = 0
                credential.blocked_until = None
    if blocked_until is not None:
        raise CodesBlocked(blocked_until)
    if passed is None:
        raise WrongCode()
    return passed


def _accept(credential: MfaCredential, typed: str, *, by: Actor, now: datetime) -> Passed | None:
    """Record and return a pass when `typed` is a valid code, else None (nothing changed)."""
    if mfa_rules.is_totp_code(typed):
        step = mfa_rules.accepted_step(credential.secret, typed, now, credential.last_used_step)
        if step is None:
            return None
        credential.last_used_step = step
        record_event(db.session, by, "mfa_passed", "staff_user", credential.user_id,
                     subject="authenticator code")
        return Passed(False, 0)
    if not mfa_rules.is_recovery_code(typed):
        return None
    recovery = db.session.scalars(for_update(select(RecoveryCode).where(
        RecoveryCode.user_id == credential.user_id,
        RecoveryCode.code_hash == mfa_rules.recovery_code_hash(credential.user_id, typed),
        RecoveryCode.used_at.is_(None)))).first()
    if recovery is None:
        return None
    recovery.used_at = now
    db.session.flush()
    left = _unused_codes(credential.user_id)
    record_event(db.session, by, "mfa_recovery_code_used", "staff_user", credential.user_id,
                 subject=f"{left} recovery codes left")
    return Passed(True, left)


def record_remembered_device(user_id: int, *, by: Actor) -> None:
    """A sign-in whose second step a remembered device skipped, for the trail."""
    with transaction(db.session, by):
        record_event(db.session, by, "mfa_passed", "staff_user", user_id,
                     subject="remembered device")


def reset(user_id: int, *, by: Actor, now: datetime) -> User:
    """An admin's reset: the authenticator, the recovery codes and every remembered device are
    forgotten and the account's sessions end, so the next sign-in enrols again."""
    with transaction(db.session, by):
        user = get_one(db.session, User, user_id, entity="user", lock=True)
        if _credential(user_id, lock=True) is None:
            raise Refused(f"{user.username} has no two-step sign-in to reset.")
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        db.session.execute(delete(MfaCredential).where(MfaCredential.user_id == user_id))
        user.session_token = secrets.token_hex(16)
        record_event(db.session, by, "mfa_reset", "staff_user", user_id,
                     subject=f"{user.username}: authenticator, recovery codes and remembered "
                             "devices forgotten; sessions ended")
    return user


# The session's state and the request check -----------------------------------------------------

def mark_passed(user: User) -> None:
    session[PASSED] = user.get_id()
    session.pop(PENDING_SECRET, None)


def has_passed(user: User) -> bool:
    return bool(session.get(PASSED) == user.get_id())


def pending_secret() -> str:
    """The secret being enrolled, kept in the (signed) session until a code confirms it, so the
    QR code stays the same when the page is reloaded."""
    secret = session.get(PENDING_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = mfa_rules.new_secret()
        session[PENDING_SECRET] = secret
    return secret


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mfa-remember-device")


def remembered_device() -> mfa_rules.RememberedDevice | None:
    raw = request.cookies.get(_remember_cookie_name())
    if not raw:
        return None
    try:
        return mfa_rules.RememberedDevice.from_payload(_serializer().loads(raw))
    except BadSignature:
        return None


def remember_this_device(response: Response, user: User, now: datetime) -> None:
    credential = _credential(user.id)
    if credential is None:
        return
    device = mfa_rules.remember_device(user.id, fingerprint(user, credential), now)
    response.set_cookie(_remember_cookie_name(), _serializer().dumps(device.as_payload()),
                        max_age=int(mfa_rules.REMEMBER_DEVICE.total_seconds()),
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
                        samesite="Lax")


def settle(user: User, actor: Actor, now: datetime) -> SecondFactor:
    """Decide, once per session, whether it still owes a second factor: mark it passed when the
    account needs none or this device is remembered for it."""
    state = second_factor_of(user)
    if not state.needed:
        mark_passed(user)
    elif state.credential is not None and mfa_rules.device_is_remembered(
            remembered_device(), user.id, fingerprint(user, state.credential), now):
        record_remembered_device(user.id, by=actor)
        mark_passed(user)
    return state


def _actor() -> Actor:
    # `sessions.current_actor`, which cannot be imported here: the session guard imports this module.
    return Actor(user_id=current_user.id, username=current_user.username,
                 roles=frozenset(str(role) for role in current_user.role_set),
                 client_address=request.remote_addr)


def _here() -> str | None:
    if request.method != "GET":
        return None
    return request.full_path.removesuffix("?")


def require_second_factor() -> Response | None:
    """A signed-in session that has not passed its second factor reaches only the code,
    enrolment and sign-out pages. Called by the session guard before every request, once the
    session is known to be current."""
    endpoint = request.endpoint
    if endpoint is None or is_static_endpoint(endpoint) or not current_user.is_authenticated:
        return None
    if has_passed(current_user):
        return None
    state = settle(current_user, _actor(), utcnow())
    if has_passed(current_user) or endpoint in SECOND_FACTOR_ENDPOINTS:
        return None
    target = "auth.mfa_code" if state.enrolled else "auth.mfa_enrol"
    return redirect(url_for(target, next=_here()))


def awaiting_second_factor(user: Any) -> bool:
    """For templates: a "password only" session gets no menu, whose links would all lead back to
    the code page. `user` is the one the page already has (error pages must not load it)."""
    return bool(user is not None and user.is_authenticated and not has_passed(user))


def init_app(app: Flask) -> None:
    app.add_template_global(second_factor_of, "second_factor_of")
    app.add_template_global(awaiting_second_factor, "awaiting_second_factor")

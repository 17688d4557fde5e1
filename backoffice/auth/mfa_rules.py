"""Second sign-in factor: time-based codes, recovery codes, remembered devices. Pure: time, secrets
and limits are arguments.

Codes are TOTP (RFC 6238: 6 digits, 30-second steps, SHA-1, what every authenticator app
supports). A code is accepted one step either side of now, for phones whose clock drifts, and
never twice: the step of the last accepted code is stored and only later steps pass.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from pyotp.utils import strings_equal

ISSUER = "Chesapeake Pain Back Office"
CODE_PATTERN = re.compile(r"[0-9]{6}")
# Steps either side of now whose code is still accepted.
VALID_WINDOW = 1
# The longest a device may skip the code; the issue caps it at 12 hours.
REMEMBER_DEVICE = timedelta(hours=12)
# Wrong codes in a row after which codes are refused for a while (a guess has 3 in a million
# chances: without a limit, someone holding the password could try until one passes).
MAX_CODE_FAILURES = 5

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read from paper and typed by hand.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 16  # about 79 bits


def new_secret() -> str:
    """A fresh 160-bit TOTP secret, base32 (the form authenticator apps take)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """The `otpauth://` address the QR code carries."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def spaced_secret(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise_code(raw: str) -> str:
    """What a person typed, without spaces and dashes, lower case."""
    return re.sub(r"[\s-]", "", raw or "").lower()


def is_totp_code(code: str) -> bool:
    return bool(CODE_PATTERN.fullmatch(code))


def accepted_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The time step `code` belongs to when it is valid now and newer than the last one used,
    else None."""
    if not is_totp_code(code):
        return None
    try:
        step = pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=now,
                                                           valid_window=VALID_WINDOW)
    except pyotp.exceptions.OTPVerificationError:
        return None
    if last_used_step is not None and step <= last_used_step:
        return None
    return step


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Random one-time codes shown once as `abcd-efgh-jkmn-pqrs`."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)))
    return codes


def is_recovery_code(code: str) -> bool:
    return len(code) == RECOVERY_CODE_LENGTH and all(ch in RECOVERY_ALPHABET for ch in code)


def recovery_code_hash(user_id: int, code: str) -> str:
    """What is stored for a recovery code: SHA-256 of the user id and the normalised code.

    A slow hash (Argon2) protects passwords, which people choose from a small space; these codes
    are ~79 random bits, far beyond brute force even at a fast hash's speed, and a fast hash lets
    the code be found by an indexed lookup instead of ten Argon2 verifications per attempt. The
    user id keeps equal codes of two users (never expected) apart.
    """
    return hashlib.sha256(f"{user_id}:{normalise_code(code)}".encode()).hexdigest()


def account_fingerprint(user_id: int, password_hash: str, totp_secret: str) -> str:
    """Changes whenever the password or the second factor does: a remembered device carries it,
    so a password reset, a password change or an MFA reset forgets every device."""
    material = f"{user_id}\0{password_hash}\0{totp_secret}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


@dataclass(frozen=True)
class RememberedDevice:
    """What the remember-this-device cookie holds (signed by the app, so not forgeable)."""

    user_id: int
    fingerprint: str
    until: float  # POSIX time

    def as_payload(self) -> dict[str, object]:
        return {"u": self.user_id, "f": self.fingerprint, "x": self.until}

    @classmethod
    def from_payload(cls, payload: object) -> RememberedDevice | None:
        if not isinstance(payload, dict):
            return None
        user_id, fingerprint, until = payload.get("u"), payload.get("f"), payload.get("x")
        if not isinstance(user_id, int) or not isinstance(fingerprint, str) \
                or not isinstance(until, (int, float)):
            return None
        return cls(user_id, fingerprint, float(until))


def remember_device(user_id: int, fingerprint: str, now: datetime) -> RememberedDevice:
    return RememberedDevice(user_id, fingerprint, (now + REMEMBER_DEVICE).timestamp())


def device_is_remembered(device: RememberedDevice | None, user_id: int, fingerprint: str,
                         now: datetime) -> bool:
    """True when the cookie was given to this user, for this password and second factor, and its
    12 hours have not run out."""
    return (device is not None and device.user_id == user_id
            and strings_equal(device.fingerprint, fingerprint)
            and now.timestamp() < device.until <= (now + REMEMBER_DEVICE).timestamp())


def requires_mfa(roles: Iterable[str], required_roles: Iterable[str]) -> bool:
    """Whether any of the account's roles is one the practice requires a second factor for."""
    return bool(set(map(str, roles)).intersection(map(str, required_roles)))


@dataclass(frozen=True)
class CodeFailure:
    failures: int
    blocked_until: datetime | None


def after_wrong_code(failures: int, now: datetime, block_minutes: int) -> CodeFailure:
    """One more wrong code; the last allowed one blocks codes for `block_minutes`."""
    failures += 1
    if failures >= MAX_CODE_FAILURES:
        return CodeFailure(0, now + timedelta(minutes=block_minutes))
    return CodeFailure(failures, None)


def is_blocked(blocked_until: datetime | None, now: datetime) -> bool:
    return blocked_until is not None and now < blocked_until

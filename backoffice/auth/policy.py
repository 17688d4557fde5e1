"""The account settings in effect, built once from the app config and handed to services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from backoffice.auth.rules import LockoutPolicy, SessionLimits

# Verified when the username is unknown, so a wrong username costs as much time as a wrong password.
_TIMING_DECOY = "decoy-password-for-unknown-usernames"


@dataclass(frozen=True)
class AuthPolicy:
    hasher: PasswordHasher
    lockout: LockoutPolicy
    sessions: SessionLimits
    min_password_length: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AuthPolicy:
        return cls(
            hasher=PasswordHasher(
                time_cost=config["PASSWORD_HASH_TIME_COST"],
                memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
                parallelism=config["PASSWORD_HASH_PARALLELISM"],
                type=Type.ID,
            ),
            lockout=LockoutPolicy(config["LOCKOUT_ATTEMPTS"], config["LOCKOUT_MINUTES"]),
            sessions=SessionLimits(idle=timedelta(minutes=config["IDLE_TIMEOUT_MINUTES"]),
                                   absolute=timedelta(hours=config["SESSION_MAX_HOURS"])),
            min_password_length=config["PASSWORD_MIN_LENGTH"],
        )

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            self.hasher.hash(_TIMING_DECOY)
            return False
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

"""The account settings in effect, built once from the app config and handed to services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from backoffice.auth.rules import SessionLimits, ThrottlePolicy

# Hashed once with the policy's parameters and verified when the username is unknown, so a wrong
# username costs the same Argon2 work as a wrong password.
_TIMING_DECOY = "decoy-password-for-unknown-usernames"


@dataclass(frozen=True)
class AuthPolicy:
    hasher: PasswordHasher
    throttle: ThrottlePolicy
    sessions: SessionLimits
    min_password_length: int
    decoy_hash: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AuthPolicy:
        hasher = PasswordHasher(
            time_cost=config["PASSWORD_HASH_TIME_COST"],
            memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
            parallelism=config["PASSWORD_HASH_PARALLELISM"],
            type=Type.ID,
        )
        return cls(
            hasher=hasher,
            throttle=ThrottlePolicy(
                free_attempts=config["SIGN_IN_FREE_ATTEMPTS"],
                first_delay=timedelta(seconds=config["SIGN_IN_FIRST_DELAY_SECONDS"]),
                max_delay=timedelta(minutes=config["SIGN_IN_MAX_DELAY_MINUTES"]),
                account_cap=config["LOCKOUT_ATTEMPTS"]),
            sessions=SessionLimits(idle=timedelta(minutes=config["IDLE_TIMEOUT_MINUTES"]),
                                   absolute=timedelta(hours=config["SESSION_MAX_HOURS"])),
            min_password_length=config["PASSWORD_MIN_LENGTH"],
            decoy_hash=hasher.hash(_TIMING_DECOY),
        )

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; with no hash (an unknown username) the decoy is verified
        instead, so the answer takes as long, and is False."""
        if password_hash is None:
            self._verify(self.decoy_hash, password)
            return False
        return self._verify(password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

from __future__ import annotations

from datetime import timedelta

from backoffice.auth.policy import AuthPolicy

CONFIG = {"PASSWORD_HASH_TIME_COST": 2, "PASSWORD_HASH_MEMORY_KIB": 64, "PASSWORD_HASH_PARALLELISM": 1,
          "SIGN_IN_FREE_ATTEMPTS": 3, "SIGN_IN_FIRST_DELAY_SECONDS": 15, "SIGN_IN_MAX_DELAY_MINUTES": 15,
          "LOCKOUT_ATTEMPTS": 100, "IDLE_TIMEOUT_MINUTES": 15, "SESSION_MAX_HOURS": 12,
          "PASSWORD_MIN_LENGTH": 12}


def test_an_unknown_username_is_checked_against_a_hash_as_costly_as_a_real_one():
    policy = AuthPolicy.from_config(CONFIG)
    real = policy.hash("severn-river-sunrise")
    assert not policy.needs_rehash(policy.decoy_hash)  # the same Argon2id parameters
    assert policy.decoy_hash.split("$")[:4] == real.split("$")[:4]
    assert policy.verify(None, "decoy-password-for-unknown-usernames") is False
    assert policy.verify(real, "severn-river-sunrise") is True


def test_the_throttle_is_built_from_the_settings():
    throttle = AuthPolicy.from_config({**CONFIG, "SIGN_IN_FIRST_DELAY_SECONDS": 30}).throttle
    assert (throttle.free_attempts, throttle.first_delay, throttle.max_delay, throttle.account_cap) == (
        3, timedelta(seconds=30), timedelta(minutes=15), 100)

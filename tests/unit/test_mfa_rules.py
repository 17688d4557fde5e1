from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from backoffice.auth import mfa_rules
from backoffice.config import ConfigError, load_config

NOW = datetime(2026, 11, 24, 9, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STEP = timedelta(seconds=30)


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET).at(moment)


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 30


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_accepts_the_code_of_now_and_of_one_step_either_side(offset):
    moment = NOW + offset * STEP
    assert mfa_rules.accepted_step(SECRET, code_at(moment), NOW, None) == step_of(moment)


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_refuses_codes_two_steps_or_more_away(offset):
    assert mfa_rules.accepted_step(SECRET, code_at(NOW + offset * STEP), NOW, None) is None


def test_refuses_a_code_already_used_and_codes_older_than_it():
    used = step_of(NOW)
    assert mfa_rules.accepted_step(SECRET, code_at(NOW), NOW, used) is None
    assert mfa_rules.accepted_step(SECRET, code_at(NOW - STEP), NOW, used) is None
    assert mfa_rules.accepted_step(SECRET, code_at(NOW + STEP), NOW, used) == used + 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 56 7", "１２３４５６"])
def test_refuses_anything_but_six_ascii_digits(typed):
    assert mfa_rules.accepted_step(SECRET, typed, NOW, None) is None


def test_a_code_typed_with_a_space_in_the_middle_is_read_as_six_digits():
    typed = code_at(NOW)[:3] + " " + code_at(NOW)[3:]
    assert mfa_rules.accepted_step(SECRET, mfa_rules.normalise_code(typed), NOW, None) == step_of(NOW)


def test_new_secrets_are_160_bit_base32_and_differ():
    first, second = mfa_rules.new_secret(), mfa_rules.new_secret()
    assert len(first) == 32 and first != second
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_the_qr_code_address_names_the_practice_the_user_and_the_secret():
    uri = urlsplit(mfa_rules.provisioning_uri(SECRET, "nurse"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert uri.path.endswith(":nurse")
    query = parse_qs(uri.query)
    assert query["secret"] == [SECRET] and query["issuer"] == [mfa_rules.ISSUER]


def test_recovery_codes_are_ten_different_codes_of_sixteen_unambiguous_characters():
    codes = mfa_rules.new_recovery_codes()
    assert len(set(codes)) == 10
    for code in codes:
        assert mfa_rules.is_recovery_code(mfa_rules.normalise_code(code))
        assert not set(code.replace("-", "")) & set("01ilo")


def test_a_recovery_code_typed_in_capitals_or_without_dashes_hashes_like_the_code():
    code = mfa_rules.new_recovery_codes(1)[0]
    stored = mfa_rules.recovery_code_hash(7, code)
    assert mfa_rules.recovery_code_hash(7, code.upper().replace("-", " ")) == stored
    assert mfa_rules.recovery_code_hash(8, code) != stored
    assert code.replace("-", "") not in stored


def test_a_device_is_remembered_for_twelve_hours_for_the_same_user_password_and_secret():
    fingerprint = mfa_rules.account_fingerprint(3, "argon2-hash", SECRET)
    device = mfa_rules.remember_device(3, fingerprint, NOW)
    assert mfa_rules.device_is_remembered(device, 3, fingerprint, NOW + timedelta(hours=11, minutes=59))
    assert not mfa_rules.device_is_remembered(device, 3, fingerprint, NOW + timedelta(hours=12))
    assert not mfa_rules.device_is_remembered(device, 4, fingerprint, NOW)
    assert not mfa_rules.device_is_remembered(None, 3, fingerprint, NOW)


def test_a_new_password_or_a_new_secret_forgets_remembered_devices():
    fingerprint = mfa_rules.account_fingerprint(3, "argon2-hash", SECRET)
    device = mfa_rules.remember_device(3, fingerprint, NOW)
    after_password = mfa_rules.account_fingerprint(3, "another-argon2-hash", SECRET)
    after_reset = mfa_rules.account_fingerprint(3, "argon2-hash", mfa_rules.new_secret())
    assert not mfa_rules.device_is_remembered(device, 3, after_password, NOW)
    assert not mfa_rules.device_is_remembered(device, 3, after_reset, NOW)


def test_a_remembered_device_claiming_more_than_twelve_hours_is_not_believed():
    fingerprint = mfa_rules.account_fingerprint(3, "argon2-hash", SECRET)
    device = mfa_rules.RememberedDevice(3, fingerprint, (NOW + timedelta(days=30)).timestamp())
    assert not mfa_rules.device_is_remembered(device, 3, fingerprint, NOW)


@pytest.mark.parametrize("payload", [None, [], {"u": "3", "f": "x", "x": 1.0}, {"u": 3, "f": "x"}])
def test_a_malformed_remembered_device_is_ignored(payload):
    assert mfa_rules.RememberedDevice.from_payload(payload) is None


def test_mfa_is_required_when_any_role_of_the_account_is_a_required_one():
    assert mfa_rules.requires_mfa({"manager", "physician"}, {"physician"})
    assert not mfa_rules.requires_mfa({"nurse"}, {"admin", "manager"})
    assert not mfa_rules.requires_mfa({"nurse"}, frozenset())


def test_the_fifth_wrong_code_in_a_row_blocks_codes_for_a_while():
    failures = 0
    for _ in range(mfa_rules.MAX_CODE_FAILURES - 1):
        outcome = mfa_rules.after_wrong_code(failures, NOW, 15)
        assert outcome.blocked_until is None
        failures = outcome.failures
    blocked = mfa_rules.after_wrong_code(failures, NOW, 15)
    assert blocked == mfa_rules.CodeFailure(0, NOW + timedelta(minutes=15))
    assert mfa_rules.is_blocked(blocked.blocked_until, NOW + timedelta(minutes=14))
    assert not mfa_rules.is_blocked(blocked.blocked_until, NOW + timedelta(minutes=15))


def test_production_requires_mfa_of_every_role_and_development_of_none(tmp_path):
    production = load_config({"BACKOFFICE_ENV": "production", "SECRET_KEY": "k"}, None, tmp_path)
    assert production["MFA_REQUIRED_ROLES"] == {"scheduler", "nurse", "physician", "manager", "admin"}
    assert load_config({}, None, tmp_path)["MFA_REQUIRED_ROLES"] == frozenset()
    assert load_config({"BACKOFFICE_ENV": "test"}, None, tmp_path)["MFA_REQUIRED_ROLES"] == frozenset()


def test_the_roles_that_require_mfa_can_be_named_or_none(tmp_path):
    named = load_config({"MFA_REQUIRED_ROLES": "Admin, manager"}, None, tmp_path)
    assert named["MFA_REQUIRED_ROLES"] == {"admin", "manager"}
    off = load_config({"BACKOFFICE_ENV": "production", "SECRET_KEY": "k", "MFA_REQUIRED_ROLES": "none"},
                      None, tmp_path)
    assert off["MFA_REQUIRED_ROLES"] == frozenset()
    with pytest.raises(ConfigError, match="MFA_REQUIRED_ROLES: unknown roles janitor"):
        load_config({"MFA_REQUIRED_ROLES": "admin,janitor"}, None, tmp_path)


@pytest.mark.parametrize("typed", ["１２３４５６", "123456\n", "12345６"])
def test_only_ascii_digits_are_read_as_an_authenticator_code(typed):
    assert not mfa_rules.is_totp_code(typed)

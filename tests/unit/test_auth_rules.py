from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backoffice.auth import rules

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
POLICY = rules.LockoutPolicy(max_failures=5, lock_minutes=15)
LIMITS = rules.SessionLimits(idle=timedelta(minutes=15), absolute=timedelta(hours=12))


@pytest.mark.parametrize("password, refused_because", [
    ("", "at least 12"),
    ("elevenchars", "at least 12"),
    ("x" * 129, "at most 128"),
    ("password1234", "less common"),
    ("qwertyuiop12", "less common"),
    ("123456789012", "less common"),
    ("aaaaaaaaaaaa", "less common"),
    ("dwhitaker-2026-spring", "username"),
    ("DWHITAKER-was-here", "username"),
])
def test_refuses_weak_passwords(password, refused_because):
    problems = rules.password_problems(password, username="dwhitaker")
    assert problems and refused_because in problems[0]


@pytest.mark.parametrize("password", [
    "correct horse battery",
    "severn-river-sunrise",
    "twelve chars",  # exactly 12, no composition rules
    "Ünïcode kaffee tasse",
])
def test_accepts_long_uncommon_passwords_without_composition_rules(password):
    assert rules.password_problems(password, username="dwhitaker") == []


def test_refuses_password_built_from_the_full_name():
    problems = rules.password_problems("whitakerdana", username="dw",
                                       other_inputs=["Dana", "Whitaker"])
    assert problems


@pytest.mark.parametrize("failures_before, locked", [(0, False), (3, False), (4, True), (9, True)])
def test_the_fifth_wrong_password_locks_for_fifteen_minutes(failures_before, locked):
    outcome = rules.after_failed_login(failures_before, POLICY, NOW)
    if locked:
        assert outcome.locked_until == NOW + timedelta(minutes=15)
        assert outcome.failed_logins == 0
    else:
        assert outcome.locked_until is None
        assert outcome.failed_logins == failures_before + 1


@pytest.mark.parametrize("locked_until, expected", [
    (None, False),
    (NOW + timedelta(seconds=1), True),
    (NOW, False),  # the lock ends exactly at locked_until
    (NOW - timedelta(minutes=1), False),
])
def test_lock_holds_until_its_end(locked_until, expected):
    assert rules.is_locked(locked_until, NOW) is expected


@pytest.mark.parametrize("signed_in_ago, seen_ago, expected", [
    (timedelta(minutes=30), timedelta(minutes=14, seconds=59), None),
    (timedelta(minutes=30), timedelta(minutes=15), rules.IDLE),
    (timedelta(hours=11, minutes=59), timedelta(seconds=5), None),
    (timedelta(hours=12), timedelta(seconds=5), rules.EXPIRED),
    (timedelta(hours=13), timedelta(minutes=20), rules.EXPIRED),
])
def test_sessions_end_when_idle_or_too_old(signed_in_ago, seen_ago, expected):
    assert rules.session_end_reason(NOW - signed_in_ago, NOW - seen_ago, NOW, LIMITS) == expected


@pytest.mark.parametrize("username, valid", [
    ("dwhitaker", True), ("d.whitaker-2", True), ("ab", False), ("9lives", False),
    ("Dana", False), ("dana whitaker", False), ("a" * 41, False), ("<script>", False),
])
def test_usernames_are_short_lower_case_identifiers(username, valid):
    assert rules.is_valid_username(username) is valid


def test_roles_are_stored_sorted_without_repeats():
    assert rules.format_roles(["nurse", "admin", "nurse"]) == "admin,nurse"

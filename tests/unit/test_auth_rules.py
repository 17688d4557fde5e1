from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backoffice.auth import rules

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
POLICY = rules.ThrottlePolicy(free_attempts=3, first_delay=timedelta(seconds=15),
                              max_delay=timedelta(minutes=15), forget_after=timedelta(hours=24),
                              account_cap=100)
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


@pytest.mark.parametrize("password", ["whitakerdana", "Dana-loves-sailing", "sailing-with-WHITAKER"])
def test_refuses_passwords_built_from_the_full_name(password):
    problems = rules.password_problems(password, username="dw", full_name="Dana Whitaker")
    assert problems and "your name" in problems[0]


def test_short_parts_of_a_name_are_not_refused_inside_other_words():
    assert rules.name_parts("Li Ng-Ortega") == ["ortega"]
    assert rules.password_problems("lighthouse-ngong-tea", username="lng", full_name="Li Ng") == []


@pytest.mark.parametrize("new, current, near", [
    ("severn-river-sunrise", "severn-river-sunrise", True),
    ("severn-river-sunrise1", "severn-river-sunrise", True),       # a trailing digit
    ("Severn-River-Sunrise", "severn-river-sunrise", True),        # only the case
    ("severn-rivre-sunrise", "severn-river-sunrise", True),        # two letters swapped
    ("severn-river-sunset", "severn-river-sunrise", True),         # three characters
    ("harbor-light-2025!!", "harbor-light-2024", True),             # only what ends it
    ("harbor-light-20250101", "harbor-light-2024", True),
    ("severn-river-sundown", "severn-river-sunrise", False),       # four characters
    ("blue-heron-marsh-walk", "severn-river-sunrise", False),
    ("123456789012", "987654321098", False),                       # nothing but digits: no stem
])
def test_a_near_copy_of_the_current_password_differs_by_a_few_characters_or_its_ending(new, current, near):
    assert rules.is_near_copy(new, current) is near


def test_refuses_a_near_copy_of_the_current_password_when_changing_it():
    problems = rules.password_problems("blue-heron-marsh-walk2", username="dwhitaker",
                                       current="blue-heron-marsh-walk1")
    assert problems and "too close to your current password" in problems[0]
    assert rules.password_problems("chesapeake-osprey-nest", username="dwhitaker",
                                   current="blue-heron-marsh-walk1") == []


@pytest.mark.parametrize("failures, wait", [
    (0, timedelta(0)),
    (2, timedelta(0)),                     # the first three tries are free
    (3, timedelta(seconds=15)),
    (4, timedelta(seconds=30)),
    (5, timedelta(minutes=1)),
    (8, timedelta(minutes=8)),
    (9, timedelta(minutes=15)),            # 16 minutes, held at the longest wait
    (60, timedelta(minutes=15)),
    (10**6, timedelta(minutes=15)),
])
def test_each_wrong_password_past_the_free_ones_doubles_the_wait(failures, wait):
    assert rules.sign_in_delay(failures, POLICY) == wait


@pytest.mark.parametrize("failures, last_failure_ago, expected_wait_left", [
    (0, None, None),
    (2, timedelta(seconds=1), None),
    (3, timedelta(seconds=1), timedelta(seconds=14)),
    (3, timedelta(seconds=15), None),                   # the wait ends exactly on time
    (4, timedelta(seconds=29), timedelta(seconds=1)),
    (20, timedelta(minutes=10), timedelta(minutes=5)),
    (20, timedelta(hours=24), None),                    # a day later the count is forgotten
])
def test_the_next_attempt_waits_from_the_last_failure(failures, last_failure_ago, expected_wait_left):
    last = None if last_failure_ago is None else NOW - last_failure_ago
    allowed_at = rules.next_attempt_at(failures, last, NOW, POLICY)
    assert (None if allowed_at is None else allowed_at - NOW) == expected_wait_left


@pytest.mark.parametrize("failures, last_failure_ago, counted", [
    (5, timedelta(hours=23, minutes=59), 5),
    (5, timedelta(hours=24), 0),
    (5, None, 0),
])
def test_a_pairs_count_is_forgotten_a_day_after_its_last_failure(failures, last_failure_ago, counted):
    last = None if last_failure_ago is None else NOW - last_failure_ago
    assert rules.failures_in_effect(failures, last, NOW, POLICY) == counted


@pytest.mark.parametrize("failed_logins, locked", [(0, False), (99, False), (100, True), (250, True)])
def test_the_account_locks_at_its_absolute_cap(failed_logins, locked):
    assert rules.reaches_account_cap(failed_logins, POLICY) is locked


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

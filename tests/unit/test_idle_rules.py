from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backoffice.auth import rules

LIMITS = rules.SessionLimits(idle=timedelta(minutes=15), absolute=timedelta(hours=12))
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_the_time_left_runs_from_the_last_request():
    left = rules.time_left(NOW - timedelta(hours=1), NOW - timedelta(minutes=10), NOW, LIMITS)
    assert left.remaining == timedelta(minutes=5)
    assert left.extendable


def test_near_the_absolute_limit_activity_cannot_extend_the_session():
    left = rules.time_left(NOW - timedelta(hours=11, minutes=58), NOW, NOW, LIMITS)
    assert left.remaining == timedelta(minutes=2)
    assert not left.extendable


def test_a_session_past_its_limit_has_no_time_left_rather_than_negative_time():
    left = rules.time_left(NOW - timedelta(hours=1), NOW - timedelta(minutes=20), NOW, LIMITS)
    assert left.remaining == timedelta(0)


def test_the_warning_comes_a_minute_before_or_halfway_through_a_shorter_limit():
    assert rules.idle_warning_lead(LIMITS) == timedelta(minutes=1)
    short = rules.SessionLimits(idle=timedelta(minutes=1), absolute=timedelta(hours=12))
    assert rules.idle_warning_lead(short) == timedelta(seconds=30)

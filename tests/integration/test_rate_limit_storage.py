"""Flask-Limiter's counters in the database (`database://`), shared by every app instance."""

from __future__ import annotations

from datetime import timedelta

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from backoffice.auth.limiter_storage import DatabaseStorage
from backoffice.core.extensions import db
from tests.conftest import make_app

from .helpers import NOW


def test_instances_share_one_count_per_address(database_url, monkeypatch):
    """Two app instances stand for two gunicorn workers (or two machines)."""
    monkeypatch.setattr("backoffice.auth.limiter_storage._now", lambda: NOW)
    first, second = make_app(database_url), make_app(database_url)
    limiter = FixedWindowRateLimiter(storage_from_string("database://"))
    three_per_minute = parse("3 per minute")
    allowed = []
    for app in (first, second, first, second, first):
        with app.app_context():
            allowed.append(limiter.hit(three_per_minute, "login", "192.0.2.7"))
    assert allowed == [True, True, True, False, False]
    with second.app_context():
        assert limiter.hit(three_per_minute, "login", "192.0.2.8")  # another address counts apart
        stats = limiter.get_window_stats(three_per_minute, "login", "192.0.2.7")
        assert (stats.remaining, stats.reset_time) == (0, (NOW + timedelta(minutes=1)).timestamp())
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_a_new_window_starts_when_the_last_one_ends(app, monkeypatch):
    clock = {"now": NOW}
    monkeypatch.setattr("backoffice.auth.limiter_storage._now", lambda: clock["now"])
    storage = DatabaseStorage()
    with app.app_context():
        assert [storage.incr("key", 60) for _ in range(3)] == [1, 2, 3]
        clock["now"] = NOW + timedelta(seconds=59)
        assert storage.get("key") == 3
        clock["now"] = NOW + timedelta(seconds=60)
        assert storage.get("key") == 0
        assert storage.incr("key", 60) == 1
        assert storage.get_expiry("key") == (NOW + timedelta(seconds=120)).timestamp()
        storage.clear("key")
        assert storage.get("key") == 0 and storage.check()

"""Flask-Limiter's counters in the app's own database: `RATELIMIT_STORAGE_URI=database://`.

Flask-Limiter keeps its counters in process memory unless told otherwise, so with four gunicorn
workers an address got four times its limit (78 of 90 sign-in attempts went through). The
database is already shared by every worker and machine, so the counters live there by default
and a deployment needs nothing more; a Redis or Memcached URI still works when configured.

This is a storage backend for the `limits` library that Flask-Limiter builds on (registered by
its scheme when this module is imported), supporting the fixed-window strategy the app uses.
Each hit is one atomic upsert, so concurrent workers cannot both read a count and write it back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from limits.storage import Storage
from sqlalchemy import Connection, case, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from backoffice.auth.models import RateLimitCounter
from backoffice.core.db import UTCDateTime
from backoffice.core.extensions import db

SCHEME = "database"


def _now() -> datetime:
    return datetime.now(UTC)


class DatabaseStorage(Storage):
    """Counters in the `rate_limit_counter` table of whichever app serves the request."""

    STORAGE_SCHEME: ClassVar[list[str]] = [SCHEME]  # type: ignore[misc]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` hits to the window of `key`, starting a new window of `expiry` seconds
        when there is none or it has ended; returns the hits in the window."""
        now = _now()
        window_end = now + timedelta(seconds=expiry)
        ended = RateLimitCounter.expires_at <= literal(now, UTCDateTime())
        with db.engine.begin() as connection:
            upsert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
            statement = upsert(RateLimitCounter).values(key=key, hits=amount, expires_at=window_end)
            hits: int = connection.execute(statement.on_conflict_do_update(
                index_elements=["key"], set_={
                    "hits": case((ended, amount), else_=RateLimitCounter.hits + amount),
                    "expires_at": case((ended, literal(window_end, UTCDateTime())),
                                       else_=RateLimitCounter.expires_at),
                }).returning(RateLimitCounter.hits)).scalar_one()
            self._drop_ended(connection, now)
        return hits

    @staticmethod
    def _drop_ended(connection: Connection, now: datetime) -> None:
        """Windows that have ended count nothing; dropping them keeps the table small."""
        connection.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))

    def _window(self, key: str) -> tuple[int, datetime] | None:
        with db.engine.connect() as connection:
            row = connection.execute(select(RateLimitCounter.hits, RateLimitCounter.expires_at)
                                     .where(RateLimitCounter.key == key,
                                            RateLimitCounter.expires_at > _now())).first()
        return None if row is None else (row.hits, row.expires_at)

    def get(self, key: str) -> int:
        window = self._window(key)
        return 0 if window is None else window[0]

    def get_expiry(self, key: str) -> float:
        window = self._window(key)
        return (_now() if window is None else window[1]).timestamp()

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(select(func.count()).select_from(RateLimitCounter))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            removed: Any = connection.execute(delete(RateLimitCounter)).rowcount
        return int(removed)

    def clear(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

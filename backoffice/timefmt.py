"""One way to show dates and times: office local time, US dates, 24-hour clock."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

DATE_FORMAT = "%m/%d/%Y"
TIME_FORMAT = "%H:%M"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"


def local_datetime(value: datetime, timezone: str) -> datetime:
    return value.astimezone(ZoneInfo(timezone))


def format_date(value: date | None) -> str:
    return value.strftime(DATE_FORMAT) if value else ""


def format_datetime(value: datetime | None, timezone: str) -> str:
    if value is None:
        return ""
    return local_datetime(value, timezone).strftime(DATETIME_FORMAT)

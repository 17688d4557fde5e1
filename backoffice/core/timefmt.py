"""One way to show dates and times: office local time, US dates, 24-hour clock."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

DATE_FORMAT = "%m/%d/%Y"
TIME_FORMAT = "%H:%M"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"


US_TIMEZONES = (
    ("America/New_York", "Eastern (New York)"), ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"), ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"), ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"), ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
)


def timezone_label(name: str) -> str:
    return dict(US_TIMEZONES).get(name, name)


def local_datetime(value: datetime, timezone: str) -> datetime:
    return value.astimezone(ZoneInfo(timezone))


def format_date(value: date | None) -> str:
    return value.strftime(DATE_FORMAT) if value else ""


def format_datetime(value: datetime | None, timezone: str) -> str:
    """11/24/2026 09:00 EST: the zone's abbreviation, because staff work across time changes."""
    if value is None:
        return ""
    return local_datetime(value, timezone).strftime(f"{DATETIME_FORMAT} %Z")


def practice_today(now: datetime) -> date:
    """The date at the instant `now` where the practice is (its PRACTICE_TIMEZONE)."""
    return now.astimezone(ZoneInfo(current_app.config["PRACTICE_TIMEZONE"])).date()

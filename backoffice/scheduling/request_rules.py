"""Scheduling requests' vocabulary: what a request asks schedulers to book, its state and
priority, which open request a booking fulfils, and how old a request is. Pure: plain values in
and out; the current time comes in as an argument."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class RequestStatus(StrEnum):
    OPEN = "open"
    BOOKED = "booked"        # an appointment was booked for it
    CANCELLED = "cancelled"  # with a reason

    @property
    def label(self) -> str:
        return self.value.capitalize()


class RequestPriority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return self.value.capitalize()


NOTE_LENGTH = 500
CANCEL_REASON_LENGTH = 200


def open_key(patient_id: int, procedure_type_id: int, region: str | None, side: str | None) -> str:
    """What makes an open request unique: one per patient, procedure, region and side. A second
    request for the same updates the first, and a booking of the same fulfils it."""
    return f"{patient_id}:{procedure_type_id}:{region or '-'}:{side or '-'}"


def age_in_days(created_at: datetime, now: datetime, timezone: str) -> int:
    """Whole days since the request was made, counted in calendar days where the office is."""
    zone = ZoneInfo(timezone)
    return (now.astimezone(zone).date() - created_at.astimezone(zone).date()).days


def age_said(days: int) -> str:
    return "today" if days <= 0 else "1 day" if days == 1 else f"{days} days"


def search_from(earliest_on: date, today: date) -> date | None:
    """The day next available starts from for a request: its earliest day, unless that is past."""
    return earliest_on if earliest_on > today else None

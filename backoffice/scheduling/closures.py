"""Closing an office for a day does not move its bookings: the admin is told how many remain."""

from __future__ import annotations

from datetime import date

from backoffice.practice.closures import office_day_closed
from backoffice.practice.models import Office
from backoffice.scheduling.calendars import active_count


@office_day_closed.connect
def bookings_left_on_closed_day(office: Office, *, day: date) -> str | None:
    booked = active_count(office.id, day)
    if not booked:
        return None
    return (f"{booked} appointment{'s are' if booked > 1 else ' is'} still booked at {office.name} that day: "
            "ask the schedulers to move them (the day board lists them).")

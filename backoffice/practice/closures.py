"""What a closed day leaves undone is known above practice (scheduling knows its bookings): when an
admin closes an office for a day, the packages that care answer `office_day_closed` with a
warning for the admin, or None.

Subscribers are called as `receiver(office, day=date)`.
"""

from __future__ import annotations

from datetime import date

from blinker import Namespace

from backoffice.practice.models import Office

office_day_closed = Namespace().signal("office-day-closed")


def warnings_for_closed_day(office: Office, day: date) -> list[str]:
    return [warning for _, warning in office_day_closed.send(office, day=day) if warning]

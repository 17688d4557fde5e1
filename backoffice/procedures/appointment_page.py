"""What procedures adds to scheduling's appointment page: the appointment's follow-ups, for the
nurses and physicians who work them. Connected when the app is created (`create_app` imports
this module)."""

from __future__ import annotations

from typing import Any

from backoffice.core.actor import Actor
from backoffice.core.pages import Section
from backoffice.core.permissions import Permission
from backoffice.procedures.followups import follow_ups_of_appointment
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.queries import appointment_page


@appointment_page.connect
def follow_ups_section(appointment: Appointment, *, by: Actor, **context: Any) -> Section | None:
    """The follow-ups, below the appointment's status (one query); none for other roles."""
    if not by.can(Permission.RECORD_FOLLOW_UPS):
        return None
    return Section("procedures/_appointment_follow_ups.html", order=10,
                   context={"follow_ups": follow_ups_of_appointment(appointment.id)})

"""What procedures adds to scheduling's appointment page: the appointment's follow-ups, for the
nurses and physicians who work them. Connected when the app is created (`create_app` imports
this module)."""

from __future__ import annotations

from typing import Any

from backoffice.core.actor import Actor
from backoffice.core.pages import Section
from backoffice.core.permissions import Role
from backoffice.procedures.followups import follow_ups_of_appointment
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.queries import appointment_page

FOLLOW_UP_READERS = (Role.NURSE, Role.PHYSICIAN)


@appointment_page.connect
def follow_ups_section(appointment: Appointment, *, by: Actor, **context: Any) -> Section | None:
    """The follow-ups, below the appointment's status (one query); none for other roles."""
    if not by.has_any_role(*FOLLOW_UP_READERS):
        return None
    return Section("procedures/_appointment_follow_ups.html", order=10,
                   context={"follow_ups": follow_ups_of_appointment(appointment.id)})

"""Changing what a booked appointment says, from booking until the procedure is done: its prior
authorization number, its notes and its levels. One user action, one transaction; audited (the
appointment is `Audited`: the trail keeps each changed field before and after) and told to the
packages above (`AppointmentDetailsChanged`), which react to the fields that concern them.

The number of levels is checked as a booking checks it (`slot_rules.levels_problems`, which the
booking's `detail_problems` asks too): given, and within the catalog's limit per session. Nothing
else a booking checks reads the levels: the frequency limits and the booking checks packages above
register (`booking_checks.BookingCase`) go by procedure, region and side. So a change of levels
is checked when it is made, and a note or an authorization number is saved as it is, whatever the
catalog's limit says today.

Region and side are not changed here. The frequency limits, the candidacy rules and the scheduling
request a booking closed are matched on them: another region or side is another procedure, to be
cancelled and booked again (the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.auth.editing import apply_edit, ensure_current
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import FieldErrors, Refused
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.scheduling import rules, slot_rules
from backoffice.scheduling.events import AppointmentDetailsChanged
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.queries import get_appointment
from backoffice.scheduling.rule_inputs import procedure_spec
from backoffice.scheduling.services import StatusRefused


@dataclass(frozen=True)
class AppointmentDetails:
    """What may change after booking. The levels are kept only for a procedure that asks for them."""

    prior_auth_ref: str | None
    notes: str | None
    levels_count: int | None = None
    levels: str | None = None


def described(appointment: Appointment) -> str:
    """How a stale edit names the appointment: "The medial branch block appointment"."""
    return f"The {appointment.procedure_type.name.lower()} appointment"


def update_appointment_details(appointment_id: int, details: AppointmentDetails, *, expected_version: int,
                               by: Actor, now: datetime) -> Appointment:
    """Save the details of an open appointment. Raises Refused (not for this actor), StatusRefused
    (the appointment is done, cancelled, a no-show or rescheduled), StaleEdit (someone saved it
    after the form was opened) or FieldErrors (the levels)."""
    if not by.can(Permission.BOOK_APPOINTMENTS):
        raise Refused("Changing a booked appointment's details is for those who book: schedulers and physicians.")
    with transaction(db.session, by):
        appointment = get_appointment(appointment_id, by=by, lock=True)
        locked = rules.details_locked_because(appointment.status)
        if locked:
            raise StatusRefused(locked)
        ensure_current(db.session, appointment, expected_version, described(appointment))
        changed = apply_edit(db.session, appointment, _checked_values(appointment, details),
                             expected_version=expected_version, by=by, now=now, what=described(appointment))
        if changed:
            db.session.flush()
            publish(AppointmentDetailsChanged(
                appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.office_id,
                appointment.starts_at, changed, by=by, at=now))
    return appointment


def _checked_values(appointment: Appointment, details: AppointmentDetails) -> dict[str, Any]:
    """The columns to set, or FieldErrors when a changed number of levels breaks the booking rule."""
    values: dict[str, Any] = {"prior_auth_ref": details.prior_auth_ref, "notes": details.notes}
    procedure = appointment.procedure_type
    if not procedure.asks_levels:
        return values  # as at booking: such an appointment keeps no levels
    if details.levels_count != appointment.levels_count:
        problems = slot_rules.levels_problems(procedure_spec(procedure), details.levels_count)
        if problems:
            raise FieldErrors({problem.field: problem.message for problem in problems})
    return values | {"levels_count": details.levels_count, "levels": details.levels}

"""Reading one appointment: for a change (locked), or for its page (the opening audited), with
the sections packages above scheduling add to that page."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from backoffice.audit.trail import record_event
from backoffice.core.actor import Actor
from backoffice.core.db import for_update, transaction
from backoffice.core.errors import NotFound
from backoffice.core.extensions import db
from backoffice.core.pages import Section, page_signal, sections_of
from backoffice.core.permissions import Permission
from backoffice.scheduling.models import Appointment

# The appointment's page asks each subscriber, given the appointment and `by` (who is looking),
# for a Section to show below its status, or None (procedures shows the follow-ups).
appointment_page = page_signal("appointment-page")


def _visible(by: Actor) -> bool:
    """An appointment's page names its patient: clinical roles only."""
    return by.can(Permission.OPEN_APPOINTMENTS)


def _with_labels(query: Select[Appointment]) -> Select[Appointment]:
    return query.options(joinedload(Appointment.procedure_type), joinedload(Appointment.physician),
                         joinedload(Appointment.room), joinedload(Appointment.office))


def get_appointment(appointment_id: int, *, by: Actor, lock: bool = False) -> Appointment:
    if not _visible(by):
        raise NotFound("appointment", appointment_id)
    query = _with_labels(select(Appointment).where(Appointment.id == appointment_id)).options(
        joinedload(Appointment.patient), joinedload(Appointment.replaces),
        joinedload(Appointment.replaced_by))
    appointment = db.session.scalars(for_update(query, of=Appointment) if lock else query).unique().first()
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    return appointment


def open_appointment(appointment_id: int, *, by: Actor) -> Appointment:
    """An appointment's page shows its patient: the opening is audited like a patient record's."""
    with transaction(db.session, by):
        appointment = get_appointment(appointment_id, by=by)
        record_event(db.session, by, "view", "appointment", appointment.id,
                     patient_id=appointment.patient_id, office_id=appointment.office_id)
    return appointment


def appointment_sections(appointment: Appointment, *, by: Actor) -> list[Section]:
    """What the packages above scheduling show on the appointment's page, for `by`."""
    return sections_of(appointment_page, appointment, by=by)

"""What happens to appointments, told to the packages above scheduling (`backoffice.core.events`).

The scheduling services publish these inside their transaction, once the change is written (and
the appointment has its id); handlers write in the same transaction. Every change of an existing
appointment's status publishes `AppointmentStatusChanged`, and with it the event that says more:
`AppointmentCompleted`, `AppointmentCancelled`, or `AppointmentMoved` (the old appointment
becomes rescheduled and a new one takes its place; a move publishes no `AppointmentBooked`).
A change of what an open appointment says (its prior authorization number, levels, notes)
publishes `AppointmentDetailsChanged`. Times are aware UTC; `by` is who acted and `at` when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.core.actor import Actor
from backoffice.scheduling.rules import CancelReason, Status


@dataclass(frozen=True)
class AppointmentBooked:
    appointment_id: int
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    overridden: bool  # booked over a limit a physician overrode with a reason
    by: Actor
    at: datetime


@dataclass(frozen=True)
class AppointmentMoved:
    """Appointment `old_appointment_id` is now rescheduled; `new_appointment_id` replaces it."""

    old_appointment_id: int
    new_appointment_id: int
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime
    old_physician_id: int
    old_office_id: int
    old_starts_at: datetime
    by: Actor
    at: datetime


@dataclass(frozen=True)
class AppointmentCancelled:
    appointment_id: int
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    starts_at: datetime
    reason: CancelReason
    by: Actor
    at: datetime


@dataclass(frozen=True)
class AppointmentStatusChanged:
    appointment_id: int
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    starts_at: datetime
    from_status: Status
    to_status: Status
    by: Actor
    at: datetime


@dataclass(frozen=True)
class AppointmentCompleted:
    """The procedure was done: what follows it (follow-ups) starts from `ends_at`."""

    appointment_id: int
    patient_id: int
    procedure_type_id: int
    physician_id: int
    office_id: int
    starts_at: datetime
    ends_at: datetime
    by: Actor
    at: datetime


@dataclass(frozen=True)
class AppointmentDetailsChanged:
    """What an open appointment says changed after booking (`update_appointment_details`):
    `changed` names the columns whose value changed (never empty): `prior_auth_ref`, `notes`,
    `levels_count`, `levels`. The time, place and status stay; those changes have their own events."""

    appointment_id: int
    patient_id: int
    procedure_type_id: int
    office_id: int
    starts_at: datetime
    changed: frozenset[str]
    by: Actor
    at: datetime

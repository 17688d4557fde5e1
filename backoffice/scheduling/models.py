from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.auth.models import User
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import Region, Side
from backoffice.core.db import Base, UTCDateTime, Versioned, enum_column_type
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician, Room
from backoffice.scheduling.request_rules import (
    CANCEL_REASON_LENGTH,
    NOTE_LENGTH,
    RequestPriority,
    RequestStatus,
    open_key,
)
from backoffice.scheduling.rules import OPEN_STATUSES, CancelReason, Status

# On PostgreSQL, migration 0007 adds exclusion constraints (btree_gist) so that no two active
# appointments overlap in a room (with turnover), for a physician or for a patient, whatever
# the application does. They live in the migration only: SQLite has no equivalent and relies
# on BEGIN IMMEDIATE serialising writers.


class Appointment(Audited, Versioned, Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at AND ends_at <= blocked_until", name="times_in_order"),
        CheckConstraint("status IN ({})".format(", ".join(f"'{s}'" for s in Status)), name="known_status"),
        CheckConstraint("baseline_nrs BETWEEN 0 AND 10", name="baseline_nrs_range"),
        Index("ix_appointment_office_start", "office_id", "starts_at"),
        Index("ix_appointment_room_start", "room_id", "starts_at"),
        Index("ix_appointment_physician_start", "physician_id", "starts_at"),
        Index("ix_appointment_patient_start", "patient_id", "starts_at"),
        # Next available reads the bookings of all rooms and physicians in start order, and stops early.
        Index("ix_appointment_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    procedure_type_id: Mapped[int] = mapped_column(ForeignKey("procedure_type.id"))
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ends_at plus the room's turnover: the room is held [starts_at, blocked_until).
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    region: Mapped[Region | None] = mapped_column(enum_column_type(Region, 10))
    side: Mapped[Side | None] = mapped_column(enum_column_type(Side, 10))
    levels_count: Mapped[int | None]
    levels: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[Status] = mapped_column(enum_column_type(Status, 12), default=Status.SCHEDULED)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[CancelReason | None] = mapped_column(enum_column_type(CancelReason, 30))
    cancel_note: Mapped[str | None] = mapped_column(String(200))
    # A rescheduled appointment and the one that replaced it point at each other this way.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), unique=True)
    override_reason: Mapped[str | None] = mapped_column(String(300))
    prior_auth_ref: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(String(500))
    # Pain (0-10) when the patient checks in: the baseline of the procedure's outcome.
    baseline_nrs: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    patient: Mapped[Patient] = relationship()
    procedure_type: Mapped[ProcedureType] = relationship()
    physician: Mapped[Physician] = relationship()
    office: Mapped[Office] = relationship()
    room: Mapped[Room] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    replaces: Mapped[Appointment | None] = relationship(remote_side=[id], foreign_keys=[replaces_id],
                                                        back_populates="replaced_by")
    replaced_by: Mapped[Appointment | None] = relationship(back_populates="replaces",
                                                           foreign_keys=[replaces_id])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_movable(self) -> bool:
        """Open and the patient not yet in the room: only then can it be rescheduled."""
        return self.is_open and self.status is not Status.IN_ROOM

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_details(self) -> dict[str, Any]:
        return {"starts_at": self.starts_at, "status": self.status}


class SchedulingRequest(Audited, Versioned, Base):
    """A procedure for the schedulers to book: what, where on the body, with whom, from which day
    and how urgently, asked for by a physician's decision or from the candidates list. Booking it
    closes it (the appointment is kept); it can be cancelled with a reason."""

    __tablename__ = "scheduling_request"
    __table_args__ = (
        CheckConstraint("status IN ({})".format(", ".join(f"'{s}'" for s in RequestStatus)), name="known_status"),
        CheckConstraint("priority IN ({})".format(", ".join(f"'{p}'" for p in RequestPriority)),
                        name="known_priority"),
        # Open requests only: a closed one gives up its key.
        CheckConstraint("(status = 'open') = (open_key IS NOT NULL)", name="open_key_while_open"),
        Index("ix_scheduling_request_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    procedure_type_id: Mapped[int] = mapped_column(ForeignKey("procedure_type.id"))
    region: Mapped[Region | None] = mapped_column(enum_column_type(Region, 10))
    side: Mapped[Side | None] = mapped_column(enum_column_type(Side, 10))
    levels_count: Mapped[int | None]
    levels: Mapped[str | None] = mapped_column(String(60))
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    earliest_on: Mapped[date]
    priority: Mapped[RequestPriority] = mapped_column(enum_column_type(RequestPriority, 10),
                                                      default=RequestPriority.ROUTINE)
    note: Mapped[str | None] = mapped_column(String(NOTE_LENGTH))
    # The rules do not allow the procedure for this patient yet: a physician books it with an override.
    needs_override: Mapped[bool] = mapped_column(default=False)
    status: Mapped[RequestStatus] = mapped_column(enum_column_type(RequestStatus, 10), default=RequestStatus.OPEN)
    cancel_reason: Mapped[str | None] = mapped_column(String(CANCEL_REASON_LENGTH))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), unique=True)
    # `request_rules.open_key` while open, null once closed: the database keeps one open request
    # per patient, procedure, region and side.
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    patient: Mapped[Patient] = relationship()
    procedure_type: Mapped[ProcedureType] = relationship()
    physician: Mapped[Physician] = relationship()
    office: Mapped[Office] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.OPEN

    def key(self) -> str:
        return open_key(self.patient_id, self.procedure_type_id, self.region, self.side)

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_subject(self) -> str:
        return "Scheduling request"

    def audit_details(self) -> dict[str, Any]:
        return {"procedure_type_id": self.procedure_type_id, "status": self.status,
                "earliest_on": self.earliest_on}

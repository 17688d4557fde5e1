from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.core.db import Base, Versioned
from backoffice.core.timefmt import format_date
from backoffice.practice.rules import Capability, physician_short_name

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Office(Audited, Versioned, Base):
    __tablename__ = "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    address: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(30))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)

    hours: Mapped[list[OfficeHours]] = relationship(
        back_populates="office", order_by="OfficeHours.weekday", cascade="all, delete-orphan")
    closures: Mapped[list[OfficeClosure]] = relationship(
        back_populates="office", order_by="OfficeClosure.day", cascade="all, delete-orphan")
    rooms: Mapped[list[Room]] = relationship(back_populates="office", order_by="Room.name")

    def audit_office_id(self) -> int | None:
        return self.id

    def audit_subject(self) -> str:
        return self.name


class OfficeHours(Audited, Base):
    """When an office is open on one weekday (0 = Monday). A weekday without a row is closed."""

    __tablename__ = "office_hours"
    __table_args__ = (
        UniqueConstraint("office_id", "weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    weekday: Mapped[int]
    opens: Mapped[time]
    closes: Mapped[time]

    office: Mapped[Office] = relationship(back_populates="hours")

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_subject(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.opens:%H:%M}-{self.closes:%H:%M}"


class OfficeClosure(Audited, Base):
    """A whole day the office is closed (a holiday, a move)."""

    __tablename__ = "office_closure"
    __table_args__ = (UniqueConstraint("office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(120))

    office: Mapped[Office] = relationship(back_populates="closures")

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_subject(self) -> str:
        return f"Closed {format_date(self.day)}: {self.reason}"


class Room(Audited, Versioned, Base):
    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("office_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    fluoroscopy: Mapped[bool] = mapped_column(default=False)
    sterile_implant: Mapped[bool] = mapped_column(default=False)
    sedation: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    office: Mapped[Office] = relationship(back_populates="rooms")

    @property
    def capabilities(self) -> frozenset[Capability]:
        flags = ((Capability.FLUOROSCOPY, self.fluoroscopy),
                 (Capability.STERILE_IMPLANT, self.sterile_implant), (Capability.SEDATION, self.sedation))
        return frozenset(capability for capability, present in flags if present)

    @property
    def capability_labels(self) -> list[str]:
        return sorted(str(capability) for capability in self.capabilities)

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_subject(self) -> str:
        return self.name


class Physician(Audited, Versioned, Base):
    __tablename__ = "physician"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    credentials: Mapped[str] = mapped_column(String(20))
    npi: Mapped[str | None] = mapped_column(String(10), unique=True)
    # The staff account a physician signs in with, when they have one.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    schedules: Mapped[list[PhysicianSchedule]] = relationship(
        back_populates="physician",
        order_by="(PhysicianSchedule.weekday, PhysicianSchedule.starts)",
        cascade="all, delete-orphan")
    leaves: Mapped[list[PhysicianLeave]] = relationship(
        back_populates="physician", order_by="PhysicianLeave.first_day",
        cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        return f"Dr. {self.first_name} {self.last_name}"

    @property
    def short_name(self) -> str:
        return physician_short_name(self.last_name)

    def audit_subject(self) -> str:
        return self.display_name


class PhysicianSchedule(Audited, Base):
    """A recurring block of work: this physician at this office on this weekday, these hours."""

    __tablename__ = "physician_schedule"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts < ends", name="starts_before_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    weekday: Mapped[int]
    starts: Mapped[time]
    ends: Mapped[time]
    effective_from: Mapped[date | None]
    effective_until: Mapped[date | None]

    physician: Mapped[Physician] = relationship(back_populates="schedules")
    office: Mapped[Office] = relationship()

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_subject(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.starts:%H:%M}-{self.ends:%H:%M}"


class PhysicianLeave(Audited, Base):
    """Whole days a physician does not work (vacation, conference, sick)."""

    __tablename__ = "physician_leave"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="first_day_not_after_last"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"), index=True)
    first_day: Mapped[date]
    last_day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(120))

    physician: Mapped[Physician] = relationship(back_populates="leaves")

    def audit_subject(self) -> str:
        return f"Leave {format_date(self.first_day)} to {format_date(self.last_day)}: {self.reason}"

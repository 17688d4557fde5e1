"""The catalog: the procedures that can be booked (how long they take, what they need, how often
they may be repeated) and the device models that can be implanted."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.audit.trail import Audited
from backoffice.catalog.rules import (
    Category,
    DeviceKind,
    FrequencyGroup,
    IntervalScope,
    IntervalUnit,
    MinimumInterval,
    ProcedureKind,
    minimum_interval,
)
from backoffice.core.db import Base, Versioned, enum_column_type
from backoffice.practice.rules import Capability


class ProcedureType(Audited, Versioned, Base):
    """A procedure the practice books: how long it takes, what room it needs, what to ask,
    how often it may be repeated, and which follow-ups it calls for."""

    __tablename__ = "procedure_type"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes % 5 = 0", name="duration_in_5_minutes"),
        CheckConstraint("turnover_minutes >= 0 AND turnover_minutes % 5 = 0", name="turnover_in_5_minutes"),
        CheckConstraint("max_levels BETWEEN 1 AND 3", name="max_levels_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[Category] = mapped_column(enum_column_type(Category, 20))
    cpt_codes: Mapped[str] = mapped_column(String(120), default="")
    duration_minutes: Mapped[int]
    turnover_minutes: Mapped[int] = mapped_column(default=0)
    needs_fluoroscopy: Mapped[bool] = mapped_column(default=False)
    needs_sterile_implant: Mapped[bool] = mapped_column(default=False)
    needs_sedation: Mapped[bool] = mapped_column(default=False)
    asks_region: Mapped[bool] = mapped_column(default=False)
    asks_side: Mapped[bool] = mapped_column(default=False)
    asks_levels: Mapped[bool] = mapped_column(default=False)
    max_levels: Mapped[int] = mapped_column(default=1)
    prior_authorization: Mapped[bool] = mapped_column(default=False)
    frequency_group: Mapped[FrequencyGroup | None] = mapped_column(enum_column_type(FrequencyGroup, 30))
    max_per_year: Mapped[int | None]
    # Days where the source says days, calendar months where it says months.
    min_interval: Mapped[int | None]
    min_interval_unit: Mapped[IntervalUnit] = mapped_column(enum_column_type(IntervalUnit, 6),
                                                            default=IntervalUnit.DAYS)
    interval_scope: Mapped[IntervalScope] = mapped_column(enum_column_type(IntervalScope, 12),
                                                          default=IntervalScope.REGION)
    follow_ups: Mapped[str] = mapped_column(String(60), default="")
    # What the clinical rules take it for: a diagnostic medial branch block, an ablation ...
    kind: Mapped[ProcedureKind] = mapped_column(enum_column_type(ProcedureKind, 20), default=ProcedureKind.NONE)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def minimum_interval(self) -> MinimumInterval | None:
        return minimum_interval(self.min_interval, self.min_interval_unit)

    @property
    def capabilities(self) -> frozenset[Capability]:
        flags = ((Capability.FLUOROSCOPY, self.needs_fluoroscopy),
                 (Capability.STERILE_IMPLANT, self.needs_sterile_implant),
                 (Capability.SEDATION, self.needs_sedation))
        return frozenset(capability for capability, needed in flags if needed)

    def audit_subject(self) -> str:
        return f"{self.code} {self.name}"


class DeviceModel(Audited, Versioned, Base):
    """A device model the practice implants: a scanned GTIN fills the rest of the form from it."""

    __tablename__ = "device_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(80))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(enum_column_type(DeviceKind, 20))
    mri_conditional: Mapped[bool] = mapped_column(default=False)
    rechargeable: Mapped[bool] = mapped_column(default=False)
    reservoir_ml: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))  # mL
    active: Mapped[bool] = mapped_column(default=True)

    def audit_subject(self) -> str:
        return f"{self.manufacturer} {self.model}"

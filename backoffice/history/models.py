from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import Region, Side
from backoffice.core.db import Base, Versioned, enum_column_type
from backoffice.history.rules import ReliefUnit, done_elsewhere, relief_said
from backoffice.patients.models import Patient


class OutsideProcedure(Audited, Versioned, Base):
    """A procedure done at another practice, or here before the practice used the app: its day
    (no time), what and where on the spine, by whom and where, and its relief when known. The
    frequency limits and the candidacy rules count it like a completed appointment."""

    __tablename__ = "outside_procedure"
    __table_args__ = (
        CheckConstraint("percent_relief BETWEEN 0 AND 100", name="percent_relief_range"),
        CheckConstraint("relief_amount > 0", name="relief_amount_positive"),
        CheckConstraint("levels_count BETWEEN 1 AND 3", name="levels_count_range"),
        Index("ix_outside_procedure_patient_day", "patient_id", "performed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    procedure_type_id: Mapped[int] = mapped_column(ForeignKey("procedure_type.id"))
    performed_on: Mapped[date]
    region: Mapped[Region | None] = mapped_column(enum_column_type(Region, 10))
    side: Mapped[Side | None] = mapped_column(enum_column_type(Side, 10))
    levels_count: Mapped[int | None]
    levels: Mapped[str | None] = mapped_column(String(60))
    facility: Mapped[str] = mapped_column(String(120))  # where: the practice or hospital
    performed_by: Mapped[str | None] = mapped_column(String(120))  # by whom, as they wrote it
    percent_relief: Mapped[int | None]
    relief_amount: Mapped[int | None]
    relief_unit: Mapped[ReliefUnit | None] = mapped_column(enum_column_type(ReliefUnit, 10))
    notes: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    patient: Mapped[Patient] = relationship()
    procedure_type: Mapped[ProcedureType] = relationship()

    # Why it is being deleted: set by the service just before the delete, so that the delete's own
    # audit row carries it (shown, like every clinical value, to clinical roles only). Not a column,
    # which SQLAlchemy is told here.
    __allow_unmapped__ = True
    deletion_reason: str | None = None

    @property
    def done_elsewhere(self) -> str:
        """"Dr Lee, Valley Pain"."""
        return done_elsewhere(self.facility, self.performed_by)

    @property
    def relief_said(self) -> str | None:
        return relief_said(self.relief_amount, self.relief_unit)

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"performed_on": self.performed_on, "procedure_type_id": self.procedure_type_id}
        if self.deletion_reason:
            details["reason"] = self.deletion_reason
        return details

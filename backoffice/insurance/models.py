from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.core.db import Base, Versioned, enum_column_type, key_string
from backoffice.core.phones import format_phone
from backoffice.insurance.rules import (
    PAYER_NAME_LENGTH,
    CoverageRank,
    PayerKind,
    Relationship,
    Span,
    is_in_force,
    said_span,
)
from backoffice.patients.models import Patient


class Payer(Audited, Versioned, Base):
    """An insurer or program the practice bills, or self-pay: what a coverage names, with the
    numbers its prior-authorization line answers on. No longer offered (`active` off), it stays
    on the coverage that names it."""

    __tablename__ = "payer"
    __audit_skip__ = frozenset({"name_key"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(PAYER_NAME_LENGTH))
    # The name folded (rules.payer_key): two payers may not share it, whatever the case or spacing.
    name_key: Mapped[str] = mapped_column(key_string(PAYER_NAME_LENGTH), unique=True)
    kind: Mapped[PayerKind] = mapped_column(enum_column_type(PayerKind, 20))
    prior_auth_phone: Mapped[str | None] = mapped_column(String(30))
    prior_auth_fax: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def prior_auth_phone_display(self) -> str:
        return format_phone(self.prior_auth_phone)

    @property
    def prior_auth_fax_display(self) -> str:
        return format_phone(self.prior_auth_fax)

    def audit_subject(self) -> str:
        return self.name


class Coverage(Audited, Versioned, Base):
    """A patient's insurance with one payer, primary or secondary, from its effective date through
    its end date (both included; none: not ended). At most one of each rank is in force on a day
    (the services refuse overlaps, holding the patient's row while they check)."""

    __tablename__ = "coverage"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= effective_on", name="ends_on_or_after_it_starts"),
        CheckConstraint("(relationship_to_subscriber = 'self') = (subscriber_name IS NULL)",
                        name="subscriber_unless_self"),
        Index("ix_coverage_patient_rank", "patient_id", "rank", "effective_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    rank: Mapped[CoverageRank] = mapped_column(enum_column_type(CoverageRank, 9))
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"), index=True)
    plan_name: Mapped[str | None] = mapped_column(String(80))
    member_id: Mapped[str | None] = mapped_column(String(40))
    group_number: Mapped[str | None] = mapped_column(String(40))
    relationship_to_subscriber: Mapped[Relationship] = mapped_column(enum_column_type(Relationship, 6))
    subscriber_name: Mapped[str | None] = mapped_column(String(80))  # None: the patient holds it
    effective_on: Mapped[date]
    ends_on: Mapped[date | None]

    patient: Mapped[Patient] = relationship()
    payer: Mapped[Payer] = relationship()

    # Why it is being removed: set by the service just before the delete, so that the delete's own
    # audit row carries it. Not a column, which SQLAlchemy is told here.
    __allow_unmapped__ = True
    deletion_reason: str | None = None

    @property
    def span(self) -> Span:
        """Its rank and days, as the rules read them."""
        return Span(self.rank, self.effective_on, self.ends_on)

    @property
    def span_said(self) -> str:
        return said_span(self.effective_on, self.ends_on)

    def is_in_force_on(self, day: date) -> bool:
        return is_in_force(self.effective_on, self.ends_on, day)

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"rank": self.rank, "payer_id": self.payer_id}
        if self.deletion_reason:
            details["reason"] = self.deletion_reason
        return details

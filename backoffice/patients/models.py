from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.core.db import Base, Versioned, key_string
from backoffice.core.phones import format_phone
from backoffice.practice.models import Office


class Patient(Audited, Versioned, Base):
    __tablename__ = "patient"
    __audit_skip__ = frozenset({"last_name_key", "first_name_key", "phone_digits"})
    __table_args__ = (
        Index("ix_patient_name", "last_name_key", "first_name_key"),
        Index("ix_patient_first_name", "first_name_key"),
        Index("ix_patient_phone", "phone_digits"),
        Index("ix_patient_dob", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(key_string(12), unique=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    date_of_birth: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    preferred_office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    payer: Mapped[str | None] = mapped_column(String(80))
    member_id: Mapped[str | None] = mapped_column(String(40))
    # Normalised copies the search uses (lower case, no accents or punctuation, digits only).
    last_name_key: Mapped[str] = mapped_column(key_string(60))
    first_name_key: Mapped[str] = mapped_column(key_string(60))
    phone_digits: Mapped[str | None] = mapped_column(key_string(15))

    preferred_office: Mapped[Office | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sortable_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def address_lines(self) -> list[str]:
        """The postal address as printed on an envelope, leaving out what was not given."""
        town = ", ".join(part for part in (self.city, " ".join(
            part for part in (self.state, self.postal_code) if part)) if part)
        return [line for line in (self.address, town) if line]

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    def audit_patient_id(self) -> int | None:
        return self.id

    def audit_office_id(self) -> int | None:
        return self.preferred_office_id

    def audit_details(self) -> dict[str, Any]:
        return {"mrn": self.mrn}

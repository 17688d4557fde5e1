from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.core.db import Base, Versioned, enum_column_type, key_string
from backoffice.core.phones import format_phone
from backoffice.patients.rules import KEY_LENGTH, NamePart, Sex
from backoffice.practice.models import Office


class Patient(Audited, Versioned, Base):
    __tablename__ = "patient"
    __audit_skip__ = frozenset({"last_name_key", "first_name_key", "phone_digits"})
    __table_args__ = (
        Index("ix_patient_name", "last_name_key", "first_name_key"),
        Index("ix_patient_phone", "phone_digits"),
        Index("ix_patient_dob", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(key_string(12), unique=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    date_of_birth: Mapped[date]
    sex: Mapped[Sex | None] = mapped_column(enum_column_type(Sex, 7))  # None: registered before it was asked
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    preferred_office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    emergency_contact_name: Mapped[str | None] = mapped_column(String(80))
    emergency_contact_relationship: Mapped[str | None] = mapped_column(String(40))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(30))
    # The physicians outside the practice: who sent the patient, and who looks after them.
    referring_name: Mapped[str | None] = mapped_column(String(80))
    referring_practice: Mapped[str | None] = mapped_column(String(120))
    referring_phone: Mapped[str | None] = mapped_column(String(30))
    referring_fax: Mapped[str | None] = mapped_column(String(30))
    primary_care_name: Mapped[str | None] = mapped_column(String(80))
    primary_care_practice: Mapped[str | None] = mapped_column(String(120))
    primary_care_phone: Mapped[str | None] = mapped_column(String(30))
    primary_care_fax: Mapped[str | None] = mapped_column(String(30))
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

    @property
    def outside_physicians(self) -> list[OutsidePhysician]:
        """The referring and the primary care physician, as the patient page shows them."""
        return [OutsidePhysician("Referring physician", self.referring_name, self.referring_practice,
                                 self.referring_phone, self.referring_fax),
                OutsidePhysician("Primary care physician", self.primary_care_name, self.primary_care_practice,
                                 self.primary_care_phone, self.primary_care_fax)]

    def audit_patient_id(self) -> int | None:
        return self.id

    def audit_office_id(self) -> int | None:
        return self.preferred_office_id

    def audit_details(self) -> dict[str, Any]:
        return {"mrn": self.mrn}


@dataclass(frozen=True)
class OutsidePhysician:
    role: str
    name: str | None
    practice: str | None
    phone: str | None
    fax: str | None

    @property
    def is_known(self) -> bool:
        return any((self.name, self.practice, self.phone, self.fax))


class PatientNameToken(Base):
    """One word of a patient's name, normalised (see rules.name_tokens), so that a search finds
    each word of "O'Brien-Nguyen" or "Garcia Lopez" by an index range on `token`, as it finds
    a whole name. Derived from the names, written by the services with them; not audited (the
    names are)."""

    __tablename__ = "patient_name_token"
    __table_args__ = (Index("ix_patient_name_token", "token", "part", "patient_id"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[NamePart] = mapped_column(enum_column_type(NamePart, 6), primary_key=True)
    token: Mapped[str] = mapped_column(key_string(KEY_LENGTH), primary_key=True)

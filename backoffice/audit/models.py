from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.core.db import Base, UTCDateTime, utcnow

SUBJECT_LENGTH = 200


class AuditEvent(Base):
    """One row per change or record opening. Never updated or deleted (database triggers refuse),
    and hash-chained to the row before it, so a change made behind the app's back shows."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Plain columns, not foreign keys: the trail must outlive whatever it describes.
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(index=True)
    office_id: Mapped[int | None] = mapped_column(index=True)
    # Everyone who may read the trail sees `subject` ("Pump refill" is not clinical; "40 mL Morphine"
    # is); clinical values and patient identity go in `details`, shown to clinical roles only.
    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), default="", server_default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Free text; the only description rows had before `subject` and `details`, and it may hold
    # clinical values: shown to clinical roles only.
    summary: Mapped[str] = mapped_column(String(300), default="")
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client_address: Mapped[str | None] = mapped_column(String(64))
    # The hash chain (`chain.py`): the previous row's row_hash, and this row's own.
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

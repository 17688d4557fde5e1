"""The second factor of an account: its TOTP secret and its one-time recovery codes.

Kept out of `staff_user` so that an account without MFA has no row, and a reset is a delete.
Writes are recorded in the audit trail as events of their own (enrolled, recovery code used,
reset), not as row changes: a row change would put the secret's existence and every accepted
code's time step into the trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.core.db import Base, UTCDateTime


class MfaCredential(Base):
    __tablename__ = "staff_mfa"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), unique=True)
    # Base32, as authenticator apps take it. The server must read it to check codes, so it cannot
    # be hashed; it never leaves the database after enrolment.
    secret: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The 30-second step of the last accepted code: that code and older ones are refused.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_codes: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(Base):
    __tablename__ = "staff_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    # SHA-256 hex of the code (see `mfa_rules.recovery_code_hash`), never the code itself.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

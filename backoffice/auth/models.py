from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.audit.trail import Audited
from backoffice.core.db import Base, UTCDateTime, Versioned
from backoffice.core.permissions import Role


class User(Audited, Versioned, Base):
    """A member of staff who signs in. `roles` holds one or more of `Role`, comma-separated."""

    __tablename__ = "staff_user"
    # Sign-ins, sign-outs, lockouts and unlocks are recorded as events of their own.
    __audit_skip__ = frozenset({"failed_logins", "locked_at", "last_login_at", "session_token"})
    __audit_secret__ = frozenset({"password_hash", "session_token"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    roles: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the session identity: rotating it ends every session of this user.
    session_token: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # Wrong passwords in a row from any address; at the cap the account is locked (`locked_at`)
    # until an admin unlocks it.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(name) for name in self.roles.split(",") if name)

    def has_any_role(self, *roles: Role | str) -> bool:
        return bool({str(role) for role in self.role_set}.intersection(str(r) for r in roles))

    def audit_subject(self) -> str:
        return f"{self.full_name} ({self.username})"

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class SignInThrottle(Base):
    """Wrong passwords typed for one username (known or not) from one client address."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("username", "client_address"),
                      Index("ix_sign_in_throttle_last_failure_at", "last_failure_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))  # throttle.USERNAME_LENGTH
    client_address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateLimitCounter(Base):
    """Flask-Limiter's fixed-window counters (the `database://` storage), shared by every server
    process and machine that uses the database."""

    __tablename__ = "rate_limit_counter"
    __table_args__ = (Index("ix_rate_limit_counter_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

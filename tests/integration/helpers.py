"""Small builders for service-level tests (run inside an app context)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.auth import services as accounts
from backoffice.auth.sessions import auth_policy
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.core.permissions import Role
from backoffice.patients.services import PatientData

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def actor_for(user, client_address: str = "192.0.2.10") -> Actor:
    return Actor(user.id, user.username, frozenset(str(r) for r in user.role_set), client_address)


def make_user(username: str = "dwhitaker", *roles: Role, password: str = "harbor-lighthouse-42",
              full_name: str = "Dana Whitaker"):
    data = accounts.AccountData(username, full_name, None,
                                frozenset(roles or {Role.SCHEDULER}))
    user, _ = accounts.create_user(data, by=Actor.system("test"), policy=auth_policy(), now=NOW,
                                   password=password)
    return user


def patient_data(**changes) -> PatientData:
    values = dict(first_name="Maria", last_name="Gonzalez", date_of_birth=date(1958, 3, 14),
                  phone="+14105550142", email=None, address=None, city=None, state=None,
                  postal_code=None, preferred_office_id=None)
    values.update(changes)
    return PatientData(**values)


def audit_rows(**where) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(db.session.scalars(query))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0

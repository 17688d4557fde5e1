"""Reading the audit trail (managers and admins). Writing is in `trail`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backoffice.audit.actor import Actor
from backoffice.audit.models import AuditEvent
from backoffice.auth.roles import CLINICAL_ROLES
from backoffice.extensions import db
from backoffice.patients.models import Patient

PAGE_SIZE = 50
ACTIONS = ("create", "update", "delete", "view", "login", "login_failed", "logout",
           "account_locked", "account_unlocked", "export", "override",
           "mfa_enrolled", "mfa_passed", "mfa_recovery_code_used", "mfa_failed", "mfa_reset")


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    action: str | None = None
    entity_type: str | None = None
    patient_mrn: str | None = None
    office_id: int | None = None
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class AuditRow:
    """An audit event as one viewer may see it."""

    id: int
    at: datetime
    username: str
    action: str
    entity_type: str
    entity_id: int | None
    office_id: int | None
    summary: str
    changes: dict[str, Any] | None
    client_address: str | None
    values_hidden: bool


def _as_seen_by(event: AuditEvent, viewer: Actor) -> AuditRow:
    # Minimum necessary: who changed which field of a patient's record is visible to managers and
    # admins; the values themselves (names, birth dates, addresses) only to clinical roles.
    hide = event.patient_id is not None and not viewer.has_any_role(*CLINICAL_ROLES)
    changes = ({name: ["(hidden)", "(hidden)"] for name in event.changes}
               if hide and event.changes else event.changes)
    return AuditRow(event.id, event.at, event.username, event.action, event.entity_type,
                    event.entity_id, event.office_id, event.summary, changes,
                    event.client_address, hide)


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(timezone))


def search_events(criteria: AuditFilter, *, viewer: Actor, timezone: str,
                  before_id: int | None = None, limit: int = PAGE_SIZE) -> list[AuditRow]:
    """Newest first; `before_id` pages back through the trail without OFFSET."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if criteria.username:
        query = query.where(AuditEvent.username.startswith(criteria.username.lower(), autoescape=True))
    if criteria.action:
        query = query.where(AuditEvent.action == criteria.action)
    if criteria.entity_type:
        query = query.where(AuditEvent.entity_type == criteria.entity_type)
    if criteria.office_id is not None:
        query = query.where(AuditEvent.office_id == criteria.office_id)
    if criteria.patient_mrn:
        patient_ids = select(Patient.id).where(Patient.mrn == criteria.patient_mrn)
        query = query.where(AuditEvent.patient_id.in_(patient_ids))
    if criteria.first_day:
        query = query.where(AuditEvent.at >= _day_start(criteria.first_day, timezone))
    if criteria.last_day:
        query = query.where(
            AuditEvent.at < _day_start(criteria.last_day + timedelta(days=1), timezone))
    return [_as_seen_by(event, viewer) for event in db.session.scalars(query)]


def entity_types() -> list[str]:
    return sorted(db.metadata.tables)

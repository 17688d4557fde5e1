"""Reading the audit trail (managers and admins), each reader seeing only what their roles allow.
Writing is in `trail`.

Minimum necessary: everyone who may read the trail sees who did what to which kind of record,
when, from where, and which fields changed. Clinical values and patient identity (an event's
`details`, its free-text `summary`, and the values of a patient's changed fields) are shown only
to someone who also holds a clinical role, and only they may look a patient's events up by MRN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from backoffice.audit.labels import field_label, record_label
from backoffice.audit.models import AuditEvent
from backoffice.audit.trail import record_event
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import Refused
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.core.phones import format_phone
from backoffice.core.timefmt import format_date, format_datetime
from backoffice.patients.models import Patient
from backoffice.practice.models import Office

PAGE_SIZE = 50
# An export is for reading in a spreadsheet, not a backup: narrow the dates for more.
EXPORT_LIMIT = 10_000
ACTIONS = ("create", "update", "delete", "view", "login", "login_failed", "logout",
           "account_locked", "account_unlocked", "export", "override",
           "mfa_enrolled", "mfa_passed", "mfa_recovery_code_used", "mfa_failed", "mfa_reset")


class PatientFilterRefused(Refused):
    def __init__(self) -> None:
        super().__init__("Only clinical staff can look up a patient's events.")


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
class FieldChange:
    """One changed field as a reader sees it; `shown` is False when its values are not theirs to see."""

    label: str
    before: str | None  # None: the field had no value before (a creation)
    after: str | None
    shown: bool = True


@dataclass(frozen=True)
class AuditRow:
    """An audit event as one reader may see it, every value already in words."""

    id: int
    at: str  # in the office's time zone, or the practice's when the event belongs to no office
    username: str
    action: str
    record: str  # "pump refill #12"
    office: str
    subject: str
    details: tuple[tuple[str, str], ...]  # (label, value): clinical readers only
    summary: str  # free text of older rows: clinical readers only
    changes: tuple[FieldChange, ...]
    values_hidden: bool  # something was left out for this reader
    client_address: str | None


def may_see_clinical(viewer: Actor) -> bool:
    return viewer.can(Permission.SEE_AUDITED_PATIENT_DATA)


def shown_value(value: Any, timezone: str) -> str:
    """A recorded value as the rest of the app shows it (times in `timezone`, with its zone)."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(shown_value(item, timezone) for item in value) or "(none)"
    if isinstance(value, str):
        try:
            if value.startswith("+") and value[1:2].isdigit():
                return format_phone(value) or value
            if len(value) == 10 and value[4:5] == "-":
                return format_date(date.fromisoformat(value))
            if len(value) > 10 and value[10:11] == "T":
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is not None:
                    return format_datetime(moment, timezone)
        except ValueError:
            return value
    return str(value)


@dataclass(frozen=True)
class _Place:
    name: str
    timezone: str


def _offices() -> dict[int, _Place]:
    return {row.id: _Place(row.name, row.timezone)
            for row in db.session.execute(select(Office.id, Office.name, Office.timezone))}


def _changes(event: AuditEvent, timezone: str, shown: bool) -> tuple[FieldChange, ...]:
    found: list[FieldChange] = []
    for key, pair in (event.changes or {}).items():
        label = field_label(event.entity_type, key)
        if not shown:
            found.append(FieldChange(label, None, None, shown=False))
        elif isinstance(pair, list) and len(pair) == 2:
            before = None if pair[0] is None else shown_value(pair[0], timezone)
            found.append(FieldChange(label, before, shown_value(pair[1], timezone)))
        else:  # a value recorded on its own, not as [before, after]
            found.append(FieldChange(label, None, shown_value(pair, timezone)))
    return tuple(found)


def _as_seen_by(event: AuditEvent, clinical: bool, offices: dict[int, _Place],
                practice_timezone: str) -> AuditRow:
    place = offices.get(event.office_id) if event.office_id is not None else None
    timezone = place.timezone if place else practice_timezone
    about_patient = event.patient_id is not None
    values_shown = clinical or not about_patient
    details = tuple((field_label(event.entity_type, key), shown_value(value, timezone))
                    for key, value in (event.details or {}).items()) if clinical else ()
    hidden = not clinical and bool(event.details or event.summary
                                   or (about_patient and event.changes))
    record = record_label(event.entity_type) + (f" #{event.entity_id}" if event.entity_id else "")
    return AuditRow(
        id=event.id, at=format_datetime(event.at, timezone), username=event.username,
        action=event.action, record=record, office=place.name if place else "", subject=event.subject,
        details=details, summary=event.summary if clinical else "",
        changes=_changes(event, timezone, values_shown), values_hidden=hidden,
        client_address=event.client_address)


def _day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(timezone))


def _query(criteria: AuditFilter, *, viewer: Actor, timezone: str) -> Select[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if criteria.username:
        query = query.where(AuditEvent.username.startswith(criteria.username.lower(), autoescape=True))
    if criteria.action:
        query = query.where(AuditEvent.action == criteria.action)
    if criteria.entity_type:
        query = query.where(AuditEvent.entity_type == criteria.entity_type)
    if criteria.office_id is not None:
        query = query.where(AuditEvent.office_id == criteria.office_id)
    if criteria.patient_mrn:
        if not may_see_clinical(viewer):
            raise PatientFilterRefused()
        patient_ids = select(Patient.id).where(Patient.mrn == criteria.patient_mrn)
        query = query.where(AuditEvent.patient_id.in_(patient_ids))
    if criteria.first_day:
        query = query.where(AuditEvent.at >= _day_start(criteria.first_day, timezone))
    if criteria.last_day:
        query = query.where(
            AuditEvent.at < _day_start(criteria.last_day + timedelta(days=1), timezone))
    return query


def _rows(query: Select[AuditEvent], viewer: Actor, timezone: str) -> list[AuditRow]:
    offices = _offices()
    clinical = may_see_clinical(viewer)
    return [_as_seen_by(event, clinical, offices, timezone) for event in db.session.scalars(query)]


def search_events(criteria: AuditFilter, *, viewer: Actor, timezone: str,
                  before_id: int | None = None, limit: int = PAGE_SIZE) -> list[AuditRow]:
    """Newest first; `before_id` pages back through the trail without OFFSET. `timezone` is the
    practice's: for the date filters and for events that belong to no office."""
    query = _query(criteria, viewer=viewer, timezone=timezone).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return _rows(query, viewer, timezone)


def _described(criteria: AuditFilter) -> str:
    """The filters of an export, in words, leaving out the patient (not everyone's to read)."""
    office = db.session.get(Office, criteria.office_id) if criteria.office_id is not None else None
    parts = [f"{label} {value}" for label, value in (
        ("username", criteria.username), ("action", criteria.action),
        ("record", record_label(criteria.entity_type) if criteria.entity_type else None),
        ("office", office.name if office else None), ("from", format_date(criteria.first_day)),
        ("to", format_date(criteria.last_day))) if value]
    return ", ".join(parts) or "all events"


def export_events(criteria: AuditFilter, *, viewer: Actor, timezone: str,
                  limit: int = EXPORT_LIMIT) -> list[AuditRow]:
    """The filtered trail for a download (newest first, at most `limit` events), as `viewer` may
    see it; the export is itself an audit event."""
    with transaction(db.session, viewer):
        rows = _rows(_query(criteria, viewer=viewer, timezone=timezone).limit(limit), viewer, timezone)
        record_event(db.session, viewer, "export", "audit_event", None, office_id=criteria.office_id,
                     subject=f"{_described(criteria)}: {len(rows)} events",
                     details={"patient_mrn": criteria.patient_mrn} if criteria.patient_mrn else None)
    return rows


def entity_types() -> list[str]:
    return sorted(db.metadata.tables)

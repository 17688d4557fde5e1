"""Writing the audit trail.

Models that mix in `Audited` are recorded automatically: every insert, update and delete that a
session flushes becomes an `AuditEvent` in the same transaction, with the changed fields before
and after. Services add the events that are not row changes (opening a patient's record, signing
in) with `record_event`. Both ways go through `chain`, which links each row to the one before.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar, cast

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import Session

from backoffice.audit import chain
from backoffice.audit.models import SUBJECT_LENGTH, AuditEvent
from backoffice.core.actor import Actor
from backoffice.core.db import AnySession, utcnow

SYSTEM = Actor.system("system")
# Bookkeeping columns whose change is not news on its own.
ALWAYS_SKIPPED = frozenset({"id", "version", "created_at", "updated_at", "updated_by_id",
                            "created_by_id"})


_AUDIT_TABLE = cast(Table, AuditEvent.__table__)


class AuditIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit row."""


class Audited:
    """Mixin for models whose every write goes to the audit trail."""

    __audit_skip__: ClassVar[frozenset[str]] = frozenset()
    __audit_secret__: ClassVar[frozenset[str]] = frozenset()

    def audit_patient_id(self) -> int | None:
        return None

    def audit_office_id(self) -> int | None:
        return None

    def audit_subject(self) -> str:
        """What the row is, for everyone who reads the trail: no clinical value, no patient identity."""
        return ""

    def audit_details(self) -> dict[str, Any]:
        """Clinical values and patient identity that say which row this is: shown to clinical roles only."""
        return {}


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _plain_details(details: dict[str, Any]) -> dict[str, Any] | None:
    return {key: _plain(value) for key, value in details.items()} or None


def _column_changes(obj: Audited, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    skipped = ALWAYS_SKIPPED | obj.__audit_skip__
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in skipped:
            continue
        if action == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        else:
            value = state.attrs[key].value
            if value is None:
                continue
            before, after = (None, value) if action == "create" else (value, None)
        if key in obj.__audit_secret__:
            changes[key] = ["(secret)", "(changed)"]
        else:
            changes[key] = [_plain(before), _plain(after)]
    return changes


def _event_row(session: Session, obj: Audited, action: str) -> dict[str, Any] | None:
    changes = _column_changes(obj, action)
    if action == "update" and not changes:
        return None
    actor: Actor = session.info.get("audit_actor") or SYSTEM
    state = inspect(obj)
    return {
        "at": utcnow(),
        "user_id": actor.user_id,
        "username": actor.username,
        "client_address": actor.client_address,
        "action": action,
        "entity_type": state.mapper.local_table.name,
        "entity_id": state.mapper.primary_key_from_instance(obj)[0],
        "patient_id": obj.audit_patient_id(),
        "office_id": obj.audit_office_id(),
        "subject": obj.audit_subject()[:SUBJECT_LENGTH],
        "details": _plain_details(obj.audit_details()),
        "summary": "",
        "changes": changes,
    }


def _audited(objects: Iterable[object]) -> list[Audited]:
    return [obj for obj in objects if isinstance(obj, Audited)]


@event.listens_for(Session, "before_flush")
def _refuse_changes_and_chain_additions(session: Session, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, AuditEvent) for obj in (*session.dirty, *session.deleted)):
        raise AuditIsAppendOnly("audit events are never changed or deleted")
    _link_added_events(session)


def _link_added_events(session: Session) -> None:
    """Chain the events `record_event` added, in the order they were added (the order the flush
    inserts them in), before the flush writes them."""
    added = sorted((obj for obj in session.new if isinstance(obj, AuditEvent)),
                   key=lambda obj: inspect(obj).insert_order or 0)
    if not added:
        return
    columns = {attr.key for attr in inspect(AuditEvent).column_attrs}
    rows = chain.link(session.connection(), _AUDIT_TABLE,
                      [{key: value for key, value in inspect(obj).dict.items() if key in columns}
                       for obj in added])
    for obj, row in zip(added, rows, strict=True):
        for key, value in row.items():
            setattr(obj, key, value)


@event.listens_for(Session, "after_flush")
def _record_row_changes(session: Session, _context: Any) -> None:
    candidates = [
        _event_row(session, obj, action)
        for action, objects in (("create", session.new), ("update", session.dirty),
                                ("delete", session.deleted))
        for obj in _audited(objects)
    ]
    rows = [row for row in candidates if row is not None]
    if rows:
        chain.append(session.connection(), _AUDIT_TABLE, rows)


def record_event(session: AnySession, actor: Actor, action: str, entity_type: str,
                 entity_id: int | None, *, patient_id: int | None = None,
                 office_id: int | None = None, subject: str = "",
                 details: dict[str, Any] | None = None, summary: str = "",
                 changes: dict[str, Any] | None = None) -> None:
    """Add an event that is not a row change (a record opened, a sign-in, an override).

    `subject` is for everyone who reads the trail (managers and admins among them), so it names
    no patient and holds no clinical value; those go in `details` (or in the free-text `summary`),
    which only clinical roles see. `changes` maps a field to its [before, after] values, which
    are hidden from non-clinical roles when the event concerns a patient.
    """
    session.add(AuditEvent(
        user_id=actor.user_id, username=actor.username, client_address=actor.client_address,
        action=action, entity_type=entity_type, entity_id=entity_id, patient_id=patient_id,
        office_id=office_id, subject=subject[:SUBJECT_LENGTH], details=_plain_details(details or {}),
        summary=summary[:300], changes=changes,
    ))

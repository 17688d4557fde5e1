"""Saving an edit form onto a versioned record, refusing it when someone saved in between."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import get_history

from backoffice.auth.models import User
from backoffice.core.actor import Actor
from backoffice.core.db import AnySession, Versioned
from backoffice.core.errors import StaleEdit


def stamps(by: Actor, now: datetime) -> dict[str, Any]:
    """The change stamps of a new record: `Office(**data, **stamps(by, now))`."""
    return {"created_at": now, "updated_at": now, "updated_by_id": by.user_id}


def mark_changed(record: Versioned, by: Actor, now: datetime) -> None:
    """Stamp who changed a record and when (which also moves its version on)."""
    record.updated_at = now
    record.updated_by_id = by.user_id


def stale_edit(session: AnySession, record: Versioned, what: str) -> StaleEdit:
    """The refusal of a save made on an out-of-date form, naming who saved `record` last and when."""
    editor = session.get(User, record.updated_by_id) if record.updated_by_id else None
    return StaleEdit(what, editor.full_name if editor else "someone else", record.updated_at, record.version)


def ensure_current(session: AnySession, record: Versioned, expected_version: int, what: str) -> None:
    """Raise StaleEdit when someone saved `record` after the form was loaded at `expected_version`."""
    if record.version != expected_version:
        raise stale_edit(session, record, what)


def apply_edit(session: AnySession, record: Versioned, values: Mapping[str, Any], *,
               expected_version: int, by: Actor, now: datetime, what: str) -> frozenset[str]:
    """Set `values` on `record` if it is still at `expected_version`. The names of those whose
    value changed (what an event about the edit tells); empty when the record did not change.

    Raises StaleEdit naming who saved it and when, so the second editor loses nothing silently.
    """
    ensure_current(session, record, expected_version, what)
    for key, value in values.items():
        setattr(record, key, value)
    if not session.is_modified(record):
        return frozenset()
    mark_changed(record, by, now)
    return frozenset(key for key in values if get_history(record, key).has_changes())

"""Saving an edit form onto a versioned record, refusing it when someone saved in between."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backoffice.audit.actor import Actor
from backoffice.auth.models import User
from backoffice.db import Versioned
from backoffice.errors import StaleEdit


def apply_edit(session: Session, record: Versioned, values: Mapping[str, Any], *,
               expected_version: int, by: Actor, now: datetime, what: str) -> bool:
    """Set `values` on `record` if it is still at `expected_version`. True when anything changed.

    Raises StaleEdit naming who saved it and when, so the second editor loses nothing silently.
    """
    if record.version != expected_version:
        editor = session.get(User, record.updated_by_id) if record.updated_by_id else None
        raise StaleEdit(what, editor.full_name if editor else "someone else",
                        record.updated_at, record.version)
    for key, value in values.items():
        setattr(record, key, value)
    if not session.is_modified(record):
        return False
    record.updated_at = now
    record.updated_by_id = by.user_id
    return True

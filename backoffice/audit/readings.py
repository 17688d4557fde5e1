"""Audit rows for reading patient data: who opened which record, list or search, and when.

Services call `record_reading` after they have read what a page shows. The row is written in a
short transaction of its own, so a long read never holds SQLite's write lock; if it cannot be
written the request fails, and nothing is shown unaudited.
"""

from __future__ import annotations

from backoffice.audit.trail import record_event
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db


def record_reading(by: Actor, entity_type: str, entity_id: int | None = None, *, action: str = "view",
                   patient_id: int | None = None, office_id: int | None = None, subject: str = "") -> None:
    """Record that `by` was shown patient data: one record (`entity_id`, `patient_id`) or a list
    (no id; `subject` says which list and how many rows, never what was typed to find them)."""
    with transaction(db.session, by):
        record_event(db.session, by, action, entity_type, entity_id, patient_id=patient_id,
                     office_id=office_id, subject=subject)

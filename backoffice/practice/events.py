"""What happens to the practice's setup, told to the packages above it (`backoffice.core.events`).

The practice services publish these inside their transaction, once the change is written; handlers
write in the same transaction. `by` is who acted and `at` when (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.core.actor import Actor


@dataclass(frozen=True)
class OfficeChanged:
    """An office's details were edited: `changed` names the columns whose value changed (never
    empty; `timezone` when the office's local days moved)."""

    office_id: int
    changed: frozenset[str]
    by: Actor
    at: datetime

"""What happens to the catalog, told to the packages above it (`backoffice.core.events`).

The catalog services publish these inside their transaction, once the change is written; handlers
write in the same transaction. `by` is who acted and `at` when (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.core.actor import Actor


@dataclass(frozen=True)
class ProcedureTypeAdded:
    procedure_type_id: int
    code: str
    by: Actor
    at: datetime


@dataclass(frozen=True)
class ProcedureTypeChanged:
    """A procedure type was edited: `changed` names the columns whose value changed (never empty),
    so each subscriber tells whether what it reads (the frequency limits, say) changed."""

    procedure_type_id: int
    changed: frozenset[str]
    by: Actor
    at: datetime

"""What happens to the procedures a patient had elsewhere, told to the packages above
(`backoffice.core.events`): the candidacy rules read them, so stored candidacies go stale.

The history services publish these inside their transaction, once the change is written; handlers
write in the same transaction. `by` is who acted and `at` when (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.core.actor import Actor


@dataclass(frozen=True)
class OutsideProcedureRecorded:
    outside_procedure_id: int
    patient_id: int
    by: Actor
    at: datetime


@dataclass(frozen=True)
class OutsideProcedureCorrected:
    """A record was edited: `changed` names the columns whose value changed (never empty)."""

    outside_procedure_id: int
    patient_id: int
    changed: frozenset[str]
    by: Actor
    at: datetime


@dataclass(frozen=True)
class OutsideProcedureDeleted:
    outside_procedure_id: int
    patient_id: int
    reason: str
    by: Actor
    at: datetime


@dataclass(frozen=True)
class OutsideProceduresImported:
    """A go-live import wrote `count` records, for these patients, in one transaction."""

    patient_ids: frozenset[int]
    count: int
    by: Actor
    at: datetime

"""What happens to patients' records, told to the packages above (`backoffice.core.events`).

The patient services publish these inside their transaction, once the change is written; handlers
write in the same transaction. `by` is who acted and `at` when (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.core.actor import Actor


@dataclass(frozen=True)
class PatientChanged:
    """A patient's record was edited: `changed` names the columns whose value changed (never
    empty; `preferred_office_id` when the office they would rather be seen at changed)."""

    patient_id: int
    changed: frozenset[str]
    by: Actor
    at: datetime

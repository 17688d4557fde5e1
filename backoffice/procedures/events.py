"""What happens to a patient's clinical course, told to whoever must react (`backoffice.core.events`).

The procedures services publish these inside their transaction, once the change is written;
handlers write in the same transaction. `by` is who acted and `at` when (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backoffice.core.actor import Actor


@dataclass(frozen=True)
class OutcomeRecorded:
    """A follow-up's outcome was recorded, or (`corrected`) an outcome on record was changed."""

    outcome_id: int
    follow_up_id: int
    appointment_id: int
    patient_id: int
    corrected: bool
    by: Actor
    at: datetime


@dataclass(frozen=True)
class PsychEvaluationRecorded:
    evaluation_id: int
    patient_id: int
    evaluated_on: date
    cleared: bool
    by: Actor
    at: datetime


@dataclass(frozen=True)
class ClinicalSettingsChanged:
    """The thresholds the candidacy rules apply changed (`changed`: the settings' columns)."""

    changed: frozenset[str]
    by: Actor
    at: datetime

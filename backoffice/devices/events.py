"""What happens to SCS trials, told to the packages above devices (`backoffice.core.events`).

The trial services publish these inside their transaction, once the change is written; handlers
write in the same transaction. `by` is who acted and `at` when (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.core.actor import Actor
from backoffice.devices.rules import TrialResultSource


@dataclass(frozen=True)
class TrialStarted:
    """A trial is on record: started on its patient's page, or when its procedure was completed."""

    trial_id: int
    patient_id: int
    appointment_id: int | None
    by: Actor
    at: datetime


@dataclass(frozen=True)
class TrialResultRecorded:
    """A trial's result (its reductions and the day it ended) or its decision was recorded or
    changed, on the trial page or (`source`) from its trial-end follow-up."""

    trial_id: int
    patient_id: int
    appointment_id: int | None
    source: TrialResultSource
    by: Actor
    at: datetime

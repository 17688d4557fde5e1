"""What makes stored candidacies stale: the handlers of the events that change what a patient's
assessment rests on. Each marks, in the publisher's transaction, the candidacies the candidates
list must work out again before it reads them (`stored_candidacies.py`).

A patient's own records: their appointments (every change of one publishes
`AppointmentStatusChanged`, a move and a cancellation included; a booking publishes
`AppointmentBooked`; a change of levels after booking `AppointmentDetailsChanged`), outcomes,
psychological evaluations, procedures done elsewhere (recorded, corrected, deleted or imported),
SCS trials (started, or their result or decision recorded) and their preferred office (where a
candidacy resting only on procedures done elsewhere is listed).
Everyone's: the thresholds, what the rules read from the catalog, an office's time zone (the local
day a procedure was done on)."""

from __future__ import annotations

from sqlalchemy import Executable, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backoffice.catalog.events import ProcedureTypeAdded, ProcedureTypeChanged
from backoffice.core.events import subscribe
from backoffice.core.extensions import db
from backoffice.devices.events import TrialResultRecorded, TrialStarted
from backoffice.history.events import (
    OutsideProcedureCorrected,
    OutsideProcedureDeleted,
    OutsideProcedureRecorded,
    OutsideProceduresImported,
)
from backoffice.patients.events import PatientChanged
from backoffice.practice.events import OfficeChanged
from backoffice.procedures.events import ClinicalSettingsChanged, OutcomeRecorded, PsychEvaluationRecorded
from backoffice.procedures.histories import MAX_LISTED_IDS
from backoffice.procedures.models import CandidacyCheck
from backoffice.scheduling.events import AppointmentBooked, AppointmentDetailsChanged, AppointmentStatusChanged

# What the rules read of an appointment that can change after booking; its notes and prior
# authorization number change no candidacy.
APPOINTMENT_DETAILS_READ = frozenset({"levels", "levels_count"})
# What the rules read from the catalog; a new name or duration changes no candidacy.
CATALOG_COLUMNS_READ = frozenset({"code", "kind", "frequency_group", "max_per_year", "min_interval",
                                  "min_interval_unit", "interval_scope", "active"})


def _stale_markers(dialect: str, patient_ids: set[int]) -> list[Executable]:
    upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    ordered = sorted(patient_ids)  # rows locked in one order by everyone: no deadlock between markers
    return [upsert(CandidacyCheck).values([{"patient_id": id_} for id_ in ordered[start:start + MAX_LISTED_IDS]])
            .on_conflict_do_update(index_elements=["patient_id"], set_={"holds_until": None})
            for start in range(0, len(ordered), MAX_LISTED_IDS)]


def mark_patients_stale(patient_ids: set[int]) -> None:
    """Their candidacies are worked out again on the next visit to the candidates list (a check
    row is added for a patient who has none yet)."""
    # On the transaction's connection: executing through the session would flush the change
    # being published first, in a flush of its own.
    connection = db.session.connection()
    for statement in _stale_markers(connection.dialect.name, patient_ids):
        connection.execute(statement)


def mark_everyone_stale() -> None:
    """Every stored candidacy is worked out again on the next visit to the candidates list."""
    db.session.connection().execute(update(CandidacyCheck).values(holds_until=None))


@subscribe(AppointmentBooked)
def mark_patient_stale_when_booked(event: AppointmentBooked) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(AppointmentStatusChanged)
def mark_patient_stale_when_an_appointment_changes(event: AppointmentStatusChanged) -> None:
    """Confirmed, checked in (with the baseline pain score), completed, cancelled, moved (the new
    appointment is the same patient's)..."""
    mark_patients_stale({event.patient_id})


@subscribe(AppointmentDetailsChanged)
def mark_patient_stale_when_an_appointments_levels_change(event: AppointmentDetailsChanged) -> None:
    """The rules compare the levels of blocks and carry them to the procedure they lead to."""
    if event.changed & APPOINTMENT_DETAILS_READ:
        mark_patients_stale({event.patient_id})


@subscribe(OutcomeRecorded)
def mark_patient_stale_when_an_outcome_is_recorded(event: OutcomeRecorded) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(PsychEvaluationRecorded)
def mark_patient_stale_when_evaluated(event: PsychEvaluationRecorded) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(OutsideProcedureRecorded)
def mark_patient_stale_when_an_outside_procedure_is_recorded(event: OutsideProcedureRecorded) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(OutsideProcedureCorrected)
def mark_patient_stale_when_an_outside_procedure_is_corrected(event: OutsideProcedureCorrected) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(OutsideProcedureDeleted)
def mark_patient_stale_when_an_outside_procedure_is_deleted(event: OutsideProcedureDeleted) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(OutsideProceduresImported)
def mark_patients_stale_when_outside_procedures_are_imported(event: OutsideProceduresImported) -> None:
    mark_patients_stale(set(event.patient_ids))


@subscribe(PatientChanged)
def mark_patient_stale_when_their_preferred_office_changes(event: PatientChanged) -> None:
    """A candidacy resting only on procedures done elsewhere is listed at the preferred office."""
    if "preferred_office_id" in event.changed:
        mark_patients_stale({event.patient_id})


@subscribe(TrialStarted)
def mark_patient_stale_when_a_trial_starts(event: TrialStarted) -> None:
    mark_patients_stale({event.patient_id})


@subscribe(TrialResultRecorded)
def mark_patient_stale_when_a_trial_result_is_recorded(event: TrialResultRecorded) -> None:
    """Entered on the trial page or at the trial-end follow-up: the trial is the rules' source."""
    mark_patients_stale({event.patient_id})


@subscribe(ClinicalSettingsChanged)
def mark_everyone_stale_when_the_thresholds_change(event: ClinicalSettingsChanged) -> None:
    mark_everyone_stale()


@subscribe(ProcedureTypeAdded)
def mark_everyone_stale_when_a_procedure_is_added(event: ProcedureTypeAdded) -> None:
    """A new procedure of a frequency group may make the group's limits stricter."""
    mark_everyone_stale()


@subscribe(ProcedureTypeChanged)
def mark_everyone_stale_when_the_rules_catalog_changes(event: ProcedureTypeChanged) -> None:
    if event.changed & CATALOG_COLUMNS_READ:
        mark_everyone_stale()


@subscribe(OfficeChanged)
def mark_everyone_stale_when_an_office_moves_time_zone(event: OfficeChanged) -> None:
    """The rules count in the days procedures were done on, local to their office."""
    if "timezone" in event.changed:
        mark_everyone_stale()

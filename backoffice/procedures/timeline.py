"""A patient's course for the patient page: procedures with their follow-ups and decisions,
procedures done elsewhere, psychological evaluations, SCS trials and device implants and
explants, the NRS chart and what the candidacy rules say (with the SCS trials on record, whose
results they read). Ten queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.catalog.rules import Category
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.devices.models import Device, DeviceStatusChange, ScsTrial
from backoffice.history.models import OutsideProcedure
from backoffice.history.rules import relief_hours
from backoffice.history.services import outside_procedures_of
from backoffice.procedures.candidacy import assess_patient
from backoffice.procedures.candidacy_rules import Candidacy
from backoffice.procedures.chart import Chart, ChartProcedure, PainReading, ReliefSpan, course_chart
from backoffice.procedures.models import FollowUp, Outcome, PsychEvaluation
from backoffice.procedures.psych_evaluations import psych_evaluations
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import Status


@dataclass(frozen=True)
class TimelineEntry:
    day: date
    appointment: Appointment | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    psych: PsychEvaluation | None = None
    device_change: DeviceStatusChange | None = None
    trial_started: ScsTrial | None = None
    trial_decided: ScsTrial | None = None
    outside: OutsideProcedure | None = None


@dataclass(frozen=True)
class PatientCourse:
    entries: list[TimelineEntry]
    chart: Chart | None
    candidacies: list[Candidacy]
    psych_evaluations: list[PsychEvaluation]
    devices: list[Device]
    since: date | None = None  # the timeline's first day; None: the whole course
    outside: tuple[OutsideProcedure, ...] = ()  # every procedure done elsewhere, newest first


def _local_day(appointment: Appointment) -> date:
    return appointment.starts_at.astimezone(ZoneInfo(appointment.office.timezone)).date()


def _is_procedure(appointment: Appointment) -> bool:
    return appointment.status is Status.COMPLETED and appointment.procedure_type.category is not Category.VISIT


def _outside_on_chart(outside: Sequence[OutsideProcedure]) -> tuple[list[ChartProcedure], list[ReliefSpan]]:
    """Procedures done elsewhere, marked apart, with how long their relief lasted when known."""
    procedures: list[ChartProcedure] = []
    spans: list[ReliefSpan] = []
    for done in outside:
        code = done.procedure_type.code
        place = " ".join(filter(None, [done.region, done.side]))
        procedures.append(ChartProcedure(done.performed_on, code, place, done.procedure_type.category,
                                         done.done_elsewhere))
        hours = relief_hours(done.relief_amount, done.relief_unit)
        if done.percent_relief is not None and hours is not None:
            spans.append(ReliefSpan(done.performed_on, hours / 24, False, done.percent_relief, f"{code} (outside)",
                                    done.relief_said))
    return procedures, spans


def _chart(appointments: list[Appointment], follow_ups: dict[int, list[FollowUp]],
           outside: Sequence[OutsideProcedure], today: date) -> Chart | None:
    readings: list[PainReading] = []
    procedures, spans = _outside_on_chart(outside)
    for appointment in filter(_is_procedure, appointments):
        day, code = _local_day(appointment), appointment.procedure_type.code
        place = " ".join(filter(None, [appointment.region, appointment.side]))
        procedures.append(ChartProcedure(day, code, place, appointment.procedure_type.category))
        outcomes = [f.outcome for f in follow_ups.get(appointment.id, []) if f.outcome is not None]
        baseline = appointment.baseline_nrs
        if baseline is None:
            baseline = next((o.baseline_nrs for o in outcomes if o.baseline_nrs is not None), None)
        if baseline is not None:
            readings.append(PainReading(day, baseline, f"before {code}", appointment.id))
        for follow_up in follow_ups.get(appointment.id, []):
            if follow_up.outcome is not None and follow_up.outcome.post_nrs is not None:
                readings.append(PainReading(follow_up.outcome.recorded_on, follow_up.outcome.post_nrs,
                                            f"{code} follow-up ({follow_up.delay_label})", appointment.id))
        latest = max(outcomes, key=lambda o: o.recorded_on, default=None)
        if latest is not None and (latest.relief_hours is not None or latest.relief_ongoing):
            spans.append(ReliefSpan(day, latest.relief_hours / 24 if latest.relief_hours is not None else None,
                                    latest.relief_ongoing, latest.percent_relief, code, latest.relief_said))
    return course_chart(readings, procedures, spans, today=today)


def _device_changes(patient_id: int) -> list[DeviceStatusChange]:
    """Every status change of the patient's devices, with the devices as the devices card shows
    them (each device has at least its first change, so this reads them all)."""
    return list(db.session.scalars(
        select(DeviceStatusChange).where(DeviceStatusChange.patient_id == patient_id)
        .options(joinedload(DeviceStatusChange.device).joinedload(Device.physician),
                 joinedload(DeviceStatusChange.device).joinedload(Device.successor))
        .order_by(DeviceStatusChange.id)).unique())


def _devices(changes: list[DeviceStatusChange]) -> list[Device]:
    devices = {change.device_id: change.device for change in changes}
    return sorted(devices.values(), key=lambda d: (d.implanted_on, d.id), reverse=True)


def _device_entries(changes: list[DeviceStatusChange], trials: list[ScsTrial]) -> list[TimelineEntry]:
    entries = [TimelineEntry(change.changed_on, device_change=change) for change in changes]
    for trial in trials:
        entries.append(TimelineEntry(trial.started_on, trial_started=trial))
        if trial.decision is not None and trial.decided_on is not None:
            entries.append(TimelineEntry(trial.decided_on, trial_decided=trial))
    return entries


def patient_course(patient_id: int, *, today: date, by: Actor, since: date | None = None) -> PatientCourse | None:
    """None for those whose work does not need clinical detail (schedulers see appointments only).
    Procedures and follow-ups from `since` on (the whole course when None); evaluations and
    devices always, as there are few and they matter for years."""
    if not by.can(Permission.READ_CLINICAL_COURSE):
        return None
    start = datetime.combine(since, time(0), UTC) if since else datetime.min.replace(tzinfo=UTC)
    appointments = list(db.session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id, Appointment.starts_at >= start)
        .options(joinedload(Appointment.procedure_type), joinedload(Appointment.office),
                 joinedload(Appointment.room), joinedload(Appointment.physician))
        .order_by(Appointment.starts_at.desc())).unique())
    follow_ups: dict[int, list[FollowUp]] = defaultdict(list)
    for follow_up in db.session.scalars(
            select(FollowUp).where(FollowUp.patient_id == patient_id, FollowUp.due_at >= start)
            .options(joinedload(FollowUp.outcome).joinedload(Outcome.recorded_by))
            .order_by(FollowUp.due_at)).unique():
        follow_ups[follow_up.appointment_id].append(follow_up)
    evaluations = psych_evaluations(patient_id)
    outside = outside_procedures_of(patient_id)
    shown_outside = [done for done in outside if since is None or done.performed_on >= since]
    entries = [TimelineEntry(_local_day(a), appointment=a, follow_ups=tuple(follow_ups.get(a.id, [])))
               for a in appointments]
    entries += [TimelineEntry(done.performed_on, outside=done) for done in shown_outside]
    entries += [TimelineEntry(e.evaluated_on, psych=e) for e in evaluations]
    changes = _device_changes(patient_id)
    assessment = assess_patient(patient_id, today=today)  # with the trials on record, whose results it read
    entries += _device_entries(changes, assessment.trials)
    entries.sort(key=lambda entry: entry.day, reverse=True)
    return PatientCourse(entries, _chart(appointments, follow_ups, shown_outside, today), assessment.candidacies,
                         evaluations, _devices(changes), since, tuple(outside))

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, Numeric, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.audit.trail import Audited
from backoffice.catalog.rules import DeviceKind
from backoffice.core.db import Base, Versioned, enum_column_type
from backoffice.devices.rules import (
    IN_THE_PATIENT,
    DeviceStatus,
    TrialDecision,
    TrialResultSource,
    trial_result_said,
)
from backoffice.patients.models import Patient
from backoffice.practice.models import Office, Physician
from backoffice.scheduling.models import Appointment

VOLUME = Numeric(7, 2)      # mL
AMOUNT = Numeric(9, 3)      # mg/mL, mg/day


class ScsTrial(Audited, Versioned, Base):
    """A spinal cord stimulator trial: temporary leads for about a week, its result and the
    decision it leads to. The one home of a trial's result: the reductions it gave and the day it
    ended, entered on the trial page or at its trial-end follow-up (the later entry wins), which
    the candidacy rules and the device worklists read."""

    __tablename__ = "scs_trial"
    __table_args__ = (
        CheckConstraint("planned_end_on >= started_on", name="ends_after_start"),
        CheckConstraint("pain_reduction_percent BETWEEN 0 AND 100", name="pain_reduction_range"),
        CheckConstraint("analgesic_reduction_percent BETWEEN 0 AND 100", name="analgesic_reduction_range"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ended_after_start"),
        Index("ix_scs_trial_open", "decision", "planned_end_on"),
        # A trial procedure done here is one trial.
        Index("ix_scs_trial_appointment", "appointment_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    started_on: Mapped[date]
    planned_end_on: Mapped[date]
    pain_reduction_percent: Mapped[int | None]
    analgesic_reduction_percent: Mapped[int | None]
    ended_on: Mapped[date | None]  # set with the result: a trial with a result has ended
    result_source: Mapped[TrialResultSource | None] = mapped_column(enum_column_type(TrialResultSource, 12))
    decision: Mapped[TrialDecision | None] = mapped_column(enum_column_type(TrialDecision, 10))
    decided_on: Mapped[date | None]
    implant_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    notes: Mapped[str | None] = mapped_column(String(500))

    patient: Mapped[Patient] = relationship()
    physician: Mapped[Physician] = relationship()
    office: Mapped[Office] = relationship()
    appointment: Mapped[Appointment | None] = relationship(foreign_keys=[appointment_id])

    @property
    def result_said(self) -> str:
        """"65% reduction of target pain, 40% of analgesic use"."""
        return trial_result_said(self.pain_reduction_percent, self.analgesic_reduction_percent)

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_details(self) -> dict[str, Any]:
        return {"started_on": self.started_on}


class Device(Audited, Versioned, Base):
    """One implanted (or trial) device in one patient, from implant to explant or replacement."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint("explanted_on IS NULL OR explanted_on >= implanted_on", name="explant_after_implant"),
        CheckConstraint("reservoir_ml IS NULL OR reservoir_ml > 0", name="reservoir_positive"),
        Index("ix_device_status_next_refill", "status", "next_refill_on"),
        Index("ix_device_lot", "lot"),
        Index("ix_device_serial", "serial"),
        Index("ix_device_gtin", "gtin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[DeviceKind] = mapped_column(enum_column_type(DeviceKind, 20))
    device_model_id: Mapped[int | None] = mapped_column(ForeignKey("device_model.id"))
    manufacturer: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(80))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    expiry: Mapped[date | None]
    manufactured: Mapped[date | None]
    implanted_on: Mapped[date]
    physician_id: Mapped[int | None] = mapped_column(ForeignKey("physician.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("scs_trial.id"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    site: Mapped[str | None] = mapped_column(String(80))
    mri_conditional: Mapped[bool] = mapped_column(default=False)
    rechargeable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[DeviceStatus] = mapped_column(enum_column_type(DeviceStatus, 10), default=DeviceStatus.IMPLANTED)
    explanted_on: Mapped[date | None]
    explant_reason: Mapped[str | None] = mapped_column(String(200))
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    eri_on: Mapped[date | None]
    replacement_due_on: Mapped[date | None]
    # Pumps: the reservoir, and the drug as last filled, which the refill log keeps over time.
    reservoir_ml: Mapped[Decimal | None] = mapped_column(VOLUME)
    drug: Mapped[str | None] = mapped_column(String(60))
    concentration_mg_ml: Mapped[Decimal | None] = mapped_column(AMOUNT)
    daily_dose_mg: Mapped[Decimal | None] = mapped_column(AMOUNT)
    next_refill_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(String(500))

    patient: Mapped[Patient] = relationship()
    physician: Mapped[Physician | None] = relationship()
    office: Mapped[Office | None] = relationship()
    successor: Mapped[Device | None] = relationship(remote_side=[id])

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    @hybrid_property
    def is_mri_unsafe(self) -> bool:
        """In the patient (on trial or implanted) and not MRI conditional: the one definition of the
        MRI warning, in Python and as SQL."""
        return self.is_active and not self.mri_conditional

    @is_mri_unsafe.inplace.expression
    @classmethod
    def _is_mri_unsafe_expression(cls) -> ColumnElement[bool]:
        return cls.status.in_(IN_THE_PATIENT) & cls.mri_conditional.is_(False)

    @property
    def name(self) -> str:
        return f"{self.manufacturer} {self.model}"

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_details(self) -> dict[str, Any]:
        return {"kind": self.kind.label, "manufacturer": self.manufacturer, "model": self.model,
                "serial": self.serial}


class DeviceStatusChange(Audited, Base):
    """The history of a device's status: implanted, explanted, replaced, and why."""

    __tablename__ = "device_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    from_status: Mapped[DeviceStatus | None] = mapped_column(enum_column_type(DeviceStatus, 10))
    to_status: Mapped[DeviceStatus] = mapped_column(enum_column_type(DeviceStatus, 10))
    changed_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    device: Mapped[Device] = relationship()

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_details(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "from_status": self.from_status, "to_status": self.to_status}


class PumpRefill(Audited, Versioned, Base):
    """One refill of an intrathecal pump, with the volumes that show whether it went as expected
    and the date the next one is due."""

    __tablename__ = "pump_refill"
    __table_args__ = (
        CheckConstraint("withdrawn_ml >= 0", name="withdrawn_not_negative"),
        CheckConstraint("added_ml > 0", name="added_positive"),
        CheckConstraint("daily_ml > 0", name="daily_positive"),
        Index("ix_pump_refill_device_day", "device_id", "refilled_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    refilled_on: Mapped[date]
    drug: Mapped[str] = mapped_column(String(60))
    concentration_mg_ml: Mapped[Decimal] = mapped_column(AMOUNT)
    daily_dose_mg: Mapped[Decimal] = mapped_column(AMOUNT)
    daily_ml: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    expected_residual_ml: Mapped[Decimal | None] = mapped_column(VOLUME)
    withdrawn_ml: Mapped[Decimal] = mapped_column(VOLUME)
    added_ml: Mapped[Decimal] = mapped_column(VOLUME)
    alarm_ml: Mapped[Decimal] = mapped_column(VOLUME)
    stability_days: Mapped[int]
    margin_days: Mapped[int]
    mismatch: Mapped[bool] = mapped_column(default=False)
    next_due_on: Mapped[date]
    alarm_note: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    device: Mapped[Device] = relationship()
    office: Mapped[Office] = relationship()

    def audit_patient_id(self) -> int | None:
        return self.patient_id

    def audit_office_id(self) -> int | None:
        return self.office_id

    def audit_details(self) -> dict[str, Any]:
        return {"refilled_on": self.refilled_on, "added_ml": self.added_ml, "drug": self.drug}

"""Every model, imported in one place so the metadata (and Alembic) sees all tables."""

from backoffice.audit.models import AuditEvent
from backoffice.auth.mfa_models import MfaCredential, RecoveryCode
from backoffice.auth.models import User
from backoffice.catalog.models import DeviceModel, ProcedureType
from backoffice.devices.models import Device, DeviceStatusChange, PumpRefill, ScsTrial
from backoffice.history.models import OutsideProcedure
from backoffice.insurance.models import Coverage, Payer
from backoffice.patients.models import Patient, PatientNameToken
from backoffice.practice.models import (
    Office,
    OfficeClosure,
    OfficeHours,
    Physician,
    PhysicianLeave,
    PhysicianSchedule,
    Room,
)
from backoffice.procedures.models import ClinicalSettings, FollowUp, Outcome, PsychEvaluation
from backoffice.scheduling.models import Appointment, SchedulingRequest

__all__ = [
    "Appointment",
    "AuditEvent",
    "ClinicalSettings",
    "Coverage",
    "Device",
    "DeviceModel",
    "DeviceStatusChange",
    "FollowUp",
    "MfaCredential",
    "Office",
    "OfficeClosure",
    "OfficeHours",
    "Outcome",
    "OutsideProcedure",
    "Patient",
    "PatientNameToken",
    "Payer",
    "Physician",
    "PhysicianLeave",
    "PhysicianSchedule",
    "ProcedureType",
    "PsychEvaluation",
    "PumpRefill",
    "RecoveryCode",
    "Room",
    "SchedulingRequest",
    "ScsTrial",
    "User",
]

"""The flag devices puts on patients: an implant in them that is not MRI conditional."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import QueryableAttribute

from backoffice.devices.models import Device
from backoffice.devices.rules import DeviceStatus
from backoffice.patients.flags import PatientFlag, patient_flags

IN_THE_PATIENT = [status for status in DeviceStatus if status.is_active]


def has_mri_unsafe_implant(patient_id: QueryableAttribute[int]) -> ColumnElement[bool]:
    return exists().where(Device.patient_id == patient_id, Device.status.in_(IN_THE_PATIENT),
                          Device.mri_conditional.is_(False))


MRI_UNSAFE = PatientFlag("mri_unsafe", "MRI unsafe", "Has an implant that is not MRI conditional",
                         has_mri_unsafe_implant)


@patient_flags.connect
def mri_unsafe(_sender: object) -> PatientFlag:
    return MRI_UNSAFE

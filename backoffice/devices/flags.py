"""The flag devices puts on patients: an implant in them that is not MRI conditional."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists
from sqlalchemy.orm import QueryableAttribute

from backoffice.devices.models import Device
from backoffice.patients.flags import PatientFlag, patient_flags


def has_mri_unsafe_implant(patient_id: QueryableAttribute[int]) -> ColumnElement[bool]:
    return exists().where(Device.patient_id == patient_id, Device.is_mri_unsafe)


MRI_UNSAFE = PatientFlag("mri_unsafe", "MRI unsafe", "Has an implant that is not MRI conditional",
                         has_mri_unsafe_implant)


@patient_flags.connect
def mri_unsafe(_sender: object) -> PatientFlag:
    return MRI_UNSAFE

"""Flags other packages put on patients for the pages that list them: devices flags a patient with
an implant in them that is not MRI conditional, as a condition the page's own query selects, on
both engines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from backoffice.core.extensions import db
from backoffice.devices.flags import MRI_UNSAFE
from backoffice.devices.models import Device
from backoffice.devices.rules import DeviceStatus
from backoffice.patients.flags import PatientFlag, known_flags
from backoffice.patients.models import Patient

from .scheduling_helpers import patients

pytestmark = pytest.mark.usefixtures("demo", "app_context")
A_YEAR_AGO = date.today() - timedelta(days=365)


def implant(patient: Patient, *, mri_conditional: bool, status: DeviceStatus = DeviceStatus.IMPLANTED) -> None:
    explanted_on = date.today() if status in (DeviceStatus.EXPLANTED, DeviceStatus.REPLACED) else None
    db.session.execute(insert(Device).values(
        patient_id=patient.id, kind="scs_generator", manufacturer="Boston Scientific", model="Precision",
        implanted_on=A_YEAR_AGO, mri_conditional=mri_conditional, status=status.value, explanted_on=explanted_on))
    db.session.commit()


def carrying(flag: PatientFlag) -> set[int]:
    """The patients a page listing every patient would show with the flag."""
    return set(db.session.scalars(select(Patient.id).where(flag.carried_by(Patient.id))))


def test_the_app_knows_the_mri_flag_that_devices_puts_on_patients():
    assert known_flags() == [MRI_UNSAFE]
    assert (MRI_UNSAFE.label, MRI_UNSAFE.title) == ("MRI unsafe", "Has an implant that is not MRI conditional")


def test_a_patient_carries_the_mri_flag_while_an_implant_that_is_not_mri_conditional_is_in_them():
    conditional, unsafe, on_trial, explanted, replaced = patients()[:5]
    implant(conditional, mri_conditional=True)
    implant(unsafe, mri_conditional=True)
    implant(unsafe, mri_conditional=False)
    implant(on_trial, mri_conditional=False, status=DeviceStatus.TRIAL)
    implant(explanted, mri_conditional=False, status=DeviceStatus.EXPLANTED)
    implant(replaced, mri_conditional=False, status=DeviceStatus.REPLACED)
    assert carrying(MRI_UNSAFE) == {unsafe.id, on_trial.id}

"""The patient page's implanted devices, and the MRI warning under the patient's name.

Those who read the clinical course get these sections from it (procedures.patient_page), built
from the devices its timeline has already loaded; everyone else gets them from here.
"""

from __future__ import annotations

from typing import Any

from backoffice.core.actor import Actor
from backoffice.core.pages import Section
from backoffice.core.permissions import Permission
from backoffice.devices.models import Device
from backoffice.devices.services import devices_of_patient
from backoffice.patients.models import Patient
from backoffice.patients.pages import patient_page


def devices_sections(devices: list[Device]) -> list[Section]:
    sections = [Section("devices/_patient_devices.html", order=10, place="side", context={"devices": devices})]
    if any(device.is_mri_unsafe for device in devices):
        sections.append(Section("devices/_mri_unsafe_flag.html", order=10, place="flags"))
    return sections


@patient_page.connect
def devices_without_course(patient: Patient, *, by: Actor, **_: Any) -> list[Section]:
    if by.can(Permission.READ_CLINICAL_COURSE):
        return []
    return devices_sections(devices_of_patient(patient.id))

"""The patient page's implanted devices, and the MRI warning under the patient's name."""

from __future__ import annotations

from typing import Any

from backoffice.core.pages import Section
from backoffice.devices.services import devices_of_patient
from backoffice.patients.models import Patient
from backoffice.patients.pages import patient_page


@patient_page.connect
def devices_sections(patient: Patient, **_: Any) -> list[Section]:
    devices = devices_of_patient(patient.id)
    sections = [Section("devices/_patient_devices.html", order=10, place="side", context={"devices": devices})]
    if any(device.is_active and not device.mri_conditional for device in devices):
        sections.append(Section("devices/_mri_unsafe_flag.html", order=10, place="flags"))
    return sections

"""The patient page's list of appointments, for those who do not read the clinical course (which
shows the appointments among the follow-ups and decisions)."""

from __future__ import annotations

from typing import Any

from backoffice.core.actor import Actor
from backoffice.core.pages import Section
from backoffice.core.permissions import Permission
from backoffice.patients.models import Patient
from backoffice.patients.pages import patient_page
from backoffice.scheduling.calendars import patient_appointments


@patient_page.connect
def appointments_section(patient: Patient, *, by: Actor, **_: Any) -> Section | None:
    if by.can(Permission.READ_CLINICAL_COURSE):
        return None
    return Section("scheduling/_patient_appointments.html", order=20, place="main",
                   context={"appointments": patient_appointments(patient.id)})

"""The patient page's insurance: the primary and secondary coverage in force today, those starting
later and those that ended, with the links to add, change and remove one. Everyone who opens the
patient's page reads it (one query)."""

from __future__ import annotations

from datetime import date
from typing import Any

from backoffice.core.pages import Section
from backoffice.insurance.coverage import coverages_of
from backoffice.insurance.rules import arrange
from backoffice.patients.models import Patient
from backoffice.patients.pages import patient_page


@patient_page.connect
def coverage_section(patient: Patient, *, today: date, **_: Any) -> Section:
    return Section("insurance/_patient_coverage.html", order=10, place="insurance",
                   context={"coverage": arrange(coverages_of(patient.id), today)})

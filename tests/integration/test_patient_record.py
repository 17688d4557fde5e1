"""The patient record beyond name and contact: sex, the emergency contact and the physicians
outside the practice, stored and audited like the rest of the record."""

from __future__ import annotations

from datetime import date

import pytest

from backoffice.core.extensions import db
from backoffice.patients import rules
from backoffice.patients import services as patients
from backoffice.patients.models import Patient
from backoffice.patients.rules import Sex

from .helpers import NOW, actor_for, audit_rows, make_user, patient_data

pytestmark = pytest.mark.usefixtures("app_context")

DETAILS = dict(sex=Sex.FEMALE, emergency_contact_name="Tom Gonzalez", emergency_contact_relationship="Spouse",
               emergency_contact_phone="+14105550188", referring_name="Dr. Ruth Park",
               referring_practice="Severn Orthopedics, Annapolis", referring_phone="+14105550170",
               referring_fax="+14105550171", primary_care_name="Dr. Sam Ortiz",
               primary_care_practice="Bay Family Medicine", primary_care_phone=None, primary_care_fax="+14435550172")


@pytest.fixture
def actor():
    return actor_for(make_user())


def test_the_record_keeps_sex_emergency_contact_and_outside_physicians(actor):
    created = patients.create_patient(patient_data(**DETAILS), confirm_duplicate=False, by=actor, now=NOW)
    db.session.expire_all()

    patient = db.session.get(Patient, created.id)
    assert patient.sex is Sex.FEMALE
    assert (patient.emergency_contact_name, patient.emergency_contact_phone) == ("Tom Gonzalez", "+14105550188")
    referring, primary_care = patient.outside_physicians
    assert (referring.name, referring.fax, referring.is_known) == ("Dr. Ruth Park", "+14105550171", True)
    assert (primary_care.practice, primary_care.phone) == ("Bay Family Medicine", None)
    created_row = audit_rows(entity_type="patient", action="create")[0]
    assert created_row.changes["sex"] == [None, "female"]
    assert created_row.changes["referring_name"] == [None, "Dr. Ruth Park"]


def test_changing_the_emergency_contact_is_audited_field_by_field(actor):
    created = patients.create_patient(patient_data(**DETAILS), confirm_duplicate=False, by=actor, now=NOW)
    patients.update_patient(created.id, patient_data(**{**DETAILS, "sex": Sex.UNKNOWN,
                                                        "emergency_contact_phone": "+14435550101"}),
                            expected_version=created.version, confirm_duplicate=False, by=actor, now=NOW)

    updated = audit_rows(entity_type="patient", action="update")[0]
    assert updated.changes == {"sex": ["female", "unknown"],
                               "emergency_contact_phone": ["+14105550188", "+14435550101"]}


def test_a_patient_registered_before_sex_was_asked_has_none_and_no_outside_physician(actor):
    created = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
    assert created.sex is None
    assert [physician.is_known for physician in created.outside_physicians] == [False, False]


def test_a_name_that_folds_longer_than_its_column_is_stored_and_found(actor):
    """"ß" folds to "ss": sixty of them would make a 120-character key."""
    patients.create_patient(patient_data(first_name="Greta", last_name="ß" * 60, date_of_birth=date(1950, 1, 1)),
                            confirm_duplicate=False, by=actor, now=NOW)
    found = patients.search_patients(rules.parse_search("ssss"), by=actor)
    assert [p.first_name for p in found] == ["Greta"]

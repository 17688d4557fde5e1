"""The patient's sex, emergency contact and outside physicians on the forms and the page, and
search by each word of a two-part or hyphenated name, over HTTP."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.core.actor import Actor
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.patients import services as patients
from backoffice.patients.models import Patient
from backoffice.patients.rules import Sex

from .browser_form import form_values
from .test_patient_pages import NEW

RECORD = {**NEW, "sex": "female", "emergency_contact_name": "william king",
          "emergency_contact_relationship": "Spouse", "emergency_contact_phone": "410-555-0112",
          "referring_name": "Dr. Ruth Park", "referring_practice": "Severn Orthopedics, Annapolis",
          "referring_phone": "(410) 555-0170", "referring_fax": "410.555.0171",
          "primary_care_name": "Dr. Sam Ortiz", "primary_care_practice": "Bay Family Medicine",
          "primary_care_phone": "", "primary_care_fax": "443-555-0172"}


def register(client, **changes) -> int:
    response = client.post("/patients/new", data={**RECORD, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def test_the_patient_page_shows_sex_emergency_contact_and_outside_physicians(app, signed_in):
    client = signed_in("scheduler")
    patient_id = register(client)
    page = client.get(f"/patients/{patient_id}").get_data(as_text=True)

    assert "Born 12/10/1960 · Female · MRN" in page
    contacts = page[page.index('id="contacts-heading"'):]
    assert "William King (Spouse)<br>(410) 555-0112" in contacts  # typed in lower case, stored with capitals
    assert "Dr. Ruth Park, Severn Orthopedics, Annapolis" in contacts
    assert "Phone (410) 555-0170" in contacts and "Fax (410) 555-0171" in contacts
    assert "Dr. Sam Ortiz, Bay Family Medicine" in contacts and "Fax (443) 555-0172" in contacts
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert (patient.sex, patient.referring_fax, patient.primary_care_phone) == (Sex.FEMALE, "+14105550171", None)


def test_a_new_patient_needs_a_sex_and_unknown_is_an_answer(app, signed_in):
    client = signed_in("scheduler")
    refused = client.post("/patients/new", data={**RECORD, "sex": ""})
    assert refused.status_code == 400
    assert "Choose the sex (Unknown if it was not given)." in refused.get_data(as_text=True)
    patient_id = register(client, sex="unknown")
    assert "Born 12/10/1960 · Unknown · MRN" in client.get(f"/patients/{patient_id}").get_data(as_text=True)


def test_an_emergency_contact_needs_both_a_name_and_a_phone(app, signed_in):
    client = signed_in("scheduler")
    without_phone = client.post("/patients/new", data={**RECORD, "emergency_contact_phone": ""})
    assert "Give the emergency contact&#39;s phone number." in without_phone.get_data(as_text=True)
    without_name = client.post("/patients/new", data={**RECORD, "emergency_contact_name": ""})
    assert "Give the emergency contact&#39;s name." in without_name.get_data(as_text=True)
    bad_number = client.post("/patients/new", data={**RECORD, "referring_fax": "555-0171"})
    assert bad_number.status_code == 400
    assert "Enter a valid phone number" in bad_number.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Patient).where(Patient.last_name == "Lovelace")).all() == []


def test_a_patient_registered_before_sex_was_asked_is_asked_on_the_next_edit(app, signed_in):
    with app.app_context():
        patient = patients.create_patient(
            patients.PatientData(first_name="Olive", last_name="Tran", date_of_birth=date(1950, 5, 5), phone=None,
                                 email=None, address=None, city=None, state=None, postal_code=None,
                                 preferred_office_id=None),
            confirm_duplicate=False, by=Actor.system("test"), now=utcnow())
        patient_id = patient.id
        db.session.remove()
    client = signed_in("nurse")
    assert "Sex not recorded" in client.get(f"/patients/{patient_id}").get_data(as_text=True)
    form = form_values(client.get(f"/patients/{patient_id}/edit").get_data(as_text=True))
    assert form["sex"] == [""]
    form["city"] = ["Annapolis"]
    refused = client.post(f"/patients/{patient_id}/edit", data=form)
    assert refused.status_code == 400 and "Choose the sex" in refused.get_data(as_text=True)
    form["sex"] = ["male"]
    assert client.post(f"/patients/{patient_id}/edit", data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient_id).sex is Sex.MALE


def test_editing_the_new_fields_is_audited_and_a_stale_edit_keeps_both_peoples_changes(app, signed_in):
    first, second = signed_in("scheduler"), signed_in("nurse")
    patient_id = register(first)
    first_form = form_values(first.get(f"/patients/{patient_id}/edit").get_data(as_text=True))
    second_form = form_values(second.get(f"/patients/{patient_id}/edit").get_data(as_text=True))
    assert first_form["sex"] == ["female"] and first_form["referring_fax"] == ["(410) 555-0171"]

    first_form["emergency_contact_phone"] = ["(443) 555-0199"]
    assert first.post(f"/patients/{patient_id}/edit", data=first_form).status_code == 302
    second_form["primary_care_name"] = ["Dr. Lee Chen"]
    refused = second.post(f"/patients/{patient_id}/edit", data=second_form)
    assert refused.status_code == 409
    merged = form_values(refused.get_data(as_text=True))
    assert merged["emergency_contact_phone"] == ["(443) 555-0199"] and merged["primary_care_name"] == ["Dr. Lee Chen"]
    assert second.post(f"/patients/{patient_id}/edit", data=merged).status_code == 302

    with app.app_context():
        updates = db.session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id,
                                                              AuditEvent.action == "update")
                                     .order_by(AuditEvent.id)).all()
        assert [e.changes for e in updates] == [
            {"emergency_contact_phone": ["+14105550112", "+14435550199"]},
            {"primary_care_name": ["Dr. Sam Ortiz", "Dr. Lee Chen"]}]


def test_search_finds_each_word_of_a_hyphenated_or_two_part_surname(signed_in):
    client = signed_in("scheduler")
    for first, last in (("Linh", "O'Brien-Nguyen"), ("María", "Garcia Lopez"), ("Ana", "Lopez Garcia")):
        register(client, first_name=first, last_name=last, phone="", emergency_contact_name="",
                 emergency_contact_phone="")

    found = client.get("/patients?q=nguyen").get_data(as_text=True)
    assert "O&#39;Brien-Nguyen, Linh" in found
    garcia = client.get("/patients?q=garcia").get_data(as_text=True)
    assert "Garcia Lopez, María" in garcia and "Lopez Garcia, Ana" in garcia
    only_ana = client.get("/patients", query_string={"q": "lopez garcia, ana"}).get_data(as_text=True)
    assert "Lopez Garcia, Ana" in only_ana and "Garcia Lopez, María" not in only_ana
    typed = client.get("/patients/search.json?q=nguy").get_json()
    assert [row["label"].split(",")[0] for row in typed] == ["O'Brien-Nguyen"]

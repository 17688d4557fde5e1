from __future__ import annotations

from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.patients.models import Patient
from tests.conftest import QueryCounter

NEW = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1960-12-10",
       "phone": "410-555-0111", "email": "ada@example.com", "address": "12 Main St",
       "city": "Annapolis", "state": "md", "postal_code": "21401", "preferred_office_id": "1",
       "payer": "Aetna", "member_id": "ABC123"}


def patient_events(app, patient_id):
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id)
                                       .order_by(AuditEvent.id)))


def test_creating_editing_and_opening_a_patient_leaves_three_audit_rows(app, signed_in):
    client = signed_in("scheduler")
    created = client.post("/patients/new", data=NEW)
    patient_id = int(created.location.rsplit("/", 1)[1])
    edited = client.post(f"/patients/{patient_id}/edit",
                         data={**NEW, "phone": "(443) 555-0199", "version": "1"})
    assert edited.location == f"/patients/{patient_id}"
    page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "(443) 555-0199" in page and "Ada Lovelace" in page

    events = patient_events(app, patient_id)
    assert [e.action for e in events] == ["create", "update", "view"]
    assert all(e.username == "scheduler" and e.client_address for e in events)
    assert events[1].changes == {"phone": ["+14105550111", "+14435550199"]}
    assert events[0].changes["state"] == [None, "MD"]


def test_a_possible_duplicate_is_shown_and_needs_a_tick_to_register(app, signed_in):
    client = signed_in("scheduler")
    client.post("/patients/new", data=NEW)
    second = client.post("/patients/new", data={**NEW, "first_name": "ADA", "phone": ""})
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "already registered" in html and "Ada Lovelace, born 12/10/1960" in html
    third = client.post("/patients/new", data={**NEW, "confirm_duplicate": "y"})
    assert third.status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(Patient).where(Patient.last_name == "Lovelace")).all()) == 2


def test_the_second_of_two_editors_is_refused_and_loses_nothing(app, signed_in):
    first, second = signed_in("scheduler"), signed_in("nurse")
    patient_id = int(first.post("/patients/new", data=NEW).location.rsplit("/", 1)[1])
    assert first.post(f"/patients/{patient_id}/edit",
                      data={**NEW, "payer": "Medicare", "version": "1"}).status_code == 302
    refused = second.post(f"/patients/{patient_id}/edit",
                          data={**NEW, "member_id": "XYZ999", "version": "1"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "changed by Dana Whitaker" in html            # who saved first
    assert "Medicare" in html                             # what they saved
    assert 'value="XYZ999"' in html                       # what this user typed is kept
    assert 'name="version" type="hidden" value="2"' in html
    saved_again = second.post(f"/patients/{patient_id}/edit",
                              data={**NEW, "payer": "Medicare", "member_id": "XYZ999", "version": "2"})
    assert saved_again.status_code == 302
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert (patient.payer, patient.member_id, patient.version) == ("Medicare", "XYZ999", 3)


def test_search_page_lists_matches_and_explains_no_match(signed_in):
    client = signed_in("nurse")
    client.post("/patients/new", data=NEW)
    found = client.get("/patients?q=lovel").get_data(as_text=True)
    assert "Lovelace, Ada" in found
    assert "No patient matches" in client.get("/patients?q=zzzzz").get_data(as_text=True)
    assert "not a date" in client.get("/patients?q=13/45/2000").get_data(as_text=True)


def test_search_results_do_not_open_records_in_the_audit_trail(app, signed_in):
    client = signed_in("nurse")
    client.get("/patients?q=a")
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view")).all() == []


def test_the_search_page_uses_the_same_few_queries_however_many_patients_match(app, signed_in):
    client = signed_in("scheduler")
    with QueryCounter(app) as few:
        client.get("/patients?q=lov")
    for number in range(30):
        first_name = "Ada" + chr(97 + number % 26) * (1 + number // 26)
        client.post("/patients/new", data={**NEW, "first_name": first_name,
                                           "preferred_office_id": str(1 + number % 2)})
    with QueryCounter(app) as many:
        html = client.get("/patients?q=lovelace").get_data(as_text=True)
    assert html.count("Lovelace, Ada") == 30
    assert many.count == few.count <= 3

from __future__ import annotations

from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from tests.conftest import QueryCounter

from .browser_form import form_values

NEW = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1960-12-10",
       "phone": "410-555-0111", "email": "ada@example.com", "address": "12 Main St",
       "city": "Annapolis", "state": "MD", "postal_code": "21401", "preferred_office_id": "1",
       "sex": "female"}


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


def edit_form(client, patient_id):
    return form_values(client.get(f"/patients/{patient_id}/edit").get_data(as_text=True))


def test_the_second_of_two_editors_keeps_both_peoples_changes(app, signed_in):
    first, second = signed_in("scheduler"), signed_in("nurse")
    patient_id = int(first.post("/patients/new", data=NEW).location.rsplit("/", 1)[1])
    first_form, second_form = edit_form(first, patient_id), edit_form(second, patient_id)

    first_form["phone"] = ["(443) 555-0199"]
    assert first.post(f"/patients/{patient_id}/edit", data=first_form).status_code == 302
    second_form["email"] = ["ada.l@example.com"]
    refused = second.post(f"/patients/{patient_id}/edit", data=second_form)

    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "changed by Dana Whitaker after you opened it" in html
    merged = form_values(html)
    assert merged["phone"] == ["(443) 555-0199"]          # what the first editor saved
    assert merged["email"] == ["ada.l@example.com"]       # what this editor typed
    assert second.post(f"/patients/{patient_id}/edit", data=merged).status_code == 302
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert (patient.phone, patient.email, patient.version) == ("+14435550199", "ada.l@example.com", 3)


def test_a_field_both_editors_changed_keeps_mine_and_says_what_the_other_saved(signed_in):
    first, second = signed_in("scheduler"), signed_in("nurse")
    patient_id = int(first.post("/patients/new", data=NEW).location.rsplit("/", 1)[1])
    first_form, second_form = edit_form(first, patient_id), edit_form(second, patient_id)
    first.post(f"/patients/{patient_id}/edit", data={**first_form, "address": "7 Bay Ridge Rd"})
    refused = second.post(f"/patients/{patient_id}/edit", data={**second_form, "address": "40 Duke of Gloucester St"})
    html = refused.get_data(as_text=True)
    assert form_values(html)["address"] == ["40 Duke of Gloucester St"]
    assert "Dana Whitaker saved “7 Bay Ridge Rd” here; yours is kept. Check it." in html


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
    """The signed-in user, the search, the head of the audit chain and the audit row saying a search
    was made (SQLite's explicit BEGINs left out)."""
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
    counted = [[s for s in counter.statements if not s.startswith("BEGIN")] for counter in (few, many)]
    assert len(counted[1]) == len(counted[0]) <= 4
    assert sum(s.startswith("INSERT INTO audit_event") for s in counted[1]) == 1


def test_opening_the_edit_page_is_a_record_opening_too(app, signed_in):
    client = signed_in("nurse")
    patient_id = int(client.post("/patients/new", data=NEW).location.rsplit("/", 1)[1])
    client.get(f"/patients/{patient_id}/edit")
    assert [e.action for e in patient_events(app, patient_id)] == ["create", "view"]


def test_no_patient_data_travels_in_the_session_cookie(app, signed_in):
    client = signed_in("scheduler")
    patient_url = client.post("/patients/new", data=NEW).location
    client.post(f"{patient_url}/edit", data={**NEW, "address": "7 Bay Ridge Rd", "version": "1"})
    serializer = app.session_interface.get_signing_serializer(app)
    session = serializer.loads(client.get_cookie("session").value)
    assert "Lovelace" not in str(session) and "Ada" not in str(session)


def test_the_patient_page_sends_the_same_fourteen_queries_however_long_the_course(app, signed_in, one_device):
    """Twelve before procedures done elsewhere were recorded; the thirteenth reads them once for the
    card, the timeline and the chart (the candidacy rules read them in their own history query); the
    fourteenth reads the patient's coverage with its payers, however many."""
    from datetime import date, timedelta

    from backoffice.catalog.rules import DeviceKind
    from backoffice.core.actor import Actor
    from backoffice.core.db import utcnow
    from backoffice.devices import services as devices
    from backoffice.insurance import coverage
    from backoffice.insurance.models import Payer
    from backoffice.insurance.rules import CoverageEntry, CoverageRank
    from tests.integration.course_helpers import done, outside_done

    nurse = signed_in("nurse")
    LAST: list[str] = []

    def statements() -> int:
        with QueryCounter(app) as counter:
            assert nurse.get("/patients/1").status_code == 200
        LAST[:] = [s[:80] for s in counter.statements if not s.startswith("BEGIN")]
        return len(LAST)

    short = statements()
    with app.app_context():
        patient = db.session.get(Patient, 1)
        for weeks in (30, 20, 10):
            done("MBB", date.today() - timedelta(weeks=weeks), patient=patient)
        for weeks in (60, 50):
            outside_done("MBB", date.today() - timedelta(weeks=weeks), patient=patient, percent_relief=90,
                         relief_amount=6, relief_unit="hours")
        for serial in ("A1", "A2"):
            devices.add_device(1, devices.DeviceEntry(
                kind=DeviceKind.SCS_LEAD, manufacturer="Boston Scientific", model="Infinion 16 lead", serial=serial,
                implanted_on=date.today() - timedelta(days=30), mri_conditional=True),
                by=Actor(2, "nurse", frozenset({"nurse"})), now=utcnow(), today=date.today())
        payers = db.session.scalars(select(Payer).where(Payer.active.is_(True)).order_by(Payer.id)).all()
        for years, payer in enumerate(payers[3:6], start=10):
            coverage.add_coverage(1, CoverageEntry(CoverageRank.PRIMARY, payer.id, date(2026 - years, 1, 1), "XYZ1",
                                                   ends_on=date(2026 - years, 12, 31)),
                                  by=Actor(2, "nurse", frozenset({"nurse"})), now=utcnow())
        db.session.remove()
    assert statements() == short <= 14, "\n".join(LAST)


def test_the_timeline_shows_two_years_and_the_whole_course_on_request(app, signed_in, demo):
    from datetime import date, timedelta

    from tests.integration.course_helpers import done

    with app.app_context():
        old = done("ILESI", date.today() - timedelta(days=3 * 365), patient=db.session.get(Patient, 3), side=None,
                   levels=None)
        recent = done("MBB", date.today() - timedelta(days=60), patient=db.session.get(Patient, 3))
        old_id, recent_id = old.id, recent.id
        db.session.remove()
    nurse = signed_in("nurse")
    default = nurse.get("/patients/3").get_data(as_text=True)
    timeline = default[default.index('id="timeline-heading"'):]
    assert f'href="/appointments/{recent_id}"' in timeline and f'href="/appointments/{old_id}"' not in timeline
    assert "Show the whole course" in timeline
    whole = nurse.get("/patients/3?course=all").get_data(as_text=True)
    assert f'href="/appointments/{old_id}"' in whole[whole.index('id="timeline-heading"'):]

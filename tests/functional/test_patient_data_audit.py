"""Every page that shows a patient's identity or clinical data leaves an audit row saying who saw it.

The table below names, for every GET page of the app, either the audit row a visit must leave or
why the page shows no patient data. A new page fails the first test until it is placed in one of
the two; a page in the first that stops auditing fails the second, on both engines.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.core.access import is_static_endpoint
from backoffice.core.extensions import db
from backoffice.patients.models import Patient
from tests.conftest import make_app

# endpoint: (who opens it, the URL, the audit row it leaves as (action, record type)). `{mrn}` is
# patient 1's MRN. Ids are those of the fixtures: patient 1 with device 1, SCS trial 1, outside
# procedure 1 and scheduling request 1, appointment 1, follow-up 1, coverage 1 (the demo's).
AUDITED: dict[str, tuple[str, str, tuple[str, str]]] = {
    "patients.search": ("scheduler", "/patients?q=a", ("search", "patient")),
    "patients.search_json": ("scheduler", "/patients/search.json?q=a", ("search", "patient")),
    "patients.show": ("nurse", "/patients/1", ("view", "patient")),
    "patients.edit": ("scheduler", "/patients/1/edit", ("view", "patient")),
    "scheduling.new_appointment": ("scheduler", "/appointments/new?patient={mrn}", ("view", "patient")),
    "scheduling.availability": ("physician", "/availability?procedure_type_id=1&patient={mrn}", ("view", "patient")),
    "scheduling.appointment": ("nurse", "/appointments/1", ("view", "appointment")),
    "scheduling.reschedule": ("scheduler", "/appointments/1/reschedule", ("view", "appointment")),
    "scheduling.cancel": ("scheduler", "/appointments/1/cancel", ("view", "appointment")),
    "appointment_details.edit": ("scheduler", "/appointments/1/edit", ("view", "appointment")),
    "scheduling.office_calendar": ("scheduler", "/offices/annapolis/calendar", ("view", "appointment")),
    "scheduling.day_sheet": ("scheduler", "/offices/annapolis/day-sheet", ("view", "appointment")),
    "scheduling.board": ("nurse", "/offices/annapolis/board", ("view", "appointment")),
    # Sent again only when it changed: an unchanged list (304) shows nothing new and is not audited.
    "scheduling.board_list": ("nurse", "/offices/annapolis/board/list", ("view", "appointment")),
    "scheduling.physician_day": ("physician", "/physicians/1/day", ("view", "appointment")),
    "procedures.follow_ups": ("nurse", "/followups", ("view", "follow_up")),
    "procedures.follow_up": ("nurse", "/followups/1", ("view", "follow_up")),
    "procedures.candidates": ("physician", "/candidates", ("view", "stored_candidacy")),
    "procedures.decisions_awaited": ("physician", "/followups/decisions", ("view", "outcome")),
    "scheduling_requests.index": ("scheduler", "/scheduling-requests", ("view", "scheduling_request")),
    "scheduling_requests.cancel": ("nurse", "/scheduling-requests/1/cancel", ("view", "scheduling_request")),
    "procedures.record_psych_evaluation": ("nurse", "/patients/1/psych-evaluations/new", ("view", "patient")),
    "devices.index": ("scheduler", "/devices", ("view", "device")),
    "devices.refills": ("nurse", "/devices/refills", ("view", "device")),
    "devices.recall": ("nurse", "/devices/recall?lot=LOT123", ("search", "device_recall")),
    "devices.show": ("scheduler", "/devices/1", ("view", "device")),
    "devices.new_device": ("nurse", "/patients/1/devices/new", ("view", "patient")),
    "devices.edit_device": ("nurse", "/devices/1/edit", ("view", "device")),
    "devices.new_refill": ("nurse", "/devices/1/refills/new", ("view", "device")),
    "devices.new_trial": ("physician", "/patients/1/trials/new", ("view", "patient")),
    "devices.trial": ("nurse", "/devices/trials/1", ("view", "scs_trial")),
    "history.new_outside_procedure": ("nurse", "/patients/1/outside-procedures/new", ("view", "patient")),
    "history.edit_outside_procedure": ("physician", "/outside-procedures/1/edit", ("view", "outside_procedure")),
    "history.delete_outside_procedure": ("nurse", "/outside-procedures/1/delete", ("view", "outside_procedure")),
    "insurance.new_coverage": ("scheduler", "/patients/1/coverage/new", ("view", "patient")),
    "insurance.edit_coverage": ("nurse", "/coverage/1/edit", ("view", "coverage")),
    "insurance.remove_coverage": ("physician", "/coverage/1/delete", ("view", "coverage")),
}
# The week view is the same endpoint as the day view; it is checked too.
ALSO_AUDITED = [("nurse", "/offices/glen-burnie/calendar?view=week", ("view", "appointment"))]

# GET pages that show no patient's identity or clinical data, and why.
SHOWS_NO_PATIENT_DATA = {
    "core.home": "links to the pages of the user's roles",
    "core.healthz": "whether the app and its database answer",
    "auth.login": "the sign-in form",
    "auth.change_password": "the user's own password form",
    "scheduling.calendar_home": "a redirect to the first office's calendar",
    "scheduling.board_home": "a redirect to the first office's day board",
    "scheduling.my_day": "a redirect to the physician's own day",
    "patients.new": "an empty registration form (a possible duplicate is shown only after a POST)",
    "procedures.clinical_settings": "thresholds of the clinical rules",
    "auditlog.index": "the trail itself: patient values only to clinical roles (its own rules, README)",
    "auditlog.export": "the trail as CSV, redacted as the page is; each export is itself audited",
    "auth.mfa_code": "the two-step sign-in code form",
    "auth.mfa_enrol": "the user's own authenticator setup",
    "auth.mfa_settings": "the user's own two-step sign-in status",
    "idle.time_left": "how long the user's own session has left",
    **{endpoint: "practice setup, staff accounts or catalogs (admin)" for endpoint in (
        "auth.users", "auth.new_user", "auth.edit_user", "practice.offices", "practice.new_office",
        "practice.office", "practice.new_room", "practice.room", "practice.physicians", "practice.new_physician",
        "practice.physician", "catalog.index", "catalog.new_procedure_type",
        "catalog.edit_procedure_type", "catalog.device_models", "catalog.new_device_model",
        "catalog.edit_device_model", "insurance.payers", "insurance.new_payer", "insurance.edit_payer")},
}


def get_endpoints() -> set[str]:
    app = make_app("sqlite://")
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not is_static_endpoint(rule.endpoint)}


def test_every_page_is_either_audited_or_shows_no_patient_data():
    endpoints = get_endpoints()
    assert set(AUDITED) & set(SHOWS_NO_PATIENT_DATA) == set()
    assert sorted(endpoints - set(AUDITED) - set(SHOWS_NO_PATIENT_DATA)) == [], "say whether these pages audit"
    assert sorted((set(AUDITED) | set(SHOWS_NO_PATIENT_DATA)) - endpoints) == [], "no such pages"


def test_each_audited_url_is_the_page_it_is_listed_for():
    adapter = make_app("sqlite://").url_map.bind("localhost")
    for endpoint, (_, url, _) in AUDITED.items():
        assert adapter.match(urlsplit(url).path, method="GET")[0] == endpoint


def audit_rows(app, username: str, action: str, entity_type: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.username == username, AuditEvent.action == action, AuditEvent.entity_type == entity_type))


@pytest.mark.usefixtures("one_follow_up", "one_device", "one_outside_procedure", "one_scheduling_request")
def test_every_page_that_shows_patient_data_leaves_exactly_one_audit_row(app, signed_in):
    with app.app_context():
        mrn = db.session.get(Patient, 1).mrn
    clients = {}
    missing = []
    for role, url, (action, entity_type) in [*AUDITED.values(), *ALSO_AUDITED]:
        client = clients.get(role) or clients.setdefault(role, signed_in(role))
        before = audit_rows(app, role, action, entity_type)
        response = client.get(url.format(mrn=mrn))
        assert response.status_code == 200, (url, response.status_code)
        if audit_rows(app, role, action, entity_type) != before + 1:
            missing.append((url, action, entity_type))
    assert missing == []


@pytest.mark.usefixtures("one_appointment")
def test_a_calendar_without_patient_names_records_no_opening(app, signed_in):
    manager = signed_in("manager")
    for url in ("/offices/annapolis/calendar", "/offices/annapolis/calendar?view=week", "/physicians/1/day",
                "/availability?procedure_type_id=1"):
        assert manager.get(url).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.username == "manager",
                                                           AuditEvent.action == "view")).all() == []


def test_a_patient_search_records_that_it_happened_and_its_count_never_what_was_typed(app, signed_in):
    with app.app_context():
        patient = db.session.get(Patient, 1)
        typed = {"page": patient.last_name, "typeahead": f"{patient.last_name}, {patient.first_name}",
                 "birth date": patient.date_of_birth.strftime("%m/%d/%Y")}
    client = signed_in("scheduler")
    assert patient.last_name in client.get("/patients", query_string={"q": typed["page"]}).get_data(as_text=True)
    assert client.get("/patients/search.json", query_string={"q": typed["typeahead"]}).get_json()
    assert patient.last_name in client.get("/patients", query_string={"q": typed["birth date"]}).get_data(as_text=True)
    with app.app_context():
        searches = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "search")
                                      .order_by(AuditEvent.id)).all()
    assert [(s.username, s.entity_type, s.patient_id) for s in searches] == [("scheduler", "patient", None)] * 3
    assert "patient search: " in searches[0].subject and " found" in searches[0].subject
    assert searches[1].subject.startswith("search as you type: ")
    for search in searches:
        recorded = f"{search.subject} {search.changes}"
        assert not any(value in recorded for value in (patient.last_name, patient.first_name, typed["birth date"],
                                                       patient.date_of_birth.isoformat()))


def test_an_empty_search_opens_nothing_and_records_nothing(app, signed_in):
    client = signed_in("nurse")
    assert client.get("/patients").status_code == 200
    assert client.get("/patients/search.json?q=").get_json() == []
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "search")).all() == []

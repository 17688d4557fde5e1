"""Deny by default: every endpoint declares who may use it, and each role gets exactly that."""

from __future__ import annotations

import pytest

from backoffice.auth.access import PUBLIC, SIGNED_IN, access_of, is_static_endpoint
from backoffice.auth.roles import Role
from tests.conftest import make_app

S, N, P, M, A = Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.ADMIN
CLINICAL = frozenset({S, N, P})

# Who may use each endpoint. A new endpoint fails the first test until it is added here.
EXPECTED = {
    "core.home": SIGNED_IN,
    "core.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.users": frozenset({A}),
    "auth.new_user": frozenset({A}),
    "auth.edit_user": frozenset({A}),
    "auth.deactivate_user": frozenset({A}),
    "auth.activate_user": frozenset({A}),
    "auth.reset_password": frozenset({A}),
    "auth.unlock_user": frozenset({A}),
    "auth.mfa_code": SIGNED_IN,
    "auth.mfa_enrol": SIGNED_IN,
    "auth.mfa_settings": SIGNED_IN,
    "auth.reset_mfa": frozenset({A}),
    "idle.time_left": SIGNED_IN,
    "idle.stay_signed_in": SIGNED_IN,
    "practice.offices": frozenset({A}),
    "practice.new_office": frozenset({A}),
    "practice.office": frozenset({A}),
    "practice.office_hours": frozenset({A}),
    "practice.add_closure": frozenset({A}),
    "practice.remove_closure": frozenset({A}),
    "practice.new_room": frozenset({A}),
    "practice.room": frozenset({A}),
    "practice.physicians": frozenset({A}),
    "practice.new_physician": frozenset({A}),
    "practice.physician": frozenset({A}),
    "practice.add_schedule_block": frozenset({A}),
    "practice.remove_schedule_block": frozenset({A}),
    "practice.add_leave": frozenset({A}),
    "practice.remove_leave": frozenset({A}),
    "patients.search": CLINICAL,
    "patients.search_json": CLINICAL | {M},
    "patients.new": CLINICAL,
    "patients.show": CLINICAL,
    "patients.edit": CLINICAL,
    "procedures.catalog": frozenset({A}),
    "procedures.new_procedure_type": frozenset({A}),
    "procedures.edit_procedure_type": frozenset({A}),
    "devices.catalog": frozenset({A}),
    "devices.new_device_model": frozenset({A}),
    "devices.edit_device_model": frozenset({A}),
    "procedures.follow_ups": frozenset({N, P}),
    "procedures.follow_up": frozenset({N, P}),
    "procedures.close_follow_up": frozenset({N, P}),
    "procedures.reopen_follow_up": frozenset({N, P}),
    "procedures.candidates": frozenset({N, P}),
    "procedures.clinical_settings": frozenset({P, A}),
    "procedures.record_psych_evaluation": frozenset({N, P}),
    "scheduling.new_appointment": frozenset({S, P, M}),
    "scheduling.appointment": CLINICAL | {M},
    "scheduling.change_status": CLINICAL,
    "scheduling.reschedule": frozenset({S, P, M}),
    "scheduling.cancel": frozenset({S, P, M}),
    "scheduling.availability": CLINICAL | {M},
    "scheduling.calendar_home": CLINICAL | {M},
    "scheduling.office_calendar": CLINICAL | {M},
    "scheduling.physician_day": CLINICAL | {M},
    "scheduling.my_day": frozenset({P}),
    "scheduling.board_home": CLINICAL,
    "scheduling.board": CLINICAL,
    "scheduling.day_sheet": CLINICAL,
    "devices.index": frozenset({S, N, P}),
    "devices.refills": frozenset({S, N, P}),
    "devices.recall": frozenset({N, P, M}),
    "devices.show": frozenset({S, N, P}),
    "devices.new_device": frozenset({N, P}),
    "devices.edit_device": frozenset({N, P}),
    "devices.explant": frozenset({N, P}),
    "devices.record_eri": frozenset({N, P}),
    "devices.new_refill": frozenset({N, P}),
    "devices.new_trial": frozenset({N, P}),
    "devices.trial": frozenset({S, N, P}),
    "devices.record_trial_result": frozenset({N, P}),
    "audit.index": frozenset({M, A}),
    "audit.export": frozenset({M}),
}

URL_ARGUMENTS = {"office_id": 1, "room_id": 1, "physician_id": 1, "user_id": 2, "patient_id": 1,
                 "closure_id": 1, "block_id": 1, "leave_id": 1, "procedure_type_id": 1, "appointment_id": 1,
                 "follow_up_id": 1, "device_id": 1, "trial_id": 1, "device_model_id": 1, "slug": "annapolis"}
# Pages that send you on to the right office's page.
# The code page sends a session that has passed its second step (or needs none) on its way.
REDIRECTS = {"scheduling.calendar_home", "scheduling.board_home", "scheduling.my_day", "auth.mfa_code"}
DEMO_ACCOUNTS = {S: "scheduler", N: "nurse", P: "physician", M: "manager", A: "admin"}


def app_endpoints(app):
    """(endpoint, method, url) for every route of the app, with ids of demo records."""
    for rule in app.url_map.iter_rules():
        if is_static_endpoint(rule.endpoint):
            continue
        url = rule.build({name: URL_ARGUMENTS[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_endpoint_declares_who_may_use_it():
    app = make_app("sqlite://")
    undeclared = sorted(e for e in app.view_functions
                        if not is_static_endpoint(e) and access_of(app, e) is None)
    assert undeclared == []
    assert {e: access_of(app, e) for e in app.view_functions if not is_static_endpoint(e)} == EXPECTED


def test_an_undeclared_endpoint_is_refused_to_everyone(signed_in, app):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert signed_in("admin").get("/forgotten").status_code == 403


@pytest.mark.usefixtures("one_follow_up", "one_device")
def test_anonymous_requests_go_to_the_login_page(client, demo):
    for endpoint, method, url in app_endpoints(client.application):
        response = client.open(url, method=method)
        if EXPECTED[endpoint] == PUBLIC:
            assert response.status_code in (200, 400, 401), (endpoint, method)
        else:
            assert response.status_code == 302, (endpoint, method)
            assert response.location.startswith("/login"), (endpoint, method)


def test_static_files_are_served_to_anyone(client):
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


@pytest.mark.parametrize("role", list(DEMO_ACCOUNTS))
@pytest.mark.usefixtures("one_follow_up", "one_device")
def test_each_role_reaches_exactly_its_endpoints(signed_in, role):
    client = signed_in(DEMO_ACCOUNTS[role])
    for endpoint, method, url in app_endpoints(client.application):
        if endpoint == "auth.logout":
            continue
        allowed = EXPECTED[endpoint] in (PUBLIC, SIGNED_IN) or role in EXPECTED[endpoint]
        response = client.open(url, method=method, data={})
        if allowed:
            assert response.status_code not in (403, 500), (role, endpoint, method)
            if method == "GET" and endpoint != "auth.login":
                assert response.status_code == (302 if endpoint in REDIRECTS else 200), (role, endpoint)
        else:
            assert response.status_code == 403, (role, endpoint, method)


def test_a_scheduler_opening_an_admin_page_gets_403(signed_in):
    response = signed_in("scheduler").get("/admin/users")
    assert response.status_code == 403
    assert "Not available to your role" in response.get_data(as_text=True)


def test_an_admin_sees_no_patient_records(signed_in):
    client = signed_in("admin")
    assert client.get("/patients/1").status_code == 403
    assert client.get("/patients?q=a").status_code == 403


@pytest.mark.parametrize("role, visible, hidden", [
    ("scheduler", ["Patients"], ["Audit trail", "Practice setup", "Follow-ups", "Candidates"]),
    ("nurse", ["Patients", "Follow-ups", "Candidates", "Devices", "Refills"],
     ["Audit trail", "Practice setup", "Device recall"]),   # recall is a button on the devices page
    ("physician", ["Follow-ups", "Candidates", "Clinical rule settings"], ["Audit trail", "Staff accounts"]),
    ("manager", ["Audit trail", "Device recall"], ["Patients", "Practice setup", "Devices", "Refills"]),
    ("admin", ["Audit trail", "Practice setup", "Offices and rooms", "Clinical rule settings", "Device models"],
     ["Patients", "Follow-ups", "Candidates"]),
])
def test_navigation_shows_each_role_its_own_pages(signed_in, role, visible, hidden):
    page = signed_in(role).get("/").get_data(as_text=True)
    nav = page.split("<main", 1)[0]
    for label in visible:
        assert label in nav
    for label in hidden:
        assert f">{label}<" not in nav

"""Deny by default: every endpoint declares who may use it, each role gets exactly that, and the
README's table of pages and roles is what the app enforces."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from backoffice.config import PROJECT_ROOT
from backoffice.core.access import PUBLIC, SIGNED_IN, Access, access_of, is_static_endpoint
from backoffice.core.permissions import Role
from tests.conftest import make_app

S, N, P, M, A = Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.ADMIN
CLINICAL = frozenset({S, N, P})
README = (PROJECT_ROOT / "README.md").read_text()
ROLE_COLUMNS = (S, N, P, M, A)  # the order of the role columns in the README's table
REQUEST = re.compile(r"`((?:GET|POST)(?: (?:GET|POST))*) (/[^`]*)`")


def request_key(methods: Iterable[str], path: str) -> tuple[frozenset[str], str]:
    """A route as the README writes it: its methods and its path with the converters left out
    (`/patients/<int:patient_id>` is `/patients/<patient_id>`)."""
    return frozenset(methods) - {"HEAD", "OPTIONS"}, re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", path)


def readme_access() -> dict[tuple[frozenset[str], str], Access]:
    """Who may use each route, read from the README's "Roles" section: its two lists of open pages
    and its table with a column per role."""
    section = README[README.index("## Roles"):]
    section = section[:section.index("\n## ", 1)]
    declared: dict[tuple[frozenset[str], str], Access] = {}

    def add(methods: str, path: str, access: Access) -> None:
        key = request_key(methods.split(), path)
        assert key not in declared, f"{methods} {path} is in the README twice"
        declared[key] = access

    for line in section.splitlines():
        for opening, access in (("- Open to anyone, signed in or not:", PUBLIC),
                                ("- Open to every signed-in account:", SIGNED_IN)):
            if line.startswith(opening):
                for methods, path in REQUEST.findall(line):
                    add(methods, path, access)
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        route = REQUEST.fullmatch(cells[1]) if line.startswith("|") and len(cells) == 2 + len(ROLE_COLUMNS) else None
        if route is not None:
            methods, path = route.groups()
            assert set(cells[2:]) <= {"✓", ""}, line
            marked = zip(ROLE_COLUMNS, cells[2:], strict=True)
            add(methods, path, frozenset(role for role, cell in marked if cell == "✓"))
    return declared


def expected_by_endpoint() -> dict[str, Access]:
    """The README's table by endpoint name, for the requests below (a route missing from the
    README is left out here and fails the first test)."""
    app = make_app("sqlite://")
    declared = readme_access()
    return {rule.endpoint: declared[request_key(rule.methods, rule.rule)] for rule in app.url_map.iter_rules()
            if not is_static_endpoint(rule.endpoint) and request_key(rule.methods, rule.rule) in declared}


EXPECTED = expected_by_endpoint()

URL_ARGUMENTS = {"office_id": 1, "room_id": 1, "physician_id": 1, "user_id": 2, "patient_id": 1,
                 "closure_id": 1, "block_id": 1, "leave_id": 1, "procedure_type_id": 1, "appointment_id": 1,
                 "follow_up_id": 1, "device_id": 1, "trial_id": 1, "device_model_id": 1, "outside_procedure_id": 1,
                 "slug": "annapolis", "outcome_id": 1, "candidacy_id": 1, "request_id": 1,
                 "payer_id": 1, "coverage_id": 1}
# Pages that send you on to the right office's page.
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


def test_the_readme_states_who_may_use_every_route_exactly_as_the_app_declares_it():
    app = make_app("sqlite://")
    declared = {request_key(rule.methods, rule.rule): access_of(app, rule.endpoint)
                for rule in app.url_map.iter_rules() if not is_static_endpoint(rule.endpoint)}
    stated = readme_access()
    assert sorted(" ".join(sorted(m)) + " " + path for m, path in declared.keys() - stated.keys()) == [], \
        "routes missing from the README's Roles table"
    assert sorted(" ".join(sorted(m)) + " " + path for m, path in stated.keys() - declared.keys()) == [], \
        "routes in the README's Roles table that the app does not have"
    differing = {f"{' '.join(sorted(m))} {path}": (sorted(stated[(m, path)]), sorted(declared[(m, path)] or ()))
                 for m, path in declared if declared[(m, path)] != stated[(m, path)]}
    assert differing == {}, "README (first) and the app (second) disagree"


def test_the_readme_table_gives_managers_calendars_and_numbers_but_no_patient_records():
    managers = {path for (methods, path), access in readme_access().items()
                if isinstance(access, frozenset) and M in access}
    assert managers == {"/offices/<slug>/calendar", "/calendar", "/physicians/<physician_id>/day", "/availability",
                        "/devices/recall", "/audit", "/audit.csv"}


def test_an_undeclared_endpoint_is_refused_to_everyone(signed_in, app):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert signed_in("admin").get("/forgotten").status_code == 403


@pytest.mark.usefixtures("one_follow_up", "one_device", "one_outside_procedure", "one_scheduling_request")
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
@pytest.mark.usefixtures("one_follow_up", "one_device", "one_outside_procedure", "one_scheduling_request")
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
    ("scheduler", ["Patients", "To schedule"], ["Audit trail", "Practice setup", "Follow-ups", "Candidates",
                                                 "Decisions"]),
    ("nurse", ["Patients", "Follow-ups", "Candidates", "Devices", "Refills"],
     # recall is a button on the devices page, the requests one on the candidates page
     ["Audit trail", "Practice setup", "Device recall", "To schedule", "Decisions"]),
    # the clinical rule settings and the requests are buttons on the candidates page
    ("physician", ["Follow-ups", "Decisions", "Candidates"], ["Audit trail", "Staff accounts", "Practice setup",
                                                              "To schedule"]),
    ("manager", ["Audit trail", "Device recall"], ["Patients", "Practice setup", "Devices", "Refills"]),
    ("admin", ["Audit trail", "Practice setup", "Offices and rooms", "Clinical rule settings", "Device models",
               "Payers"],
     ["Patients", "Follow-ups", "Candidates"]),
])
def test_navigation_shows_each_role_its_own_pages(signed_in, role, visible, hidden):
    page = signed_in(role).get("/").get_data(as_text=True)
    nav = page.split("<main", 1)[0]
    for label in visible:
        assert label in nav
    for label in hidden:
        assert f">{label}<" not in nav

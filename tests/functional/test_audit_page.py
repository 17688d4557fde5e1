"""The audit trail page and its export: filters, paging, and each reader seeing only what their
roles allow (clinical values and patient identity for clinical roles only)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backoffice.audit.models import AuditEvent
from backoffice.core.extensions import db
from backoffice.core.timefmt import format_datetime
from backoffice.models import Office, Patient
from tests.conftest import give_roles

from .test_device_pages import refill
from .test_patient_pages import NEW
from .test_procedure_pages import TODAY, outcome_form
from .test_scheduling_pages import MONDAY, booking, ids

PSYCH = {"evaluated_on": (TODAY - timedelta(days=1)).isoformat(), "evaluator": "Dr. Ana Patel, PsyD",
         "cleared": "yes", "notes": ""}
OVERRIDE_REASON = "Severe flare; documented"


def mrn_of(app, patient_id: int) -> str:
    with app.app_context():
        return db.session.get(Patient, patient_id).mrn


def test_managers_filter_the_trail_by_user_and_action(signed_in):
    scheduler = signed_in("scheduler")
    patient_url = scheduler.post("/patients/new", data=NEW).location
    scheduler.get(patient_url)
    html = signed_in("manager").get("/audit?username=scheduler&action=view").get_data(as_text=True)
    assert html.count('text-bg-info">view<') == 1
    created = signed_in("manager").get("/audit?username=scheduler&action=create").get_data(as_text=True)
    assert "Last name" in created  # which fields the creation set


def test_only_clinical_readers_may_look_a_patient_up_by_mrn(app, signed_in):
    scheduler = signed_in("scheduler")
    patient_id = int(scheduler.post("/patients/new", data=NEW).location.rsplit("/", 1)[1])
    scheduler.get(f"/patients/{patient_id}")
    mrn = mrn_of(app, patient_id)
    manager = signed_in("manager").get(f"/audit?patient_mrn={mrn}").get_data(as_text=True)
    assert 'name="patient_mrn"' not in manager
    assert ">demo-data<" in manager  # the MRN was not a filter: other patients' events are listed
    give_roles(app, "manager", "manager,nurse")
    clinical = signed_in("manager").get(f"/audit?patient_mrn={mrn}").get_data(as_text=True)
    assert 'name="patient_mrn"' in clinical
    assert ">create<" in clinical and ">view<" in clinical and ">demo-data<" not in clinical


@pytest.mark.parametrize("roles, sees_values", [("manager", False), ("admin", False),
                                                ("manager,physician", True)])
def test_patient_values_in_the_trail_are_for_clinical_eyes_only(app, signed_in, roles, sees_values):
    signed_in("scheduler").post("/patients/new", data=NEW)
    give_roles(app, "manager", roles)
    html = signed_in("manager").get("/audit?entity_type=patient").get_data(as_text=True)
    assert ("Lovelace" in html) is sees_values
    assert ("12/10/1960" in html) is sees_values
    assert "Date of birth" in html


@pytest.fixture
def clinical_events(app, signed_in, one_device, one_follow_up) -> dict[str, str]:
    """A pump refill, an outcome, a psychological evaluation, a booking over a frequency limit and
    a patient's edit, each through its form; what each wrote that only clinical staff may read."""
    nurse, physician, scheduler = signed_in("nurse"), signed_in("physician"), signed_in("scheduler")
    assert nurse.post(f"/devices/{one_device}/refills/new", data=refill(added_ml="37")).status_code == 302
    outcome = outcome_form(physician, one_follow_up, recorded_on=TODAY.isoformat(), baseline_nrs="8",
                           post_nrs="2", percent_relief="65", relief_amount="6", relief_unit="hours")
    assert physician.post(f"/followups/{one_follow_up}", data=outcome).status_code == 302
    assert nurse.post("/patients/1/psych-evaluations/new", data=PSYCH).status_code == 302
    ilesi = {"procedure_type_id": str(ids(app)["ilesi"]), "side": "", "levels_count": ""}
    for weeks in (0, 3, 6, 9):
        day = (MONDAY + timedelta(weeks=weeks)).isoformat()
        assert scheduler.post("/appointments/new", data=booking(app, **ilesi, date=day)).status_code == 302
    fifth = booking(app, **ilesi, date=(MONDAY + timedelta(weeks=12)).isoformat(), override_reason=OVERRIDE_REASON)
    assert physician.post("/appointments/new", data=fifth).status_code == 302
    patient_id = int(scheduler.post("/patients/new", data=NEW).location.rsplit("/", 1)[1])
    assert scheduler.post(f"/patients/{patient_id}/edit",
                          data={**NEW, "phone": "(443) 555-0199", "version": "1"}).status_code == 302
    return {"refill": "Morphine", "refill volume": "Added (mL): 37", "outcome": "Relief (%): 65",
            "psych evaluation": "Cleared: yes", "evaluator": "Ana Patel", "override": OVERRIDE_REASON,
            "patient name": "Lovelace", "patient MRN": mrn_of(app, patient_id), "patient phone": "(443) 555-0199"}


def trail_of(client, *filters: str) -> str:
    return "".join(client.get(f"/audit?{query}").get_data(as_text=True) for query in filters)


CLINICAL_PAGES = ("entity_type=pump_refill", "entity_type=outcome", "entity_type=psych_evaluation",
                  "action=override", "entity_type=appointment&action=create", "entity_type=patient")


@pytest.mark.parametrize("reader", ["manager", "admin"])
def test_managers_and_admins_read_no_clinical_value_and_no_patient_identity(signed_in, clinical_events, reader):
    html = trail_of(signed_in(reader), *CLINICAL_PAGES)
    assert [what for what, value in clinical_events.items() if value in html] == []
    # They still see that each happened, and to which fields.
    assert "pump refill #" in html and "outcome #" in html and "psychological evaluation #" in html
    assert "Refused booking overridden" in html and "Override reason" in html and "Phone" in html
    assert "(values visible to clinical staff)" in html


def test_a_clinical_reader_of_the_trail_sees_clinical_values_and_patients(app, signed_in, clinical_events):
    give_roles(app, "manager", "manager,physician")
    html = trail_of(signed_in("manager"), *CLINICAL_PAGES)
    assert [what for what, value in clinical_events.items() if value not in html] == []


def test_audit_times_are_shown_in_the_office_time_zone_or_the_practice_one(app, signed_in):
    with app.app_context():
        db.session.execute(update(Office).where(Office.id == 1).values(timezone="America/Chicago"))
        db.session.commit()
    signed_in("scheduler").post("/patients/new", data={**NEW, "preferred_office_id": "1"})
    with app.app_context():
        created, signed = (db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                              .order_by(AuditEvent.id.desc())).first()
                           for action in ("create", "login"))
    html = trail_of(signed_in("manager"), "entity_type=patient&action=create", "action=login")
    assert f"<td class=\"text-nowrap\">{format_datetime(created.at, 'America/Chicago')}</td>" in html
    assert f"<td class=\"text-nowrap\">{format_datetime(signed.at, 'America/New_York')}</td>" in html
    assert re.search(r"\d\d:\d\d C[SD]T</td>", html) and re.search(r"\d\d:\d\d E[SD]T</td>", html)


def test_fields_are_shown_by_their_labels_not_their_column_names(app, signed_in):
    assert signed_in("scheduler").post("/appointments/new", data=booking(app)).status_code == 302
    give_roles(app, "manager", "manager,scheduler")
    html = signed_in("manager").get("/audit?entity_type=appointment&action=create").get_data(as_text=True)
    assert "Room turned over by" in html and "Procedure" in html
    assert "blocked until" not in html and "patient id" not in html and "blocked_until" not in html


def test_the_trail_pages_back_through_older_events(signed_in):
    client = signed_in("admin")
    html = client.get("/audit?action=create").get_data(as_text=True)
    assert "Older events" in html  # the demo practice alone writes more than one page
    older_url = re.search(r'href="([^"]*before=\d+[^"]*)">Older events', html).group(1)
    assert "action=create" in older_url
    older = client.get(older_url.replace("&amp;", "&")).get_data(as_text=True)
    first_ids = set(re.findall(r"#(\d+)", html))
    assert older.count(">create<") > 0 and set(re.findall(r"#(\d+)", older)) != first_ids


def test_a_bad_filter_is_explained(app, signed_in):
    give_roles(app, "manager", "manager,nurse")
    response = signed_in("manager").get("/audit?patient_mrn=abc&first_day=yesterday")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "An MRN is digits only" in html and "Not a valid date" in html


def test_the_user_filter_takes_the_start_of_a_username(signed_in):
    signed_in("scheduler").post("/patients/new", data=NEW)
    html = signed_in("manager").get("/audit?username=SCHED&action=create").get_data(as_text=True)
    assert ">scheduler<" in html and ">demo-data<" not in html


def test_a_reversed_date_range_is_explained(signed_in):
    response = signed_in("manager").get("/audit?first_day=2026-12-01&last_day=2026-11-01")
    assert response.status_code == 400
    assert "“To” comes before “From”" in response.get_data(as_text=True)


def test_values_are_shown_as_the_rest_of_the_app_shows_them(app, signed_in):
    signed_in("scheduler").post("/patients/new", data=NEW)
    give_roles(app, "manager", "manager,physician")
    html = signed_in("manager").get("/audit?entity_type=patient&action=create").get_data(as_text=True)
    assert "(410) 555-0111" in html and "12/10/1960" in html and "+14105550111" not in html


def exported(client, query: str) -> list[dict[str, str]]:
    response = client.get(f"/audit.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_manager_exports_the_filtered_trail_as_the_page_shows_it_to_them(app, signed_in, clinical_events):
    manager = signed_in("manager")
    page = manager.get("/audit?entity_type=pump_refill").get_data(as_text=True)
    assert 'href="/audit.csv?entity_type=pump_refill">Export CSV' in page
    rows = exported(manager, "entity_type=pump_refill")
    assert rows and {row["Record"].split(" #")[0] for row in rows} == {"pump refill"}
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d [A-Z]{3}", row["When"]) for row in rows)
    everything = exported(manager, "")
    text = repr(everything)
    assert [what for what, value in clinical_events.items() if value in text] == []
    assert {"Added (mL)", "Drug"} <= set(rows[0]["Changes"].split("; "))
    with app.app_context():
        export = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (export.action, export.entity_type, export.username) == ("export", "audit_event", "manager")
    assert export.subject == f"all events: {len(everything)} events"


def test_a_clinical_manager_exports_the_values_they_may_read(app, signed_in, clinical_events):
    give_roles(app, "manager", "manager,physician")
    mrn = clinical_events["patient MRN"]
    rows = exported(signed_in("manager"), f"patient_mrn={mrn}")
    assert {row["Action"] for row in rows} == {"create", "update"}
    assert any("(443) 555-0199" in row["Changes"] for row in rows)
    with app.app_context():
        export = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert export.details == {"patient_mrn": mrn} and mrn not in export.subject


def test_the_trail_export_is_for_managers(signed_in):
    assert signed_in("admin").get("/audit.csv").status_code == 403
    assert "Export CSV" not in signed_in("admin").get("/audit").get_data(as_text=True)

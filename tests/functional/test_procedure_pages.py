"""The follow-up and candidate worklists, the outcome form, the clinical rule settings and the
patient's course, through HTTP as nurses and physicians use them."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.core.extensions import db
from backoffice.models import Patient
from backoffice.procedures.models import FollowUp, Outcome
from tests.integration.course_helpers import block_with_relief, done
from tests.integration.scheduling_helpers import physician, procedure

from .browser_form import form_values

TODAY = date.today()


def second_patient(app) -> tuple[int, str, str]:
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(1).limit(1)).one()
        return patient.id, patient.sortable_name, patient.mrn


def first_values(html: str) -> dict[str, str]:
    return {name: values[0] if values else "" for name, values in form_values(html).items()}


def outcome_form(client, follow_up_id: int, **changes: str) -> dict[str, str]:
    """The outcome form as the page fills it, with `changes` typed in."""
    page = client.get(f"/followups/{follow_up_id}").get_data(as_text=True)
    values = first_values(page.split('class="outcome-form"')[1].split("</form>")[0])
    return {**values, "contact": values["contact"] or "phone", **changes}


@pytest.fixture
def rfa_candidate(app, demo) -> tuple[int, str]:
    """A patient with two qualifying lumbar right medial branch blocks, five and three weeks ago."""
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(2).limit(1)).one()
        block_with_relief(TODAY - timedelta(days=35), 90, 5, patient=patient)
        block_with_relief(TODAY - timedelta(days=21), 85, 4, patient=patient)
        found = patient.id, patient.sortable_name
        db.session.remove()
    return found


def test_the_nurse_sees_overdue_follow_ups_with_the_phone_and_a_way_to_record_the_outcome(signed_in, one_follow_up,
                                                                                          app):
    _, name, mrn = second_patient(app)
    page = signed_in("nurse").get("/followups").get_data(as_text=True)
    overdue = page.split('id="overdue"')[1].split('id="today"')[0]
    assert name in overdue and f"MRN {mrn}" in overdue
    assert re.search(r"\(\d{3}\) \d{3}-\d{4}", overdue)
    assert f'href="/followups/{one_follow_up}?next=' in overdue
    assert "days late" in overdue


def test_each_follow_up_list_pages_on_its_own(signed_in, one_follow_up, monkeypatch):
    monkeypatch.setattr("backoffice.procedures.views.FOLLOW_UPS_PER_PAGE", 1)
    nurse = signed_in("nurse")
    first = nurse.get("/followups?days=14").get_data(as_text=True).split('id="overdue"')[1].split('id="today"')[0]
    assert f'href="/followups/{one_follow_up}?' in first and "1-1 of 2." in first
    assert "Previous 1" not in first
    following = re.search(r'href="([^"]*overdue_page=2[^"]*)"', first)
    assert following and "days=14" in following.group(1)   # the other choices are kept
    second = nurse.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    second = second.split('id="overdue"')[1].split('id="today"')[0]
    assert f'href="/followups/{one_follow_up + 1}?' in second and "2-2 of 2." in second
    assert "Previous 1" in second and "Next 1" not in second


def test_a_physician_sees_their_own_follow_ups_first_and_everyone_s_on_request(signed_in, app, demo):
    with app.app_context():
        patients = list(db.session.scalars(select(Patient).order_by(Patient.id).limit(2)))
        done("MBB", TODAY - timedelta(days=10), patient=patients[0], doctor="Reyes")
        done("MBB", TODAY - timedelta(days=10), patient=patients[1], doctor="Okafor")
        mine, theirs = patients[0].sortable_name, patients[1].sortable_name
    client = signed_in("physician")  # Dr. Reyes
    own = client.get("/followups").get_data(as_text=True)
    everyone = client.get("/followups?who=all").get_data(as_text=True)
    assert mine in own and theirs not in own
    assert mine in everyone and theirs in everyone


def test_recording_an_outcome_through_the_form_returns_to_the_patient_page_and_shows_it(signed_in, one_follow_up,
                                                                                       app):
    patient_id, _, _ = second_patient(app)
    client = signed_in("physician")
    data = outcome_form(client, one_follow_up, recorded_on=TODAY.isoformat(),
                        baseline_nrs="8", post_nrs="2", relief_amount="6", relief_unit="hours",
                        decision="repeat_block")
    response = client.post(f"/followups/{one_follow_up}", data=data)
    assert response.status_code == 302 and response.location == f"/patients/{patient_id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "75% relief" in page and "6 hours" in page
    with app.app_context():
        outcome = db.session.scalars(select(Outcome)).one()
        assert (outcome.percent_relief, outcome.relief_hours, outcome.decision) == (75, 6, "repeat_block")
        assert db.session.get(FollowUp, one_follow_up).status == "done"


def test_saving_an_outcome_never_sends_the_user_off_the_site(signed_in, one_follow_up, app):
    patient_id, _, _ = second_patient(app)
    client = signed_in("physician")
    data = outcome_form(client, one_follow_up, recorded_on=TODAY.isoformat(), baseline_nrs="8", post_nrs="2",
                        relief_amount="6", relief_unit="hours")
    response = client.post(f"/followups/{one_follow_up}?next=/%09/evil.example", data=data)
    assert response.status_code == 302 and response.location == f"/patients/{patient_id}"


def test_a_nurse_records_outcomes_but_the_decision_stays_with_the_physician(signed_in, one_follow_up, app):
    client = signed_in("nurse")
    page = client.get(f"/followups/{one_follow_up}").get_data(as_text=True)
    assert 'name="decision"' not in page
    data = outcome_form(client, one_follow_up, recorded_on=TODAY.isoformat(), post_nrs="4",
                        relief_amount="5", relief_unit="hours")
    response = client.post(f"/followups/{one_follow_up}", data={**data, "decision": "proceed_rfa"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Outcome.decision)).one() is None


def test_a_second_correction_of_the_same_outcome_is_refused_and_shows_who_changed_it(signed_in, one_follow_up, app):
    first, second = signed_in("physician"), signed_in("physician")
    recorded = outcome_form(first, one_follow_up, recorded_on=TODAY.isoformat(), post_nrs="4", relief_amount="5")
    assert first.post(f"/followups/{one_follow_up}", data=recorded).status_code == 302
    stale = outcome_form(second, one_follow_up)
    fresh = outcome_form(first, one_follow_up)
    assert first.post(f"/followups/{one_follow_up}", data={**fresh, "post_nrs": "3"}).status_code == 302
    refused = second.post(f"/followups/{one_follow_up}", data={**stale, "post_nrs": "1"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "was changed by Elena Reyes after you opened it" in page
    assert 'name="post_nrs"' in page and 'value="1"' in page.split('name="post_nrs"')[1][:200]  # their value kept
    with app.app_context():
        assert db.session.scalars(select(Outcome.post_nrs)).one() == 3


def test_an_outcome_dated_before_its_procedure_is_refused_next_to_the_date(signed_in, one_follow_up, app):
    client = signed_in("nurse")
    data = outcome_form(client, one_follow_up, recorded_on=(TODAY - timedelta(days=30)).isoformat(), post_nrs="2")
    response = client.post(f"/followups/{one_follow_up}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'name="recorded_on"[^>]*is-invalid|is-invalid[^>]*name="recorded_on"', page)
    assert "before the procedure" in page


def test_the_candidates_page_shows_the_evidence_and_schedules_the_rfa_with_its_place_and_levels(signed_in, app,
                                                                                               rfa_candidate):
    _, name = rfa_candidate
    client = signed_in("physician")
    page = client.get("/candidates").get_data(as_text=True)
    rfa = page.split('id="rfa"')[1].split("</section>")[0]
    assert name in rfa and "90% relief for 5 hours" in rfa and "85% relief for 4 hours" in rfa
    link = html_lib.unescape(re.search(r'href="(/availability\?[^"]+)"[^>]*>Schedule<', rfa).group(1))
    query = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    with app.app_context():
        assert query["procedure_type_id"] == str(procedure("RFA").id)
        assert query["physician_id"] == str(physician("Reyes").id)
    assert (query["region"], query["side"], query["levels"]) == ("lumbar", "right", "L4-L5, L5-S1")
    slots = client.get(link).get_data(as_text=True)
    book = re.search(r'href="(/appointments/new\?[^"]+)"', slots)
    assert book, "next available lists slots with a Book link"
    booked = parse_qs(urlsplit(html_lib.unescape(book.group(1))).query)
    assert booked["region"] == ["lumbar"] and booked["side"] == ["right"] and booked["levels"] == ["L4-L5, L5-S1"]


def test_the_patient_page_draws_the_course_for_clinicians_and_not_for_the_front_desk(signed_in, rfa_candidate):
    patient_id, _ = rfa_candidate
    clinician = signed_in("physician").get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "<svg" in clinician and "What the rules say" in clinician
    assert clinician.count('class="pain-dot"') == 2  # the pain before each block, taken at check-in
    front_desk = signed_in("scheduler").get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "<svg" not in front_desk and "relief" not in front_desk


def test_saving_the_clinical_settings_is_audited_and_changes_who_is_a_candidate(signed_in, app, demo):
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(3).limit(1)).one()
        block_with_relief(TODAY - timedelta(days=35), 75, 5, patient=patient)
        block_with_relief(TODAY - timedelta(days=21), 75, 5, patient=patient)
        name = patient.sortable_name
    client = signed_in("physician")
    assert name not in client.get("/candidates").get_data(as_text=True).split('id="rfa"')[1].split("</section>")[0]
    values = first_values(client.get("/settings/clinical-rules").get_data(as_text=True))
    assert values["mbb_relief_percent"] == "80"
    response = client.post("/settings/clinical-rules", data={**values, "mbb_relief_percent": "70"})
    assert response.status_code == 302
    rfa = client.get("/candidates").get_data(as_text=True).split('id="rfa"')[1].split("</section>")[0]
    assert name in rfa
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "clinical_settings")).one()
        assert event.action == "update" and event.changes["mbb_relief_percent"] == [80, 70]


def test_pain_above_ten_at_check_in_is_refused_and_the_patient_stays_booked(signed_in, app, one_appointment):
    client = signed_in("scheduler")
    page = client.get(f"/appointments/{one_appointment}").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = client.post(f"/appointments/{one_appointment}/status",
                           data={"target": "checked_in", "baseline_nrs": "11", "version": version},
                           follow_redirects=True)
    assert "0 to 10" in response.get_data(as_text=True)
    with app.app_context():
        from backoffice.models import Appointment
        assert db.session.get(Appointment, one_appointment).status == "scheduled"

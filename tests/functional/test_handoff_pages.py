"""The physician's decisions list and the schedulers' list of procedures to schedule, through HTTP:
deciding, the request that follows, booking it from the list with everything carried, cancelling
it, and what each role sees."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from backoffice.core.extensions import db
from backoffice.models import Patient
from backoffice.procedures.models import Outcome
from backoffice.scheduling.models import SchedulingRequest
from backoffice.scheduling.request_rules import RequestStatus
from tests.conftest import QueryCounter
from tests.integration.course_helpers import block_with_relief
from tests.integration.scheduling_helpers import procedure

from .browser_form import form_values

TODAY = date.today()


@pytest.fixture
def awaiting(app, demo) -> tuple[int, str, int]:
    """Two qualifying lumbar right blocks by Dr. Reyes, their next-day outcomes recorded without a
    decision: (the patient's id, their name as listed, the later outcome's id)."""
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(2).limit(1)).one()
        block_with_relief(TODAY - timedelta(days=35), 90, 5, patient=patient)
        second = block_with_relief(TODAY - timedelta(days=21), 85, 4, patient=patient)
        outcome = db.session.scalars(select(Outcome).where(Outcome.appointment_id == second.id)).one()
        found = patient.id, patient.sortable_name, outcome.id
        db.session.remove()
    return found


def row_of(page: str, outcome_id: int) -> str:
    return page.split(f'id="outcome-{outcome_id}"')[1].split("</tr>")[0]


def decision_form(page: str, outcome_id: int) -> tuple[str, dict[str, str]]:
    """The action and the values of an outcome's decision form, as the list shows it."""
    row = row_of(page, outcome_id)
    action = html_lib.unescape(re.search(r'<form method="post" action="([^"]+)"', row).group(1))
    values = {name: values[0] if values else "" for name, values in form_values(row).items()}
    return action, values


def decide(client, outcome_id: int, decision: str, **typed: str):
    page = client.get("/followups/decisions").get_data(as_text=True)
    action, values = decision_form(page, outcome_id)
    return client.post(action, data={**values, "decision": decision, **typed})


def requests_in(app) -> list[SchedulingRequest]:
    with app.app_context():
        found = list(db.session.scalars(select(SchedulingRequest).order_by(SchedulingRequest.id)))
        db.session.expunge_all()
        return found


def test_the_physician_sees_outcomes_awaiting_a_decision_with_their_evidence_and_a_count_in_the_menu(
        signed_in, awaiting):
    _, name, outcome_id = awaiting
    physician = signed_in("physician")
    response = physician.get("/followups/decisions")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    row = row_of(page, outcome_id)
    assert name in row and "85% relief for 4 hours" in row and "(L4-L5, L5-S1)" in row
    assert "Rhizotomy (RFA) candidate" in row and "Eligible now" in row
    assert all(f'value="{d}"' in row for d in ("repeat_block", "proceed_rfa", "scs_trial", "no_further", "other"))
    assert page.index("90% relief for 5 hours") < page.index(f'id="outcome-{outcome_id}"')  # oldest first
    nav = page.split("<main", 1)[0]
    assert re.search(r'Decisions <span class="badge[^"]*nav-count">2<', nav)
    assert ">Decisions<" not in signed_in("nurse").get("/followups").get_data(as_text=True).split("<main", 1)[0]


def test_proceed_to_rfa_puts_the_rfa_on_the_schedulers_list_without_the_clinical_course(signed_in, app, awaiting):
    _, name, outcome_id = awaiting
    physician = signed_in("physician")
    response = decide(physician, outcome_id, "proceed_rfa", note="Mornings only", priority="urgent")
    assert response.status_code == 302 and response.location.startswith("/followups/decisions")
    after = physician.get(response.location).get_data(as_text=True)
    assert "Proceed to RFA recorded for" in after
    assert "The schedulers are asked to book radiofrequency ablation" in after
    assert f'id="outcome-{outcome_id}"' not in after
    [request] = requests_in(app)
    assert (request.levels, request.levels_count, request.priority, request.note) == (
        "L4-L5, L5-S1", 2, "urgent", "Mornings only")

    page = signed_in("scheduler").get("/scheduling-requests").get_data(as_text=True)
    listed = page.split(f'id="request-{request.id}"')[1].split("</tr>")[0]
    assert name in listed and "Radiofrequency ablation" in listed and "(L4-L5, L5-S1)" in listed
    assert "Urgent" in listed and "Now" in listed and "Mornings only" in listed
    assert "relief" not in page and "%" not in listed  # what to book, not the clinical course
    book = html_lib.unescape(re.search(r'href="(/availability\?[^"]+)"[^>]*>Book<', listed).group(1))
    query = {key: values[0] for key, values in parse_qs(urlsplit(book).query).items()}
    assert (query["region"], query["side"], query["levels"], query["levels_count"], query["request"]) == (
        "lumbar", "right", "L4-L5, L5-S1", "2", str(request.id))


def test_booking_from_the_list_carries_everything_and_closes_the_request(signed_in, app, awaiting):
    _, name, outcome_id = awaiting
    decide(signed_in("physician"), outcome_id, "proceed_rfa")
    scheduler = signed_in("scheduler")
    listed = scheduler.get("/scheduling-requests").get_data(as_text=True)
    book = html_lib.unescape(re.search(r'href="(/availability\?[^"]+)"[^>]*>Book<', listed).group(1))
    slots = scheduler.get(book).get_data(as_text=True)
    assert 'id="scheduling-request"' in slots and name in slots
    link = html_lib.unescape(re.search(r'href="(/appointments/new\?[^"]+)"', slots).group(1))
    carried = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    assert (carried["levels"], carried["levels_count"]) == ("L4-L5, L5-S1", "2")
    form_page = scheduler.get(link).get_data(as_text=True)
    assert 'id="scheduling-request"' in form_page
    values = {key: values[0] if values else "" for key, values in form_values(
        form_page.split('class="booking-form"')[1].split("</form>")[0]).items()}
    assert values["scheduling_request_id"] == carried["scheduling_request_id"]
    response = scheduler.post("/appointments/new", data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "The scheduling request is closed." in scheduler.get(response.location).get_data(as_text=True)
    [request] = requests_in(app)
    assert request.status is RequestStatus.BOOKED and request.appointment_id is not None
    assert "Nothing to schedule" in scheduler.get("/scheduling-requests").get_data(as_text=True)


def test_a_bad_decision_is_refused_in_its_row_and_writes_nothing(signed_in, app, awaiting):
    _, _, outcome_id = awaiting
    physician = signed_in("physician")
    for decision, typed, message in (("other", {}, "Say what the plan is."),
                                     ("surgery", {}, "Not a valid choice"),
                                     ("no_further", {"note": "<b>x</b>"}, "")):
        response = decide(physician, outcome_id, decision, **typed)
        assert response.status_code == 400, decision
        assert "invalid-feedback" in row_of(response.get_data(as_text=True), outcome_id)
        assert message in row_of(response.get_data(as_text=True), outcome_id)
    response = physician.post(f"/followups/decisions/{outcome_id}", data={"decision": "proceed_rfa"})
    assert response.status_code == 400  # no version
    with app.app_context():
        assert db.session.get(Outcome, outcome_id).decision is None
    assert requests_in(app) == []


def test_deciding_from_a_list_shown_before_someone_changed_the_outcome_is_refused(signed_in, app, awaiting):
    _, _, outcome_id = awaiting
    physician = signed_in("physician")
    page = physician.get("/followups/decisions").get_data(as_text=True)
    action, values = decision_form(page, outcome_id)
    assert physician.post(action, data={**values, "decision": "no_further"}).status_code == 302
    response = physician.post(action, data={**values, "decision": "proceed_rfa"}, follow_redirects=True)
    assert "was changed by Elena Reyes after you opened it" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Outcome, outcome_id).decision == "no_further"
    assert requests_in(app) == []


def test_a_request_is_cancelled_with_a_reason(signed_in, app, one_scheduling_request):
    nurse = signed_in("nurse")
    page = nurse.get(f"/scheduling-requests/{one_scheduling_request}/cancel")
    assert page.status_code == 200 and "Radiofrequency ablation" in page.get_data(as_text=True)
    values = {name: v[0] if v else "" for name, v in form_values(page.get_data(as_text=True)).items()}
    refused = nurse.post(f"/scheduling-requests/{one_scheduling_request}/cancel", data={**values, "reason": " "})
    assert refused.status_code == 400 and "Enter the reason." in refused.get_data(as_text=True)
    assert re.search(r'name="reason"[^>]*is-invalid|is-invalid[^>]*name="reason"', refused.get_data(as_text=True))
    assert requests_in(app)[0].status is RequestStatus.OPEN
    done = nurse.post(f"/scheduling-requests/{one_scheduling_request}/cancel",
                      data={**values, "reason": "The patient chose to wait"})
    assert done.status_code == 302
    assert requests_in(app)[0].cancel_reason == "The patient chose to wait"
    again = nurse.get(f"/scheduling-requests/{one_scheduling_request}/cancel")
    assert again.status_code == 302  # already cancelled: back to the list
    assert nurse.get("/scheduling-requests/999999/cancel").status_code == 404


def test_a_manager_sees_no_requests_and_a_scheduler_no_decisions(signed_in, one_scheduling_request):
    assert signed_in("manager").get("/scheduling-requests").status_code == 403
    assert signed_in("scheduler").get("/followups/decisions").status_code == 403
    nav = signed_in("scheduler").get("/").get_data(as_text=True).split("<main", 1)[0]
    assert ">To schedule<" in nav


@pytest.mark.usefixtures("awaiting")
def test_the_candidates_list_sends_a_candidacy_to_the_schedulers(signed_in, app):
    nurse = signed_in("nurse")
    page = nurse.get("/candidates").get_data(as_text=True)
    rfa = page.split('id="rfa"')[1].split("</section>")[0]
    action = re.search(r'<form method="post" action="(/candidates/\d+/scheduling-request)"', rfa).group(1)
    response = nurse.post(action, data={"next": "/candidates?who=all"})
    assert response.status_code == 302 and response.location == "/candidates?who=all"
    assert "Sent to the schedulers: radiofrequency ablation" in nurse.get(response.location).get_data(as_text=True)
    [request] = requests_in(app)
    assert (request.procedure_type_id, request.levels) == (_rfa_id(app), "L4-L5, L5-S1")
    gone = nurse.post("/candidates/999999/scheduling-request", follow_redirects=True)
    assert "changed since the list was shown" in gone.get_data(as_text=True)


def _rfa_id(app) -> int:
    with app.app_context():
        return procedure("RFA").id


def test_the_booking_forms_way_back_to_next_available_keeps_the_levels_and_the_request(signed_in,
                                                                                       one_scheduling_request):
    page = signed_in("scheduler").get(
        "/appointments/new?patient=00000001&levels=L4-L5&levels_count=1"
        f"&scheduling_request_id={one_scheduling_request}").get_data(as_text=True)
    back = html_lib.unescape(re.search(r'href="(/availability\?[^"]+)">Find the next free time instead', page).group(1))
    query = parse_qs(urlsplit(back).query)
    assert query["levels"] == ["L4-L5"] and query["levels_count"] == ["1"]
    assert query["request"] == [str(one_scheduling_request)]


def test_a_decision_on_the_outcome_form_says_what_went_to_the_schedulers(signed_in, app, awaiting):
    _, _, outcome_id = awaiting
    physician = signed_in("physician")
    with app.app_context():
        follow_up_id = db.session.get(Outcome, outcome_id).follow_up_id
    page = physician.get(f"/followups/{follow_up_id}").get_data(as_text=True)
    values = {name: v[0] if v else "" for name, v in form_values(
        page.split('class="outcome-form"')[1].split("</form>")[0]).items()}
    response = physician.post(f"/followups/{follow_up_id}", data={**values, "decision": "scs_trial"},
                              follow_redirects=True)
    assert "The schedulers are asked to book spinal cord stimulator trial" in response.get_data(as_text=True)
    assert [r.procedure_type_id for r in requests_in(app)] == [_id_of(app, "SCS-TRIAL")]
    again = physician.get(f"/followups/{follow_up_id}").get_data(as_text=True)
    assert "Sent to the schedulers: spinal cord stimulator trial" in again and "(open)" in again


def _id_of(app, code: str) -> int:
    with app.app_context():
        return procedure(code).id


def test_both_lists_send_as_many_queries_for_many_rows_as_for_one(signed_in, app, awaiting):
    physician, scheduler = signed_in("physician"), signed_in("scheduler")

    def counted(client, url: str) -> int:
        client.get(url)
        with QueryCounter(app) as counter:
            assert client.get(url).status_code == 200
        return len([s for s in counter.statements if not s.startswith("BEGIN")])
    decide(physician, awaiting[2], "proceed_rfa")
    few = counted(physician, "/followups/decisions"), counted(scheduler, "/scheduling-requests")
    with app.app_context():
        patients = list(db.session.scalars(select(Patient).order_by(Patient.id).offset(4).limit(4)))
        for number, patient in enumerate(patients):
            block_with_relief(TODAY - timedelta(days=30 - number), 85, 4, patient=patient)
        db.session.remove()
    for _ in range(3):
        page = physician.get("/followups/decisions").get_data(as_text=True)
        outcome_id = int(re.search(r'id="outcome-(\d+)"', page).group(1))
        decide(physician, outcome_id, "repeat_block")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SchedulingRequest)) == 4
    assert (counted(physician, "/followups/decisions"), counted(scheduler, "/scheduling-requests")) == few

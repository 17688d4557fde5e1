"""Procedures done elsewhere through HTTP, as a nurse or physician records them from the patient's
page: who may, what a bad entry says and writes, correcting with a stale form, deleting with a
reason, how the patient's course marks them, and a candidacy resting only on them on the
candidates list."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from backoffice.core.extensions import db
from backoffice.history.models import OutsideProcedure
from backoffice.models import Patient
from backoffice.practice.models import Office, Physician
from backoffice.procedures.models import StoredCandidacy
from backoffice.scheduling.models import SchedulingRequest
from tests.integration.scheduling_helpers import procedure

from .browser_form import form_values

TODAY = date.today()
NEW = "/patients/1/outside-procedures/new"


def entry(app, **changes: str) -> dict[str, str]:
    with app.app_context():
        mbb = str(procedure("MBB").id)
    return {"procedure_type_id": mbb, "performed_on": (TODAY - timedelta(days=20)).isoformat(), "region": "lumbar",
            "side": "right", "levels_count": "2", "levels": "L4-L5, L5-S1", "facility": "Valley Pain",
            "performed_by": "Dr Lee", "percent_relief": "90", "relief_amount": "6", "relief_unit": "hours",
            "notes": "", **changes}


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutsideProcedure)) or 0


def first_values(html: str) -> dict[str, str]:
    return {name: values[0] if values else "" for name, values in form_values(html).items()}


@pytest.mark.parametrize("role", ["nurse", "physician"])
def test_a_nurse_or_physician_adds_one_from_the_patients_page_and_the_course_marks_it_outside(app, signed_in, role):
    client = signed_in(role)
    page = client.get("/patients/1").get_data(as_text=True)
    assert "Procedures done elsewhere" in page and f'href="{NEW}"' in page
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, data=entry(app))
    assert response.status_code == 302 and response.location.endswith("/patients/1#outside-heading")
    page = client.get("/patients/1").get_data(as_text=True)
    card = page[page.index('id="outside-heading"'):]
    assert "outside</span>" in card and "Dr Lee, Valley Pain · 90% relief for 6 hours" in card
    timeline = page[page.index('id="timeline-heading"'):]
    assert "Medial branch block" in timeline and "outside</span>" in timeline
    assert '<g class="procedure-marker proc-facet outside">' in page and ">MBB*</text>" in page
    assert "(starred and dotted: done elsewhere)" in page


def test_schedulers_neither_see_nor_add_them(app, signed_in):
    client = signed_in("scheduler")
    assert "Procedures done elsewhere" not in client.get("/patients/1").get_data(as_text=True)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, data=entry(app)).status_code == 403
    with app.app_context():
        assert count() == 0


@pytest.mark.parametrize("changes, message", [
    ({"performed_on": (TODAY + timedelta(days=1)).isoformat()}, "A procedure done elsewhere cannot be in the future."),
    ({"region": ""}, "Choose the spinal region for the medial branch block."),
    ({"levels_count": "4"}, "Give 1, 2 or 3 levels."),
    ({"facility": ""}, "Enter the practice or hospital."),
    ({"relief_unit": ""}, "Give how long relief lasted with its unit"),
    ({"percent_relief": "150"}, "Relief is 0 to 100 percent."),
    ({"performed_on": "2026-02-30"}, "Not a valid date value."),
])
def test_a_bad_entry_is_refused_next_to_its_field_and_writes_nothing(app, signed_in, changes, message):
    response = signed_in("nurse").post(NEW, data=entry(app, **changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Nothing was saved" in html
    with app.app_context():
        assert count() == 0


def test_correcting_keeps_the_form_and_a_stale_save_is_refused(app, signed_in, one_outside_procedure):
    nurse, physician = signed_in("nurse"), signed_in("physician")
    url = f"/outside-procedures/{one_outside_procedure}/edit"
    mine = first_values(nurse.get(url).get_data(as_text=True))
    assert (mine["facility"], mine["percent_relief"], mine["relief_unit"], mine["region"]) == (
        "Valley Pain", "70", "weeks", "lumbar")
    theirs = first_values(physician.get(url).get_data(as_text=True))
    assert physician.post(url, data={**theirs, "percent_relief": "40"}).status_code == 302
    stale = nurse.post(url, data={**mine, "performed_by": "Dr Maria Lee"})
    assert stale.status_code == 409
    assert "was changed by" in stale.get_data(as_text=True)
    with app.app_context():
        outside = db.session.get(OutsideProcedure, one_outside_procedure)
        assert outside is not None and (outside.percent_relief, outside.performed_by) == (40, "Dr Lee")


def test_deleting_needs_a_reason_and_then_the_record_is_gone(app, signed_in, one_outside_procedure):
    client = signed_in("physician")
    url = f"/outside-procedures/{one_outside_procedure}/delete"
    form = first_values(client.get(url).get_data(as_text=True))
    refused = client.post(url, data={**form, "reason": ""})
    assert refused.status_code == 400 and "Enter the reason." in refused.get_data(as_text=True)
    with app.app_context():
        assert count() == 1
    deleted = client.post(url, data={**form, "reason": "Entered for the wrong patient"})
    assert deleted.status_code == 302 and deleted.location.endswith("/patients/1#outside-heading")
    with app.app_context():
        assert count() == 0
    assert client.get(url).status_code == 404


# A candidacy resting only on procedures done elsewhere, on the candidates list.

def rfa_section(client, query: str = "") -> str:
    return client.get(f"/candidates{query}").get_data(as_text=True).split('id="rfa"')[1].split("</section>")[0]


@pytest.fixture
def referred(app, signed_in) -> tuple[str, int, int]:
    """Patient 1's two good lumbar right blocks at Valley Pain, 40 and 20 days ago, added through the
    form by a nurse: (their name as listed, their preferred office's id, the other office's id)."""
    nurse = signed_in("nurse")
    for days_ago in (40, 20):
        performed_on = (TODAY - timedelta(days=days_ago)).isoformat()
        assert nurse.post(NEW, data=entry(app, performed_on=performed_on)).status_code == 302
    with app.app_context():
        patient = db.session.get(Patient, 1)
        assert patient is not None and patient.preferred_office_id is not None
        other = db.session.scalars(select(Office.id).where(Office.id != patient.preferred_office_id)).first()
        assert other is not None
        return patient.sortable_name, patient.preferred_office_id, other


def test_two_good_outside_blocks_put_the_patient_on_everyones_candidates_with_no_physician_yet(app, signed_in,
                                                                                               referred):
    name, preferred, other = referred
    physician = signed_in("physician")
    assert name not in rfa_section(physician)  # "mine" by default: no physician has the patient yet
    rfa = rfa_section(physician, "?who=all")
    assert name in rfa and "No physician yet" in rfa
    day = f"{TODAY - timedelta(days=20):%m/%d/%Y}"
    assert f"MBB {day} (outside: Dr Lee, Valley Pain): 90% relief for 6 hours" in rfa
    with app.app_context():
        office_name = db.session.get(Office, preferred).name
        rfa_id = str(procedure("RFA").id)
    assert office_name in rfa
    assert name in rfa_section(physician, f"?who=all&office={preferred}")
    assert name not in rfa_section(physician, f"?who=all&office={other}")
    link = html_lib.unescape(re.search(r'href="(/availability\?[^"]+)"[^>]*>Schedule<', rfa).group(1))
    query = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
    assert "physician_id" not in query and query["office_id"] == str(preferred)
    assert (query["procedure_type_id"], query["region"], query["side"], query["levels"], query["levels_count"]) == (
        rfa_id, "lumbar", "right", "L4-L5, L5-S1", "2")
    assert physician.get(link).status_code == 200


def test_a_physician_sends_it_to_scheduling_and_a_nurse_is_told_a_physician_does(app, signed_in, referred):
    name, preferred, _ = referred
    nurse = signed_in("nurse")
    rfa = rfa_section(nurse)
    assert name in rfa and "A physician sends it to scheduling" in rfa
    assert "/scheduling-request" not in rfa
    with app.app_context():
        stored = db.session.scalars(select(StoredCandidacy).where(StoredCandidacy.patient_id == 1,
                                                                  StoredCandidacy.kind == "rfa_candidate")).one()
    told = nurse.post(f"/candidates/{stored.id}/scheduling-request", follow_redirects=True).get_data(as_text=True)
    assert "No physician here has this patient yet" in told
    physician = signed_in("physician")
    rfa = rfa_section(physician, "?who=all")
    action = re.search(r'<form method="post" action="(/candidates/\d+/scheduling-request)"', rfa).group(1)
    sent = physician.post(action, data={"next": "/candidates?who=all"}, follow_redirects=True)
    assert "Sent to the schedulers: radiofrequency ablation" in sent.get_data(as_text=True)
    with app.app_context():
        request = db.session.scalars(select(SchedulingRequest)).one()
        reyes = db.session.scalars(select(Physician).where(Physician.last_name == "Reyes")).one()
        assert (request.physician_id, request.office_id, request.levels) == (reyes.id, preferred, "L4-L5, L5-S1")

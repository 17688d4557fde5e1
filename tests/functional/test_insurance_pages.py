"""The payer list (admin) and a patient's insurance on the patient page: added, changed, ended and
removed through the forms, refused with the reason next to the field, for the roles that may."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backoffice.core.extensions import db
from backoffice.insurance.models import Coverage, Payer

from .browser_form import form_values

# The demo practice: patient 1 is on Medicare Part B (payer 1, coverage 1) since January 1 of last
# year with Maryland Medicaid as secondary (coverage 2); payer 4 is CareFirst, payer 12 no longer offered.
LAST_YEAR = date.today().year - 1
PAST_PLAN = {"rank": "primary", "payer_id": "4", "plan_name": "BlueChoice HMO Open Access", "member_id": "XYZ123456",
             "group_number": "0123456", "relationship_to_subscriber": "spouse", "subscriber_name": "Daniel Lovelace",
             "effective_on": "2010-01-01", "ends_on": f"{LAST_YEAR - 1}-12-31"}


def coverages_of(app, patient_id: int) -> list[Coverage]:
    with app.app_context():
        found = list(db.session.scalars(select(Coverage).where(Coverage.patient_id == patient_id)
                                        .order_by(Coverage.id)))
        db.session.expunge_all()
        return found


def insurance_card(html: str) -> str:
    start = html.index('id="coverage-heading"')
    return html[start:html.index("</section>", start)]


def test_the_patient_page_shows_the_primary_and_secondary_coverage_in_force(signed_in):
    card = insurance_card(signed_in("scheduler").get("/patients/1").get_data(as_text=True))
    assert "Medicare Part B" in card and "Maryland Medicaid (HealthChoice)" in card
    assert f"From 01/01/{LAST_YEAR}, no end date" in card and "prior authorization (410) 555-0180" in card
    assert 'href="/coverage/1/edit"' in card and 'href="/patients/1/coverage/new"' in card


def test_a_scheduler_adds_a_past_plan_and_the_page_lists_it_as_ended(app, signed_in):
    scheduler = signed_in("scheduler")
    form = form_values(scheduler.get("/patients/1/coverage/new").get_data(as_text=True))
    assert form["rank"] == ["primary"] and form["relationship_to_subscriber"] == ["self"]
    saved = scheduler.post("/patients/1/coverage/new", data=PAST_PLAN)
    assert saved.status_code == 302 and saved.location == "/patients/1#coverage-heading"
    card = insurance_card(scheduler.get("/patients/1").get_data(as_text=True))
    assert "Ended coverage (1)" in card
    assert "Subscriber Daniel Lovelace (patient's spouse)" in card and "BlueChoice HMO Open Access" in card
    added = coverages_of(app, 1)[-1]
    assert (added.member_id, added.group_number, added.ends_on) == ("XYZ123456", "0123456", date(LAST_YEAR - 1, 12, 31))


def test_a_second_primary_while_medicare_runs_is_refused_next_to_its_date_and_nothing_is_written(app, signed_in):
    before = coverages_of(app, 1)
    refused = signed_in("nurse").post("/patients/1/coverage/new", data={**PAST_PLAN, "ends_on": ""})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert (f"The patient&#39;s primary coverage with Medicare Part B runs from 01/01/{LAST_YEAR}, no end date"
            in html)
    assert form_values(html)["member_id"] == ["XYZ123456"]  # what was typed is kept
    assert len(coverages_of(app, 1)) == len(before)


def test_the_new_form_asks_for_the_rank_the_page_link_names(signed_in):
    form = form_values(signed_in("physician").get("/patients/1/coverage/new?rank=secondary").get_data(as_text=True))
    assert form["rank"] == ["secondary"]
    assert form_values(signed_in("physician").get("/patients/1/coverage/new?rank=third").get_data(
        as_text=True))["rank"] == ["primary"]


def edit_form(client, coverage_id: int) -> dict[str, list[str]]:
    return form_values(client.get(f"/coverage/{coverage_id}/edit").get_data(as_text=True))


def test_ending_medicare_and_starting_an_advantage_plan_the_next_day(app, signed_in):
    nurse = signed_in("nurse")
    form = edit_form(nurse, 1)
    form["ends_on"] = [f"{LAST_YEAR}-12-31"]
    assert nurse.post("/coverage/1/edit", data=form).location == "/patients/1#coverage-heading"
    advantage = {**PAST_PLAN, "payer_id": "2", "relationship_to_subscriber": "self", "subscriber_name": "",
                 "effective_on": f"{LAST_YEAR + 1}-01-01", "ends_on": "", "group_number": ""}
    assert nurse.post("/patients/1/coverage/new", data=advantage).status_code == 302
    card = insurance_card(nurse.get("/patients/1").get_data(as_text=True))
    assert "Aetna Medicare Advantage PPO" in card and "Ended coverage (1)" in card


def test_the_second_of_two_editors_keeps_both_peoples_changes(app, signed_in):
    first, second = signed_in("scheduler"), signed_in("physician")
    first_form, second_form = edit_form(first, 1), edit_form(second, 1)
    first_form["group_number"] = ["0099887"]
    assert first.post("/coverage/1/edit", data=first_form).status_code == 302
    second_form["plan_name"] = ["Original Medicare"]
    refused = second.post("/coverage/1/edit", data=second_form)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "This coverage was changed by" in html
    merged = form_values(html)
    assert (merged["group_number"], merged["plan_name"]) == (["0099887"], ["Original Medicare"])
    assert second.post("/coverage/1/edit", data=merged).status_code == 302
    [medicare] = [c for c in coverages_of(app, 1) if c.id == 1]
    assert (medicare.group_number, medicare.plan_name, medicare.version) == ("0099887", "Original Medicare", 3)


def test_a_payer_no_longer_offered_is_not_on_the_new_form_but_stays_on_a_coverage_naming_it(app, signed_in):
    scheduler = signed_in("scheduler")
    new_form = scheduler.get("/patients/1/coverage/new").get_data(as_text=True)
    assert "Chesapeake Community Health Plan" not in new_form
    closed = {**PAST_PLAN, "payer_id": "12"}
    assert scheduler.post("/patients/1/coverage/new", data=closed).status_code == 400
    with app.app_context():
        db.session.get(Payer, 12).active = True
        db.session.commit()
    assert scheduler.post("/patients/1/coverage/new", data=closed).status_code == 302
    with app.app_context():
        db.session.get(Payer, 12).active = False
        db.session.commit()
    coverage_id = coverages_of(app, 1)[-1].id
    form = edit_form(scheduler, coverage_id)
    assert form["payer_id"] == ["12"]
    assert "Chesapeake Community Health Plan (no longer offered)" in scheduler.get(
        f"/coverage/{coverage_id}/edit").get_data(as_text=True)
    form["member_id"] = ["KEPT1"]
    assert scheduler.post(f"/coverage/{coverage_id}/edit", data=form).status_code == 302


def test_a_coverage_entered_in_error_is_removed_with_a_reason(app, signed_in):
    physician = signed_in("physician")
    page = physician.get("/coverage/2/delete").get_data(as_text=True)
    assert "Maryland Medicaid (HealthChoice)" in page
    assert physician.post("/coverage/2/delete", data={"reason": "", "version": "1"}).status_code == 400
    removed = physician.post("/coverage/2/delete", data={"reason": "Entered for the wrong patient", "version": "1"})
    assert removed.location == "/patients/1#coverage-heading"
    assert [c.id for c in coverages_of(app, 1)] == [1]
    card = insurance_card(physician.get("/patients/1").get_data(as_text=True))
    assert 'href="/patients/1/coverage/new?rank=secondary"' in card


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_those_who_do_not_open_patient_records_reach_no_coverage_page(signed_in, role):
    client = signed_in(role)
    for url in ("/patients/1/coverage/new", "/coverage/1/edit", "/coverage/1/delete"):
        assert client.get(url).status_code == 403
        assert client.post(url, data={}).status_code == 403


def test_the_registration_form_leaves_insurance_to_the_patient_page(signed_in):
    html = signed_in("scheduler").get("/patients/new").get_data(as_text=True)
    assert 'name="payer"' not in html and 'name="member_id"' not in html
    assert "Insurance is added on the patient's page, once registered" in html


def test_an_admin_keeps_the_payer_list(app, signed_in):
    admin = signed_in("admin")
    listed = admin.get("/admin/payers").get_data(as_text=True)
    assert "Medicare Part B" in listed and "Workers&#39; compensation" in listed and "(410) 555-0180" in listed
    added = admin.post("/admin/payers/new", data={"name": "Priority Partners", "kind": "medicaid",
                                                  "prior_auth_phone": "410-555-0176", "active": "y"})
    assert added.location == "/admin/payers"
    twice = admin.post("/admin/payers/new", data={"name": "PRIORITY  partners", "kind": "medicaid"})
    assert twice.status_code == 400
    assert "The list has this payer already: Priority Partners." in twice.get_data(as_text=True)
    with app.app_context():
        payer = db.session.scalars(select(Payer).where(Payer.name == "Priority Partners")).one()
        payer_id, phone = payer.id, payer.prior_auth_phone
    assert phone == "+14105550176"
    form = form_values(admin.get(f"/admin/payers/{payer_id}").get_data(as_text=True))
    assert form["kind"] == ["medicaid"] and form["prior_auth_phone"] == ["(410) 555-0176"]
    form["active"] = []
    assert admin.post(f"/admin/payers/{payer_id}", data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Payer, payer_id).active is False


def test_two_admins_editing_a_payer_keep_both_changes(app, signed_in):
    first, second = signed_in("admin"), signed_in("admin")
    first_form, second_form = (form_values(c.get("/admin/payers/3").get_data(as_text=True)) for c in (first, second))
    first_form["prior_auth_fax"] = ["410-555-0199"]
    assert first.post("/admin/payers/3", data=first_form).status_code == 302
    second_form["name"] = ["Maryland Medicaid"]
    refused = second.post("/admin/payers/3", data=second_form)
    assert refused.status_code == 409
    assert second.post("/admin/payers/3", data=form_values(refused.get_data(as_text=True))).status_code == 302
    with app.app_context():
        payer = db.session.get(Payer, 3)
        assert (payer.name, payer.prior_auth_fax) == ("Maryland Medicaid", "+14105550199")


@pytest.mark.parametrize("role", ["scheduler", "nurse", "physician", "manager"])
def test_only_admins_open_the_payer_list(signed_in, role):
    assert signed_in(role).get("/admin/payers").status_code == 403

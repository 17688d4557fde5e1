"""An SCS trial's result through HTTP: saved on the trial page or at the trial-end follow-up, it
is the one result the patient's page, the candidates list and the devices page show, and their
sections agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.devices import trials
from backoffice.devices.trials import TrialResult
from backoffice.models import Patient
from backoffice.procedures import psych_evaluations
from backoffice.procedures.models import FollowUp
from backoffice.procedures.psych_evaluations import PsychEntry
from tests.integration.course_helpers import book, done

from .browser_form import form_values

TODAY = date.today()
STARTED = TODAY - timedelta(days=20)
PHYSICIAN = Actor(3, "physician", frozenset({"physician"}), "192.0.2.21")


def the_patient(app: Flask, number: int) -> tuple[int, str]:
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(number).limit(1)).one()
        return patient.id, str(escape(patient.sortable_name))


def trial_done(app: Flask, patient_id: int, *, on_or_after: date = STARTED, evaluated: bool = True) -> int:
    """A trial procedure done here (its completion puts the trial on record), with the patient's
    psychological evaluation when `evaluated`; the trial's id."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert patient is not None
        appointment = done("SCS-TRIAL", on_or_after, patient=patient, region="thoracic", side=None, levels=None)
        if evaluated:
            psych_evaluations.record_psych_evaluation(patient_id, PsychEntry(STARTED - timedelta(days=30), True,
                                                                             "Dr. Marsh, PsyD"),
                                                      by=PHYSICIAN, now=datetime.now(UTC), today=TODAY)
        trial = trials.trial_of_appointment(appointment.id)
        assert trial is not None
        found = trial.id
        db.session.remove()
    return found


def decided(app: Flask, trial_id: int, pain: int, decision: str) -> None:
    with app.app_context():
        trial = trials.get_trial(trial_id, by=PHYSICIAN)
        ended = trial.started_on + timedelta(days=7)
        trials.record_trial_result(trial_id, TrialResult(pain, None, trials.TrialDecision(decision), ended,
                                                         ended_on=ended),
                                   expected_version=trial.version, by=PHYSICIAN, now=datetime.now(UTC), today=TODAY)
        db.session.remove()


def result_form(client, trial_id: int, **typed: str) -> dict[str, str]:
    """The trial page's result form as it opens, with `typed` typed in."""
    page = client.get(f"/devices/trials/{trial_id}").get_data(as_text=True)
    values = {name: found[0] if found else "" for name, found in form_values(page).items()}
    return {**values, **typed}


def section(html: str, key: str) -> str:
    start = html.index(f'aria-labelledby="{key}">')
    return html[start:html.index("</section>", start)]


def count(html: str, key: str) -> int:
    match = re.search(rf'id="{key}">[^<]*<span class="text-muted">\((\d+)\)</span>', html)
    assert match is not None, key
    return int(match.group(1))


def test_a_result_saved_on_the_trial_page_makes_the_patient_implant_indicated_everywhere(app, signed_in):
    patient_id, name = the_patient(app, 3)
    trial_id = trial_done(app, patient_id)
    physician = signed_in("physician")
    devices = physician.get("/devices").get_data(as_text=True)
    assert name in section(devices, "trials-overdue")  # twenty days in, no result yet
    course = physician.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "trial result not recorded" in course and "implant not indicated yet" in course

    ended = STARTED + timedelta(days=7)
    saved = physician.post(f"/devices/trials/{trial_id}", data=result_form(
        physician, trial_id, pain_reduction_percent="65", ended_on=ended.isoformat()))
    assert saved.status_code == 302
    page = physician.get(f"/devices/trials/{trial_id}").get_data(as_text=True)
    assert "65% reduction of target pain" in page and "entered on the trial page" in page

    course = physician.get(f"/patients/{patient_id}").get_data(as_text=True)
    rules = course[course.index('id="candidacy-heading"'):course.index('id="timeline-heading"')]
    assert "SCS permanent implant" in rules and "Eligible now" in rules and "implant indicated" in rules
    candidates = physician.get("/candidates?who=all").get_data(as_text=True)
    scs = candidates[candidates.index('id="scs"'):]
    assert name in scs and "implant indicated" in scs and "Eligible now" in scs
    devices = physician.get("/devices").get_data(as_text=True)
    assert name not in section(devices, "trials-overdue") and name not in section(devices, "trials-running")
    assert name in section(devices, "trials-awaiting") and count(devices, "trials-awaiting") == 1


def test_the_trial_end_follow_up_says_it_records_the_trials_result_and_does(app, signed_in):
    patient_id, _ = the_patient(app, 3)
    trial_id = trial_done(app, patient_id, evaluated=False)
    with app.app_context():
        follow_up_id = db.session.scalars(select(FollowUp.id).join(FollowUp.appointment)
                                          .where(FollowUp.patient_id == patient_id)).one()
    nurse = signed_in("nurse")
    page = nurse.get(f"/followups/{follow_up_id}").get_data(as_text=True)
    assert "the SCS trial's result" in page and "whichever is saved later is the result" in page
    values = {name: found[0] if found else "" for name, found in
              form_values(page.split('class="outcome-form"')[1].split("</form>")[0]).items()}
    recorded_on = STARTED + timedelta(days=9)
    saved = nurse.post(f"/followups/{follow_up_id}", data={**values, "contact": "phone", "percent_relief": "70",
                                                           "recorded_on": recorded_on.isoformat()})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    trial_page = nurse.get(f"/devices/trials/{trial_id}").get_data(as_text=True)
    assert "70% reduction of target pain" in trial_page and "entered on the trial-end follow-up" in trial_page
    course = nurse.get(f"/patients/{patient_id}").get_data(as_text=True)
    assert "no psychological evaluation on record: implant not indicated yet" in course


def test_the_devices_page_sections_agree_with_the_candidates_list(app, signed_in):
    names = {}
    ids = {}
    for number, state in enumerate(("running", "too_long", "indicated", "no_evaluation", "failed", "implant_booked",
                                    "implant_to_book")):
        patient_id, names[state] = the_patient(app, 2 + number)
        ids[state] = trial_done(app, patient_id, evaluated=state != "no_evaluation",
                                on_or_after=TODAY - timedelta(days=2) if state == "running" else STARTED)
    physician = signed_in("physician")
    for state, pain, decision in (("indicated", "65", ""), ("no_evaluation", "65", ""), ("failed", "20", "failed"),
                                  ("implant_booked", "70", ""), ("implant_to_book", "80", "implant")):
        ended = (STARTED + timedelta(days=7)).isoformat()
        saved = physician.post(f"/devices/trials/{ids[state]}", data=result_form(
            physician, ids[state], pain_reduction_percent=pain, ended_on=ended, decision=decision,
            decided_on=ended if decision else ""))
        assert saved.status_code == 302, (state, saved.get_data(as_text=True))
    with app.app_context():
        patient = db.session.get(Patient, the_patient(app, 7)[0])
        book("SCS-IMPLANT", TODAY + timedelta(days=14), patient=patient, region="thoracic", side=None, levels=None)
        db.session.remove()

    devices = physician.get("/devices").get_data(as_text=True)
    candidates = physician.get("/candidates?who=all").get_data(as_text=True)
    listed = candidates[candidates.index('id="scs"'):]
    where = {  # the devices page's section; whether the candidates list shows the patient
        "running": ("trials-ending", True), "too_long": ("trials-overdue", True),
        "indicated": ("trials-awaiting", True), "no_evaluation": ("trials-awaiting", True),
        "failed": (None, False), "implant_booked": (None, False), "implant_to_book": ("trials-implant", True)}
    keys = ("trials-overdue", "trials-result-due", "trials-awaiting", "trials-implant", "trials-ending",
            "trials-running")
    for state, (key, candidate) in where.items():
        assert [k for k in keys if names[state] in section(devices, k)] == ([key] if key else []), state
        assert (names[state] in listed) is candidate, state
    assert [count(devices, key) for key in keys] == [1, 0, 2, 1, 1, 0]
    assert "Ended, awaiting a decision <span class=\"text-muted\">(2)</span>" in devices


@pytest.mark.parametrize("typed, field, message", [
    ({"pain_reduction_percent": "65", "ended_on": ""}, "ended_on", "Give the day the trial ended."),
    ({"pain_reduction_percent": "", "ended_on": TODAY.isoformat()}, "pain_reduction_percent",
     "Give the reduction of target pain or of analgesic use the trial gave."),
    ({"decision": "implant", "decided_on": TODAY.isoformat()}, "decision",
     "Record the trial&#39;s result before deciding to implant."),
])
def test_a_result_without_its_day_or_a_decision_without_a_result_is_refused_next_to_the_field(
        app, signed_in, typed, field, message):
    patient_id, _ = the_patient(app, 3)
    trial_id = trial_done(app, patient_id)
    physician = signed_in("physician")
    refused = physician.post(f"/devices/trials/{trial_id}", data=result_form(physician, trial_id, **typed))
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    with app.app_context():  # the trial is unchanged
        trial = trials.get_trial(trial_id, by=PHYSICIAN)
        assert (trial.ended_on, trial.pain_reduction_percent, trial.decision) == (None, None, None)


def test_starting_a_trial_offers_the_patients_trial_procedures_not_yet_on_record(app, signed_in):
    patient_id, _ = the_patient(app, 3)
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        booked = book("SCS-TRIAL", TODAY + timedelta(days=10), patient=patient, region="thoracic", side=None,
                      levels=None)
        booked_id, day = booked.id, trials.local_day(booked.starts_at, booked.office.timezone)
        db.session.remove()
    physician = signed_in("physician")

    def offered() -> str:
        page = physician.get(f"/patients/{patient_id}/trials/new").get_data(as_text=True)
        return page[page.index('id="appointment_id"'):].split("</select>")[0]

    assert f'<option value="{booked_id}">' in offered() and "None: not done here" in offered()
    form = physician.get(f"/patients/{patient_id}/trials/new").get_data(as_text=True)
    values = {name: found[0] if found else "" for name, found in form_values(form).items()}
    linked = {**values, "appointment_id": str(booked_id)}
    refused = physician.post(f"/patients/{patient_id}/trials/new", data=linked)  # started today
    assert refused.status_code == 400 and f"The trial procedure is on {day:%m/%d/%Y}" in refused.get_data(as_text=True)
    started = physician.post(f"/patients/{patient_id}/trials/new", data={
        **linked, "started_on": day.isoformat(), "planned_end_on": (day + timedelta(days=7)).isoformat()})
    assert started.status_code == 302
    trial_id = int(started.location.rsplit("/", 1)[1])
    with app.app_context():
        assert trials.get_trial(trial_id, by=PHYSICIAN).appointment_id == booked_id
    assert f'<option value="{booked_id}">' not in offered()

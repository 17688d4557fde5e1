from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import StaleEdit
from backoffice.core.forms import form_status, merge_stale_edit
from backoffice.core.pages import sections_of
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import format_date, practice_today
from backoffice.patients import rules, services
from backoffice.patients.forms import RELATIONSHIPS, EditPatientForm, PatientForm, SearchForm
from backoffice.patients.pages import patient_page
from backoffice.practice.services import office_choices

bp = Blueprint("patients", __name__)


def _render_form(form: PatientForm, status: int, **context: object) -> tuple[str, int]:
    return render_template("patients/form.html", form=form, relationships=RELATIONSHIPS, **context), status


@bp.get("/patients")
@allow(Permission.MANAGE_PATIENTS)
def search() -> str:
    form = SearchForm(request.args)
    terms = rules.parse_search(form.q.data or "") if form.validate() else rules.SearchTerms()
    results = services.search_patients(terms, by=current_actor())
    return render_template("patients/search.html", form=form, terms=terms, results=results,
                           searched=bool(form.q.data), limit=rules.MAX_RESULTS)


@bp.get("/patients/search.json")
@allow(Permission.MANAGE_PATIENTS)
def search_json() -> Response:
    """Search as you type, for the booking form: the few fields needed to pick the patient."""
    form = SearchForm(request.args)
    terms = rules.parse_search(form.q.data or "") if form.validate() else rules.SearchTerms()
    found = services.search_patients(terms, by=current_actor(), limit=10, searched_on="search as you type")
    return jsonify([{"mrn": p.mrn, "label": f"{p.sortable_name}, born {format_date(p.date_of_birth)}, "
                                            f"MRN {p.mrn}"} for p in found])


@bp.route("/patients/new", methods=["GET", "POST"])
@allow(Permission.MANAGE_PATIENTS)
def new() -> Response | tuple[str, int]:
    form = PatientForm(office_choices=office_choices())
    if not form.validate_on_submit():
        return _render_form(form, form_status(form), patient=None)
    try:
        patient = services.create_patient(form.to_data(), confirm_duplicate=form.confirm_duplicate.data,
                                          by=current_actor(), now=utcnow())
    except services.PossibleDuplicate as duplicate:
        return _render_form(form, 409, patient=None, duplicates=duplicate.matches,
                            duplicate_message=duplicate.message)
    # Flash messages travel in the session cookie, which is signed but readable: no patient data.
    flash("Patient registered. The new MRN is shown below.", "success")
    return redirect(url_for("patients.show", patient_id=patient.id))


@bp.get("/patients/<int:patient_id>")
@allow(Permission.MANAGE_PATIENTS)
def show(patient_id: int) -> str:
    actor = current_actor()
    patient = services.open_patient_record(patient_id, by=actor)
    now = utcnow()
    today = practice_today(now)
    sections = sections_of(patient_page, patient, by=actor, now=now, today=today,
                           whole_course=request.args.get("course") == "all")
    return render_template("patients/show.html", patient=patient, sections=sections, now=now, today=today)


@bp.route("/patients/<int:patient_id>/edit", methods=["GET", "POST"])
@allow(Permission.MANAGE_PATIENTS)
def edit(patient_id: int) -> Response | tuple[str, int]:
    actor = current_actor()
    if request.method == "GET":
        patient = services.open_patient_record(patient_id, by=actor)
    else:
        patient = services.get_patient(patient_id, by=actor)
    form = (EditPatientForm.for_record(patient, office_choices=office_choices())
            if request.method == "GET" else EditPatientForm(office_choices=office_choices()))
    if not form.validate_on_submit():
        return _render_form(form, form_status(form), patient=patient)
    try:
        services.update_patient(patient_id, form.to_data(), expected_version=form.version.data or 0,
                                confirm_duplicate=form.confirm_duplicate.data, by=actor,
                                now=utcnow())
    except services.PossibleDuplicate as duplicate:
        return _render_form(form, 409, patient=patient, duplicates=duplicate.matches,
                            duplicate_message=duplicate.message)
    except StaleEdit as stale:
        current = services.get_patient(patient_id, by=actor)
        form = merge_stale_edit(
            form, EditPatientForm.for_record(current, office_choices=office_choices()), stale)
        return _render_form(form, 409, patient=current, stale=stale)
    flash("Saved the patient's details.", "success")
    return redirect(url_for("patients.show", patient_id=patient_id))

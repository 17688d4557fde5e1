"""The payer list (admin) and a patient's coverage, added, changed and removed from the patient's page."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import add_field_errors, form_status, merge_stale_edit
from backoffice.core.permissions import Permission
from backoffice.insurance import coverage as coverages
from backoffice.insurance.forms import CoverageForm, EditPayerForm, NewCoverageForm, PayerForm, RemoveCoverageForm
from backoffice.insurance.models import Coverage, Payer
from backoffice.insurance.payers import add_payer, get_payer, list_payers, offered_payers, update_payer
from backoffice.insurance.rules import CoverageRank
from backoffice.patients.models import Patient
from backoffice.patients.services import get_patient, open_patient_record

bp = Blueprint("insurance", __name__)

Page = Response | str | tuple[str, int]
ON_PATIENT_PAGE = "coverage-heading"  # where the patient page shows the coverage


# The payer list.

@bp.get("/admin/payers")
@allow(Permission.ADMINISTER_PRACTICE)
def payers() -> str:
    return render_template("insurance/payers.html", payers=list_payers())


def _payer_form(form: PayerForm | EditPayerForm, payer: Payer | None, status: int) -> tuple[str, int]:
    return render_template("insurance/payer_form.html", form=form, payer=payer), status


@bp.route("/admin/payers/new", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def new_payer() -> Page:
    form = PayerForm()
    if not form.validate_on_submit():
        return _payer_form(form, None, form_status(form))
    try:
        payer = add_payer(form.to_data(), by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _payer_form(form, None, 400)
    flash(f"Added {payer.name} to the payers.", "success")
    return redirect(url_for("insurance.payers"))


@bp.route("/admin/payers/<int:payer_id>", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def edit_payer(payer_id: int) -> Page:
    payer = get_payer(payer_id)
    form = EditPayerForm.for_record(payer) if request.method == "GET" else EditPayerForm()
    if not form.validate_on_submit():
        return _payer_form(form, payer, form_status(form))
    try:
        update_payer(payer_id, form.to_data(), expected_version=form.version.data or 0, by=current_actor(),
                     now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _payer_form(form, payer, 400)
    except StaleEdit as stale:
        current = get_payer(payer_id)
        return _payer_form(merge_stale_edit(form, EditPayerForm.for_record(current), stale), current, 409)
    flash(f"Saved {form.name.data}.", "success")
    return redirect(url_for("insurance.payers"))


# A patient's coverage.

FormT = TypeVar("FormT", NewCoverageForm, CoverageForm)


def _offering_payers(form: FormT, keeping: int | None = None) -> FormT:
    form.set_payers(offered_payers(keeping))
    return form


def _coverage_form(form: NewCoverageForm | CoverageForm, patient: Patient, status: int,
                   coverage: Coverage | None = None) -> tuple[str, int]:
    return render_template("insurance/coverage_form.html", form=form, patient=patient, coverage=coverage), status


def _back_to(patient_id: int) -> Response:
    return redirect(url_for("patients.show", patient_id=patient_id, _anchor=ON_PATIENT_PAGE))


@bp.route("/patients/<int:patient_id>/coverage/new", methods=["GET", "POST"])
@allow(Permission.MANAGE_COVERAGE)
def new_coverage(patient_id: int) -> Page:
    actor = current_actor()
    patient = (open_patient_record(patient_id, by=actor, page="coverage form")
               if request.method == "GET" else get_patient(patient_id, by=actor))
    form = _offering_payers(NewCoverageForm())
    if request.method == "GET" and request.args.get("rank") in {rank.value for rank in CoverageRank}:
        form.rank.data = request.args["rank"]
    if not form.validate_on_submit():
        return _coverage_form(form, patient, form_status(form))
    try:
        coverage = coverages.add_coverage(patient_id, form.to_entry(), by=actor, now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _coverage_form(form, patient, 400)
    flash(f"{coverage.rank.label} coverage added.", "success")
    return _back_to(patient_id)


@bp.route("/coverage/<int:coverage_id>/edit", methods=["GET", "POST"])
@allow(Permission.MANAGE_COVERAGE)
def edit_coverage(coverage_id: int) -> Page:
    actor = current_actor()
    coverage = (coverages.open_coverage(coverage_id, by=actor, page="edit form")
                if request.method == "GET" else coverages.get_coverage(coverage_id, by=actor))
    form = _offering_payers(CoverageForm.for_record(coverage) if request.method == "GET" else CoverageForm(),
                            keeping=coverage.payer_id)
    if not form.validate_on_submit():
        return _coverage_form(form, coverage.patient, form_status(form), coverage)
    try:
        coverages.change_coverage(coverage_id, form.to_entry(), expected_version=form.version.data or 0, by=actor,
                                  now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _coverage_form(form, coverage.patient, 400, coverage)
    except StaleEdit as stale:
        current = coverages.get_coverage(coverage_id, by=actor)
        merged = merge_stale_edit(form, _offering_payers(CoverageForm.for_record(current), keeping=current.payer_id),
                                  stale)
        return _coverage_form(merged, current.patient, 409, current)
    flash("Coverage saved.", "success")
    return _back_to(coverage.patient_id)


@bp.route("/coverage/<int:coverage_id>/delete", methods=["GET", "POST"])
@allow(Permission.MANAGE_COVERAGE)
def remove_coverage(coverage_id: int) -> Page:
    actor = current_actor()
    coverage = (coverages.open_coverage(coverage_id, by=actor, page="removal form")
                if request.method == "GET" else coverages.get_coverage(coverage_id, by=actor))
    form = RemoveCoverageForm.for_record(coverage) if request.method == "GET" else RemoveCoverageForm()
    if not form.validate_on_submit():
        return render_template("insurance/coverage_remove.html", form=form, coverage=coverage), form_status(form)
    try:
        patient_id = coverages.remove_coverage(coverage_id, reason=form.reason.data or "",
                                               expected_version=form.version.data or 0, by=actor)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("insurance/coverage_remove.html", form=form, coverage=coverage), 400
    except StaleEdit as stale:
        current = coverages.get_coverage(coverage_id, by=actor)
        form = RemoveCoverageForm.for_record(current)
        form.form_errors.append(f"{stale.headline} Check what it says now before removing it.")
        return render_template("insurance/coverage_remove.html", form=form, coverage=current), 409
    flash("Coverage removed; the audit trail keeps what it said and why.", "success")
    return _back_to(patient_id)

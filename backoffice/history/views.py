"""Procedures done elsewhere: add one from the patient's page, correct it, delete it with a reason."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.catalog.services import list_procedure_types
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import add_field_errors, form_status, merge_stale_edit
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import practice_today
from backoffice.history import services
from backoffice.history.forms import DeleteOutsideProcedureForm, NewOutsideProcedureForm, OutsideProcedureForm
from backoffice.history.models import OutsideProcedure
from backoffice.patients.models import Patient
from backoffice.patients.services import get_patient, open_patient_record

bp = Blueprint("history", __name__)

Page = Response | str | tuple[str, int]
ON_PATIENT_PAGE = "outside-heading"  # where the patient page lists them


FormT = TypeVar("FormT", NewOutsideProcedureForm, OutsideProcedureForm)


def _offering_the_catalog(form: FormT) -> FormT:
    form.set_procedures(list_procedure_types())
    return form


def _form_page(form: NewOutsideProcedureForm | OutsideProcedureForm, patient: Patient, status: int,
               outside: OutsideProcedure | None = None) -> tuple[str, int]:
    return render_template("history/form.html", form=form, patient=patient, outside=outside), status


def _back_to(patient_id: int) -> Response:
    return redirect(url_for("patients.show", patient_id=patient_id, _anchor=ON_PATIENT_PAGE))


@bp.route("/patients/<int:patient_id>/outside-procedures/new", methods=["GET", "POST"])
@allow(Permission.RECORD_OUTSIDE_PROCEDURES)
def new_outside_procedure(patient_id: int) -> Page:
    actor = current_actor()
    patient = (open_patient_record(patient_id, by=actor, page="outside procedure form")
               if request.method == "GET" else get_patient(patient_id, by=actor))
    form = _offering_the_catalog(NewOutsideProcedureForm())
    if not form.validate_on_submit():
        return _form_page(form, patient, form_status(form))
    try:
        services.record_outside_procedure(patient_id, form.to_entry(), by=actor, now=utcnow(),
                                          today=practice_today(utcnow()))
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _form_page(form, patient, 400)
    flash("Procedure done elsewhere recorded: the frequency limits and the rules count it.", "success")
    return _back_to(patient_id)


@bp.route("/outside-procedures/<int:outside_procedure_id>/edit", methods=["GET", "POST"])
@allow(Permission.RECORD_OUTSIDE_PROCEDURES)
def edit_outside_procedure(outside_procedure_id: int) -> Page:
    actor = current_actor()
    outside = (services.open_outside_procedure(outside_procedure_id, by=actor, page="edit form")
               if request.method == "GET" else services.get_outside_procedure(outside_procedure_id, by=actor))
    form = _offering_the_catalog(OutsideProcedureForm.for_record(outside) if request.method == "GET"
                                 else OutsideProcedureForm())
    if not form.validate_on_submit():
        return _form_page(form, outside.patient, form_status(form), outside)
    try:
        services.correct_outside_procedure(outside_procedure_id, form.to_entry(),
                                           expected_version=form.version.data or 0, by=actor, now=utcnow(),
                                           today=practice_today(utcnow()))
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _form_page(form, outside.patient, 400, outside)
    except StaleEdit as stale:
        current = services.get_outside_procedure(outside_procedure_id, by=actor)
        merged = merge_stale_edit(form, _offering_the_catalog(OutsideProcedureForm.for_record(current)), stale)
        return _form_page(merged, current.patient, 409, current)
    flash("Procedure done elsewhere corrected.", "success")
    return _back_to(outside.patient_id)


@bp.route("/outside-procedures/<int:outside_procedure_id>/delete", methods=["GET", "POST"])
@allow(Permission.RECORD_OUTSIDE_PROCEDURES)
def delete_outside_procedure(outside_procedure_id: int) -> Page:
    actor = current_actor()
    outside = (services.open_outside_procedure(outside_procedure_id, by=actor, page="delete form")
               if request.method == "GET" else services.get_outside_procedure(outside_procedure_id, by=actor))
    form = DeleteOutsideProcedureForm.for_record(outside) if request.method == "GET" else DeleteOutsideProcedureForm()
    if not form.validate_on_submit():
        return render_template("history/delete.html", form=form, outside=outside), form_status(form)
    try:
        patient_id = services.delete_outside_procedure(outside_procedure_id, reason=form.reason.data or "",
                                                       expected_version=form.version.data or 0, by=actor,
                                                       now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("history/delete.html", form=form, outside=outside), 400
    except StaleEdit as stale:
        current = services.get_outside_procedure(outside_procedure_id, by=actor)
        form = DeleteOutsideProcedureForm.for_record(current)
        form.form_errors.append(f"{stale.headline} Check what it says now before deleting it.")
        return render_template("history/delete.html", form=form, outside=current), 409
    flash("Procedure done elsewhere deleted; the audit trail keeps what it said and why.", "success")
    return _back_to(patient_id)

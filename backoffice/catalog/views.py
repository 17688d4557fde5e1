"""The procedure catalog (admin): what can be booked, with its limits and default follow-ups."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.catalog import services
from backoffice.catalog.forms import EditProcedureTypeForm, ProcedureTypeForm
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import add_field_errors, form_status, merge_stale_edit
from backoffice.core.permissions import Permission

bp = Blueprint("catalog", __name__)

Page = Response | str | tuple[str, int]


@bp.get("/admin/procedures")
@allow(Permission.ADMINISTER_PRACTICE)
def index() -> str:
    return render_template("catalog/index.html", procedure_types=services.list_procedure_types())


@bp.route("/admin/procedures/new", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def new_procedure_type() -> Page:
    form = ProcedureTypeForm()
    if not form.validate_on_submit():
        return render_template("catalog/form.html", form=form, procedure_type=None), form_status(form)
    try:
        procedure_type = services.create_procedure_type(form.to_data(), by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("catalog/form.html", form=form, procedure_type=None), 400
    flash(f"Added {procedure_type.name} to the catalog.", "success")
    return redirect(url_for("catalog.index"))


@bp.route("/admin/procedures/<int:procedure_type_id>", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def edit_procedure_type(procedure_type_id: int) -> Page:
    procedure_type = services.get_procedure_type(procedure_type_id)
    form = (EditProcedureTypeForm.for_record(procedure_type) if request.method == "GET"
            else EditProcedureTypeForm())
    if not form.validate_on_submit():
        return render_template("catalog/form.html", form=form,
                               procedure_type=procedure_type), form_status(form)
    try:
        services.update_procedure_type(procedure_type_id, form.to_data(),
                                       expected_version=form.version.data or 0, by=current_actor(),
                                       now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("catalog/form.html", form=form, procedure_type=procedure_type), 400
    except StaleEdit as stale:
        current = services.get_procedure_type(procedure_type_id)
        form = merge_stale_edit(form, EditProcedureTypeForm.for_record(current), stale)
        return render_template("catalog/form.html", form=form, procedure_type=current), 409
    flash(f"Saved {form.name.data}.", "success")
    return redirect(url_for("catalog.index"))

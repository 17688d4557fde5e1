"""The catalog (admin): the procedures that can be booked, with their limits and default follow-ups,
and the device models that can be implanted."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.catalog import services
from backoffice.catalog.device_models import (
    add_device_model,
    get_device_model,
    list_device_models,
    update_device_model,
)
from backoffice.catalog.forms import DeviceModelForm, EditDeviceModelForm, EditProcedureTypeForm, ProcedureTypeForm
from backoffice.catalog.models import DeviceModel
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


# Device models.

@bp.get("/admin/device-models")
@allow(Permission.ADMINISTER_PRACTICE)
def device_models() -> str:
    return render_template("catalog/device_models.html", models=list_device_models())


@bp.route("/admin/device-models/new", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def new_device_model() -> Page:
    form = DeviceModelForm()
    if not form.validate_on_submit():
        return _device_model_form(form, None, form_status(form))
    try:
        device_model = add_device_model(form.to_data(), by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _device_model_form(form, None, 400)
    flash(f"Added {device_model.manufacturer} {device_model.model} to the catalog.", "success")
    return redirect(url_for("catalog.device_models"))


@bp.route("/admin/device-models/<int:device_model_id>", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def edit_device_model(device_model_id: int) -> Page:
    device_model = get_device_model(device_model_id)
    form = EditDeviceModelForm.for_record(device_model) if request.method == "GET" else EditDeviceModelForm()
    if not form.validate_on_submit():
        return _device_model_form(form, device_model, form_status(form))
    try:
        update_device_model(device_model_id, form.to_data(), expected_version=form.version.data or 0,
                            by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _device_model_form(form, device_model, 400)
    except StaleEdit as stale:
        current = get_device_model(device_model_id)
        return _device_model_form(merge_stale_edit(form, EditDeviceModelForm.for_record(current), stale), current, 409)
    flash(f"Saved {form.manufacturer.data} {form.model.data}.", "success")
    return redirect(url_for("catalog.device_models"))


def _device_model_form(form: DeviceModelForm, device_model: DeviceModel | None, status: int) -> tuple[str, int]:
    return render_template("catalog/device_model_form.html", form=form, device_model=device_model), status

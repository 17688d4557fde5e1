"""Practice setup pages (admin): offices with hours, closed days and rooms; physicians with
their weekly schedules and leave."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.forms import ConfirmForm
from backoffice.auth.sessions import current_actor
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import add_field_errors, form_status, merge_stale_edit
from backoffice.core.permissions import Permission
from backoffice.practice import services
from backoffice.practice.closures import warnings_for_closed_day
from backoffice.practice.forms import (
    ClosureForm,
    EditOfficeForm,
    EditPhysicianForm,
    EditRoomForm,
    HoursForm,
    LeaveForm,
    OfficeForm,
    PhysicianForm,
    RoomForm,
    ScheduleForm,
)
from backoffice.practice.models import Office, Physician

bp = Blueprint("practice", __name__, url_prefix="/admin")

Page = Response | str | tuple[str, int]


# Offices

@bp.get("/offices")
@allow(Permission.ADMINISTER_PRACTICE)
def offices() -> str:
    return render_template("practice/offices.html", offices=services.list_offices())


@bp.route("/offices/new", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def new_office() -> Page:
    form = OfficeForm()
    if not form.validate_on_submit():
        return render_template("practice/office_new.html", form=form), form_status(form)
    try:
        office = services.create_office(form.to_data(), by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("practice/office_new.html", form=form), 400
    flash(f"Created the office {office.name}. Now set its opening hours and rooms.", "success")
    return redirect(url_for("practice.office", office_id=office.id))


def _office_page(office: Office, status: int = 200, **forms: Any) -> tuple[str, int]:
    forms.setdefault("details", EditOfficeForm.for_record(office))
    forms.setdefault("hours", HoursForm.for_record(office))
    forms.setdefault("closure", ClosureForm(formdata=None))
    return render_template("practice/office.html", office=office,
                           **forms), status


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def office(office_id: int) -> Page:
    office = services.get_office(office_id)
    if request.method == "GET":
        return _office_page(office)
    form = EditOfficeForm()
    if not form.validate_on_submit():
        return _office_page(office, 400, details=form)
    try:
        services.update_office(office_id, form.to_data(), expected_version=form.version.data or 0,
                               by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _office_page(office, 400, details=form)
    except StaleEdit as stale:
        current = services.get_office(office_id)
        return _office_page(current, 409,
                            details=merge_stale_edit(form, EditOfficeForm.for_record(current), stale))
    flash(f"Saved {form.name.data}.", "success")
    return redirect(url_for("practice.office", office_id=office_id))


@bp.post("/offices/<int:office_id>/hours")
@allow(Permission.ADMINISTER_PRACTICE)
def office_hours(office_id: int) -> Page:
    office = services.get_office(office_id)
    form = HoursForm()
    if not form.validate_on_submit():
        return _office_page(office, 400, hours=form)
    try:
        services.set_office_hours(office_id, form.to_hours(), expected_version=form.version.data or 0,
                                  by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _office_page(office, 400, hours=form)
    except StaleEdit as stale:
        current = services.get_office(office_id)
        return _office_page(current, 409,
                            hours=merge_stale_edit(form, HoursForm.for_record(current), stale))
    flash(f"Saved the opening hours of {office.name}.", "success")
    return redirect(url_for("practice.office", office_id=office_id))


@bp.post("/offices/<int:office_id>/closures")
@allow(Permission.ADMINISTER_PRACTICE)
def add_closure(office_id: int) -> Page:
    office = services.get_office(office_id)
    form = ClosureForm()
    if not form.validate_on_submit():
        return _office_page(office, 400, closure=form)
    try:
        services.add_closure(office_id, form.day.data, form.reason.data or "",
                             by=current_actor())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _office_page(office, 400, closure=form)
    flash(f"{office.name} is closed on {form.day.data:%m/%d/%Y}.", "success")
    for warning in warnings_for_closed_day(office, form.day.data):
        flash(warning, "warning")
    return redirect(url_for("practice.office", office_id=office_id))


@bp.post("/offices/<int:office_id>/closures/<int:closure_id>/delete")
@allow(Permission.ADMINISTER_PRACTICE)
def remove_closure(office_id: int, closure_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        services.remove_closure(office_id, closure_id, by=current_actor())
        flash("Removed the closed day.", "success")
    return redirect(url_for("practice.office", office_id=office_id))


# Rooms

@bp.route("/offices/<int:office_id>/rooms/new", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def new_room(office_id: int) -> Page:
    office = services.get_office(office_id)
    form = RoomForm()
    if not form.validate_on_submit():
        return render_template("practice/room.html", form=form, office=office,
                               room=None), form_status(form)
    try:
        room = services.create_room(office_id, form.to_data(), by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("practice/room.html", form=form, office=office, room=None), 400
    flash(f"Added {room.name} to {office.name}.", "success")
    return redirect(url_for("practice.office", office_id=office_id))


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def room(room_id: int) -> Page:
    room = services.get_room(room_id)
    form = EditRoomForm.for_record(room) if request.method == "GET" else EditRoomForm()
    context = {"office": room.office, "room": room}
    if not form.validate_on_submit():
        return render_template("practice/room.html", form=form, **context), form_status(form)
    try:
        services.update_room(room_id, form.to_data(), expected_version=form.version.data or 0,
                             by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("practice/room.html", form=form, **context), 400
    except StaleEdit as stale:
        current = services.get_room(room_id)
        form = merge_stale_edit(form, EditRoomForm.for_record(current), stale)
        return render_template("practice/room.html", form=form, office=current.office, room=current,
                               stale=stale), 409
    flash(f"Saved {form.name.data}.", "success")
    return redirect(url_for("practice.office", office_id=room.office_id))


# Physicians

def _account_choices() -> list[tuple[str, str]]:
    return [(str(user.id), f"{user.full_name} ({user.username})")
            for user in services.physician_accounts()]


@bp.get("/physicians")
@allow(Permission.ADMINISTER_PRACTICE)
def physicians() -> str:
    return render_template("practice/physicians.html", physicians=services.list_physicians())


@bp.route("/physicians/new", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def new_physician() -> Page:
    form = PhysicianForm(account_choices=_account_choices())
    if not form.validate_on_submit():
        return render_template("practice/physician_new.html", form=form), form_status(form)
    try:
        physician = services.create_physician(form.to_data(), by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("practice/physician_new.html", form=form), 400
    flash(f"Added {physician.display_name}. Now set the weekly schedule.", "success")
    return redirect(url_for("practice.physician", physician_id=physician.id))


def _physician_page(physician: Physician, status: int = 200, **forms: Any) -> tuple[str, int]:
    if "details" not in forms:
        forms["details"] = EditPhysicianForm.for_record(physician, account_choices=_account_choices())
    forms.setdefault("schedule", ScheduleForm(formdata=None, office_choices=services.office_choices()))
    forms.setdefault("leave", LeaveForm(formdata=None))
    return render_template("practice/physician.html", physician=physician,
                           **forms), status


@bp.route("/physicians/<int:physician_id>", methods=["GET", "POST"])
@allow(Permission.ADMINISTER_PRACTICE)
def physician(physician_id: int) -> Page:
    physician = services.get_physician(physician_id)
    if request.method == "GET":
        return _physician_page(physician)
    form = EditPhysicianForm(account_choices=_account_choices())
    if not form.validate_on_submit():
        return _physician_page(physician, 400, details=form)
    try:
        services.update_physician(physician_id, form.to_data(),
                                  expected_version=form.version.data or 0, by=current_actor(),
                                  now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _physician_page(physician, 400, details=form)
    except StaleEdit as stale:
        current = services.get_physician(physician_id)
        merged = merge_stale_edit(
            form, EditPhysicianForm.for_record(current, account_choices=_account_choices()), stale)
        return _physician_page(current, 409, details=merged)
    flash(f"Saved {physician.display_name}.", "success")
    return redirect(url_for("practice.physician", physician_id=physician_id))


@bp.post("/physicians/<int:physician_id>/schedule")
@allow(Permission.ADMINISTER_PRACTICE)
def add_schedule_block(physician_id: int) -> Page:
    physician = services.get_physician(physician_id)
    form = ScheduleForm(office_choices=services.office_choices())
    if not form.validate_on_submit():
        return _physician_page(physician, 400, schedule=form)
    try:
        services.add_schedule_block(physician_id, form.to_data(), by=current_actor())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _physician_page(services.get_physician(physician_id), 400, schedule=form)
    flash("Added the block to the weekly schedule.", "success")
    return redirect(url_for("practice.physician", physician_id=physician_id))


@bp.post("/physicians/<int:physician_id>/schedule/<int:block_id>/delete")
@allow(Permission.ADMINISTER_PRACTICE)
def remove_schedule_block(physician_id: int, block_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        services.remove_schedule_block(physician_id, block_id, by=current_actor())
        flash("Removed the block from the weekly schedule.", "success")
    return redirect(url_for("practice.physician", physician_id=physician_id))


@bp.post("/physicians/<int:physician_id>/leave")
@allow(Permission.ADMINISTER_PRACTICE)
def add_leave(physician_id: int) -> Page:
    physician = services.get_physician(physician_id)
    form = LeaveForm()
    if not form.validate_on_submit():
        return _physician_page(physician, 400, leave=form)
    try:
        services.add_leave(physician_id, form.first_day.data, form.last_day.data,
                           form.reason.data or "", by=current_actor())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _physician_page(services.get_physician(physician_id), 400, leave=form)
    flash("Recorded the leave.", "success")
    return redirect(url_for("practice.physician", physician_id=physician_id))


@bp.post("/physicians/<int:physician_id>/leave/<int:leave_id>/delete")
@allow(Permission.ADMINISTER_PRACTICE)
def remove_leave(physician_id: int, leave_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        services.remove_leave(physician_id, leave_id, by=current_actor())
        flash("Removed the leave.", "success")
    return redirect(url_for("practice.physician", physician_id=physician_id))

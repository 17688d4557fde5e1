"""The list of procedures to schedule and cancelling a request (booking one is the booking
form's, `views.new_appointment`, which the list's Book button reaches through next available)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import (
    add_field_errors,
    form_status,
    link_args,
    merge_stale_edit,
    page_args,
    page_offsets,
    query_int,
)
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import practice_today
from backoffice.practice import services as practice
from backoffice.scheduling import request_list, requests
from backoffice.scheduling.forms import CancelRequestForm

bp = Blueprint("scheduling_requests", __name__)

Page = Response | str | tuple[str, int]

REQUESTS_PER_PAGE = 25


@bp.get("/scheduling-requests")
@allow(Permission.HANDLE_SCHEDULING_REQUESTS)
def index() -> str:
    office_id = query_int(request.args, "office")
    offsets = page_offsets(request.args, ("open",), REQUESTS_PER_PAGE)
    now = utcnow()
    found = request_list.open_requests(office_id=office_id, now=now, today=practice_today(now), limit=REQUESTS_PER_PAGE,
                                       offset=offsets["open"], by=current_actor())
    query = link_args({"office": office_id, **page_args(offsets, REQUESTS_PER_PAGE)})
    return render_template("scheduling/requests.html", found=found, office_id=office_id, query=query,
                           offices=practice.office_choices(),
                           can_book=current_actor().can(Permission.BOOK_APPOINTMENTS))


@bp.route("/scheduling-requests/<int:request_id>/cancel", methods=["GET", "POST"])
@allow(Permission.HANDLE_SCHEDULING_REQUESTS)
def cancel(request_id: int) -> Page:
    actor = current_actor()
    if request.method == "GET":
        found = request_list.show_request(request_id, by=actor)
        if not found.is_open:
            flash(f"This request is already {found.status.label.lower()}.", "warning")
            return redirect(url_for("scheduling_requests.index"))
    else:
        found = requests.get_request(request_id, by=actor)
    form = CancelRequestForm.for_record(found) if request.method == "GET" else CancelRequestForm()
    if not form.validate_on_submit():
        return render_template("scheduling/cancel_request.html", form=form, found=found), form_status(form)
    try:
        requests.cancel_request(request_id, form.reason.data or "", expected_version=form.version.data or 0,
                                by=actor, now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("scheduling/cancel_request.html", form=form, found=found), 400
    except StaleEdit as stale:
        current = requests.get_request(request_id, by=actor)
        form = merge_stale_edit(form, CancelRequestForm.for_record(current), stale)
        return render_template("scheduling/cancel_request.html", form=form, found=current), 409
    flash(f"Request cancelled: {found.procedure_type.code} for {found.patient.full_name}.", "success")
    return redirect(url_for("scheduling_requests.index"))

"""An appointment's details page: what may change after booking (`details.py`), reached from the
appointment's page and from the day board's "Prior auth missing", and back there after saving."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import add_field_errors, form_status, local_path, merge_stale_edit
from backoffice.core.permissions import Permission
from backoffice.scheduling import details, queries, rules
from backoffice.scheduling.forms import AppointmentDetailsForm
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.services import StatusRefused

bp = Blueprint("appointment_details", __name__)

Page = Response | str | tuple[str, int]


def _back() -> str | None:
    """The page the user came from (the day board, say), when it is one of this site's."""
    return local_path(request.args.get("next"))


def _page(appointment: Appointment, form: AppointmentDetailsForm | None, status: int,
          locked: str | None = None) -> tuple[str, int]:
    return render_template("scheduling/details.html", appointment=appointment, form=form, locked=locked,
                           back=_back() or url_for("scheduling.appointment", appointment_id=appointment.id)), status


@bp.route("/appointments/<int:appointment_id>/edit", methods=["GET", "POST"])
@allow(Permission.BOOK_APPOINTMENTS)
def edit(appointment_id: int) -> Page:
    actor = current_actor()
    showing = request.method == "GET"
    appointment = (queries.open_appointment(appointment_id, by=actor) if showing
                   else queries.get_appointment(appointment_id, by=actor))
    locked = rules.details_locked_because(appointment.status)
    if locked:
        return _page(appointment, None, 200 if showing else 409, locked)
    form = AppointmentDetailsForm.for_record(appointment) if showing else AppointmentDetailsForm()
    if not form.validate_on_submit():
        return _page(appointment, form, form_status(form))
    try:
        details.update_appointment_details(appointment_id, form.to_details(), expected_version=form.version.data or 0,
                                           by=actor, now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _page(appointment, form, 400)
    except StatusRefused as refused:  # done or cancelled since the form was opened
        return _page(queries.get_appointment(appointment_id, by=actor), None, 409, refused.message)
    except StaleEdit as stale:
        current = queries.get_appointment(appointment_id, by=actor)
        return _page(current, merge_stale_edit(form, AppointmentDetailsForm.for_record(current), stale), 409)
    flash("Saved: the appointment's details are changed.", "success")
    back = _back()
    return redirect(f"{back}#appointment-{appointment_id}" if back
                    else url_for("scheduling.appointment", appointment_id=appointment_id))

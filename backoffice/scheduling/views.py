"""Booking, next available, the office calendars, the day board and the physician's day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor, not_activity
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.services import list_procedure_types
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import add_field_errors, form_status, local_path, merge_stale_edit, parse_int, query_int
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import practice_today
from backoffice.patients.services import find_by_mrn
from backoffice.practice import services as practice
from backoffice.scheduling import calendars, queries, request_list, services
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.availability_rules import PartOfDay, Slot
from backoffice.scheduling.forms import AvailabilityForm, BookingForm, CancelForm, RescheduleForm, StatusForm
from backoffice.scheduling.rules import CancelReason, Limits, Status

bp = Blueprint("scheduling", __name__)

Page = Response | str | tuple[str, int]


def _limits() -> Limits:
    return Limits(travel=timedelta(minutes=current_app.config["TRAVEL_MINUTES"]))



def _requested_day() -> tuple[date, str | None]:
    """The ?date= of a calendar URL, or today with a note when it is not a date."""
    raw = request.args.get("date")
    if not raw:
        return practice_today(utcnow()), None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return practice_today(utcnow()), "That is not a date (YYYY-MM-DD); here is today."
    if not 1900 <= day.year <= 2100:
        return practice_today(utcnow()), "That date is out of range; here is today."
    return day, None


# Choices for the booking forms.

def _places() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The offices open for booking and their rooms in use, for the office and room selects (one query)."""
    offices = practice.list_offices(active_only=True)
    return ([(str(office.id), office.name) for office in offices],
            [(str(room.id), room.name, office.name) for office in offices for room in office.rooms if room.active])


def _physician_choices() -> list[tuple[str, str]]:
    return [(str(p.id), p.display_name) for p in practice.list_physicians(active_only=True)]


def _procedure_choices(procedures: list[ProcedureType]) -> list[tuple[str, str, str]]:
    return [(str(p.id), f"{p.name} ({p.code})", p.category.label) for p in procedures]


def _physicians_for_day(office_id: str | None, day: str | None) -> list[tuple[str, str, str]]:
    """Physicians for a select: those who work at the chosen office that day first (one query)."""
    try:
        on_day = date.fromisoformat(day or "")
    except ValueError:
        on_day = None
    office = parse_int(office_id)
    if office is None or on_day is None:
        return [(str(p.id), p.display_name, "Physicians") for p in practice.list_physicians(active_only=True)]
    everyone = practice.physicians_working_at(office, on_day)
    here = f"Working there on {on_day:%a %m/%d}"
    return ([(str(p.id), p.display_name, here) for p, working in everyone if working]
            + [(str(p.id), p.display_name, "Not working there that day") for p, working in everyone if not working])


def _booking_form(formdata: Any) -> BookingForm:
    form = BookingForm(formdata=formdata)
    offices, rooms = _places()
    form.set_choices(offices=offices, rooms=rooms,
                     physicians=_physicians_for_day(formdata.get("office_id"), formdata.get("date")))
    procedures = list_procedure_types(active_only=True)
    form.set_procedures(_procedure_choices(procedures),
                        {str(p.id): {"data-minutes": p.duration_minutes, "data-turnover": p.turnover_minutes,
                                     "data-asks": " ".join(question for question, asked in (
                                         ("region", p.asks_region), ("side", p.asks_side),
                                         ("levels", p.asks_levels)) if asked)}
                         for p in procedures})
    return form


def _booking_page(form: BookingForm, status: int, **context: Any) -> tuple[str, int]:
    # The form names the patient being booked: opening it for a patient is audited.
    chosen = find_by_mrn(form.patient.data, by=current_actor(), shown_on="booking form") if form.patient.data else None
    return render_template("scheduling/new.html", form=form, patient=chosen,
                           scheduling_request=request_list.request_for_booking(form.scheduling_request_id.data,
                                                                               by=current_actor()),
                           can_override=current_actor().can(Permission.OVERRIDE_BOOKING_RULES), **context), status


@bp.route("/appointments/new", methods=["GET", "POST"])
@allow(Permission.BOOK_APPOINTMENTS)
def new_appointment() -> Page:
    form = _booking_form(request.form if request.method == "POST" else request.args)
    if request.method == "GET":
        return _booking_page(form, 200)
    if not form.validate():
        return _booking_page(form, form_status(form))
    actor = current_actor()
    patient = find_by_mrn(form.patient.data or "", by=actor)
    if patient is None:
        add_field_errors(form, {"patient": "No patient has this MRN."})
        return _booking_page(form, 400)
    try:
        appointment = services.book_appointment(form.to_request(patient.id), by=actor, now=utcnow(),
                                                limits=_limits())
    except services.BookingConflict as conflict:
        add_field_errors(form, conflict.field_errors)
        return _booking_page(form, 409, alternatives=conflict.alternatives, conflict=conflict)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _booking_page(form, 400)
    closed = " The scheduling request is closed." if form.scheduling_request_id.data else ""
    flash(f"Booked. The appointment is on the office calendar.{closed}", "success")
    return redirect(url_for("scheduling.appointment", appointment_id=appointment.id))


@bp.get("/appointments/<int:appointment_id>")
@allow(Permission.OPEN_APPOINTMENTS)
def appointment(appointment_id: int) -> str:
    actor = current_actor()
    appointment = queries.open_appointment(appointment_id, by=actor)
    zone = ZoneInfo(appointment.office.timezone)
    moves: list[Status] = []
    at_the_start: list[Status] = []
    if actor.can(Permission.WORK_THE_FRONT_DESK):
        now = utcnow()
        moves = calendars.moves_now(appointment.status, appointment.starts_at, appointment.office.timezone, now)
        at_the_start = calendars.moves_at_the_start(appointment.status, appointment.starts_at,
                                                    appointment.office.timezone, now)
    return render_template("scheduling/appointment.html", appointment=appointment,
                           local_start=appointment.starts_at.astimezone(zone),
                           local_end=appointment.ends_at.astimezone(zone),
                           moves=moves, at_the_start=at_the_start,
                           can_book=actor.can(Permission.BOOK_APPOINTMENTS),
                           sections=queries.appointment_sections(appointment, by=actor))


@bp.post("/appointments/<int:appointment_id>/status")
@allow(Permission.WORK_THE_FRONT_DESK)
def change_status(appointment_id: int) -> Response:
    form = StatusForm()
    back = local_path(request.form.get("back"))
    target = (f"{back}#appointment-{appointment_id}" if back
              else url_for("scheduling.appointment", appointment_id=appointment_id))
    if not form.validate_on_submit():
        flash(" ".join(form.baseline_nrs.errors) or "That change could not be read; nothing was saved.", "danger")
        return redirect(target)
    try:
        moved = services.change_status(appointment_id, Status(form.target.data),
                                       expected_version=form.version.data or 0, by=current_actor(),
                                       now=utcnow(), baseline_nrs=form.baseline_nrs.data)
    except services.StatusRefused as refused:
        flash(refused.message, "danger")
    except StaleEdit as stale:
        flash(f"{stale.headline} Look at its status now and try again.", "warning")
    else:
        flash(f"{moved.procedure_type.code} for {moved.patient.full_name}: "
              f"{moved.status.label.lower()}.", "success")
    return redirect(target)


def _reschedule_form(formdata: Any, appointment: Any = None) -> RescheduleForm:
    form = (RescheduleForm.for_record(appointment) if appointment is not None
            else RescheduleForm(formdata=formdata))
    offices, rooms = _places()
    form.set_choices(offices=offices, rooms=rooms, physicians=_physicians_for_day(None, None))
    return form


@bp.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@allow(Permission.BOOK_APPOINTMENTS)
def reschedule(appointment_id: int) -> Page:
    actor = current_actor()
    if request.method == "GET":
        old = queries.open_appointment(appointment_id, by=actor)
        if not old.is_movable:
            flash(f"An appointment that is {old.status.label.lower()} cannot be moved.", "warning")
            return redirect(url_for("scheduling.appointment", appointment_id=appointment_id))
        form = _reschedule_form(None, old)
        _take_suggested_slot(form)
        return _reschedule_page(form, old, 200)
    old = queries.get_appointment(appointment_id, by=actor)
    form = _reschedule_form(request.form)
    if not form.validate():
        return _reschedule_page(form, old, form_status(form))
    try:
        new = services.reschedule_appointment(appointment_id, form.to_move(),
                                              expected_version=form.version.data or 0, by=actor,
                                              now=utcnow(), limits=_limits())
    except services.BookingConflict as conflict:
        add_field_errors(form, conflict.field_errors)
        return _reschedule_page(form, old, 409, alternatives=conflict.alternatives, conflict=conflict)
    except services.StatusRefused as refused:
        form.form_errors.append(refused.message)
        return _reschedule_page(form, old, 409)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _reschedule_page(form, old, 400)
    except StaleEdit as stale:
        current = queries.get_appointment(appointment_id, by=actor)
        form = merge_stale_edit(form, _reschedule_form(None, current), stale)
        return _reschedule_page(form, current, 409)
    flash("Moved. The new appointment replaces the old one, which is kept in its history.", "success")
    return redirect(url_for("scheduling.appointment", appointment_id=new.id))


def _take_suggested_slot(form: RescheduleForm) -> None:
    """A suggested free time arrives in the query string; it replaces what the form opened with."""
    for name in ("office_id", "room_id", "physician_id"):
        if query_int(request.args, name) is not None:
            form[name].data = request.args[name]
    try:
        if "date" in request.args:
            form.date.data = date.fromisoformat(request.args["date"])
        if "time" in request.args:
            form.time.data = time.fromisoformat(request.args["time"])
    except ValueError:
        pass  # a mangled suggestion: the form keeps the appointment's own time


def _reschedule_page(form: RescheduleForm, old: Any, status: int, **context: Any) -> tuple[str, int]:
    return render_template("scheduling/reschedule.html", form=form, appointment=old,
                           can_override=current_actor().can(Permission.OVERRIDE_BOOKING_RULES), **context), status


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
@allow(Permission.BOOK_APPOINTMENTS)
def cancel(appointment_id: int) -> Page:
    actor = current_actor()
    if request.method == "GET":
        appointment = queries.open_appointment(appointment_id, by=actor)
        if not appointment.is_open:
            flash(f"An appointment that is {appointment.status.label.lower()} cannot be cancelled.", "warning")
            return redirect(url_for("scheduling.appointment", appointment_id=appointment_id))
    else:
        appointment = queries.get_appointment(appointment_id, by=actor)
    form = CancelForm.for_record(appointment) if request.method == "GET" else CancelForm()
    if not form.validate_on_submit():
        return render_template("scheduling/cancel.html", form=form, appointment=appointment), form_status(form)
    try:
        services.cancel_appointment(appointment_id, CancelReason(form.reason.data), form.note.data,
                                    expected_version=form.version.data or 0, by=actor, now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("scheduling/cancel.html", form=form, appointment=appointment), 400
    except services.StatusRefused as refused:
        form.form_errors.append(refused.message)
        return render_template("scheduling/cancel.html", form=form, appointment=appointment), 409
    except StaleEdit as stale:
        current = queries.get_appointment(appointment_id, by=actor)
        form = merge_stale_edit(form, CancelForm.for_record(current), stale)
        return render_template("scheduling/cancel.html", form=form, appointment=current), 409
    flash("Cancelled. The time is free again.", "success")
    return redirect(url_for("scheduling.appointment", appointment_id=appointment_id))


# Next available.

@bp.get("/availability")
@allow(Permission.READ_CALENDARS)
def availability() -> tuple[str, int]:
    form = AvailabilityForm(request.args)
    form.set_choices(procedures=_procedure_choices(list_procedure_types(active_only=True)),
                     physicians=_physician_choices(),
                     offices=practice.office_choices())
    slots: list[Slot] = []
    searched = "procedure_type_id" in request.args
    if searched and form.validate():
        now = utcnow()
        earliest = now
        if form.earliest.data and form.earliest.data > practice_today(utcnow()):
            earliest = datetime.combine(form.earliest.data, datetime.min.time(),
                                        ZoneInfo(current_app.config["PRACTICE_TIMEZONE"]))
        # The free times then follow the patient's own bookings and limits: audited as an opening.
        patient = (find_by_mrn(form.patient.data, by=current_actor(), shown_on="next available")
                   if form.patient.data else None)
        if form.patient.data and patient is None:
            form.patient.errors = [*form.patient.errors, "No patient has this MRN."]
        else:
            slots = find_next_available(
                int(form.procedure_type_id.data), physician_id=_optional_int(form.physician_id.data),
                office_id=_optional_int(form.office_id.data), earliest=earliest, now=now, limits=_limits(),
                part=PartOfDay(form.part.data), days=current_app.config["AVAILABILITY_DAYS"],
                patient_id=patient.id if patient else None, region=form.region.data or None,
                side=form.side.data or None)
    status = 400 if searched and form.errors else 200
    return render_template("scheduling/availability.html", form=form, slots=slots, searched=searched,
                           days=current_app.config["AVAILABILITY_DAYS"],
                           scheduling_request=request_list.request_for_booking(form.request.data, by=current_actor()),
                           can_book=current_actor().can(Permission.BOOK_APPOINTMENTS)), status


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None


# Calendars.

@bp.get("/calendar")
@allow(Permission.READ_CALENDARS)
def calendar_home() -> Response:
    offices = practice.list_offices(active_only=True)
    if not offices:
        flash("No office is set up yet.", "warning")
        return redirect(url_for("core.home"))
    return redirect(url_for("scheduling.office_calendar", slug=offices[0].slug))


@bp.get("/board")
@allow(Permission.WORK_THE_FRONT_DESK)
def board_home() -> Response:
    offices = practice.list_offices(active_only=True)
    if not offices:
        flash("No office is set up yet.", "warning")
        return redirect(url_for("core.home"))
    return redirect(url_for("scheduling.board", slug=offices[0].slug))


@bp.get("/offices/<slug>/calendar")
@allow(Permission.READ_CALENDARS)
def office_calendar(slug: str) -> tuple[str, int]:
    day, problem = _requested_day()
    view = request.args.get("view", "day")
    actor = current_actor()
    context: dict[str, Any] = {"day": day, "problem": problem, "today": practice_today(utcnow()),
                               "offices": practice.office_links(),
                               "show_patients": calendars.may_see_patient_names(actor),
                               "can_book": actor.can(Permission.BOOK_APPOINTMENTS)}
    if view == "week":
        week = calendars.office_week(slug, day, by=actor)
        return render_template("scheduling/week.html", week=week, office=week.office, view="week",
                               step=timedelta(days=7), **context), 200
    office_day = calendars.office_day(slug, day, by=actor)
    local_now = utcnow().astimezone(ZoneInfo(office_day.office.timezone))
    # Free slots before now are not offered for booking.
    bookable_from = (time.min if day > local_now.date() else
                     local_now.time() if day == local_now.date() else None)
    return render_template("scheduling/day.html", calendar=office_day, office=office_day.office, view="day",
                           step=timedelta(days=1), bookable_from=bookable_from, **context), 200


@bp.get("/offices/<slug>/day-sheet")
@allow(Permission.WORK_THE_FRONT_DESK)
def day_sheet(slug: str) -> str:
    day, _ = _requested_day()
    office_day = calendars.office_day(slug, day, by=current_actor(), page="day sheet")
    return render_template("scheduling/day_sheet.html", calendar=office_day, office=office_day.office,
                           day=day, printed=utcnow())


@bp.get("/offices/<slug>/board")
@allow(Permission.WORK_THE_FRONT_DESK)
def board(slug: str) -> str:
    day, problem = _requested_day()
    board = calendars.office_board(slug, day, utcnow(), by=current_actor())
    return render_template("scheduling/board.html", board=board, office=board.office, back=request.full_path,
                           day=day, problem=problem, today=practice_today(utcnow()),
                           offices=practice.office_links(), step=timedelta(days=1))


@bp.get("/offices/<slug>/board/list")
@allow(Permission.WORK_THE_FRONT_DESK)
@not_activity  # a board left open must not keep an idle session signed in
def board_list(slug: str) -> Response:
    """The board's list again, for the page's script that keeps it current: 304 Not Modified when
    nothing on it changed since the page got it (its digest is the ETag)."""
    day, _ = _requested_day()
    shown = request.if_none_match.as_set()
    board = calendars.changed_board(slug, day, utcnow(), shown, by=current_actor())
    if board is None:
        return Response(status=304)
    page = url_for("scheduling.board", slug=slug, date=day.isoformat())
    response = make_response(render_template("scheduling/_board_list.html", board=board, office=board.office,
                                             back=page, day=day))
    response.set_etag(board.digest)
    return response


@bp.get("/my-day")
@allow(Permission.SEE_OWN_DAY)
def my_day() -> Response:
    physician = practice.physician_of_user(current_actor().user_id)
    if physician is None:
        flash("Your account is not linked to a physician; an administrator links it under Physicians.",
              "warning")
        return redirect(url_for("core.home"))
    return redirect(url_for("scheduling.physician_day", physician_id=physician.id, date=request.args.get("date")))


@bp.get("/physicians/<int:physician_id>/day")
@allow(Permission.READ_CALENDARS)
def physician_day(physician_id: int) -> str:
    day, problem = _requested_day()
    actor = current_actor()
    data = calendars.physician_day(physician_id, day, current_app.config["PRACTICE_TIMEZONE"], by=actor)
    return render_template("scheduling/physician_day.html", data=data, day=day, problem=problem,
                           today=practice_today(utcnow()), physicians=practice.list_physicians(active_only=True),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           show_patients=calendars.may_see_patient_names(actor))

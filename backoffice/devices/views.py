"""The device registry: devices and their history, UDI entry, pump refills, SCS trials, the
replacement watch and recall search."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.catalog.device_models import device_model_by_gtin, offered_device_models
from backoffice.catalog.rules import DeviceKind
from backoffice.catalog.services import procedure_id_by_code
from backoffice.core.access import allow
from backoffice.core.csvexport import Cell, ZonedTime, csv_response
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import (
    add_field_errors,
    choices,
    form_link_args,
    form_status,
    link_args,
    merge_stale_edit,
    page_args,
    page_offsets,
    query_int,
)
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import practice_today
from backoffice.devices import pump_refills, rules, services, trials, worklists
from backoffice.devices.forms import (
    DeviceForm,
    EditDeviceForm,
    EriForm,
    ExplantForm,
    RecallForm,
    RefillForm,
    TrialForm,
    TrialResultForm,
)
from backoffice.devices.models import Device, ScsTrial
from backoffice.devices.rules import DeviceSettings, StatusChangeRefused, UdiError
from backoffice.devices.services import DeviceNotActive
from backoffice.patients.models import Patient
from backoffice.patients.services import get_patient, open_patient_record
from backoffice.practice import services as practice
from backoffice.scheduling.calendars import patient_appointments

bp = Blueprint("devices", __name__)

Page = Response | str | tuple[str, int]
ROWS = 100
REFILLS_PER_PAGE = 25  # a screenful; each list pages on its own
IMPLANTED_DURING = ("checked_in", "in_room", "completed")  # a device goes in during a procedure that took place
REFILL_CODE = "PUMP-REFILL"  # the catalog's pump refill, which the refill list books
RECALL_FILTERS = ("manufacturer", "model", "gtin", "lot", "serial")
DRUGS = ("Morphine", "Hydromorphone", "Baclofen", "Ziconotide", "Bupivacaine", "Clonidine", "Fentanyl")


def device_settings() -> DeviceSettings:
    config = current_app.config
    return DeviceSettings(alarm_ml=Decimal(str(config["PUMP_ALARM_ML"])), margin_days=config["REFILL_MARGIN_DAYS"],
                          stability_days=config["DRUG_STABILITY_DAYS"],
                          tolerance_ml=Decimal(str(config["REFILL_TOLERANCE_ML"])),
                          refill_window_days=config["REFILL_WINDOW_DAYS"], trial_days=config["SCS_TRIAL_DAYS"],
                          trial_overdue_days=config["SCS_TRIAL_OVERDUE_DAYS"], eri_days=config["ERI_DAYS"],
                          replacement_years=config["REPLACEMENT_YEARS"])


def _today() -> date:
    return practice_today(utcnow())


# Overview and lists.

@bp.get("/devices")
@allow(Permission.READ_DEVICES)
def index() -> str:
    settings = device_settings()
    overview = worklists.device_overview(today=_today(), settings=settings, limit=ROWS, recent=20, by=current_actor())
    return render_template("devices/index.html", trials=overview.trials, replacements=overview.replacements,
                           recent=overview.recent, settings=settings, today=_today())


@bp.get("/devices/refills")
@allow(Permission.READ_DEVICES)
def refills() -> str:
    office_id = query_int(request.args, "office")
    settings = device_settings()
    offsets = page_offsets(request.args, ("overdue", "due_soon", "never_refilled"), REFILLS_PER_PAGE)
    worklist = worklists.refill_worklist(office_id=office_id, today=_today(), window_days=settings.refill_window_days,
                                        limit=REFILLS_PER_PAGE, now=utcnow(), by=current_actor(), offsets=offsets)
    query = link_args({"office": office_id, **page_args(offsets, REFILLS_PER_PAGE)})
    return render_template("devices/refills.html", worklist=worklist, office_id=office_id, query=query,
                           offices=practice.office_choices(), settings=settings, today=_today(),
                           refill_procedure=procedure_id_by_code(REFILL_CODE), timedelta=timedelta)


@bp.get("/devices/recall")
@allow(Permission.SEARCH_RECALLS)
def recall() -> Page:
    form = RecallForm(request.args)
    fields = RECALL_FILTERS
    if not any(request.args.get(name) for name in fields):
        if any(name in request.args for name in fields):   # Search pressed with every field empty
            form.manufacturer.errors = ["Enter at least one of manufacturer, model, GTIN, lot or serial number."]
            return render_template("devices/recall.html", form=form, result=None), 400
        return render_template("devices/recall.html", form=form, result=None)
    if not form.validate():
        return render_template("devices/recall.html", form=form, result=None), 400
    export = request.args.get("export") == "csv"
    result = worklists.recall_search(form.to_query(), now=utcnow(), by=current_actor(), export=export)
    if export:
        return _recall_csv(result)
    return render_template("devices/recall.html", form=form, result=result, query=form.to_query(),
                           export_url=url_for("devices.recall", export="csv", **form_link_args(form, fields)))


RECALL_COLUMNS = ("MRN", "Last name", "First name", "Date of birth", "Phone", "Device", "Manufacturer", "Model",
                  "GTIN", "Lot", "Serial", "Implanted", "Status", "Next appointment")


def _recall_csv(result: worklists.RecallResult) -> Response:
    rows: list[list[Cell]] = []
    for device in result.devices:
        patient: Patient = device.patient
        upcoming = result.next_appointments.get(device.patient_id)
        rows.append([patient.mrn, patient.last_name, patient.first_name, patient.date_of_birth,
                     patient.phone_display or "", device.kind.label, device.manufacturer, device.model,
                     device.gtin, device.lot, device.serial, device.implanted_on, device.status.label,
                     ZonedTime(upcoming.starts_at, upcoming.timezone) if upcoming else None])
    return csv_response("recall.csv", RECALL_COLUMNS, rows)


# One device.

@bp.get("/devices/<int:device_id>")
@allow(Permission.READ_DEVICES)
def show(device_id: int) -> str:
    device = services.open_device(device_id, by=current_actor())
    return _device_page(device)


def _device_page(device: Device, *, explant_form: ExplantForm | None = None, eri_form: EriForm | None = None,
                 status: int = 200) -> Any:
    return render_template(
        "devices/show.html", device=device, history=services.device_history(device.id),
        refills=pump_refills.refills_of(device.id) if device.kind is DeviceKind.PUMP else [],
        explant_form=explant_form or ExplantForm(formdata=None, version=device.version, explanted_on=_today()),
        eri_form=eri_form or EriForm(formdata=None, version=device.version, eri_on=_today()),
        may_work=current_actor().can(Permission.MANAGE_DEVICES), today=_today(),
        years=rules.years_in_service(device.implanted_on, _today())), status


def _choices_for(form: DeviceForm, patient: Patient, *, editing: Device | None = None) -> None:
    form.device_model_id.choices = choices(((str(m.id), f"{m.manufacturer} {m.model}")
                                            for m in offered_device_models()), blank="Not in the catalog")
    form.physician_id.choices = choices(((str(p.id), p.display_name) for p in practice.list_physicians()),
                                        blank="Not recorded")
    form.appointment_id.choices = choices(
        ((str(a.id), f"{a.starts_at:%m/%d/%Y} {a.procedure_type.code}")
         for a in patient_appointments(patient.id) if a.status in IMPLANTED_DURING), blank="Not recorded")
    others = [d for d in services.devices_of_patient(patient.id) if d.is_active and d is not editing]
    form.replaces_id.choices = choices(((str(d.id), f"{d.kind.label}: {d.name}, implanted "
                                                    f"{d.implanted_on:%m/%d/%Y}") for d in others),
                                       blank="Nothing (a new implant)")
    form.trial_id.choices = choices(((str(t.id), f"SCS trial from {t.started_on:%m/%d/%Y}")
                                     for t in trials.trials_of_patient(patient.id)), blank="Not a trial")


def _read_udi(form: DeviceForm) -> bool:
    """Fill the form from the scanned barcode (and the catalog model with that GTIN). False when
    the barcode could not be read; the message is then next to the field."""
    try:
        udi = rules.parse_udi(form.udi.data or "")
    except UdiError as error:
        form.udi.errors = [str(error)]
        return False
    form.gtin.data, form.lot.data, form.serial.data = udi.gtin, udi.lot, udi.serial
    form.expiry.data, form.manufactured.data = udi.expiry, udi.manufactured
    model = device_model_by_gtin(udi.gtin) if udi.gtin else None
    if model is not None:
        form.device_model_id.data = str(model.id)
        form.kind.data = model.kind
        form.manufacturer.data, form.model.data = model.manufacturer, model.model
        form.mri_conditional.data, form.rechargeable.data = model.mri_conditional, model.rechargeable
        if model.reservoir_ml:
            form.reservoir_ml.data = model.reservoir_ml
    for field in (form.gtin, form.lot, form.serial, form.expiry, form.manufactured, form.manufacturer, form.model,
                  form.reservoir_ml, form.device_model_id, form.kind):
        # Date and number fields re-show what was posted (empty) unless told the data is new.
        field.errors, field.raw_data = [], None
    return True


def _wants_reading(form: DeviceForm) -> bool:
    # A scanner ends with Enter, which submits the form: read the barcode rather than save.
    return bool(form.udi.data) and (bool(form.read_udi.data) or not form.gtin.data)


@bp.route("/patients/<int:patient_id>/devices/new", methods=["GET", "POST"])
@allow(Permission.MANAGE_DEVICES)
def new_device(patient_id: int) -> Page:
    actor = current_actor()
    patient = (open_patient_record(patient_id, by=actor, page="new device form") if request.method == "GET"
               else get_patient(patient_id, by=actor))
    form = DeviceForm()
    _choices_for(form, patient)
    if request.method == "GET":
        form.implanted_on.data = _today()
        return _device_form(form, patient)
    if _wants_reading(form):
        read = _read_udi(form)
        if read:
            flash("Read from the barcode: check the fields, then save.", "info")
        return _device_form(form, patient, 200 if read else 400)
    if not form.validate_on_submit():
        return _device_form(form, patient, form_status(form))
    try:
        device = services.add_device(patient_id, form.to_entry(), by=actor, now=utcnow(), today=_today(),
                                     replaces_id=int(form.replaces_id.data) if form.replaces_id.data else None)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _device_form(form, patient, 400)
    flash(f"{device.kind.label} recorded for {patient.full_name}.", "success")
    return redirect(url_for("devices.show", device_id=device.id))


def _device_form(form: DeviceForm, patient: Patient, status: int = 200, device: Device | None = None) -> Any:
    return render_template("devices/form.html", form=form, patient=patient, device=device), status


@bp.route("/devices/<int:device_id>/edit", methods=["GET", "POST"])
@allow(Permission.MANAGE_DEVICES)
def edit_device(device_id: int) -> Page:
    actor = current_actor()
    device = (services.open_device(device_id, by=actor, page="edit form") if request.method == "GET"
              else services.get_device(device_id, by=actor))
    form = EditDeviceForm.for_record(device) if request.method == "GET" else EditDeviceForm()
    _choices_for(form, device.patient, editing=device)
    if request.method == "GET":
        return _device_form(form, device.patient, device=device)
    if _wants_reading(form):
        return _device_form(form, device.patient, 200 if _read_udi(form) else 400, device=device)
    form.kind.data = device.kind
    if not form.validate_on_submit():
        return _device_form(form, device.patient, form_status(form), device=device)
    try:
        services.update_device(device_id, form.to_entry(), expected_version=form.version.data or 0, by=actor,
                               now=utcnow(), today=_today())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _device_form(form, device.patient, 400, device=device)
    except StaleEdit as stale:
        current = services.get_device(device_id, by=actor)
        merged = merge_stale_edit(form, EditDeviceForm.for_record(current), stale)
        _choices_for(merged, current.patient, editing=current)
        return _device_form(merged, current.patient, 409, device=current)
    flash("Device saved.", "success")
    return redirect(url_for("devices.show", device_id=device_id))


@bp.post("/devices/<int:device_id>/explant")
@allow(Permission.MANAGE_DEVICES)
def explant(device_id: int) -> Page:
    actor = current_actor()
    form = ExplantForm()
    device = services.get_device(device_id, by=actor)
    if not form.validate_on_submit():
        return _device_page(device, explant_form=form, status=form_status(form))
    try:
        services.explant_device(device_id, on=form.explanted_on.data, reason=form.reason.data or "",
                                expected_version=form.version.data or 0, by=actor, now=utcnow(), today=_today())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _device_page(device, explant_form=form, status=400)
    except StatusChangeRefused as refused:
        flash(str(refused), "warning")
    except StaleEdit as stale:
        flash(f"{stale.headline} Look at it again before recording the explant.", "warning")
    else:
        flash("Explant recorded.", "success")
    return redirect(url_for("devices.show", device_id=device_id))


@bp.post("/devices/<int:device_id>/eri")
@allow(Permission.MANAGE_DEVICES)
def record_eri(device_id: int) -> Page:
    actor = current_actor()
    form = EriForm()
    device = services.get_device(device_id, by=actor)
    if not form.validate_on_submit():
        return _device_page(device, eri_form=form, status=form_status(form))
    try:
        updated = services.record_eri(device_id, on=form.eri_on.data, expected_version=form.version.data or 0,
                                      by=actor, now=utcnow(), today=_today(), settings=device_settings())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _device_page(device, eri_form=form, status=400)
    except DeviceNotActive as refused:
        flash(str(refused), "warning")
    except StaleEdit as stale:
        flash(f"{stale.headline} Look at it again.", "warning")
    else:
        flash(f"Replacement indicator recorded: plan the replacement before {updated.replacement_due_on:%m/%d/%Y}.",
              "success")
    return redirect(url_for("devices.show", device_id=device_id))


# Refills.

@bp.route("/devices/<int:device_id>/refills/new", methods=["GET", "POST"])
@allow(Permission.MANAGE_DEVICES)
def new_refill(device_id: int) -> Page:
    actor = current_actor()
    device = (services.open_device(device_id, by=actor, page="refill form") if request.method == "GET"
              else services.get_device(device_id, by=actor))
    settings = device_settings()
    form = RefillForm()
    form.office_id.choices = practice.office_choices()
    if request.method == "GET":
        _prefill_refill(form, device, settings)
        return _refill_page(form, device)
    if not form.validate_on_submit():
        return _refill_page(form, device, form_status(form))
    try:
        refill = pump_refills.record_refill(device_id, form.to_entry(), by=actor, now=utcnow(), today=_today(),
                                        settings=settings)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _refill_page(form, device, 400)
    except DeviceNotActive as refused:
        flash(str(refused), "warning")
        return redirect(url_for("devices.show", device_id=device_id))
    message = f"Refill recorded. Next refill due {refill.next_due_on:%m/%d/%Y}."
    if refill.mismatch:
        message += (f" The volume withdrawn ({_ml(refill.withdrawn_ml)} mL) differs from the expected "
                    f"{_ml(refill.expected_residual_ml)} mL: check the pump and the programming.")
    flash(message, "warning" if refill.mismatch else "success")
    return redirect(url_for("devices.show", device_id=device_id))


def _ml(value: Decimal | None) -> str:
    return rules.plain_amount(value.quantize(Decimal("0.1"))) if value is not None else "—"


def _prefill_refill(form: RefillForm, device: Device, settings: DeviceSettings) -> None:
    form.refilled_on.data = _today()
    form.office_id.data = str(device.office_id or "")
    form.drug.data = device.drug
    form.concentration_mg_ml.data = device.concentration_mg_ml
    form.daily_dose_mg.data = device.daily_dose_mg
    form.added_ml.data = device.reservoir_ml
    form.alarm_ml.data = settings.alarm_ml
    form.stability_days.data = settings.stability_days
    form.margin_days.data = settings.margin_days


def _refill_page(form: RefillForm, device: Device, status: int = 200) -> Any:
    recent = pump_refills.refills_of(device.id, limit=3)
    expected = pump_refills.expected_residual_for(device, form.refilled_on.data or _today(),
                                                  recent[0] if recent else None)
    return render_template("devices/refill.html", form=form, device=device, expected=expected, drugs=DRUGS,
                           refills=recent), status


# SCS trials.

@bp.route("/patients/<int:patient_id>/trials/new", methods=["GET", "POST"])
@allow(Permission.MANAGE_DEVICES)
def new_trial(patient_id: int) -> Page:
    actor = current_actor()
    patient = (open_patient_record(patient_id, by=actor, page="new SCS trial form") if request.method == "GET"
               else get_patient(patient_id, by=actor))
    settings = device_settings()
    form = TrialForm()
    form.physician_id.choices = [(str(p.id), p.display_name) for p in practice.list_physicians(active_only=True)]
    form.office_id.choices = practice.office_choices()
    procedures = trials.unrecorded_trial_procedures(patient_id)
    form.appointment_id.choices = choices(((str(a.id), f"{a.starts_at:%m/%d/%Y} {a.procedure_type.code} ({a.status})")
                                           for a in procedures), blank="None: not done here")
    if request.method == "GET":
        form.started_on.data = _today()
        form.planned_end_on.data = rules.planned_trial_end(_today(), trial_days=settings.trial_days)
        own = practice.physician_of_user(actor.user_id)
        form.physician_id.data = str(own.id) if own else None
        form.office_id.data = str(patient.preferred_office_id or "")
        on_the_day = [a for a in procedures if trials.local_day(a.starts_at, a.office.timezone) == _today()]
        form.appointment_id.data = str(on_the_day[0].id) if on_the_day else ""
        return render_template("devices/trial_new.html", form=form, patient=patient, settings=settings)
    if not form.validate_on_submit():
        return render_template("devices/trial_new.html", form=form, patient=patient,
                               settings=settings), form_status(form)
    try:
        trial = trials.start_trial(patient_id, form.to_entry(), by=actor, now=utcnow(), today=_today())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("devices/trial_new.html", form=form, patient=patient, settings=settings), 400
    flash("Trial started. Record its leads as devices of kind “SCS trial lead” with this trial.", "success")
    return redirect(url_for("devices.trial", trial_id=trial.id))


def _result_form(found: ScsTrial, form: TrialResultForm) -> TrialResultForm:
    form.implant_appointment_id.choices = choices(
        ((str(a.id), f"{a.starts_at:%m/%d/%Y} {a.procedure_type.code}")
         for a in patient_appointments(found.patient_id)), blank="Not booked yet")
    return form


@bp.get("/devices/trials/<int:trial_id>")
@allow(Permission.READ_DEVICES)
def trial(trial_id: int) -> Page:
    found = trials.open_trial(trial_id, by=current_actor())
    return _trial_page(found, _result_form(found, TrialResultForm.for_record(found)))


@bp.post("/devices/trials/<int:trial_id>")
@allow(Permission.MANAGE_DEVICES)
def record_trial_result(trial_id: int) -> Page:
    actor = current_actor()
    found = trials.get_trial(trial_id, by=actor)
    form = _result_form(found, TrialResultForm())
    if not form.validate_on_submit():
        return _trial_page(found, form, form_status(form))
    try:
        trials.record_trial_result(trial_id, form.to_result(), expected_version=form.version.data or 0, by=actor,
                                     now=utcnow(), today=_today())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _trial_page(found, form, 400)
    except StaleEdit as stale:
        current = trials.get_trial(trial_id, by=actor)
        merged = merge_stale_edit(form, _result_form(current, TrialResultForm.for_record(current)), stale)
        return _trial_page(current, merged, 409)
    flash("Trial result saved.", "success")
    return redirect(url_for("devices.trial", trial_id=trial_id))


def _trial_page(found: ScsTrial, form: TrialResultForm, status: int = 200) -> Any:
    settings = device_settings()
    state = trials.trial_state_of(found, today=_today(), overdue_days=settings.trial_overdue_days)
    return render_template("devices/trial.html", trial=found, form=form, leads=trials.trial_leads(found.id),
                           state=state, may_work=current_actor().can(Permission.MANAGE_DEVICES),
                           day_count=(min(_today(), found.ended_on or found.decided_on or _today())
                                      - found.started_on).days,
                           next_week=_today() + timedelta(days=7)), status

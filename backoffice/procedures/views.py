"""The procedure catalog (admin), follow-ups and outcomes, candidates, the clinical rule
settings and psychological evaluations."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.forms import (
    add_field_errors,
    form_status,
    link_args,
    local_path,
    merge_stale_edit,
    page_args,
    page_offsets,
    query_int,
)
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import practice_today
from backoffice.devices import trials
from backoffice.patients.services import get_patient, open_patient_record
from backoffice.practice import services as practice
from backoffice.practice.models import Physician
from backoffice.procedures import followups, psych_evaluations, worklists
from backoffice.procedures.clinical_settings import get_settings, update_settings
from backoffice.procedures.forms import (
    ClinicalSettingsForm,
    CloseFollowUpForm,
    OutcomeForm,
    PsychEvaluationForm,
)
from backoffice.procedures.models import FollowUp
from backoffice.procedures.rules import ODI_SECTIONS, ReliefUnit
from backoffice.procedures.stored_candidacies import Section

bp = Blueprint("procedures", __name__)

Page = Response | str | tuple[str, int]



# Follow-ups.

UPCOMING_DAYS = (7, 14, 30)
FOLLOW_UPS_PER_PAGE = 25  # a screenful; each list pages on its own
CANDIDATES_PER_PAGE = 25



@dataclass(frozen=True)
class ListFilter:
    """Whose rows and which office's a worklist shows: mine by default for a physician."""

    office_id: int | None
    physician_id: int | None
    mine: bool
    own_physician: Physician | None


def _list_filter() -> ListFilter:
    own = practice.physician_of_user(current_actor().user_id)
    who = request.args.get("who", "mine" if own else "all")
    office_id = query_int(request.args, "office")
    mine = who == "mine" and own is not None
    return ListFilter(office_id, own.id if mine and own else None, mine, own)


def _filter_args(chosen: ListFilter) -> dict[str, object]:
    """The query arguments that show a worklist for `chosen` again (its pagers keep them)."""
    return {"who": "mine" if chosen.mine else "all", "office": chosen.office_id}


def _worklist_days() -> int:
    days = query_int(request.args, "days")
    return days if days in UPCOMING_DAYS else UPCOMING_DAYS[0]


@bp.get("/followups")
@allow(Permission.RECORD_FOLLOW_UPS)
def follow_ups() -> str:
    chosen = _list_filter()
    days = _worklist_days()
    offsets = page_offsets(request.args, worklists.FOLLOW_UP_SECTIONS, FOLLOW_UPS_PER_PAGE)
    worklist = worklists.follow_up_worklist(
        office_id=chosen.office_id, physician_id=chosen.physician_id, now=utcnow(),
        timezone=current_app.config["PRACTICE_TIMEZONE"], upcoming_days=days, limit=FOLLOW_UPS_PER_PAGE,
        by=current_actor(), offsets=offsets)
    query = link_args({**_filter_args(chosen), "days": days, **page_args(offsets, FOLLOW_UPS_PER_PAGE)})
    return render_template("procedures/follow_ups.html", worklist=worklist, chosen=chosen, days=days, query=query,
                           day_choices=UPCOMING_DAYS, offices=practice.office_choices(), now=utcnow(),
                           today=practice_today(utcnow()))


def _for_role(form: OutcomeForm) -> OutcomeForm:
    return form if current_actor().can(Permission.DECIDE_OUTCOMES) else form.without_decision()


def _outcome_form(follow_up: FollowUp) -> OutcomeForm:
    if follow_up.outcome is not None:
        return _for_role(OutcomeForm.for_record(follow_up.outcome))
    diagnostic = follow_up.appointment.procedure_type.kind is ProcedureKind.DIAGNOSTIC_FACET
    form = OutcomeForm(formdata=None, recorded_on=practice_today(utcnow()),
                       baseline_nrs=follow_up.appointment.baseline_nrs,
                       relief_unit=(ReliefUnit.HOURS if diagnostic else ReliefUnit.WEEKS).value)
    form.version.data = follow_up.version
    return _for_role(form)


def _follow_up_page(follow_up: FollowUp, form: OutcomeForm, status: int = 200,
                    close_form: CloseFollowUpForm | None = None) -> tuple[str, int]:
    ends_a_trial = follow_up.appointment.procedure_type.kind is ProcedureKind.SCS_TRIAL
    return render_template(
        "procedures/follow_up.html", follow_up=follow_up, form=form,
        close_form=close_form or CloseFollowUpForm(formdata=None, version=follow_up.version),
        show_close=close_form is not None, earlier=followups.earlier_outcomes(follow_up),
        odi_sections=ODI_SECTIONS, ends_a_trial=ends_a_trial,
        trial=trials.trial_of_appointment(follow_up.appointment_id) if ends_a_trial else None), status


@bp.route("/followups/<int:follow_up_id>", methods=["GET", "POST"])
@allow(Permission.RECORD_FOLLOW_UPS)
def follow_up(follow_up_id: int) -> Page:
    actor = current_actor()
    if request.method == "GET":
        found = followups.open_follow_up(follow_up_id, by=actor)
        return _follow_up_page(found, _outcome_form(found))
    found = followups.get_follow_up(follow_up_id, by=actor)
    form = _for_role(OutcomeForm())
    if not form.validate_on_submit():
        return _follow_up_page(found, form, 400)
    try:
        followups.record_outcome(follow_up_id, form.to_entry(), expected_version=form.version.data or 0,
                                 by=actor, now=utcnow(), today=practice_today(utcnow()),
                                 correcting=form.is_correction)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _follow_up_page(found, form, 400)
    except StaleEdit as stale:
        current = followups.get_follow_up(follow_up_id, by=actor)
        merged = merge_stale_edit(form, _outcome_form(current), stale)
        return _follow_up_page(current, merged, 409)
    flash(f"Outcome saved for {found.patient.full_name}.", "success")
    return redirect(local_path(request.args.get("next")) or url_for("patients.show", patient_id=found.patient_id))


@bp.post("/followups/<int:follow_up_id>/close")
@allow(Permission.RECORD_FOLLOW_UPS)
def close_follow_up(follow_up_id: int) -> Page:
    actor = current_actor()
    form = CloseFollowUpForm()
    found = followups.get_follow_up(follow_up_id, by=actor)
    if form.validate_on_submit():
        try:
            followups.close_follow_up(follow_up_id, form.reason.data or "", expected_version=form.version.data or 0,
                                      by=actor, now=utcnow())
        except FieldErrors as error:
            add_field_errors(form, error.errors)
        except StaleEdit as stale:
            flash(f"{stale.headline} Look at it again before closing it.", "warning")
            return redirect(url_for("procedures.follow_up", follow_up_id=follow_up_id))
        else:
            flash(f"Follow-up closed without an outcome for {found.patient.full_name}.", "success")
            return redirect(url_for("procedures.follow_ups"))
    return _follow_up_page(found, _outcome_form(found), 400, close_form=form)


@bp.post("/followups/<int:follow_up_id>/reopen")
@allow(Permission.RECORD_FOLLOW_UPS)
def reopen_follow_up(follow_up_id: int) -> Response:
    form = CloseFollowUpForm()
    try:
        followups.reopen_follow_up(follow_up_id, expected_version=int(form.version.data or 0), by=current_actor(),
                                   now=utcnow())
    except StaleEdit as stale:
        flash(f"{stale.headline} Look at it again.", "warning")
    else:
        flash("Follow-up reopened.", "success")
    return redirect(url_for("procedures.follow_up", follow_up_id=follow_up_id))


# Candidates.

HORIZONS = (("", "Eligible now or soon"), ("90", "…or within 90 days"), ("365", "…or within a year"))


@bp.get("/candidates")
@allow(Permission.REVIEW_CANDIDATES)
def candidates() -> str:
    chosen = _list_filter()
    horizon = request.args.get("horizon", "")
    horizon_days = int(horizon) if horizon in ("90", "365") else None
    offsets = page_offsets(request.args, Section, CANDIDATES_PER_PAGE)
    found = worklists.candidate_worklist(
        office_id=chosen.office_id, physician_id=chosen.physician_id, horizon_days=horizon_days,
        today=practice_today(utcnow()), limit=CANDIDATES_PER_PAGE, by=current_actor(), offsets=offsets)
    query = link_args({**_filter_args(chosen), "horizon": horizon_days, **page_args(offsets, CANDIDATES_PER_PAGE)})
    return render_template("procedures/candidates.html", found=found, chosen=chosen, horizon=horizon, query=query,
                           horizons=HORIZONS, offices=practice.office_choices(), today=practice_today(utcnow()))


# Clinical rule settings.

@bp.route("/settings/clinical-rules", methods=["GET", "POST"])
@allow(Permission.SET_CLINICAL_RULES)
def clinical_settings() -> Page:
    settings = get_settings()
    form = ClinicalSettingsForm.for_record(settings) if request.method == "GET" else ClinicalSettingsForm()
    if not form.validate_on_submit():
        return render_template("procedures/settings.html", form=form, settings=settings), form_status(form)
    try:
        update_settings(form.to_thresholds(), expected_version=form.version.data or 0, by=current_actor(),
                        now=utcnow())
    except StaleEdit as stale:
        current = get_settings()
        form = merge_stale_edit(form, ClinicalSettingsForm.for_record(current), stale)
        return render_template("procedures/settings.html", form=form, settings=current), 409
    flash("Clinical rule settings saved. The worklists and booking checks use them from now on.", "success")
    return redirect(url_for("procedures.clinical_settings"))


# Psychological evaluations.

@bp.route("/patients/<int:patient_id>/psych-evaluations/new", methods=["GET", "POST"])
@allow(Permission.RECORD_PSYCH_EVALUATIONS)
def record_psych_evaluation(patient_id: int) -> Page:
    actor = current_actor()
    patient = (open_patient_record(patient_id, by=actor, page="psychological evaluation form")
               if request.method == "GET" else get_patient(patient_id, by=actor))
    form = PsychEvaluationForm()
    if not form.validate_on_submit():
        return render_template("procedures/psych_evaluation.html", form=form, patient=patient), form_status(form)
    try:
        psych_evaluations.record_psych_evaluation(patient_id, form.to_entry(), by=actor, now=utcnow(),
                                                  today=practice_today(utcnow()))
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("procedures/psych_evaluation.html", form=form, patient=patient), 400
    flash(f"Psychological evaluation recorded for {patient.full_name}.", "success")
    return redirect(url_for("patients.show", patient_id=patient_id, _anchor="candidacy"))

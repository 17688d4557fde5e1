"""The procedure catalog (admin), follow-ups and outcomes, candidates, the clinical rule
settings and psychological evaluations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from backoffice.auth.sessions import current_actor
from backoffice.catalog.rules import ProcedureKind
from backoffice.core.access import allow
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, NotFound, Refused, StaleEdit
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
from backoffice.procedures import decisions, followups, handoff, psych_evaluations, worklists
from backoffice.procedures.clinical_settings import get_settings, update_settings
from backoffice.procedures.forms import (
    ClinicalSettingsForm,
    CloseFollowUpForm,
    DecisionForm,
    OutcomeForm,
    PsychEvaluationForm,
)
from backoffice.procedures.models import FollowUp
from backoffice.procedures.rules import NOTE_NEEDED, ODI_SECTIONS, PlanDecision, ReliefUnit
from backoffice.procedures.stored_candidacies import Section
from backoffice.scheduling.models import SchedulingRequest
from backoffice.scheduling.request_rules import RequestPriority

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
        saved = followups.record_outcome(follow_up_id, form.to_entry(), expected_version=form.version.data or 0,
                                 by=actor, now=utcnow(), today=practice_today(utcnow()),
                                 correcting=form.is_correction)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return _follow_up_page(found, form, 400)
    except StaleEdit as stale:
        current = followups.get_follow_up(follow_up_id, by=actor)
        merged = merge_stale_edit(form, _outcome_form(current), stale)
        return _follow_up_page(current, merged, 409)
    flash(f"Outcome saved for {found.patient.full_name}.{_handed_off(saved.scheduling_request)}", "success")
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


def _handed_off(asked: SchedulingRequest | None) -> str:
    """What the schedulers were asked to book, for the message after a decision."""
    if asked is None or not asked.is_open:
        return ""
    said = (f" The schedulers are asked to book {asked.procedure_type.name.lower()} from "
            f"{asked.earliest_on:%m/%d/%Y}.")
    if asked.needs_override:
        said += " The rules do not allow it yet: a physician books it with an override and a reason."
    return said


# The physician's decisions.

DECISIONS_PER_PAGE = 25


def _decisions_page(status: int = 200, errors: dict[int, list[str]] | None = None,
                    form: DecisionForm | None = None) -> tuple[str, int]:
    chosen = _list_filter()
    offsets = page_offsets(request.args, ("awaiting",), DECISIONS_PER_PAGE)
    found = worklists.decision_worklist(
        office_id=chosen.office_id, physician_id=chosen.physician_id, today=practice_today(utcnow()),
        limit=DECISIONS_PER_PAGE, offset=offsets["awaiting"], by=current_actor())
    query = link_args({**_filter_args(chosen), **page_args(offsets, DECISIONS_PER_PAGE)})
    return render_template("procedures/decisions.html", found=found, chosen=chosen, query=query,
                           offices=practice.office_choices(), errors=errors or {}, sent=form,
                           decisions=list(PlanDecision), note_needed=NOTE_NEEDED, priorities=list(RequestPriority),
                           today=practice_today(utcnow())), status


@bp.get("/followups/decisions")
@allow(Permission.DECIDE_OUTCOMES)
def decisions_awaited() -> tuple[str, int]:
    return _decisions_page()


@bp.post("/followups/decisions/<int:outcome_id>")
@allow(Permission.DECIDE_OUTCOMES)
def decide(outcome_id: int) -> Page:
    """One decision button of the list; the list's filters travel in the query string."""
    form = DecisionForm()
    kept: dict[str, Any] = link_args({**_filter_args(_list_filter()),
                                      "awaiting_page": query_int(request.args, "awaiting_page")})
    back = url_for("procedures.decisions_awaited", **kept)
    if not form.validate_on_submit():
        return _decisions_page(400, {outcome_id: [e for errors in form.errors.values() for e in errors]}, form)
    try:
        decided = decisions.decide_outcome(outcome_id, form.to_entry(), expected_version=form.version.data or 0,
                                           by=current_actor(), now=utcnow(), today=practice_today(utcnow()))
    except FieldErrors as error:
        return _decisions_page(400, {outcome_id: list(error.errors.values())}, form)
    except StaleEdit as stale:
        flash(f"{stale.headline} Look at it again before deciding.", "warning")
        return redirect(back)
    said = f"{decided.outcome.decision_label} recorded for {decided.follow_up.patient.full_name}."
    flash(said + (_handed_off(decided.hand_off.request) or
                  (f" {decided.hand_off.missing}" if decided.hand_off.missing else "")), "success")
    return redirect(back)


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


@bp.post("/candidates/<int:candidacy_id>/scheduling-request")
@allow(Permission.REVIEW_CANDIDATES)
def ask_to_schedule(candidacy_id: int) -> Response:
    """Send a candidacy to the schedulers: a scheduling request with its procedure, region,
    side and levels, from the day the rules allow it."""
    try:
        asked = handoff.ask_to_schedule(candidacy_id, by=current_actor(), now=utcnow(),
                                        today=practice_today(utcnow()))
    except NotFound:
        flash("This candidacy changed since the list was shown: look at it again.", "warning")
    except Refused as refused:
        flash(refused.message, "warning")
    else:
        flash(f"Sent to the schedulers: {asked.procedure_type.name.lower()} for {asked.patient.full_name}, "
              f"from {asked.earliest_on:%m/%d/%Y}.", "success")
    return redirect(local_path(request.form.get("next")) or url_for("procedures.candidates"))


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

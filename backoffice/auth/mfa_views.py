"""Pages of the second sign-in step, on the auth blueprint: the code page, enrolment, the
account's two-step page, and the admin's reset."""

from __future__ import annotations

import segno
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from backoffice.auth import mfa, mfa_rules
from backoffice.auth.forms import ConfirmForm
from backoffice.auth.sessions import current_actor
from backoffice.auth.views import bp
from backoffice.core.access import allow, signed_in
from backoffice.core.db import utcnow
from backoffice.core.errors import Refused
from backoffice.core.extensions import limiter
from backoffice.core.forms import add_field_errors, form_status, local_path, strip
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import local_datetime

CODE_HELP = "The 6-digit code your authenticator app shows now, or one of your recovery codes."


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(message="Enter the code from your app."),
                                           Length(max=40)],
                       filters=[strip], description=CODE_HELP,
                       render_kw={"autocomplete": "one-time-code", "autofocus": True,
                                  "spellcheck": "false", "autocapitalize": "off"})
    remember = BooleanField(f"Remember this device for {mfa_rules.REMEMBER_DEVICE.seconds // 3600} "
                            "hours", description="Only on a computer no one else uses.")
    submit = SubmitField("Continue")


class EnrolForm(FlaskForm):
    code = StringField("Code from the app", validators=[
        DataRequired(message="Enter the 6-digit code the app shows."), Length(max=40)],
        filters=[strip], render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                    "autofocus": True})
    submit = SubmitField("Turn on two-step sign-in")


def _next() -> str:
    """Where the user was going when the second step stopped them."""
    return local_path(request.args.get("next")) or url_for("core.home")


def _login_rate_limit() -> str:
    # Codes are guessed like passwords: the same per-address limit as the password step.
    limit: str = current_app.config["LOGIN_RATE_LIMIT"]
    return limit


@bp.route("/login/code", methods=["GET", "POST"])
@signed_in
@limiter.limit(_login_rate_limit, methods=["POST"],
               error_message="Too many sign-in attempts from this address. Wait a minute.")
def mfa_code() -> Response | str | tuple[str, int]:
    if mfa.has_passed(current_user):
        return redirect(_next())
    if not mfa.second_factor_of(current_user).enrolled:
        return redirect(url_for("auth.mfa_enrol", next=request.args.get("next")))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/mfa_code.html", form=form), form_status(form)
    now = utcnow()
    try:
        passed = mfa.check_code(current_user.id, form.code.data or "", by=current_actor(), now=now,
                                block_minutes=current_app.config["SIGN_IN_MAX_DELAY_MINUTES"])
    except mfa.WrongCode as wrong:
        add_field_errors(form, wrong.errors)
        return render_template("auth/mfa_code.html", form=form), 401
    except Refused:  # reset by an admin since the page was opened
        return redirect(url_for("auth.mfa_enrol", next=request.args.get("next")))
    except mfa.CodesBlocked as blocked:
        until = local_datetime(blocked.until, current_app.config["PRACTICE_TIMEZONE"])
        form.form_errors.append(f"{blocked.message} Try again after {until:%H:%M %Z}, or ask an "
                                "administrator to reset your two-step sign-in.")
        return render_template("auth/mfa_code.html", form=form), 403
    mfa.mark_passed(current_user)
    response = redirect(_next())
    if form.remember.data:
        mfa.remember_this_device(response, current_user, now)
    if passed.by_recovery_code:
        flash(f"You signed in with a recovery code; it cannot be used again. "
              f"{passed.recovery_codes_left} recovery codes are left.", "warning")
    return response


@bp.route("/account/two-step/setup", methods=["GET", "POST"])
@signed_in
def mfa_enrol() -> Response | str | tuple[str, int]:
    state = mfa.second_factor_of(current_user)
    if state.enrolled:
        return redirect(url_for("auth.mfa_settings") if mfa.has_passed(current_user)
                        else url_for("auth.mfa_code", next=request.args.get("next")))
    secret = mfa.pending_secret()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = mfa.enrol(current_user.id, secret, form.code.data or "", by=current_actor(),
                              now=utcnow())
        except mfa.WrongCode as wrong:
            add_field_errors(form, wrong.errors)
        except Refused as refused:  # set up a moment ago, in another tab
            flash(refused.message, "info")
            return redirect(url_for("auth.mfa_code", next=request.args.get("next")))
        else:
            mfa.mark_passed(current_user)
            # Rendered straight from the POST, never redirected: the codes are shown this once
            # and must not travel in the (signed, not encrypted) session cookie.
            return render_template("auth/mfa_recovery_codes.html", codes=codes, next=_next())
    uri = mfa_rules.provisioning_uri(secret, current_user.username)
    qr_code = segno.make(uri, error="m", micro=False).svg_data_uri(scale=4, dark="#000",
                                                                  light="#fff")
    return render_template("auth/mfa_enrol.html", form=form, qr_code=qr_code,
                           secret=mfa_rules.spaced_secret(secret), required=state.required), \
        form_status(form)


@bp.get("/account/two-step")
@signed_in
def mfa_settings() -> str:
    return render_template("auth/mfa_settings.html",
                           state=mfa.second_factor_of(current_user, count_codes=True))


@bp.post("/admin/users/<int:user_id>/reset-two-step")
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def reset_mfa(user_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        try:
            user = mfa.reset(user_id, by=current_actor(), now=utcnow())
        except Refused as refused:
            flash(refused.message, "danger")
        else:
            flash(f"Two-step sign-in of {user.username} is reset; they set it up again at their "
                  "next sign-in.", "success")
    return redirect(url_for("auth.edit_user", user_id=user_id))

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from backoffice.auth import mfa, services
from backoffice.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    EditUserForm,
    LoginForm,
    NewUserForm,
)
from backoffice.auth.sessions import auth_policy, current_actor, end_session, start_session
from backoffice.core.access import allow, public, signed_in
from backoffice.core.db import utcnow
from backoffice.core.errors import FieldErrors, Refused, StaleEdit
from backoffice.core.extensions import limiter
from backoffice.core.forms import add_field_errors, form_status, local_path, merge_stale_edit
from backoffice.core.permissions import Permission
from backoffice.core.timefmt import local_datetime

bp = Blueprint("auth", __name__)


def _login_rate_limit() -> str:
    limit: str = current_app.config["LOGIN_RATE_LIMIT"]
    return limit


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_rate_limit, methods=["POST"],
               error_message="Too many sign-in attempts from this address. Wait a minute.")
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), form_status(form)
    now = utcnow()
    try:
        user = services.authenticate(form.username.data or "", form.password.data or "",
                                     client_address=request.remote_addr, policy=auth_policy(),
                                     now=now)
    except services.SignInThrottled as throttled:
        until = local_datetime(throttled.retry_at, current_app.config["PRACTICE_TIMEZONE"])
        form.form_errors.append(f"{throttled.message} Try again after {until:%H:%M:%S %Z}.")
        return _login_again(form, 429)
    except services.AccountInactive as inactive:
        form.form_errors.append(inactive.message)
        return _login_again(form, 403)
    except services.InvalidCredentials as wrong:
        # The same words for a wrong password, an unknown username and a locked account.
        free = auth_policy().throttle.free_attempts
        form.form_errors.append(f"{wrong.message} After {free} wrong passwords, each next try "
                                f"from this computer must wait longer. If you cannot sign in, "
                                f"ask a practice administrator.")
        return _login_again(form, 401)
    start_session(user, now)
    # The password is right; the session is "password only" until the second step (if the
    # account has one and this device is not remembered for it): `mfa` holds it there.
    mfa.settle(user, current_actor(), now)
    return redirect(_safe_next(request.args.get("next")))


def _login_again(form: LoginForm, status: int) -> tuple[str, int]:
    """The sign-in page after a refusal, with the cursor in the password box."""
    form.username.render_kw = {**(form.username.render_kw or {}), "autofocus": False}
    form.password.render_kw = {**(form.password.render_kw or {}), "autofocus": True}
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@signed_in
def logout() -> Response:
    actor = current_actor()
    end_session()
    services.sign_out(actor)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> Response | tuple[str, int] | str:
    form = ChangePasswordForm()
    if current_user.must_change_password:
        form.current_password.label.text = "Temporary password"
    if not form.validate_on_submit():
        return render_template("auth/change_password.html", form=form), form_status(form)
    now = utcnow()
    try:
        user = services.change_own_password(current_user.id, form.current_password.data or "",
                                            form.new_password.data or "", by=current_actor(),
                                            policy=auth_policy(), now=now)
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("auth/change_password.html", form=form), 400
    start_session(user, now)
    # Only a session past the second step reaches this page (`mfa.require_second_factor`): the
    # new session belongs to the same person, who need not enter a code again.
    mfa.mark_passed(user)
    flash("Your password is changed. Other sessions of yours are signed out.", "success")
    return redirect(url_for("core.home"))


@bp.get("/admin/users")
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def users() -> str:
    return render_template("auth/users.html", users=services.list_users(), now=utcnow())


def _show_password(user_name: str, password: str, heading: str) -> str:
    # Rendered straight from the POST, never redirected: the password must not travel in a
    # flash message (the session cookie is signed, not encrypted) and is shown this once.
    return render_template("auth/temporary_password.html", user_name=user_name,
                           password=password, heading=heading)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def new_user() -> str | tuple[str, int]:
    form = NewUserForm()
    if not form.validate_on_submit():
        return render_template("auth/user_form.html", form=form, user=None), \
            form_status(form)
    data = services.AccountData(form.username.data or "", form.full_name.data or "",
                                form.email.data, form.role_values())
    try:
        user, password = services.create_user(data, by=current_actor(), policy=auth_policy(),
                                              now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("auth/user_form.html", form=form, user=None), 400
    return _show_password(user.full_name, password, f"Account {user.username} created")


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def edit_user(user_id: int) -> Response | str | tuple[str, int]:
    user = services.get_user(user_id)
    form = EditUserForm.for_record(user) if request.method == "GET" else EditUserForm()
    if not form.validate_on_submit():
        return render_template("auth/user_form.html", form=form, user=user), \
            form_status(form)
    data = services.AccountData(user.username, form.full_name.data or "", form.email.data,
                                form.role_values())
    try:
        services.update_user(user_id, data, expected_version=form.version.data or 0,
                             by=current_actor(), now=utcnow())
    except FieldErrors as error:
        add_field_errors(form, error.errors)
        return render_template("auth/user_form.html", form=form, user=user), 400
    except StaleEdit as stale:
        current = services.get_user(user_id)
        form = merge_stale_edit(form, EditUserForm.for_record(current), stale)
        return render_template("auth/user_form.html", form=form, user=current, stale=stale), 409
    flash(f"Saved the account {user.username}.", "success")
    return redirect(url_for("auth.users"))


def _confirmed() -> bool:
    return ConfirmForm().validate_on_submit()


@bp.post("/admin/users/<int:user_id>/deactivate")
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def deactivate_user(user_id: int) -> Response:
    return _set_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/activate")
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def activate_user(user_id: int) -> Response:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Response:
    if _confirmed():
        try:
            user = services.set_user_active(user_id, active, by=current_actor(), now=utcnow())
        except Refused as refused:
            flash(refused.message, "danger")
        else:
            state = "reactivated" if active else "deactivated; its sessions are ended"
            flash(f"The account {user.username} is {state}.", "success")
    return redirect(url_for("auth.users"))


@bp.post("/admin/users/<int:user_id>/reset-password")
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def reset_password(user_id: int) -> Response | str:
    if not _confirmed():
        return redirect(url_for("auth.users"))
    user, password = services.reset_password(user_id, by=current_actor(), policy=auth_policy(),
                                             now=utcnow())
    return _show_password(user.full_name, password, f"New password for {user.username}")


@bp.post("/admin/users/<int:user_id>/unlock")
@allow(Permission.MANAGE_STAFF_ACCOUNTS)
def unlock_user(user_id: int) -> Response:
    if _confirmed():
        user = services.unlock_user(user_id, by=current_actor(), now=utcnow())
        flash(f"The account {user.username} is unlocked.", "success")
    return redirect(url_for("auth.users"))


# The second sign-in step's pages live on this blueprint too.
from backoffice.auth import mfa_views  # noqa: E402, F401

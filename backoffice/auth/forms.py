from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from backoffice.auth.rules import MAX_PASSWORD_LENGTH, USERNAME_PATTERN, USERNAME_RULE, normalise_username
from backoffice.core.forms import NoMarkup, VersionedForm, choices, empty_to_none, person_name, strip, text
from backoffice.core.permissions import ALL_ROLES, Role


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(message="Enter your username."),
                                                   Length(max=40), NoMarkup()],
                           filters=[strip], render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."),
                                                     Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired(message="Enter your current password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[
        DataRequired(message="Choose a new password."), Length(max=MAX_PASSWORD_LENGTH)],
        description="At least 12 characters. A few unrelated words make a good password.",
        render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField("New password again", validators=[
        DataRequired(message="Type the new password again."),
        EqualTo("new_password", message="The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Change password")


class RolesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _roles_field() -> RolesField:
    return RolesField("Roles", choices=choices((role.value, role.label) for role in ALL_ROLES),
                      validators=[DataRequired(message="Give the account at least one role.")])


class AccountFields:
    full_name = person_name("Full name", 120)
    email = EmailField("Email", validators=[Optional(), Length(max=254),
                                            Email(message="Enter a valid email address.")],
                       filters=[strip, empty_to_none])
    roles = _roles_field()

    def role_values(self) -> frozenset[Role]:
        return frozenset(Role(value) for value in self.roles.data or [])


class NewUserForm(AccountFields, FlaskForm):
    username = text("Username", 40, description="Lower-case letters, digits, '.', '_' or '-'; "
                                                 "it cannot be changed later.",
                    validators=[Regexp(USERNAME_PATTERN, message=USERNAME_RULE)],
                    extra_filters=[normalise_username], render_kw={"autocomplete": "off"})
    submit = SubmitField("Create account")


class EditUserForm(AccountFields, VersionedForm):
    submit = SubmitField("Save")

    def load_record(self, record: Any) -> None:
        self.roles.data = [str(role) for role in record.role_set]


class ConfirmForm(FlaskForm):
    """A bare form for POST-only buttons: it carries the CSRF token."""

    submit = SubmitField("Confirm")

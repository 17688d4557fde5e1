"""Field helpers shared by every form: trimmed text with length limits and no markup."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, Form, IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from backoffice.errors import StaleEdit
from backoffice.phones import format_phone, parse_phone

MARKUP = re.compile(r"<\s*[a-zA-Z!/?]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PERSON_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.\-][^\W\d_]+)*\.?$")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def empty_to_none(value: Any) -> Any:
    return value or None


class NoMarkup:
    """Refuse text that looks like HTML or carries control characters ("pain < 3" is fine)."""

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data or ""
        if MARKUP.search(value):
            raise ValidationError("Remove the markup: text in angle brackets is not accepted.")
        if CONTROL_CHARACTERS.search(value):
            raise ValidationError("Remove the control characters.")


class PersonName:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not PERSON_NAME.match(field.data):
            raise ValidationError("Use letters, spaces, hyphens, apostrophes and periods only.")


def text(label: str, max_length: int, *, required: bool = True, validators: list[Any] | None = None,
         multiline: bool = False, render_kw: dict[str, Any] | None = None,
         field_class: type[StringField] | None = None, **kwargs: Any) -> Any:
    """A trimmed text field with a length limit, refusing markup. Optional ones store None."""
    presence = DataRequired(message="Fill this in.") if required else Optional()
    field_class = field_class or (TextAreaField if multiline else StringField)
    filters = [strip] if required else [strip, empty_to_none]
    return field_class(label, validators=[presence, Length(max=max_length), NoMarkup(),
                                          *(validators or [])],
                       filters=filters, render_kw={"maxlength": max_length, **(render_kw or {})},
                       **kwargs)


class UsPhone:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data and parse_phone(field.data) is None:
            raise ValidationError("Enter a valid phone number, such as (410) 555-0123.")


def phone_field(label: str, *, required: bool) -> Any:
    return text(label, 25, required=required, validators=[UsPhone()], field_class=PhoneField,
                render_kw={"inputmode": "tel", "autocomplete": "off"})


def person_name(label: str, max_length: int = 60) -> Any:
    return text(label, max_length, validators=[PersonName()], render_kw={"autocomplete": "off"})


def choices(pairs: Iterable[tuple[str, str]], *, blank: str | None = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, after an optional empty first option."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]


class PhoneField(StringField):
    """Shows a stored number as (410) 555-0123; the form's caller parses what is typed."""

    def process_data(self, value: Any) -> None:
        self.data = format_phone(value) if isinstance(value, str) and value.startswith("+") else value


class VersionedForm(FlaskForm):
    """An edit form that carries the version of the record it was loaded from."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def add_field_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Show a service's field errors next to their fields (or at the top when no such field)."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def show_stale_edit(form: VersionedForm, stale: StaleEdit) -> None:
    """Keep what the user typed, and move the form to the current version so that saving again
    is a deliberate overwrite of what they have now seen."""
    form.version.data = stale.current_version
    form.version.raw_data = [str(stale.current_version)]
    form.form_errors.append(stale.message)

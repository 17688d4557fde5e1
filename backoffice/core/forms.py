"""Field helpers shared by every form: trimmed text with length limits and no markup, and the one
parser of numbers and ids that arrive in query strings and forms."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Self, TypeVar
from urllib.parse import unquote, urlsplit

import us
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import HiddenInput, TextInput

from backoffice.core.db import MAX_ID
from backoffice.core.errors import StaleEdit
from backoffice.core.phones import format_phone, parse_phone

NameT = TypeVar("NameT", bound=str)

MARKUP = re.compile(r"<\s*[a-zA-Z!/?]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PERSON_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.\-][^\W\d_]+)*\.?$")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def empty_to_none(value: Any) -> Any:
    return value or None


class NoMarkup:
    """Refuse text that looks like HTML or carries control characters ("pain < 3" is fine), but
    the control characters in `allowed_controls` (a barcode's group separator, say)."""

    def __init__(self, allowed_controls: str = "") -> None:
        self.allowed_controls = frozenset(allowed_controls)

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data or ""
        if MARKUP.search(value):
            raise ValidationError("Remove the markup: text in angle brackets is not accepted.")
        if any(found not in self.allowed_controls for found in CONTROL_CHARACTERS.findall(value)):
            raise ValidationError("Remove the control characters.")


class PersonName:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data and not PERSON_NAME.match(field.data):
            raise ValidationError("Use letters, spaces, hyphens, apostrophes and periods only.")


def _in_sentence(label: str) -> str:
    """"First name" -> "first name", but "ZIP code" and "NPI" stay as they are."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def text(label: str, max_length: int, *, required: bool = True, validators: list[Any] | None = None,
         multiline: bool = False, render_kw: dict[str, Any] | None = None,
         field_class: type[StringField] | None = None, extra_filters: list[Any] | None = None,
         allowed_controls: str = "", **kwargs: Any) -> Any:
    """A trimmed text field with a length limit, refusing markup and control characters (but
    `allowed_controls`). Optional ones store None."""
    presence = DataRequired(message=f"Enter the {_in_sentence(label)}.") if required else Optional()
    field_class = field_class or (TextAreaField if multiline else StringField)
    filters = ([strip] if required else [strip, empty_to_none]) + (extra_filters or [])
    return field_class(label, validators=[presence, Length(max=max_length), NoMarkup(allowed_controls),
                                          *(validators or [])],
                       filters=filters, render_kw={"maxlength": max_length, **(render_kw or {})},
                       **kwargs)


class PlausibleDate:
    """Dates people work with: refuse year 9999 and the like before any arithmetic on them."""

    def __init__(self, first_year: int = 1900, last_year: int = 2100) -> None:
        self.first_year, self.last_year = first_year, last_year

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and not self.first_year <= field.data.year <= self.last_year:
            raise ValidationError(f"Use a year between {self.first_year} and {self.last_year}.")


def time_field(label: str, validators: list[Any], **kwargs: Any) -> Any:
    """A 24-hour HH:MM text box: the browser's own time input shows AM/PM in US locales, while
    the rest of the app writes 13:45."""
    return TimeField(label, validators=validators, widget=TextInput(),
                     render_kw={"placeholder": "HH:MM", "inputmode": "numeric", "maxlength": 5,
                                "autocomplete": "off", "pattern": "[0-2][0-9]:[0-5][0-9]",
                                **kwargs.pop("render_kw", {})}, **kwargs)


def date_field(label: str, *, required: bool, message: str = "Choose the date.", **kwargs: Any) -> Any:
    presence = InputRequired(message=message) if required else Optional()
    return DateField(label, validators=[presence, PlausibleDate()], **kwargs)


class UsPhone:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data and parse_phone(field.data) is None:
            raise ValidationError("Enter a valid phone number, such as (410) 555-0123.")


def phone_field(label: str, *, required: bool) -> Any:
    return text(label, 25, required=required, validators=[UsPhone()], field_class=PhoneField,
                render_kw={"inputmode": "tel", "autocomplete": "off"})


US_STATES = tuple(sorted(((state.abbr, state.name) for state in us.states.STATES_AND_TERRITORIES),
                         key=lambda pair: pair[1]))
ZIP_CODE = Regexp(r"^\d{5}(-\d{4})?$", message="Use a 5-digit ZIP code (or ZIP+4).")


def us_state_field(label: str = "State", *, required: bool) -> SelectField:
    """US states, DC and territories by name; the two-letter code is what is stored."""
    return SelectField(label, choices=choices(US_STATES, blank=None if required else "—"),
                       default="" if not required else None,
                       validators=[InputRequired(message="Choose the state.")] if required else [])


def tidy_name(value: Any) -> Any:
    """Names typed all in lower or all in upper case get capitals ("o'brien" -> "O'Brien");
    anything typed with care ("McDonald", "van der Berg") is kept as it is."""
    if isinstance(value, str) and (value.islower() or value.isupper()):
        return value.title()
    return value


def person_name(label: str, max_length: int = 60) -> Any:
    return text(label, max_length, validators=[PersonName()], extra_filters=[tidy_name],
                render_kw={"autocomplete": "off"})


def choices(pairs: Iterable[tuple[str, str]], *, blank: str | None = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, after an optional empty first option."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]


class PhoneField(StringField):
    """Shows a stored number as (410) 555-0123; the form's caller parses what is typed."""

    def process_data(self, value: Any) -> None:
        self.data = format_phone(value) if isinstance(value, str) and value.startswith("+") else value


DATABASE_ID = NumberRange(1, MAX_ID, message="This is not one of the records on offer.")


def id_field(label: str = "", **kwargs: Any) -> Any:
    """A record's id typed or carried in a form: a whole number the database's ids can hold."""
    validators = kwargs.pop("validators", [Optional()])
    return IntegerField(label, validators=[*validators, DATABASE_ID], **kwargs)


class FiniteDecimalField(DecimalField):
    """A decimal that is a number: Decimal() also reads "NaN", "sNaN" and "Infinity", which no
    amount is, and an sNaN raises on the first comparison (a range check) rather than failing it."""

    data: Decimal | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError("Give a number.")


class VersionedForm(FlaskForm):
    """An edit form that carries the version of the record it was loaded from, and what it showed
    then, so that a save refused as stale can be redone as this user's own changes on top of
    what the other user saved (see `merge_stale_edit`)."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    original = HiddenField()

    @classmethod
    def for_record(cls, record: Any, **kwargs: Any) -> Self:
        """The form as it opens on `record`."""
        form = cls(formdata=None, obj=record, **kwargs)
        form.load_record(record)
        form.version.data = record.version
        form.original.data = json.dumps(sent_values(form))
        return form

    def load_record(self, record: Any) -> None:
        """Adjust values WTForms cannot take from the record as they are (select ids, say)."""


BOOKKEEPING_FIELDS = frozenset({"csrf_token", "version", "original", "submit"})


def _editable_fields(fields: Iterable[Field]) -> Iterator[Field]:
    for field in fields:
        if isinstance(field, (FieldList, FormField)):
            yield from _editable_fields(field)
        elif field.short_name not in BOOKKEEPING_FIELDS:
            yield field


def _as_sent(field: Field) -> list[str]:
    """What a browser submits for the field as it is filled now."""
    if isinstance(field, BooleanField):
        return ["y"] if field.data else []
    if isinstance(field, SelectMultipleField):
        return [str(value) for value in field.data or []]
    if isinstance(field, SelectField):
        return ["" if field.data is None else str(field.data)]
    return [field._value()]


def sent_values(form: Form) -> dict[str, list[str]]:
    return {field.name: _as_sent(field) for field in _editable_fields(form)}


def _snapshot(raw: str | None) -> dict[str, list[str]]:
    """What the form showed when it was opened, from its hidden `original` field; {} ("no snapshot")
    for anything but the {name: [value, ...]} object `sent_values` writes, as an altered form sends."""
    try:
        snapshot = json.loads(raw or "{}")
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets
        return {}
    if not isinstance(snapshot, dict) or not all(
            isinstance(values, list) and all(isinstance(value, str) for value in values)
            for values in snapshot.values()):
        return {}
    return snapshot


def merge_stale_edit(mine: VersionedForm, current: VersionedForm, stale: StaleEdit) -> VersionedForm:
    """Refill `current` (the form opened on the record as saved now) with this user's own changes.

    A field this user did not touch takes the other user's saved value, so saving again keeps
    both people's work; a field both changed keeps this user's value and says what the other
    saved. Without a snapshot of what was first shown, every typed value is kept.
    """
    original = _snapshot(mine.original.data)
    typed = {field.name: list(field.raw_data or []) for field in _editable_fields(mine)}
    merged: MultiDict[str, str] = MultiDict()
    conflicts: dict[str, list[str]] = {}
    for name, saved in sent_values(current).items():
        mine_value = typed.get(name, [])
        changed_by_me = not original or (name in original and mine_value != original[name])
        merged.setlist(name, mine_value if changed_by_me else saved)
        if changed_by_me and original and saved not in (original[name], mine_value):
            conflicts[name] = saved
    if "csrf_token" in mine:
        merged["csrf_token"] = mine.csrf_token.data
    merged["version"] = str(current.version.data)
    merged["original"] = current.original.data
    current.process(formdata=merged)
    current.form_errors.append(stale.message)
    fields = {field.name: field for field in _editable_fields(current)}
    for name, saved in conflicts.items():
        shown = " ".join(value for value in saved if value) or "empty"
        fields[name].errors = [f"{stale.changed_by} saved “{shown}” here; yours is kept. Check it."]
    return current


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form that failed, 200 for a form shown for the first time."""
    return 400 if form.is_submitted() else 200


def add_field_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    """Show a service's field errors next to their fields (or at the top when no such field)."""
    for name, message in errors.items():
        field = getattr(form, name, None)
        if isinstance(field, Field):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)




# Whole numbers as people type them in ASCII digits, and no longer than the largest id. `str.isdigit()`
# is not this test: it accepts "²", which int() refuses, and "٣", which int() reads as 3.
ASCII_NUMBER = re.compile(r"[0-9]{1,10}")


def parse_int(raw: object, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """`raw` as a whole number from `low` to `high`, or None for anything else (empty, "²", "-1",
    "1e3", twenty digits, a number out of range). Ids by default: they fit the database's integer."""
    if not isinstance(raw, str) or not ASCII_NUMBER.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def query_int(args: Mapping[str, str], name: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """The whole number (an id by default) in query or form argument `name`, or None; see `parse_int`."""
    return parse_int(args.get(name), low=low, high=high)


def page_number(args: Mapping[str, str], name: str) -> int:
    """A list's page from the query string: 1 for anything that is not a plausible page."""
    return query_int(args, name, low=1, high=10_000) or 1


def link_args(values: Mapping[str, Any]) -> dict[str, str]:
    """Query arguments for a link that keeps a page's filters, from what the page parsed (a
    validated form's data, the numbers it read), empty ones left out. Never the raw query string:
    its keys reach `url_for`, which reads `endpoint`, `_method` or `_external` as its own."""
    return {name: str(value) for name, value in values.items() if value not in (None, "", False)}


def form_link_args(form: Form, names: Iterable[str]) -> dict[str, Any]:
    """Query arguments for a link that keeps a validated filter form's fields `names` as the form
    would send them again (see `link_args`), empty ones left out."""
    return {name: sent for name in names if (sent := [value for value in _as_sent(form[name]) if value])}


def page_args(offsets: Mapping[NameT, int], per_page: int) -> dict[str, int]:
    """The `<name>_page` arguments that show each list of a page where it is now (`page_offsets`)."""
    return {f"{name}_page": offset // per_page + 1 for name, offset in offsets.items() if offset}


def page_offsets(args: Mapping[str, str], names: Iterable[NameT], per_page: int) -> dict[NameT, int]:
    """The rows each list of a page skips, from its `<name>_page` argument."""
    return {name: (page_number(args, f"{name}_page") - 1) * per_page for name in names}


def local_path(target: str | None) -> str | None:
    """A path on this site to go back to, or None: no scheme, no host, nothing a browser could
    read as one (backslashes, tabs and other control characters are refused outright)."""
    if not target or not target.startswith("/") or "\\" in target or target.startswith("//"):
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in unquote(target)):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target

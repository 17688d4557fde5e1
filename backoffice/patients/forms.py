from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, Field, Form, SelectField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from backoffice.core.forms import (
    ZIP_CODE,
    PersonName,
    VersionedForm,
    choices,
    empty_to_none,
    person_name,
    phone_field,
    strip,
    text,
    tidy_name,
    us_state_field,
)
from backoffice.core.phones import parse_phone
from backoffice.patients.rules import Sex
from backoffice.patients.services import PatientData

RELATIONSHIPS = ("Spouse", "Partner", "Parent", "Child", "Sibling", "Friend", "Caregiver", "Legal guardian")


class PlausibleBirthDate:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data is None:
            return
        if field.data > date.today():
            raise ValidationError("The date of birth is in the future.")
        if field.data.year < 1900:
            raise ValidationError("Check the year of birth.")


def _phone(number: str | None) -> str | None:
    return parse_phone(number) if number else None


def _outside_physician(role: str) -> tuple[Any, Any, Any, Any]:
    """Name, practice (free text: name, town), phone and fax of a physician outside the practice."""
    return (text(f"{role} physician", 80, required=False), text(f"{role} practice", 120, required=False),
            phone_field(f"{role} phone", required=False), phone_field(f"{role} fax", required=False))


class PatientForm(FlaskForm):
    first_name = person_name("First name")
    last_name = person_name("Last name")
    date_of_birth = DateField("Date of birth", validators=[
        InputRequired(message="Enter the date of birth."), PlausibleBirthDate()])
    sex = SelectField("Sex", choices=choices(((sex.value, sex.label) for sex in Sex), blank="Choose…"),
                      validators=[InputRequired(message="Choose the sex (Unknown if it was not given).")])
    phone = phone_field("Phone", required=False)
    email = EmailField("Email", validators=[Optional(), Length(max=254),
                                            Email(message="Enter a valid email address.")],
                       filters=[strip, empty_to_none])
    address = text("Street address", 120, required=False)
    city = text("City", 60, required=False)
    state = us_state_field(required=False)
    postal_code = text("ZIP code", 10, required=False, validators=[ZIP_CODE])
    preferred_office_id = SelectField("Preferred office", choices=[], default="")
    emergency_contact_name = text("Emergency contact", 80, required=False, validators=[PersonName()],
                                  extra_filters=[tidy_name], render_kw={"autocomplete": "off"})
    emergency_contact_relationship = text("Relationship", 40, required=False,
                                          render_kw={"list": "relationships"})
    emergency_contact_phone = phone_field("Emergency contact phone", required=False)
    referring_name, referring_practice, referring_phone, referring_fax = _outside_physician("Referring")
    primary_care_name, primary_care_practice, primary_care_phone, primary_care_fax = \
        _outside_physician("Primary care")
    confirm_duplicate = BooleanField("This is a different person with the same name and date "
                                     "of birth")
    submit = SubmitField("Save patient")

    def __init__(self, *args: object, office_choices: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.preferred_office_id.choices = choices(office_choices, blank="No preference")

    def validate(self, extra_validators: Any = None) -> bool:
        """An emergency contact is a name and a number to call: one without the other is refused."""
        valid = super().validate(extra_validators)
        name, phone = self.emergency_contact_name, self.emergency_contact_phone
        if name.data and not phone.data and not phone.errors:
            phone.errors = [*phone.errors, "Give the emergency contact's phone number."]
            valid = False
        if phone.data and not name.data and not name.errors:
            name.errors = [*name.errors, "Give the emergency contact's name."]
            valid = False
        return valid

    def to_data(self) -> PatientData:
        office = self.preferred_office_id.data
        return PatientData(
            first_name=self.first_name.data or "", last_name=self.last_name.data or "",
            date_of_birth=self.date_of_birth.data,
            phone=_phone(self.phone.data), email=self.email.data,
            address=self.address.data, city=self.city.data,
            state=self.state.data or None,
            postal_code=self.postal_code.data,
            preferred_office_id=int(office) if office else None,
            sex=Sex(self.sex.data),
            emergency_contact_name=self.emergency_contact_name.data,
            emergency_contact_relationship=self.emergency_contact_relationship.data,
            emergency_contact_phone=_phone(self.emergency_contact_phone.data),
            referring_name=self.referring_name.data, referring_practice=self.referring_practice.data,
            referring_phone=_phone(self.referring_phone.data), referring_fax=_phone(self.referring_fax.data),
            primary_care_name=self.primary_care_name.data,
            primary_care_practice=self.primary_care_practice.data,
            primary_care_phone=_phone(self.primary_care_phone.data),
            primary_care_fax=_phone(self.primary_care_fax.data))


class EditPatientForm(PatientForm, VersionedForm):
    def load_record(self, record: Any) -> None:
        self.preferred_office_id.data = str(record.preferred_office_id or "")
        self.sex.data = record.sex.value if record.sex else ""


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = text("Find a patient", 100, required=False,
             render_kw={"autofocus": True, "autocomplete": "off", "type": "search"})

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, Field, Form, SelectField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp, ValidationError

from backoffice.core.forms import (
    ZIP_CODE,
    VersionedForm,
    choices,
    empty_to_none,
    person_name,
    phone_field,
    strip,
    text,
    us_state_field,
)
from backoffice.core.phones import parse_phone
from backoffice.patients.services import PatientData

MEMBER_ID = Regexp(r"^[A-Za-z0-9-]+$", message="Use letters, digits and hyphens only.")
COMMON_PAYERS = ("Medicare", "Maryland Medicaid", "CareFirst BlueCross BlueShield", "Aetna",
                 "UnitedHealthcare", "Cigna", "TRICARE", "Johns Hopkins EHP", "Workers' comp",
                 "Self-pay")


class PlausibleBirthDate:
    def __call__(self, form: Form, field: Field) -> None:
        if field.data is None:
            return
        if field.data > date.today():
            raise ValidationError("The date of birth is in the future.")
        if field.data.year < 1900:
            raise ValidationError("Check the year of birth.")


class PatientForm(FlaskForm):
    first_name = person_name("First name")
    last_name = person_name("Last name")
    date_of_birth = DateField("Date of birth", validators=[
        InputRequired(message="Enter the date of birth."), PlausibleBirthDate()])
    phone = phone_field("Phone", required=False)
    email = EmailField("Email", validators=[Optional(), Length(max=254),
                                            Email(message="Enter a valid email address.")],
                       filters=[strip, empty_to_none])
    address = text("Street address", 120, required=False)
    city = text("City", 60, required=False)
    state = us_state_field(required=False)
    postal_code = text("ZIP code", 10, required=False, validators=[ZIP_CODE])
    preferred_office_id = SelectField("Preferred office", choices=[], default="")
    payer = text("Payer", 80, required=False, render_kw={"list": "payers"})
    member_id = text("Member ID", 40, required=False, validators=[MEMBER_ID])
    confirm_duplicate = BooleanField("This is a different person with the same name and date "
                                     "of birth")
    submit = SubmitField("Save patient")

    def __init__(self, *args: object, office_choices: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.preferred_office_id.choices = choices(office_choices, blank="No preference")

    def to_data(self) -> PatientData:
        office = self.preferred_office_id.data
        number = self.phone.data
        return PatientData(
            first_name=self.first_name.data or "", last_name=self.last_name.data or "",
            date_of_birth=self.date_of_birth.data,
            phone=parse_phone(number) if number else None, email=self.email.data,
            address=self.address.data, city=self.city.data,
            state=self.state.data or None,
            postal_code=self.postal_code.data,
            preferred_office_id=int(office) if office else None,
            payer=self.payer.data, member_id=self.member_id.data)


class EditPatientForm(PatientForm, VersionedForm):
    def load_record(self, record: Any) -> None:
        self.preferred_office_id.data = str(record.preferred_office_id or "")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = text("Find a patient", 100, required=False,
             render_kw={"autofocus": True, "autocomplete": "off", "type": "search"})

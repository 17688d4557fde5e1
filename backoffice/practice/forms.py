from __future__ import annotations

from datetime import time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    SubmitField,
)
from wtforms.validators import InputRequired, Optional, Regexp

from backoffice.core.forms import (
    ZIP_CODE,
    VersionedForm,
    choices,
    date_field,
    person_name,
    phone_field,
    text,
    time_field,
    us_state_field,
)
from backoffice.core.phones import parse_phone
from backoffice.core.timefmt import US_TIMEZONES
from backoffice.practice import rules
from backoffice.practice.models import WEEKDAYS
from backoffice.practice.services import OfficeData, PhysicianData, RoomData, ScheduleData

WEEKDAY_CHOICES = choices((str(number), name) for number, name in enumerate(WEEKDAYS))


class OfficeForm(FlaskForm):
    name = text("Name", 80)
    slug = text("Short name for URLs", 40, required=False,
                description="Lower-case letters, digits and hyphens; made from the name when empty.")
    address = text("Street address", 120)
    city = text("City", 60)
    state = us_state_field(required=True)
    postal_code = text("ZIP code", 10, validators=[ZIP_CODE])
    phone = phone_field("Phone", required=True)
    timezone = SelectField("Time zone", choices=choices(US_TIMEZONES))
    active = BooleanField("Open for booking", default=True)
    submit = SubmitField("Save office")

    def to_data(self) -> OfficeData:
        name = self.name.data or ""
        return OfficeData(name=name, slug=self.slug.data or rules.slugify(name),
                          address=self.address.data or "", city=self.city.data or "",
                          state=self.state.data or "",
                          postal_code=self.postal_code.data or "",
                          phone=parse_phone(self.phone.data or "") or "",
                          timezone=self.timezone.data or "", active=self.active.data)


class DayHoursForm(Form):
    is_open = BooleanField("Open")
    opens = time_field("Opens", [Optional()])
    closes = time_field("Closes", [Optional()])

    def validate(self, extra_validators: object = None) -> bool:
        if not super().validate():
            return False
        if self.is_open.data:
            if self.opens.data is None or self.closes.data is None:
                self.opens.errors = [*self.opens.errors, "Give opening and closing times."]
                return False
            if self.opens.data >= self.closes.data:
                self.closes.errors = [*self.closes.errors, "Closing must come after opening."]
                return False
        return True


class HoursForm(VersionedForm):
    days = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    submit = SubmitField("Save opening hours")

    def load_record(self, record: Any) -> None:
        by_day = {row.weekday: row for row in record.hours}
        for weekday, day in enumerate(self.days):
            row = by_day.get(weekday)
            day.is_open.data = row is not None
            day.opens.data = row.opens if row else None
            day.closes.data = row.closes if row else None

    def to_hours(self) -> dict[int, tuple[time, time] | None]:
        return {weekday: (day.opens.data, day.closes.data) if day.is_open.data else None
                for weekday, day in enumerate(self.days.entries)}


class ClosureForm(FlaskForm):
    day = date_field("Date", required=True)
    reason = text("Reason", 120, render_kw={"placeholder": "Thanksgiving Day"})
    submit = SubmitField("Add closed day")


class RoomForm(FlaskForm):
    name = text("Name", 60)
    fluoroscopy = BooleanField("Fluoroscopy (C-arm)")
    sterile_implant = BooleanField("Sterile implant room")
    sedation = BooleanField("Sedation")
    active = BooleanField("In use", default=True)
    submit = SubmitField("Save room")

    def to_data(self) -> RoomData:
        return RoomData(name=self.name.data or "", fluoroscopy=self.fluoroscopy.data,
                        sterile_implant=self.sterile_implant.data, sedation=self.sedation.data,
                        active=self.active.data)


class PhysicianForm(FlaskForm):
    first_name = person_name("First name")
    last_name = person_name("Last name")
    credentials = text("Credentials", 20, validators=[Regexp(
        r"^[A-Za-z.]+(?:[ ,]+[A-Za-z.]+)*$", message="Letters and periods, such as MD or DO.")])
    npi = text("NPI", 10, required=False, validators=[Regexp(r"^\d{10}$",
                                                             message="An NPI is 10 digits.")],
               render_kw={"inputmode": "numeric"})
    user_id = SelectField("Sign-in account", choices=[], default="")
    active = BooleanField("Practising", default=True)
    submit = SubmitField("Save physician")

    def __init__(self, *args: object, account_choices: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.user_id.choices = choices(account_choices, blank="No account")

    def to_data(self) -> PhysicianData:
        return PhysicianData(first_name=self.first_name.data or "",
                             last_name=self.last_name.data or "",
                             credentials=self.credentials.data or "", npi=self.npi.data,
                             user_id=int(self.user_id.data) if self.user_id.data else None,
                             active=self.active.data)


class ScheduleForm(FlaskForm):
    office_id = SelectField("Office", choices=[])
    weekday = SelectField("Weekday", choices=WEEKDAY_CHOICES)
    starts = time_field("From", [InputRequired(message="Give the start time.")])
    ends = time_field("To", [InputRequired(message="Give the end time.")])
    effective_from = date_field("Valid from", required=False, description="Empty: no limit.")
    effective_until = date_field("Valid until", required=False, description="Empty: no limit.")
    submit = SubmitField("Add block")

    def __init__(self, *args: object, office_choices: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.office_id.choices = choices(office_choices)

    def to_data(self) -> ScheduleData:
        return ScheduleData(office_id=int(self.office_id.data or 0),
                            weekday=int(self.weekday.data or 0),
                            starts=self.starts.data, ends=self.ends.data,
                            effective_from=self.effective_from.data,
                            effective_until=self.effective_until.data)


class LeaveForm(FlaskForm):
    first_day = date_field("First day", required=True, message="Choose the first day.")
    last_day = date_field("Last day", required=True, message="Choose the last day.")
    reason = text("Reason", 120, render_kw={"placeholder": "Vacation"})
    submit = SubmitField("Add leave")


class EditOfficeForm(OfficeForm, VersionedForm):
    pass


class EditRoomForm(RoomForm, VersionedForm):
    pass


class EditPhysicianForm(PhysicianForm, VersionedForm):
    def load_record(self, record: Any) -> None:
        self.user_id.data = str(record.user_id or "")

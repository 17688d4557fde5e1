from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp

from backoffice.catalog.rules import Region, Side
from backoffice.core.forms import VersionedForm, choices, date_field, parse_int, text, time_field
from backoffice.scheduling.availability_rules import PartOfDay
from backoffice.scheduling.details import AppointmentDetails
from backoffice.scheduling.request_rules import CANCEL_REASON_LENGTH
from backoffice.scheduling.rules import CancelReason, Status
from backoffice.scheduling.services import BookingRequest, Move

REGIONS = choices(((r.value, r.value.capitalize()) for r in Region), blank="—")
SIDES = choices(((s.value, s.value.capitalize()) for s in Side), blank="—")


def _request_id(value: object) -> int | None:
    """A scheduling request's id as it travels in a hidden field; anything else is no request."""
    return value if isinstance(value, int) else parse_int(value)


MRN = Regexp(r"^\d{8}$", message="Choose a patient from the list, or type their 8-digit MRN.")
TYPED_MRN = Regexp(r"^\d{8}$", message="Type the patient's 8-digit MRN.")


def grouped(options: list[tuple[str, str, str]], data: dict[str, dict[str, Any]] | None = None,
            blank: str | None = None) -> list[SelectChoice]:
    """(value, label, group) -> select options under <optgroup> headings, with data-* attributes."""
    first = [SelectChoice("", blank)] if blank else []
    return first + [SelectChoice(value, label, render_kw=(data or {}).get(value, {}), optgroup=group)
                    for value, label, group in options]


class WhenAndWhere:
    """The fields that place an appointment: shared by booking and rescheduling."""

    office_id = SelectField("Office", choices=[], validators=[InputRequired(message="Choose the office.")])
    room_id = SelectField("Room", choices=[], validators=[InputRequired(message="Choose the room.")])
    physician_id = SelectField("Physician", choices=[], validators=[InputRequired(message="Choose the physician.")])
    date = date_field("Date", required=True)
    time = time_field("Start time", [InputRequired(message="Choose the start time.")])
    override_reason = text("Override the limit because", 300, required=False, multiline=True,
                           description="Physicians only: why this patient needs it despite the limit.")

    def set_choices(self, *, offices: list[tuple[str, str]], rooms: list[tuple[str, str, str]],
                    physicians: list[tuple[str, str, str]]) -> None:
        self.office_id.choices = choices(offices, blank="Choose…")
        self.room_id.choices = grouped(rooms, blank="Choose…")
        self.physician_id.choices = grouped(physicians, blank="Choose…")


class AppointmentDetailFields:
    """What an appointment says besides what, when and where: asked at booking, and changed after
    it on the appointment's details page (`AppointmentDetailsForm`)."""

    levels_count = IntegerField("Levels", validators=[Optional(), NumberRange(1, 3)])
    levels = text("Which levels", 60, required=False, render_kw={"placeholder": "L4-L5, L5-S1"})
    prior_auth_ref = text("Prior authorization number", 40, required=False)
    notes = text("Notes for the day", 500, required=False, multiline=True)


class BookingForm(WhenAndWhere, AppointmentDetailFields, FlaskForm):
    # Long enough for a typed name: the MRN rule says what is wrong with anything else.
    patient = text("Patient", 100, validators=[MRN], render_kw={
        "autocomplete": "off", "data-patient-search": "/patients/search.json"},
        description="Type a name, date of birth or MRN and pick the patient.")
    procedure_type_id = SelectField("Procedure", choices=[],
                                    validators=[InputRequired(message="Choose the procedure.")])
    region = SelectField("Spinal region", choices=REGIONS, default="")
    side = SelectField("Side", choices=SIDES, default="")
    # The scheduling request this booking fulfils, when it was opened from the list of requests.
    scheduling_request_id = HiddenField(filters=[_request_id])
    submit = SubmitField("Book")

    def set_procedures(self, procedures: list[tuple[str, str, str]], data: dict[str, dict[str, Any]]) -> None:
        """Options carry their minutes, turnover and what they ask, so the page can show when
        the booking ends and only the questions that apply."""
        self.procedure_type_id.choices = grouped(procedures, data, blank="Choose…")

    def to_request(self, patient_id: int) -> BookingRequest:
        return BookingRequest(
            patient_id=patient_id, procedure_type_id=int(self.procedure_type_id.data),
            physician_id=int(self.physician_id.data), office_id=int(self.office_id.data),
            room_id=int(self.room_id.data), day=self.date.data, time=self.time.data,
            region=self.region.data or None, side=self.side.data or None,
            levels_count=self.levels_count.data, levels=self.levels.data,
            prior_auth_ref=self.prior_auth_ref.data, notes=self.notes.data,
            override_reason=self.override_reason.data, scheduling_request_id=self.scheduling_request_id.data)


class RescheduleForm(WhenAndWhere, VersionedForm):
    submit = SubmitField("Move the appointment")

    def to_move(self) -> Move:
        return Move(physician_id=int(self.physician_id.data), office_id=int(self.office_id.data),
                    room_id=int(self.room_id.data), day=self.date.data, time=self.time.data,
                    override_reason=self.override_reason.data)

    def load_record(self, record: Any) -> None:
        self.office_id.data = str(record.office_id)
        self.room_id.data = str(record.room_id)
        self.physician_id.data = str(record.physician_id)
        local = record.starts_at.astimezone(ZoneInfo(record.office.timezone))
        self.date.data, self.time.data = local.date(), local.time()


class AppointmentDetailsForm(AppointmentDetailFields, VersionedForm):
    """The details of a booked appointment that may change until it is done (`details.py`)."""

    submit = SubmitField("Save the details")

    def to_details(self) -> AppointmentDetails:
        return AppointmentDetails(prior_auth_ref=self.prior_auth_ref.data, notes=self.notes.data,
                                  levels_count=self.levels_count.data, levels=self.levels.data)


class CancelForm(VersionedForm):
    reason = SelectField("Reason", choices=choices(((r.value, r.label) for r in CancelReason), blank="—"),
                         validators=[InputRequired(message="Choose the reason.")])
    note = text("Note", 200, required=False, description="Required when the reason is “other”.")
    submit = SubmitField("Cancel the appointment")


class StatusForm(VersionedForm):
    """A one-click status move from the day board or the appointment's page."""

    target = SelectField(choices=choices((status.value, status.label) for status in Status))
    baseline_nrs = IntegerField("Pain now (0-10)", validators=[
        Optional(), NumberRange(0, 10, message="Pain is scored 0 to 10.")])


class AvailabilityForm(FlaskForm):
    class Meta:
        csrf = False

    procedure_type_id = SelectField("Procedure", choices=[])
    physician_id = SelectField("Physician", choices=[], default="")
    office_id = SelectField("Office", choices=[], default="")
    earliest = date_field("From", required=False)
    part = SelectField("Starting", default=PartOfDay.ANY.value, choices=choices(
        (p.value, {"any": "Any time", "morning": "Before noon", "afternoon": "At noon or later"}[p.value])
        for p in PartOfDay))
    region = SelectField("Spinal region", choices=REGIONS, default="")
    side = SelectField("Side", choices=SIDES, default="")
    patient = text("Patient MRN", 8, required=False, validators=[TYPED_MRN],
                   description="Optional: their own bookings and limits then count.")
    # Carried through to the booking form when a worklist's Schedule action opens the search.
    levels = HiddenField(filters=[lambda value: (value or "")[:60] or None])
    levels_count = HiddenField(filters=[lambda value: value if value in ("1", "2", "3") else None])
    # The scheduling request a Book button on the list of requests opened the search for.
    request = HiddenField(filters=[_request_id])

    def set_choices(self, *, procedures: list[tuple[str, str, str]], physicians: list[tuple[str, str]],
                    offices: list[tuple[str, str]]) -> None:
        self.procedure_type_id.choices = grouped(procedures)
        self.physician_id.choices = choices(physicians, blank="Any physician")
        self.office_id.choices = choices(offices, blank="Either office")



class CancelRequestForm(VersionedForm):
    reason = text("Reason", CANCEL_REASON_LENGTH, multiline=True,
                  description="The patient declined, was booked elsewhere, the physician changed the plan …")
    submit = SubmitField("Cancel the request")

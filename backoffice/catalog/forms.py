"""The catalog's forms: procedures and device models."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp, ValidationError

from backoffice.catalog.data import ProcedureData
from backoffice.catalog.device_models import DeviceModelData
from backoffice.catalog.rules import (
    Category,
    DeviceKind,
    FrequencyGroup,
    IntervalScope,
    IntervalUnit,
    ProcedureKind,
    gtin_problem,
    parse_follow_ups,
)
from backoffice.core.forms import FiniteDecimalField, VersionedForm, choices, text


class MultipleOf5:
    def __call__(self, form: Any, field: Any) -> None:
        if field.data is not None and field.data % 5:
            raise ValidationError("Use a multiple of 5 minutes (the calendar's step).")


class ProcedureTypeForm(FlaskForm):
    code = text("Code", 20, description="Short, shown on calendars: MBB, TFESI.",
                validators=[Regexp(r"^[A-Z0-9-]+$", message="Capital letters, digits and hyphens.")])
    name = text("Name", 120)
    category = SelectField("Category", choices=choices((c.value, c.label) for c in Category))
    cpt_codes = text("CPT codes", 120, required=False,
                     validators=[Regexp(r"^\+?\d{5}(,\s*\+?\d{5})*$",
                                        message="Five-digit codes, separated by commas (+ for add-ons).")])
    duration_minutes = IntegerField("Duration (minutes)", validators=[
        InputRequired(message="Give the duration."), NumberRange(5, 480), MultipleOf5()])
    turnover_minutes = IntegerField("Room turnover (minutes)", default=0, validators=[
        InputRequired(message="Give the turnover (0 for none)."), NumberRange(0, 120), MultipleOf5()])
    needs_fluoroscopy = BooleanField("Needs fluoroscopy")
    needs_sterile_implant = BooleanField("Needs the sterile implant room")
    needs_sedation = BooleanField("Needs sedation")
    asks_region = BooleanField("Ask the spinal region")
    asks_side = BooleanField("Ask the side")
    asks_levels = BooleanField("Ask the levels")
    max_levels = IntegerField("Most levels per session", default=1, validators=[
        InputRequired(message="Give the most levels (1 when levels are not asked)."), NumberRange(1, 3)])
    prior_authorization = BooleanField("Needs prior authorization")
    frequency_group = SelectField("Counts towards the limit of", default="", choices=choices(
        ((group.value, group.label) for group in FrequencyGroup), blank="No limit"))
    max_per_year = IntegerField("Most per region in 12 months", validators=[Optional(), NumberRange(1, 52)])
    min_interval = IntegerField("Fewest between", validators=[Optional(), NumberRange(1, 730)])
    min_interval_unit = SelectField("in", default=IntervalUnit.DAYS.value,
                                    choices=choices((unit.value, unit.label) for unit in IntervalUnit))
    interval_scope = SelectField("…after one in", default=IntervalScope.REGION.value,
                                 choices=choices((scope.value, scope.label) for scope in IntervalScope))
    follow_ups = text("Follow-ups after", 60, required=False,
                      description="Delays after the procedure, such as 14d, 90d (h hours, d days, w weeks).")
    kind = SelectField("For the clinical rules, it is", default=ProcedureKind.NONE.value,
                       choices=choices((kind.value, kind.label) for kind in ProcedureKind),
                       description="What candidacy for a repeat, a rhizotomy or a stimulator looks at.")
    active = BooleanField("Bookable", default=True)
    submit = SubmitField("Save procedure")

    def validate_follow_ups(self, field: Any) -> None:
        try:
            parse_follow_ups(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def to_data(self) -> ProcedureData:
        group = self.frequency_group.data
        return ProcedureData(
            code=self.code.data or "", name=self.name.data or "", category=Category(self.category.data),
            cpt_codes=self.cpt_codes.data or "", duration_minutes=self.duration_minutes.data or 0,
            turnover_minutes=self.turnover_minutes.data or 0,
            needs_fluoroscopy=self.needs_fluoroscopy.data,
            needs_sterile_implant=self.needs_sterile_implant.data, needs_sedation=self.needs_sedation.data,
            asks_region=self.asks_region.data, asks_side=self.asks_side.data,
            asks_levels=self.asks_levels.data, max_levels=self.max_levels.data or 1,
            prior_authorization=self.prior_authorization.data,
            frequency_group=FrequencyGroup(group) if group else None,
            max_per_year=self.max_per_year.data, min_interval=self.min_interval.data,
            min_interval_unit=IntervalUnit(self.min_interval_unit.data),
            interval_scope=IntervalScope(self.interval_scope.data),
            follow_ups=self.follow_ups.data or "", kind=ProcedureKind(self.kind.data), active=self.active.data)


class EditProcedureTypeForm(ProcedureTypeForm, VersionedForm):
    def load_record(self, record: Any) -> None:
        self.frequency_group.data = record.frequency_group or ""


class Gtin:
    def __call__(self, form: Any, field: Any) -> None:
        # The 14-digit rule has its own message; the check digit is only worth checking then.
        if field.data and len(field.data) == 14 and field.data.isdigit() and (problem := gtin_problem(field.data)):
            raise ValidationError(problem)


def volume(label: str, *, ask: str = "", high: int = 100, **kwargs: Any) -> Any:
    """A volume in mL; required when `ask` says how to ask for it."""
    presence = InputRequired(message=ask) if ask else Optional()
    return FiniteDecimalField(label, places=2, validators=[
        presence, NumberRange(0, high, message=f"Give a volume from 0 to {high} mL.")], **kwargs)


class DeviceModelForm(FlaskForm):
    manufacturer = text("Manufacturer", 80)
    model = text("Model", 80)
    kind = SelectField("Kind", choices=choices((kind.value, kind.label) for kind in DeviceKind))
    gtin = text("GTIN", 14, required=False, description="The 14 digits after (01) on the label; a scanned barcode "
                                                         "with this GTIN fills the device form from this entry.",
                validators=[Regexp(r"^\d{14}$", message="A GTIN has 14 digits."), Gtin()])
    mri_conditional = BooleanField("MRI conditional")
    rechargeable = BooleanField("Rechargeable")
    reservoir_ml = volume("Reservoir (mL, pumps)")
    active = BooleanField("Still implanted here (offered on the device form)", default=True)
    submit = SubmitField("Save model")

    def to_data(self) -> DeviceModelData:
        return DeviceModelData(manufacturer=self.manufacturer.data, model=self.model.data,
                               kind=DeviceKind(self.kind.data), gtin=self.gtin.data,
                               mri_conditional=self.mri_conditional.data, rechargeable=self.rechargeable.data,
                               reservoir_ml=self.reservoir_ml.data, active=self.active.data)


class EditDeviceModelForm(DeviceModelForm, VersionedForm):
    pass

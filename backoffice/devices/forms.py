from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp

from backoffice.catalog.forms import Gtin, volume
from backoffice.catalog.rules import DeviceKind
from backoffice.core.forms import FiniteDecimalField, VersionedForm, choices, date_field, text
from backoffice.devices import rules
from backoffice.devices.pump_refills import RefillEntry
from backoffice.devices.rules import GS, TrialDecision, Udi, UdiError
from backoffice.devices.services import DeviceEntry
from backoffice.devices.trials import TrialEntry, TrialResult
from backoffice.devices.worklists import RecallQuery

PRINTABLE = Regexp(r"^[\x21-\x7e]*$", message="Letters, digits and symbols without spaces, as on the label.")


def _id(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


def _separators_as_scanned(value: Any) -> Any:
    return rules.with_group_separators(value) if isinstance(value, str) else value


class DeviceForm(FlaskForm):
    # A scanner types the raw barcode, group separators (GS) included; they stay in the box when
    # the barcode is read, so the box accepts them (and no other control character) when saving.
    udi = text("Scan or paste the UDI barcode", 200, required=False, allowed_controls=GS,
               extra_filters=[_separators_as_scanned],
               description="The GS1 string from the label, such as (01)00643169001763(17)280131(10)LOT123(21)SN456. "
                           "It fills the fields below; you can also type them.",
               render_kw={"autocomplete": "off", "autofocus": True})
    read_udi = SubmitField("Read barcode")
    kind = SelectField("Kind", choices=choices((kind.value, kind.label) for kind in DeviceKind))
    device_model_id = SelectField("Model from the catalog", default="", choices=[])
    manufacturer = text("Manufacturer", 80)
    model = text("Model", 80)
    gtin = text("GTIN", 14, required=False, validators=[Regexp(r"^\d{14}$", message="A GTIN has 14 digits."),
                                                         Gtin()])
    lot = text("Lot", 20, required=False, validators=[PRINTABLE])
    serial = text("Serial number", 20, required=False, validators=[PRINTABLE])
    expiry = date_field("Expiry", required=False)
    manufactured = date_field("Manufactured", required=False)
    implanted_on = date_field("Implanted on", required=True)
    physician_id = SelectField("Implanting physician", default="", choices=[])
    appointment_id = SelectField("Implanted during", default="", choices=[])
    site = text("Site", 80, required=False, description="Right lower abdomen, T8-T10 epidural space …")
    mri_conditional = BooleanField("MRI conditional")
    rechargeable = BooleanField("Rechargeable")
    reservoir_ml = volume("Reservoir (mL, pumps)")
    replaces_id = SelectField("Replaces", default="", choices=[])
    trial_id = SelectField("Trial", default="", choices=[])
    notes = text("Notes", 500, required=False)
    submit = SubmitField("Save device")

    scanned: Udi | None = None  # the barcode in the box, as read when the form was validated

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """The fields, then the barcode still in the box: it must read, and agree with what the
        fields say (saving fills the empty ones from it)."""
        valid = super().validate(extra_validators)
        if not self.udi.data or self.udi.errors:
            return valid
        try:
            self.scanned = rules.parse_udi(self.udi.data)
        except UdiError as error:
            self.udi.errors = [*self.udi.errors, f"{error} To save without it, clear this box."]
            return False
        disagreements = rules.udi_disagreements(self.scanned, self._typed_udi())
        for name, says in disagreements.items():
            if not self[name].errors:
                self[name].errors = [*self[name].errors, f"The scanned barcode says {says}: read the barcode "
                                                         "again, or clear the barcode box to keep what you typed."]
        return valid and not disagreements

    def _typed_udi(self) -> Udi:
        return Udi(gtin=self.gtin.data, lot=self.lot.data, serial=self.serial.data, expiry=self.expiry.data,
                   manufactured=self.manufactured.data)

    def to_entry(self) -> DeviceEntry:
        udi = rules.completed_from(self.scanned, self._typed_udi()) if self.scanned else self._typed_udi()
        return DeviceEntry(
            kind=DeviceKind(self.kind.data), manufacturer=self.manufacturer.data or "", model=self.model.data or "",
            implanted_on=self.implanted_on.data, device_model_id=_id(self.device_model_id.data),
            gtin=udi.gtin, lot=udi.lot, serial=udi.serial, expiry=udi.expiry,
            manufactured=udi.manufactured, physician_id=_id(self.physician_id.data),
            appointment_id=_id(self.appointment_id.data), site=self.site.data,
            mri_conditional=self.mri_conditional.data, rechargeable=self.rechargeable.data,
            reservoir_ml=self.reservoir_ml.data, trial_id=_id(self.trial_id.data), notes=self.notes.data)


class EditDeviceForm(DeviceForm, VersionedForm):
    def load_record(self, record: Any) -> None:
        for name in ("device_model_id", "physician_id", "appointment_id", "trial_id"):
            value = getattr(record, name)
            self[name].data = "" if value is None else str(value)


class ExplantForm(VersionedForm):
    explanted_on = date_field("Explanted on", required=True)
    reason = text("Reason", 200, description="Infection, end of battery life, no longer helping …")
    submit = SubmitField("Record explant")


class EriForm(VersionedForm):
    eri_on = date_field("Replacement indicator showed on", required=True)
    submit = SubmitField("Record ERI")


class RefillForm(FlaskForm):
    refilled_on = date_field("Refill date", required=True)
    office_id = SelectField("Office", choices=[])
    drug = text("Drug", 60, render_kw={"list": "drugs"})
    concentration_mg_ml = FiniteDecimalField("Concentration (mg/mL)", places=3, validators=[
        InputRequired(message="Give the concentration."), NumberRange(Decimal("0.001"), 1000)])
    daily_dose_mg = FiniteDecimalField("Daily dose (mg/day)", places=3, validators=[
        InputRequired(message="Give the daily dose."), NumberRange(Decimal("0.001"), 1000)])
    withdrawn_ml = volume("Withdrawn (mL)", ask="Give the volume withdrawn (0 when nothing was left).")
    added_ml = volume("Added (mL)", ask="Give the volume added.")
    alarm_ml = volume("Low-reservoir alarm (mL)", ask="Give the pump's low-reservoir alarm volume.", high=10)
    stability_days = IntegerField("Drug stability (days)", validators=[
        InputRequired(message="Give the drug's stability in days."), NumberRange(1, 365)])
    margin_days = IntegerField("Safety margin (days)", validators=[
        InputRequired(message="Give the margin in days."), NumberRange(0, 60)])
    alarm_note = text("Alarms and ERI status", 200, required=False, description="What the programmer showed.")
    notes = text("Notes", 500, required=False)
    submit = SubmitField("Record refill")

    def to_entry(self) -> RefillEntry:
        return RefillEntry(
            refilled_on=self.refilled_on.data, office_id=int(self.office_id.data), drug=self.drug.data or "",
            concentration_mg_ml=self.concentration_mg_ml.data or Decimal(0),
            daily_dose_mg=self.daily_dose_mg.data or Decimal(0), withdrawn_ml=self.withdrawn_ml.data or Decimal(0),
            added_ml=self.added_ml.data or Decimal(0), alarm_ml=self.alarm_ml.data or Decimal(0),
            stability_days=self.stability_days.data or 0, margin_days=self.margin_days.data or 0,
            alarm_note=self.alarm_note.data, notes=self.notes.data)


class TrialForm(FlaskForm):
    started_on = date_field("Trial started", required=True)
    planned_end_on = date_field("Planned end", required=True)
    physician_id = SelectField("Physician", choices=[])
    office_id = SelectField("Office", choices=[])
    appointment_id = SelectField("Trial appointment", default="", choices=[],
                                 description="The trial procedure booked here, if any: its trial-end follow-up "
                                             "records its result on this trial.")
    notes = text("Notes", 500, required=False)
    submit = SubmitField("Start trial")

    def to_entry(self) -> TrialEntry:
        return TrialEntry(started_on=self.started_on.data, planned_end_on=self.planned_end_on.data,
                          physician_id=int(self.physician_id.data), office_id=int(self.office_id.data),
                          appointment_id=_id(self.appointment_id.data), notes=self.notes.data)


PERCENT = NumberRange(0, 100, message="Give 0 to 100 percent.")


class TrialResultForm(VersionedForm):
    pain_reduction_percent = IntegerField("Target pain reduced by (%)", validators=[Optional(), PERCENT])
    analgesic_reduction_percent = IntegerField("Analgesic use reduced by (%)", validators=[Optional(), PERCENT])
    ended_on = date_field("Trial ended on", required=False,
                          description="The day the leads came out or the result was assessed.")
    decision = SelectField("Decision", default="", choices=choices(
        ((d.value, d.label) for d in TrialDecision), blank="No decision yet"))
    decided_on = date_field("Decided on", required=False)
    implant_appointment_id = SelectField("Implant appointment", default="", choices=[])
    notes = text("Notes", 500, required=False)
    submit = SubmitField("Save result")

    def load_record(self, record: Any) -> None:
        self.decision.data = record.decision or ""
        self.implant_appointment_id.data = str(record.implant_appointment_id or "")

    def to_result(self) -> TrialResult:
        return TrialResult(
            pain_reduction_percent=self.pain_reduction_percent.data,
            analgesic_reduction_percent=self.analgesic_reduction_percent.data,
            decision=TrialDecision(self.decision.data) if self.decision.data else None,
            decided_on=self.decided_on.data, implant_appointment_id=_id(self.implant_appointment_id.data),
            notes=self.notes.data, ended_on=self.ended_on.data)


class RecallForm(FlaskForm):
    class Meta:
        csrf = False  # a search: it only reads (and is audited)

    manufacturer = text("Manufacturer", 80, required=False)
    model = text("Model", 80, required=False)
    gtin = text("GTIN", 14, required=False, validators=[Regexp(r"^\d{14}$", message="A GTIN has 14 digits.")])
    lot = text("Lot", 20, required=False, validators=[PRINTABLE])
    serial = text("Serial number", 20, required=False, validators=[PRINTABLE])

    def to_query(self) -> RecallQuery:
        return RecallQuery(manufacturer=self.manufacturer.data or "", model=self.model.data or "",
                           gtin=self.gtin.data or "", lot=self.lot.data or "", serial=self.serial.data or "")

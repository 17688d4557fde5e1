from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import Region, Side
from backoffice.core.forms import VersionedForm, choices, date_field, text
from backoffice.history.rules import MAX_RELIEF_AMOUNT, OutsideEntry, ReliefUnit

REGIONS = choices(((r.value, r.value.capitalize()) for r in Region), blank="—")
SIDES = choices(((s.value, s.value.capitalize()) for s in Side), blank="—")
UNITS = choices(((u.value, u.value) for u in ReliefUnit), blank="—")


def procedure_options(procedures: list[ProcedureType]) -> list[SelectChoice]:
    """The catalog's procedures under their categories, each saying what it asks (region, side,
    levels), so that the page shows only those questions, as the booking form does."""
    def asks(procedure: ProcedureType) -> str:
        return " ".join(question for question, asked in (("region", procedure.asks_region),
                                                         ("side", procedure.asks_side),
                                                         ("levels", procedure.asks_levels)) if asked)
    return [SelectChoice("", "Choose…")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.code})", render_kw={"data-asks": asks(p)}, optgroup=p.category.label)
        for p in procedures]


class OutsideProcedureFields:
    """A procedure done elsewhere: the fields of the new record's form and of the correction's."""

    procedure_type_id = SelectField("Procedure", choices=[],
                                    validators=[InputRequired(message="Choose the procedure.")])
    performed_on = date_field("Done on", required=True, message="Give the day it was done.",
                              description="A weekend or a day the offices were closed is fine.")
    region = SelectField("Spinal region", choices=REGIONS, default="")
    side = SelectField("Side", choices=SIDES, default="")
    levels_count = IntegerField("Levels", validators=[Optional(), NumberRange(1, 3, message="Give 1, 2 or 3 levels.")])
    levels = text("Which levels", 60, required=False, render_kw={"placeholder": "L4-L5, L5-S1"})
    facility = text("Practice or hospital", 120,
                    description="Where it was done: this practice itself for one done before it used the app.")
    performed_by = text("Physician", 120, required=False, render_kw={"placeholder": "Dr Lee"},
                        description="Who did it, as their record names them.")
    percent_relief = IntegerField("Relief (%)", validators=[
        Optional(), NumberRange(0, 100, message="Relief is 0 to 100 percent.")],
        description="When known: the rules read it like a follow-up's.")
    relief_amount = IntegerField("Relief lasted", validators=[
        Optional(), NumberRange(1, MAX_RELIEF_AMOUNT, message=f"Give a number from 1 to {MAX_RELIEF_AMOUNT}.")])
    relief_unit = SelectField("Unit", choices=UNITS, default="")
    notes = text("Notes", 500, required=False, multiline=True)
    submit = SubmitField("Save")

    def set_procedures(self, procedures: list[ProcedureType]) -> None:
        self.procedure_type_id.choices = procedure_options(procedures)

    def load_record(self, record: Any) -> None:
        self.procedure_type_id.data = str(record.procedure_type_id)
        self.region.data = record.region or ""
        self.side.data = record.side or ""
        self.relief_unit.data = record.relief_unit or ""

    def to_entry(self) -> OutsideEntry:
        return OutsideEntry(
            procedure_type_id=int(self.procedure_type_id.data), performed_on=self.performed_on.data,
            facility=self.facility.data or "", performed_by=self.performed_by.data,
            region=self.region.data or None, side=self.side.data or None, levels_count=self.levels_count.data,
            levels=self.levels.data, percent_relief=self.percent_relief.data, relief_amount=self.relief_amount.data,
            relief_unit=ReliefUnit(self.relief_unit.data) if self.relief_unit.data else None, notes=self.notes.data)


class NewOutsideProcedureForm(OutsideProcedureFields, FlaskForm):
    pass


class OutsideProcedureForm(OutsideProcedureFields, VersionedForm):
    """Correcting a record: it carries the version it was opened at."""


class DeleteOutsideProcedureForm(VersionedForm):
    reason = text("Reason", 300, multiline=True,
                  description="Recorded in the audit trail with what the record said (entered for the wrong "
                              "patient, a duplicate...).")
    submit = SubmitField("Delete the record")

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp, ValidationError

from backoffice.forms import VersionedForm, choices, date_field, text
from backoffice.procedures.candidacy import PsychEntry
from backoffice.procedures.catalog import ProcedureData
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.rules import (
    MAX_NRS,
    ODI_MAX_PER_SECTION,
    ODI_SECTIONS,
    Category,
    Contact,
    FrequencyGroup,
    FunctionChange,
    IntervalScope,
    PlanDecision,
    ProcedureKind,
    ReliefUnit,
    Thresholds,
    parse_follow_ups,
)


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
    min_days_between = IntegerField("Fewest days between", validators=[Optional(), NumberRange(1, 730)])
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
            max_per_year=self.max_per_year.data, min_days_between=self.min_days_between.data,
            interval_scope=IntervalScope(self.interval_scope.data),
            follow_ups=self.follow_ups.data or "", kind=ProcedureKind(self.kind.data), active=self.active.data)


class EditProcedureTypeForm(ProcedureTypeForm, VersionedForm):
    def load_record(self, record: Any) -> None:
        self.frequency_group.data = record.frequency_group or ""


ODI_CHOICES = choices([(str(score), f"{score}" + {0: " (no problem)", 5: " (worst)"}.get(score, ""))
                       for score in range(ODI_MAX_PER_SECTION + 1)], blank="Not answered")
PAIN = NumberRange(0, MAX_NRS, message="Pain is scored 0 to 10.")


class OutcomeForm(VersionedForm):
    recorded_on = date_field("Date of contact", required=True)
    contact = SelectField("Contact", choices=choices((c.value, c.value.capitalize()) for c in Contact))
    baseline_nrs = IntegerField("Baseline pain (0-10)", validators=[Optional(), PAIN],
                                description="Before the procedure; taken at check-in when it was recorded then.")
    post_nrs = IntegerField("Pain now (0-10)", validators=[Optional(), PAIN])
    percent_relief = IntegerField("Relief (%)", validators=[
        Optional(), NumberRange(0, 100, message="Relief is 0 to 100 percent.")],
        description="Leave empty to compute it from the two pain scores.")
    relief_amount = IntegerField("Relief lasted", validators=[
        Optional(), NumberRange(1, 999, message="Give a number from 1 to 999.")])
    relief_unit = SelectField("Unit", choices=choices((u.value, u.value) for u in ReliefUnit))
    relief_ongoing = BooleanField("Relief is still going on")
    function_change = SelectField("Function", default="", choices=choices(
        ((f.value, f.value.capitalize()) for f in FunctionChange), blank="Not assessed"))
    complications = text("Complications", 500, required=False, description="Leave empty when there were none.")
    decision = SelectField("Physician's decision", default="", choices=choices(
        ((d.value, d.label) for d in PlanDecision), blank="No decision yet"))
    notes = text("Notes", 2000, required=False, multiline=True)
    # Set when the form corrects a recorded outcome: its version is then the outcome's.
    correcting = HiddenField(default="")
    submit = SubmitField("Save outcome")

    def load_record(self, record: Any) -> None:
        self.correcting.data = "y"
        for index, answer in enumerate(record.odi_answers or []):
            self[f"odi_{index}"].data = "" if answer is None else str(answer)
        self.function_change.data = record.function_change or ""
        if "decision" in self:
            self.decision.data = record.decision or ""
        self.relief_unit.data = record.relief_unit or ReliefUnit.HOURS.value

    @property
    def is_correction(self) -> bool:
        return self.correcting.data == "y"

    def without_decision(self) -> OutcomeForm:
        """The form for staff who record outcomes but do not decide: a decision sent is ignored."""
        del self.decision
        return self

    @property
    def odi_fields(self) -> list[Any]:
        return [self[f"odi_{index}"] for index in range(len(ODI_SECTIONS))]

    def to_entry(self) -> OutcomeEntry:
        return OutcomeEntry(
            recorded_on=self.recorded_on.data, contact=Contact(self.contact.data),
            baseline_nrs=self.baseline_nrs.data, post_nrs=self.post_nrs.data,
            percent_relief=self.percent_relief.data, relief_amount=self.relief_amount.data,
            relief_unit=ReliefUnit(self.relief_unit.data) if self.relief_unit.data else None,
            relief_ongoing=self.relief_ongoing.data,
            function_change=FunctionChange(self.function_change.data) if self.function_change.data else None,
            odi_answers=tuple(int(f.data) if f.data else None for f in self.odi_fields),
            complications=self.complications.data, notes=self.notes.data,
            decision=PlanDecision(self.decision.data) if "decision" in self and self.decision.data else None)


for _index, _section in enumerate(ODI_SECTIONS):
    setattr(OutcomeForm, f"odi_{_index}", SelectField(_section, default="", choices=ODI_CHOICES))


class CloseFollowUpForm(VersionedForm):
    reason = text("Why close it without an outcome", 200, description="Unreachable after three calls, seen elsewhere …")
    submit = SubmitField("Close without outcome")


class PsychEvaluationForm(FlaskForm):
    evaluated_on = date_field("Date of the evaluation", required=True)
    evaluator = text("Evaluated by", 120)
    cleared = SelectField("Result", choices=choices([("yes", "Cleared for stimulation"), ("no", "Not cleared")]))
    notes = text("Notes", 500, required=False)
    submit = SubmitField("Record evaluation")

    def to_entry(self) -> PsychEntry:
        return PsychEntry(evaluated_on=self.evaluated_on.data, cleared=self.cleared.data == "yes",
                          evaluator=self.evaluator.data or "", notes=self.notes.data)


THRESHOLD_FIELDS: tuple[tuple[str, str, int, int, str], ...] = (
    ("mbb_relief_percent", "Relief each diagnostic block must give (%)", 1, 100, "Rhizotomy"),
    ("mbb_relief_hours", "…lasting at least (hours)", 1, 72, "Rhizotomy"),
    ("blocks_for_rfa", "Qualifying diagnostic blocks needed", 1, 4, "Rhizotomy"),
    ("rfa_repeat_days", "Repeat RFA: at least (days after the last)", 1, 730, "Repeat rhizotomy"),
    ("rfa_repeat_relief_percent", "…which gave at least (% relief)", 1, 100, "Repeat rhizotomy"),
    ("rfa_repeat_relief_days", "…for at least (days)", 1, 730, "Repeat rhizotomy"),
    ("epidural_repeat_relief_percent", "Repeat epidural: last one gave at least (% relief)", 1, 100,
     "Repeat injections"),
    ("epidural_repeat_relief_days", "…for at least (days)", 1, 365, "Repeat injections"),
    ("facet_repeat_relief_percent", "Repeat facet injection: last one gave at least (% relief)", 1, 100,
     "Repeat injections"),
    ("facet_repeat_relief_days", "…for at least (days)", 1, 365, "Repeat injections"),
    ("scs_trial_relief_percent", "SCS trial success: pain reduced by at least (%)", 1, 100,
     "Spinal cord stimulation"),
    ("soon_days", "Candidates list: “soon” means within (days)", 1, 365, "Worklist"),
)


class ClinicalSettingsForm(VersionedForm):
    submit = SubmitField("Save settings")

    @property
    def threshold_fields(self) -> list[tuple[str, list[Any]]]:
        """The fields grouped under their headings, in order."""
        groups: dict[str, list[Any]] = {}
        for name, _label, _low, _high, group in THRESHOLD_FIELDS:
            groups.setdefault(group, []).append(self[name])
        return list(groups.items())

    def to_thresholds(self) -> Thresholds:
        return Thresholds(**{name: self[name].data for name, *_ in THRESHOLD_FIELDS})


for _name, _label, _low, _high, _group in THRESHOLD_FIELDS:
    setattr(ClinicalSettingsForm, _name, IntegerField(
        _label, description=f"Default: {getattr(Thresholds, _name)}",
        validators=[InputRequired(message="Give a number."),
                    NumberRange(_low, _high, message=f"Give a number from {_low} to {_high}.")]))

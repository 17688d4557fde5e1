from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Optional

from backoffice.core.forms import VersionedForm, choices, date_field, text
from backoffice.procedures.candidacy_rules import Thresholds
from backoffice.procedures.decisions import DecisionEntry
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.psych_evaluations import PsychEntry
from backoffice.procedures.rules import (
    DECISION_NOTE_LENGTH,
    MAX_NRS,
    ODI_MAX_PER_SECTION,
    ODI_SECTIONS,
    Contact,
    FunctionChange,
    PlanDecision,
    ReliefUnit,
)
from backoffice.scheduling.request_rules import RequestPriority

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


class DecisionForm(FlaskForm):
    """One decision from the decisions list: each button sends its decision, with the note and
    priority of its row and the version of the outcome the list showed."""

    version = IntegerField(validators=[InputRequired(message="This form is out of date: reload the list.")])
    decision = SelectField("Decision", choices=choices(((d.value, d.label) for d in PlanDecision), blank="—"),
                           validators=[InputRequired(message="Choose a decision.")])
    note = text("Note", DECISION_NOTE_LENGTH, required=False)
    priority = SelectField("Priority", default=RequestPriority.ROUTINE.value,
                           choices=choices((p.value, p.label) for p in RequestPriority))

    def to_entry(self) -> DecisionEntry:
        return DecisionEntry(PlanDecision(self.decision.data), self.note.data,
                             RequestPriority(self.priority.data or RequestPriority.ROUTINE.value))


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
    ("rfa_repeat_relief_percent", "Repeat RFA: the last one gave at least (% relief)", 1, 100, "Repeat rhizotomy"),
    ("rfa_repeat_relief_months", "…for at least (calendar months)", 1, 24, "Repeat rhizotomy"),
    ("epidural_repeat_relief_percent", "Repeat epidural: last one gave at least (% relief)", 1, 100,
     "Repeat injections"),
    ("epidural_repeat_relief_months", "…for at least (calendar months)", 1, 12, "Repeat injections"),
    ("facet_repeat_relief_percent", "Repeat facet injection: last one gave at least (% relief)", 1, 100,
     "Repeat injections"),
    ("facet_repeat_relief_months", "…for at least (calendar months)", 1, 12, "Repeat injections"),
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

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Regexp, ValidationError
from wtforms.widgets import HiddenInput

from backoffice.audit.labels import record_label
from backoffice.auditlog.services import ACTIONS, AuditFilter
from backoffice.core.forms import choices, date_field, id_field, text


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    username = text("Username", 40, required=False, description="Or its first letters.")
    action = SelectField("Action", default="",
                         choices=choices(((a, a.replace("_", " ")) for a in ACTIONS), blank="Any"))
    entity_type = SelectField("Record type", choices=[], default="")
    patient_mrn = text("Patient MRN", 12, required=False,
                       validators=[Regexp(r"^\d+$", message="An MRN is digits only.")])
    office_id = SelectField("Office", choices=[], default="")
    first_day = date_field("From", required=False)
    last_day = date_field("To", required=False)
    before = id_field(widget=HiddenInput())

    def __init__(self, *args: object, entity_types: list[str],
                 office_choices: list[tuple[str, str]], patient_filter: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not patient_filter:  # looking a patient up is for clinical readers only
            del self.patient_mrn
        self.entity_type.choices = choices(((t, record_label(t)) for t in entity_types), blank="Any")
        self.office_id.choices = choices(office_choices, blank="Any")

    def validate_last_day(self, field: DateField) -> None:
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError("“To” comes before “From”.")

    def to_filter(self) -> AuditFilter:
        return AuditFilter(username=self.username.data, action=self.action.data or None,
                           entity_type=self.entity_type.data or None,
                           patient_mrn=self.patient_mrn.data if "patient_mrn" in self else None,
                           office_id=int(self.office_id.data) if self.office_id.data else None,
                           first_day=self.first_day.data, last_day=self.last_day.data)

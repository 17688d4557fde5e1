from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.validators import InputRequired, Regexp

from backoffice.core.forms import PersonName, VersionedForm, choices, date_field, phone_field, text, tidy_name
from backoffice.core.phones import parse_phone
from backoffice.insurance.models import Payer
from backoffice.insurance.payers import PayerData
from backoffice.insurance.rules import PAYER_NAME_LENGTH, CoverageEntry, CoverageRank, PayerKind, Relationship

CARD_NUMBER = Regexp(r"^[A-Za-z0-9-]+$", message="Use letters, digits and hyphens only, as on the card.")
KINDS = choices(((kind.value, kind.label) for kind in PayerKind), blank="Choose…")
RANKS = choices((rank.value, rank.label) for rank in CoverageRank)
RELATIONSHIPS = choices((relationship.value, relationship.label) for relationship in Relationship)


def _phone(number: str | None) -> str | None:
    return parse_phone(number) if number else None


class PayerFields:
    name = text("Name", PAYER_NAME_LENGTH, description="As the card and the claims name it (Aetna, Medicare Part B).")
    kind = SelectField("Kind", choices=KINDS, validators=[InputRequired(message="Choose the kind of payer.")])
    prior_auth_phone = phone_field("Prior authorization phone", required=False)
    prior_auth_fax = phone_field("Prior authorization fax", required=False)
    active = BooleanField("Offered for new coverage", default=True,
                          description="Untick when the practice no longer bills it; coverage that names it keeps it.")
    submit = SubmitField("Save payer")

    def load_record(self, record: Any) -> None:
        self.kind.data = record.kind.value

    def to_data(self) -> PayerData:
        return PayerData(name=self.name.data or "", kind=PayerKind(self.kind.data),
                         prior_auth_phone=_phone(self.prior_auth_phone.data),
                         prior_auth_fax=_phone(self.prior_auth_fax.data), active=bool(self.active.data))


class PayerForm(PayerFields, FlaskForm):
    pass


class EditPayerForm(PayerFields, VersionedForm):
    pass


def payer_options(payers: list[Payer]) -> list[Any]:
    return choices(((str(p.id), p.name if p.active else f"{p.name} (no longer offered)") for p in payers),
                   blank="Choose…")


class CoverageFields:
    rank = SelectField("Rank", choices=RANKS, default=CoverageRank.PRIMARY.value,
                       description="Primary is billed first; secondary pays what primary leaves.")
    payer_id = SelectField("Payer", choices=[], validators=[InputRequired(message="Choose the payer.")])
    plan_name = text("Plan", 80, required=False, render_kw={"placeholder": "Open Access Managed Choice"})
    member_id = text("Member ID", 40, required=False, validators=[CARD_NUMBER],
                     description="As on the card. Not needed for self-pay.")
    group_number = text("Group number", 40, required=False, validators=[CARD_NUMBER])
    relationship_to_subscriber = SelectField("Patient's relationship to the subscriber", choices=RELATIONSHIPS,
                                             default=Relationship.SELF.value)
    subscriber_name = text("Subscriber", 80, required=False, validators=[PersonName()], extra_filters=[tidy_name],
                           render_kw={"autocomplete": "off"}, description="Who holds the policy, when not the patient.")
    effective_on = date_field("Effective from", required=True, message="Give the day the coverage starts.")
    ends_on = date_field("Ends on", required=False, description="The last day it pays; empty while it runs.")
    submit = SubmitField("Save coverage")

    def set_payers(self, payers: list[Payer]) -> None:
        self.payer_id.choices = payer_options(payers)

    def load_record(self, record: Any) -> None:
        self.rank.data = record.rank.value
        self.payer_id.data = str(record.payer_id)
        self.relationship_to_subscriber.data = record.relationship_to_subscriber.value

    def to_entry(self) -> CoverageEntry:
        return CoverageEntry(
            rank=CoverageRank(self.rank.data), payer_id=int(self.payer_id.data), effective_on=self.effective_on.data,
            member_id=self.member_id.data, plan_name=self.plan_name.data, group_number=self.group_number.data,
            relationship_to_subscriber=Relationship(self.relationship_to_subscriber.data),
            subscriber_name=self.subscriber_name.data, ends_on=self.ends_on.data)


class NewCoverageForm(CoverageFields, FlaskForm):
    pass


class CoverageForm(CoverageFields, VersionedForm):
    """Changing a coverage: it carries the version it was opened at."""


class RemoveCoverageForm(VersionedForm):
    reason = text("Reason", 300, multiline=True,
                  description="Recorded in the audit trail with what the coverage said (entered for the wrong "
                              "patient, a duplicate...). A coverage that ended is given its end date instead.")
    submit = SubmitField("Remove the coverage")

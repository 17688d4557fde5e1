"""What the audit trail writes for every reader and how it names fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backoffice import models  # noqa: F401  (every model registered)
from backoffice.audit.labels import field_label, has_label, record_label
from backoffice.audit.trail import Audited
from backoffice.core.db import Base
from backoffice.devices.models import PumpRefill
from backoffice.patients.models import Patient
from backoffice.procedures.models import Outcome, PsychEvaluation

AUDITED = [mapper for mapper in Base.registry.mappers if issubclass(mapper.class_, Audited)]


@pytest.mark.parametrize("mapper", AUDITED, ids=lambda mapper: mapper.local_table.name)
def test_every_field_of_an_audited_record_has_a_label(mapper):
    bookkeeping = {"id", "version", "created_at", "updated_at", "updated_by_id"}
    table = mapper.local_table.name
    assert [a.key for a in mapper.column_attrs if a.key not in bookkeeping and not has_label(table, a.key)] == []


def test_fields_read_as_labels_not_column_names():
    assert field_label("appointment", "blocked_until") == "Room turned over by"
    assert field_label("appointment", "patient_id") == "Patient"
    assert field_label("pump_refill", "added_ml") == "Added (mL)"
    assert field_label("anything_new", "next_visit_id") == "Next visit"
    assert record_label("psych_evaluation") == "psychological evaluation"


def test_a_clinical_record_says_what_it_is_to_everyone_and_its_values_only_in_its_details():
    refill = PumpRefill(refilled_on=date(2026, 11, 24), drug="Morphine", added_ml=Decimal("40"))
    outcome = Outcome(appointment_id=7, percent_relief=65)
    evaluation = PsychEvaluation(evaluated_on=date(2026, 11, 2), cleared=False)
    patient = Patient(mrn="12345678")
    assert [r.audit_subject() for r in (refill, outcome, evaluation, patient)] == ["", "", "", ""]
    assert refill.audit_details() == {"refilled_on": date(2026, 11, 24), "added_ml": Decimal("40"),
                                      "drug": "Morphine"}
    assert outcome.audit_details()["percent_relief"] == 65
    assert evaluation.audit_details()["cleared"] is False and patient.audit_details() == {"mrn": "12345678"}

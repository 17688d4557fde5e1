from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backoffice import demo
from backoffice.auth.models import User
from backoffice.auth.sessions import auth_policy
from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.insurance.coverage import coverages_of
from backoffice.insurance.models import Payer
from backoffice.insurance.rules import CoverageEntry, PayerFacts, PayerKind, coverage_problems, in_force_on
from backoffice.models import AuditEvent, Coverage, Office, Patient, Physician, PhysicianSchedule, Room
from backoffice.patients import rules, services

from .helpers import NOW

pytestmark = pytest.mark.usefixtures("app_context")


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Office, Room, Physician, PhysicianSchedule, User, Patient, Payer, Coverage)}


def test_demo_data_loads_the_practice_and_running_it_twice_duplicates_nothing():
    demo.load(patient_count=40, policy=auth_policy(), now=NOW)
    first = counts()
    assert first == {"Office": 2, "Room": 7, "Physician": 5, "PhysicianSchedule": 22,
                     "User": 5, "Patient": 40, "Payer": 12, "Coverage": 53}
    audit_rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
    demo.load(patient_count=40, policy=auth_policy(), now=NOW)
    assert counts() == first
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows


def test_physicians_work_at_both_offices():
    demo.load(patient_count=0, policy=auth_policy(), now=NOW)
    offices_per_physician = db.session.execute(
        select(PhysicianSchedule.physician_id, func.count(func.distinct(PhysicianSchedule.office_id)))
        .group_by(PhysicianSchedule.physician_id)).all()
    assert all(offices == 2 for _, offices in offices_per_physician)


def test_demo_patients_are_synthetic():
    for patient in demo.synthetic_patients(50, [1, 2]):
        assert patient.phone is None or patient.phone[5:9] == "5550"  # 555-01xx is fiction
        assert patient.email is None or patient.email.endswith("@example.com")
        for number in (patient.emergency_contact_phone, patient.referring_phone, patient.primary_care_fax):
            assert number is None or number[5:9] == "5550"


def test_demo_patients_have_a_full_record_and_some_two_part_surnames_found_by_either_word():
    demo.load(patient_count=40, policy=auth_policy(), now=NOW, appointments=False)
    registered = list(db.session.scalars(select(Patient)))
    assert all(patient.sex is not None for patient in registered)
    assert sum(patient.emergency_contact_name is not None for patient in registered) == 30
    two_part = [p for p in registered if "-" in p.last_name or " " in p.last_name]
    assert len(two_part) == 4
    scheduler = Actor(1, "scheduler", frozenset({"scheduler"}))
    for patient in two_part:
        second_word = patient.last_name.replace("-", " ").split()[1]
        found = services.search_patients(rules.parse_search(f"{second_word}, {patient.first_name}"), by=scheduler)
        assert patient.id in {p.id for p in found}


def test_printed_demo_passwords_work():
    demo.load(patient_count=0, policy=auth_policy(), now=NOW)
    for account in demo.ACCOUNTS:
        user = db.session.scalars(select(User).where(User.username == account.username)).one()
        assert auth_policy().verify(user.password_hash, account.password)


def test_demo_payers_are_a_synthetic_set_of_every_usual_kind_and_each_patient_has_a_primary_coverage():
    demo.load(patient_count=40, policy=auth_policy(), now=NOW, appointments=False)
    payers = list(db.session.scalars(select(Payer)))
    assert {PayerKind.MEDICARE, PayerKind.MEDICARE_ADVANTAGE, PayerKind.MEDICAID, PayerKind.COMMERCIAL,
            PayerKind.SELF_PAY} <= {payer.kind for payer in payers}
    assert all(number is None or number[5:9] == "5550" for p in payers for number in (p.prior_auth_phone,
                                                                                       p.prior_auth_fax))
    today = NOW.date()
    for patient in db.session.scalars(select(Patient)):
        held = coverages_of(patient.id)
        assert in_force_on(held, today).primary is not None, patient.id
        for coverage in held:  # each as the forms would have accepted it
            others = [c.span for c in held if c is not coverage]
            entry = CoverageEntry(coverage.rank, coverage.payer_id, coverage.effective_on, coverage.member_id,
                                  coverage.plan_name, coverage.group_number, coverage.relationship_to_subscriber,
                                  coverage.subscriber_name, coverage.ends_on)
            assert coverage_problems(entry, PayerFacts(coverage.payer.name, coverage.payer.kind), others) == {}

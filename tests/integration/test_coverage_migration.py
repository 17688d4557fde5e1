"""Migration 0030 turns each patient's payer text and member ID into a payer on the list and a
primary coverage, and its downgrade puts them back, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.insurance.models import Coverage, Payer
from backoffice.insurance.rules import CoverageRank, PayerKind, Relationship
from backoffice.patients import rules
from backoffice.patients.models import Patient
from tests.conftest import make_app

PATIENT = ("INSERT INTO patient (mrn, first_name, last_name, date_of_birth, last_name_key, first_name_key, payer, "
           "member_id, version, created_at, updated_at) VALUES (:mrn, :first, :last, '1950-02-02', :last_key, "
           ":first_key, :payer, :member_id, 1, :at, :at)")
# (MRN, name, payer as typed, member ID, registered at (UTC))
REGISTERED = (
    ("10000009", "Ana Ruiz", "Aetna", "W123456789", datetime(2024, 3, 5, 14, 0)),
    ("10000017", "Ben Ortiz", "  AETNA ", None, datetime(2024, 4, 6, 14, 0)),
    ("10000025", "Cal Diaz", "Aetna", "W987654321", datetime(2024, 5, 7, 14, 0)),
    ("10000033", "Dee Long", "Medicare", "1EG4TE5MK73", datetime(2023, 1, 2, 23, 30)),
    ("10000041", "Eve Park", None, "ZZ99", datetime(2024, 6, 8, 14, 0)),
    ("10000058", "Fay Ito", None, None, datetime(2024, 7, 9, 14, 0)),
    ("10000066", "Gus Hale", "Self-pay", None, datetime(2024, 8, 10, 14, 0)),
    ("10000074", "Hal Roy", "Workers' comp", "WC123", datetime(2024, 9, 11, 14, 0)),
    ("10000082", "Ida Moss", "Blue  Cross Blue Shield", "XYZ1", datetime(2024, 10, 12, 14, 0)),
    ("10000090", "Jo Kim", "Medicare Advantage (Humana)", "H1", datetime(2024, 11, 13, 14, 0)),
    ("10000108", "Kai Lee", "maryland medicaid", "123", datetime(2024, 12, 14, 14, 0)),
)


def _register_before_coverage(dialect: str) -> None:
    with db.engine.begin() as connection:
        for mrn, name, payer, member_id, at in REGISTERED:
            first, last = name.split()
            connection.execute(text(PATIENT), {
                "mrn": mrn, "first": first, "last": last, "last_key": rules.name_key(last),
                "first_key": rules.name_key(first), "payer": payer, "member_id": member_id,
                # SQLite keeps naive UTC text, as the app writes it; PostgreSQL a timestamptz.
                "at": at if dialect == "sqlite" else at.replace(tzinfo=UTC)})


def _coverage_by_mrn() -> dict[str, tuple]:
    rows = db.session.execute(
        select(Patient.mrn, Coverage.rank, Payer.name, Coverage.member_id, Coverage.effective_on, Coverage.ends_on,
               Coverage.relationship_to_subscriber, Coverage.subscriber_name, Coverage.plan_name,
               Coverage.group_number)
        .join(Patient, Patient.id == Coverage.patient_id).join(Payer, Payer.id == Coverage.payer_id)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _payers_before() -> dict[str, tuple]:
    with db.engine.connect() as connection:
        return {mrn: (payer, member_id) for mrn, payer, member_id in connection.execute(
            text("SELECT mrn, payer, member_id FROM patient"))}


def _drift() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def test_each_patients_payer_and_member_id_become_a_payer_and_a_primary_coverage(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.downgrade(revision="0029")
        _register_before_coverage(db.engine.dialect.name)
        flask_migrate.upgrade()

        payers = {p.name: p.kind for p in db.session.scalars(select(Payer))}
        assert payers == {
            "Aetna": PayerKind.OTHER, "Medicare": PayerKind.MEDICARE, "Payer not recorded": PayerKind.OTHER,
            "Self-pay": PayerKind.SELF_PAY, "Workers' comp": PayerKind.WORKERS_COMPENSATION,
            "Blue Cross Blue Shield": PayerKind.OTHER, "Medicare Advantage (Humana)": PayerKind.MEDICARE_ADVANTAGE,
            "maryland medicaid": PayerKind.MEDICAID}
        moved = {mrn: (rank, payer, member_id, effective_on)
                 for mrn, (rank, payer, member_id, effective_on, *_) in _coverage_by_mrn().items()}
        assert moved == {
            "10000009": ("primary", "Aetna", "W123456789", date(2024, 3, 5)),
            "10000017": ("primary", "Aetna", None, date(2024, 4, 6)),  # "  AETNA " is Aetna
            "10000025": ("primary", "Aetna", "W987654321", date(2024, 5, 7)),
            "10000033": ("primary", "Medicare", "1EG4TE5MK73", date(2023, 1, 2)),  # 23:30 UTC: that day
            "10000041": ("primary", "Payer not recorded", "ZZ99", date(2024, 6, 8)),
            "10000066": ("primary", "Self-pay", None, date(2024, 8, 10)),
            "10000074": ("primary", "Workers' comp", "WC123", date(2024, 9, 11)),
            "10000082": ("primary", "Blue Cross Blue Shield", "XYZ1", date(2024, 10, 12)),
            "10000090": ("primary", "Medicare Advantage (Humana)", "H1", date(2024, 11, 13)),
            "10000108": ("primary", "maryland medicaid", "123", date(2024, 12, 14)),
        }  # Fay Ito had neither: no coverage
        # no end date, the patient the subscriber, no plan or group
        assert {row[4:] for row in _coverage_by_mrn().values()} == {(None, "self", None, None, None)}
        assert _drift() == []
        db.session.remove()
        db.engine.dispose()


def test_the_downgrade_puts_back_the_payer_and_member_id_of_the_primary_coverage_in_force(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.downgrade(revision="0029")
        _register_before_coverage(db.engine.dialect.name)
        flask_migrate.upgrade()
        dee = db.session.scalar(text("SELECT id FROM patient WHERE mrn = '10000033'"))
        medicaid = db.session.scalar(text("SELECT id FROM payer WHERE name = 'maryland medicaid'"))
        now = datetime.now(UTC)
        with transaction(db.session, Actor.system("test")):
            db.session.add_all([
                # an employer plan that ended and a secondary beside Medicare: neither goes back
                Coverage(patient_id=dee, rank=CoverageRank.PRIMARY, payer_id=medicaid, member_id="OLD",
                         relationship_to_subscriber=Relationship.SELF, effective_on=date(2000, 1, 1),
                         ends_on=date(2022, 12, 31), created_at=now, updated_at=now),
                Coverage(patient_id=dee, rank=CoverageRank.SECONDARY, payer_id=medicaid, member_id="SECOND",
                         relationship_to_subscriber=Relationship.SELF, effective_on=date(2023, 1, 2),
                         created_at=now, updated_at=now)])
        db.session.remove()

        flask_migrate.downgrade(revision="0029")
        restored = _payers_before()
        assert restored["10000033"] == ("Medicare", "1EG4TE5MK73")
        assert restored["10000017"] == ("Aetna", None)  # the payer's name, as most patients spelled it
        assert restored["10000041"] == ("Payer not recorded", "ZZ99")
        assert restored["10000058"] == (None, None)
        flask_migrate.upgrade()
        assert _drift() == []
        db.session.remove()
        db.engine.dispose()

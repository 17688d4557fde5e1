from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import text

from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.patients import rules
from backoffice.patients import services as patients

from .helpers import NOW, actor_for, make_user, patient_data

pytestmark = pytest.mark.usefixtures("app_context")

PEOPLE = [
    ("Maria", "Gonzalez", date(1958, 3, 14), "+14105550142"),
    ("Mario", "Gonzales", date(1960, 7, 1), "+14435550101"),
    ("John", "Smith", date(1950, 11, 24), "+14105550177"),
    ("Johanna", "Smithers", date(1972, 1, 5), None),
    ("Smith", "Jones", date(1981, 5, 5), None),
    ("Siobhán", "O'Brien-Núñez", date(1966, 9, 9), "+16675550123"),
]


@pytest.fixture
def actor():
    actor = actor_for(make_user())
    for first, last, born, phone in PEOPLE:
        patients.create_patient(patient_data(first_name=first, last_name=last, date_of_birth=born,
                                             phone=phone), confirm_duplicate=False, by=actor, now=NOW)
    return actor


def names(found):
    return sorted(f"{p.first_name} {p.last_name}" for p in found)


@pytest.mark.parametrize("query, expected", [
    ("gonz", ["Maria Gonzalez", "Mario Gonzales"]),
    ("smith", ["John Smith", "Johanna Smithers", "Smith Jones"]),  # last or first name
    ("smith, jo", ["John Smith", "Johanna Smithers"]),
    ("john smith", ["John Smith"]),
    ("smith john", ["John Smith"]),
    ("obrien", ["Siobhán O'Brien-Núñez"]),
    ("o'brien-nunez", ["Siobhán O'Brien-Núñez"]),
    ("11/24/1950", ["John Smith"]),
    ("smith 1972-01-05", ["Johanna Smithers"]),
    ("410-555-01", ["John Smith", "Maria Gonzalez"]),
    ("(667) 555-0123", ["Siobhán O'Brien-Núñez"]),
    ("zzz", []),
])
def test_finds_patients_by_name_birth_date_or_phone_prefix(actor, query, expected):
    assert names(patients.search_patients(rules.parse_search(query), by=actor)) == sorted(expected)


def test_finds_a_patient_by_mrn_prefix(actor):
    maria = patients.search_patients(rules.parse_search("gonzalez"), by=actor)[0]
    found = patients.search_patients(rules.parse_search(maria.mrn[:6]), by=actor)
    assert maria.id in {p.id for p in found}


def test_admins_and_managers_find_no_patients(actor):
    admin = Actor(99, "akim", frozenset({"admin"}))
    assert patients.search_patients(rules.parse_search("smith"), by=admin) == []
    manager = Actor(98, "mblake", frozenset({"manager"}))
    assert patients.search_patients(rules.parse_search("smith"), by=manager) == []
    assert patients.find_by_mrn(patients.search_patients(rules.parse_search("smith"), by=actor)[0].mrn,
                                by=manager) is None


def test_a_same_name_and_birth_date_registration_needs_confirmation(actor):
    with pytest.raises(patients.PossibleDuplicate) as duplicate:
        patients.create_patient(patient_data(first_name="MARIA", last_name="gonzalez"),
                                confirm_duplicate=False, by=actor, now=NOW)
    assert duplicate.value.matches[0].last_name == "Gonzalez"
    twin = patients.create_patient(patient_data(), confirm_duplicate=True, by=actor, now=NOW)
    assert twin.mrn != duplicate.value.matches[0].mrn


def _plan(statement: str, params: dict) -> str:
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}"), params).all()
        return " ".join(str(row[-1]) for row in rows)
    # With a handful of rows PostgreSQL rightly prefers a sequential scan; forbid it to learn
    # whether the index can serve the range at all.
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = db.session.execute(text(f"EXPLAIN {statement}"), params).all()
    return " ".join(row[0] for row in rows)


@pytest.mark.parametrize("column, index", [
    ("last_name_key", "ix_patient_name"),
    ("first_name_key", "ix_patient_first_name"),
    ("phone_digits", "ix_patient_phone"),
    ("mrn", "uq_patient_mrn"),
])
def test_prefix_search_is_an_index_range_scan(actor, column, index):
    statement = f"SELECT id FROM patient WHERE {column} >= :low AND {column} < :high"
    plan = _plan(statement, {"low": "smi", "high": "smj"})
    if db.engine.dialect.name == "sqlite":
        assert "SEARCH patient USING" in plan and f"{column}>?" in plan
    else:
        assert re.search(rf"(using|on) {index}\b", plan) and "Index Cond" in plan
    db.session.rollback()

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, text

from backoffice.core.actor import Actor
from backoffice.core.extensions import db
from backoffice.patients import rules
from backoffice.patients import services as patients
from backoffice.patients.models import PatientNameToken

from .helpers import NOW, actor_for, make_user, patient_data

pytestmark = pytest.mark.usefixtures("app_context")

PEOPLE = [
    ("Maria", "Gonzalez", date(1958, 3, 14), "+14105550142"),
    ("Mario", "Gonzales", date(1960, 7, 1), "+14435550101"),
    ("John", "Smith", date(1950, 11, 24), "+14105550177"),
    ("Johanna", "Smithers", date(1972, 1, 5), None),
    ("Smith", "Jones", date(1981, 5, 5), None),
    ("Siobhán", "O'Brien-Núñez", date(1966, 9, 9), "+16675550123"),
    ("Linh", "O'Brien-Nguyen", date(1970, 2, 2), None),
    ("María José", "Garcia Lopez", date(1975, 4, 4), None),
    ("Ana", "Lopez Garcia", date(1980, 8, 8), None),
    ("Mary Ann", "Jean-Baptiste", date(1955, 6, 6), None),
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
    ("obrien", ["Linh O'Brien-Nguyen", "Siobhán O'Brien-Núñez"]),
    ("o'brien-nunez", ["Siobhán O'Brien-Núñez"]),
    ("11/24/1950", ["John Smith"]),
    ("smith 1972-01-05", ["Johanna Smithers"]),
    ("410-555-01", ["John Smith", "Maria Gonzalez"]),
    ("(667) 555-0123", ["Siobhán O'Brien-Núñez"]),
    ("zzz", []),
])
def test_finds_patients_by_name_birth_date_or_phone_prefix(actor, query, expected):
    assert names(patients.search_patients(rules.parse_search(query), by=actor)) == sorted(expected)


@pytest.mark.parametrize("query, expected", [
    ("nguyen", ["Linh O'Brien-Nguyen"]),
    ("Nguy", ["Linh O'Brien-Nguyen"]),
    ("o'brien", ["Linh O'Brien-Nguyen", "Siobhán O'Brien-Núñez"]),
    ("núñez", ["Siobhán O'Brien-Núñez"]),
    ("garcia", ["Ana Lopez Garcia", "María José Garcia Lopez"]),
    ("lopez", ["Ana Lopez Garcia", "María José Garcia Lopez"]),
    ("lopez garcia", ["Ana Lopez Garcia", "María José Garcia Lopez"]),
    ("lopezgarcia", ["Ana Lopez Garcia"]),
    ("lopez garcia, ana", ["Ana Lopez Garcia"]),
    ("garcia, maria", ["María José Garcia Lopez"]),
    ("garcia, ana", ["Ana Lopez Garcia"]),
    ("jose garcia", ["María José Garcia Lopez"]),
    ("ann baptiste", ["Mary Ann Jean-Baptiste"]),
    ("baptiste, ann", ["Mary Ann Jean-Baptiste"]),
    ("ann, mary", []),  # Ann is a given name, not a family name
    ("linh nguyen 02/02/1970", ["Linh O'Brien-Nguyen"]),
    ("nguyen 1966-09-09", []),
])
def test_finds_each_word_of_a_two_part_or_hyphenated_name(actor, query, expected):
    assert names(patients.search_patients(rules.parse_search(query), by=actor)) == sorted(expected)


def test_a_renamed_patient_is_found_by_the_new_name_only(actor):
    linh = patients.search_patients(rules.parse_search("nguyen"), by=actor)[0]
    patients.update_patient(linh.id, patient_data(first_name="Linh", last_name="Tran-Walsh",
                                                  date_of_birth=date(1970, 2, 2), phone=None),
                            expected_version=linh.version, confirm_duplicate=False, by=actor, now=NOW)

    assert patients.search_patients(rules.parse_search("nguyen"), by=actor) == []
    assert names(patients.search_patients(rules.parse_search("walsh"), by=actor)) == ["Linh Tran-Walsh"]
    assert tokens_of(linh.id) == [("family", "tran"), ("family", "tranwalsh"), ("family", "walsh"),
                                  ("given", "linh")]


def test_an_edit_that_keeps_the_names_leaves_their_tokens_alone(actor):
    linh = patients.search_patients(rules.parse_search("nguyen"), by=actor)[0]
    before = tokens_of(linh.id)
    patients.update_patient(linh.id, patient_data(first_name="Linh", last_name="O'Brien-Nguyen",
                                                  date_of_birth=date(1970, 2, 2), phone="+14105550199"),
                            expected_version=linh.version, confirm_duplicate=False, by=actor, now=NOW)
    assert tokens_of(linh.id) == before == [("family", "nguyen"), ("family", "obrien"),
                                            ("family", "obriennguyen"), ("given", "linh")]


def tokens_of(patient_id: int) -> list[tuple[str, str]]:
    return sorted((str(part), token) for part, token in db.session.execute(
        select(PatientNameToken.part, PatientNameToken.token).where(PatientNameToken.patient_id == patient_id)))


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
        return "\n".join(str(row[-1]) for row in rows)
    # With a handful of rows PostgreSQL rightly prefers a sequential scan; forbid it to learn
    # whether the index can serve the range at all.
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = db.session.execute(text(f"EXPLAIN {statement}"), params).all()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("table, column, index", [
    ("patient_name_token", "token", "ix_patient_name_token"),
    ("patient", "phone_digits", "ix_patient_phone"),
    ("patient", "mrn", "uq_patient_mrn"),
])
def test_prefix_search_is_an_index_range_scan(actor, table, column, index):
    statement = f"SELECT * FROM {table} WHERE {column} >= :low AND {column} < :high"
    plan = _plan(statement, {"low": "smi", "high": "smj"})
    if db.engine.dialect.name == "sqlite":
        assert f"SEARCH {table} USING" in plan and f"{column}>?" in plan
    else:
        assert re.search(rf"(using|on) {index}\b", plan) and "Index Cond" in plan
    db.session.rollback()


@pytest.mark.parametrize("query", ["nguyen", "lopez garcia", "garcia, ana", "smith 1972-01-05"])
def test_a_name_search_reads_the_tokens_by_index_range_and_the_patients_by_id(actor, query):
    """The search as the service sends it: no table is read whole, on either engine."""
    statement = patients.search_statement(rules.parse_search(query), rules.MAX_RESULTS)
    plan = _plan(str(statement.compile(db.engine, compile_kwargs={"literal_binds": True})), {})
    if db.engine.dialect.name == "sqlite":
        assert "SEARCH patient_name_token USING COVERING INDEX ix_patient_name_token (token>? AND token<?)" in plan
        assert "SCAN" not in plan
    else:
        # The tokens are read by their index, either as a range (first) or, once the birth date
        # has found the few patients, by each patient's id and the range (the primary key).
        token_lookup = (r"(Scan using|Bitmap Index Scan on) (ix|pk)_patient_name_token\b[^\n]*\n"
                        r"\s*Index Cond: [^\n]*\btoken\)?(::text)? >= ")
        assert re.search(token_lookup, plan), plan
        assert "Seq Scan" not in plan, plan
    db.session.rollback()

"""Migration 0024 gives the patients registered before it the name tokens search finds them by."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import text

from backoffice.core.extensions import db
from backoffice.patients import rules
from backoffice.patients import services as patients
from tests.conftest import make_app

from .helpers import actor_for, make_user

REGISTERED = (("10000009", "Linh", "O'Brien-Nguyen"), ("10000017", "María José", "Garcia Lopez"))
PATIENT = ("INSERT INTO patient (mrn, first_name, last_name, date_of_birth, last_name_key, first_name_key, "
           "version, created_at, updated_at) VALUES (:mrn, :first, :last, '1970-02-02', :last_key, :first_key, 1, "
           "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


def test_patients_registered_before_the_tokens_are_found_by_each_word_of_their_names(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.downgrade(revision="0023")
        with db.engine.begin() as connection:
            for mrn, first, last in REGISTERED:
                connection.execute(text(PATIENT), {"mrn": mrn, "first": first, "last": last,
                                                   "last_key": rules.name_key(last),
                                                   "first_key": rules.name_key(first)})
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            stored = connection.execute(text(
                "SELECT p.mrn, t.part, t.token FROM patient_name_token t JOIN patient p ON p.id = t.patient_id")).all()
        assert sorted(stored) == sorted((mrn, str(part), token) for mrn, first, last in REGISTERED
                                        for part, token in rules.patient_name_tokens(first, last))
        actor = actor_for(make_user())
        assert [p.mrn for p in patients.search_patients(rules.parse_search("nguyen"), by=actor)] == ["10000009"]
        assert [p.mrn for p in patients.search_patients(rules.parse_search("jose lopez"), by=actor)] == ["10000017"]
        assert [p.sex for p in patients.search_patients(rules.parse_search("linh"), by=actor)] == [None]
        db.session.remove()
        db.engine.dispose()

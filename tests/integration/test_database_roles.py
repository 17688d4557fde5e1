"""On PostgreSQL the app connects as a role that owns no table: through its own connection the
audit trail can be added to and read, never rewritten, emptied or stripped of its triggers.

These tests need a second login role on the test database (`TEST_POSTGRES_APP_URL`, created by
`.ci/run`); `flask db upgrade` runs as the owner (`MIGRATION_DATABASE_URL`) and grants it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from backoffice.core.extensions import db
from backoffice.patients import services as patients
from tests.conftest import make_app, truncate_postgres, unavailable

from .helpers import NOW, actor_for, audit_rows, make_user, patient_data

APP_URL = os.environ.get("TEST_POSTGRES_APP_URL", "")
INSUFFICIENT_PRIVILEGE = "42501"


@pytest.fixture
def app_role_app(postgres_url: str) -> Iterator[Flask]:
    """The app as production runs it: its own role in DATABASE_URL, the owner's for migrations."""
    if not APP_URL:
        unavailable("the database role tests need TEST_POSTGRES_APP_URL")
    assert make_url(APP_URL).database == make_url(postgres_url).database
    truncate_postgres(postgres_url)
    app = make_app(APP_URL, MIGRATION_DATABASE_URL=postgres_url)
    with app.app_context():
        flask_migrate.upgrade()
        assert db.session.execute(text("SELECT current_user")).scalar() == make_url(APP_URL).username
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _verify(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("statement", [
    "TRUNCATE audit_event",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_event_append_only ON audit_event",
    "UPDATE audit_event SET summary = 'rewritten'",
    "DELETE FROM audit_event",
    "INSERT INTO audit_event SELECT * FROM audit_event WHERE id = 1 ON CONFLICT (id) DO UPDATE SET summary = 'x'",
    "DROP FUNCTION audit_chain_head()",
    "SELECT setval('audit_event_id_seq', 1)",
    "UPDATE alembic_version SET version_num = '0001'",
])
def test_the_apps_own_connection_is_refused_what_would_rewrite_the_audit_trail(app_role_app, statement):
    with app_role_app.app_context():
        make_user()
        with pytest.raises(ProgrammingError) as refused:
            db.session.execute(text(statement))
        assert getattr(refused.value.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE, refused.value
        db.session.rollback()
        assert [row.subject for row in audit_rows()] == ["Dana Whitaker (dwhitaker)"]
        db.session.remove()
    assert "1 audit rows checked: chain intact." in _verify(app_role_app)


def test_the_apps_own_role_still_writes_records_and_their_audit_rows_through_the_services(app_role_app):
    with app_role_app.app_context():
        actor = actor_for(make_user())
        patient = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
        patients.update_patient(patient.id, patient_data(address="7 Bay Ridge Rd"), expected_version=patient.version,
                                confirm_duplicate=False, by=actor, now=NOW)
        patients.open_patient_record(patient.id, by=actor)
        assert [(row.action, row.entity_type) for row in audit_rows()] == [
            ("create", "staff_user"), ("create", "patient"), ("update", "patient"), ("view", "patient")]
        db.session.remove()
    assert "4 audit rows checked: chain intact." in _verify(app_role_app)


def test_migrations_run_as_the_owner_named_by_migration_database_url(app_role_app, postgres_url):
    alone = make_app(APP_URL)
    with alone.app_context():
        with pytest.raises(ProgrammingError, match="must be owner"):
            flask_migrate.downgrade(revision="0017")
        db.engine.dispose()

    with app_role_app.app_context():
        flask_migrate.downgrade(revision="0017")
        flask_migrate.upgrade()
        make_user()
        db.session.remove()
    assert "1 audit rows checked: chain intact." in _verify(app_role_app)

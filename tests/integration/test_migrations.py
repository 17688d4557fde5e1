from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from backoffice.core.extensions import db
from tests.conftest import make_app


def _drift(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_downgrade_to_base_and_upgrade_again_without_drift(database_url):
    app = make_app(database_url)
    with app.app_context():
        assert _drift(app) == []
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        assert _drift(app) == []
        db.engine.dispose()


def test_flask_db_check_passes(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.check()
        db.engine.dispose()


def test_phone_extensions_survive_upgrade_and_are_dropped_cleanly_on_downgrade(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.downgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO office (name, slug, address, city, state, postal_code, phone, timezone, "
                "active, version, created_at, updated_at) VALUES ('Annapolis', 'annapolis', '1 Main St', "
                "'Annapolis', 'MD', '21401', '+14105550100', 'America/New_York', true, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE office SET phone = '+14105550100;ext=1234567'"))
        flask_migrate.downgrade(revision="0004")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT phone FROM office")).scalar() == "+14105550100"
        flask_migrate.upgrade()
        assert _drift(app) == []
        db.engine.dispose()

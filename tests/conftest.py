"""Fixtures shared by the integration, functional and browser tests.

Every test that touches the database runs twice: on SQLite (always) and on PostgreSQL (when
TEST_POSTGRES_URL names a database the tests may wipe). With BACKOFFICE_CI=1 a skipped test
fails the run, so CI cannot pass without PostgreSQL and Chromium.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from backoffice import create_app
from backoffice.core.extensions import db

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("BACKOFFICE_CI") == "1"

TEST_CONFIG: dict[str, Any] = {
    "BACKOFFICE_ENV": "test",
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    # Argon2id still, with the cheapest parameters: tests hash hundreds of passwords.
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 8,
    "PASSWORD_HASH_PARALLELISM": 1,
    "SQLITE_BUSY_TIMEOUT_MS": 30000,
}


def make_app(database_url: str, **overrides: Any) -> Flask:
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def migrate_to_head(database_url: str) -> None:
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate_to_head(sqlite_url(path))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def unavailable(message: str) -> None:
    """Skip a test whose engine or browser is missing here; in CI, fail it instead."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> str:
    if not POSTGRES_URL:
        unavailable("PostgreSQL tests need TEST_POSTGRES_URL")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test database, rebuilt from the migrations once per run."""
    url = require_postgres()
    app = make_app(url)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
            # A throwaway database: commits need not wait for the disk.
            name = connection.execute(text("SELECT current_database()")).scalar()
            connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        db.engine.dispose()
    migrate_to_head(url)
    return url


def truncate_postgres(url: str) -> None:
    """Empty every table, then put back the row the migrations seed (the clinical settings)."""
    from backoffice.core.db import utcnow
    from backoffice.procedures.candidacy_rules import Thresholds
    from backoffice.procedures.models import ClinicalSettings

    app = make_app(url)
    with app.app_context():
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            connection.execute(ClinicalSettings.__table__.insert(), [{
                "id": 1, **ClinicalSettings.columns(Thresholds()), "version": 1, "created_at": utcnow(),
                "updated_at": utcnow()}])
        db.engine.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh migrated SQLite database, for the tests about SQLite itself."""
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return sqlite_url(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_database")
        return url
    url = request.getfixturevalue("postgres_url")
    truncate_postgres(url)
    return url


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


# Rows of the demo practice per engine, loaded once per run and copied into each test's database.
_demo_snapshots: dict[str, dict[str, list[dict[str, Any]]]] = {}


def _snapshot(connection: Any) -> dict[str, list[dict[str, Any]]]:
    return {table.name: [dict(row._mapping) for row in connection.execute(table.select())]
            for table in db.metadata.sorted_tables}


def _restore(connection: Any, snapshot: dict[str, list[dict[str, Any]]]) -> None:
    for table in db.metadata.sorted_tables:
        rows = snapshot[table.name]
        if rows:
            connection.execute(table.delete())  # rows the migrations seed (the clinical settings)
            connection.execute(table.insert(), rows)
            if connection.dialect.name == "postgresql" and "id" in table.c:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM \"{table.name}\"))"))


@pytest.fixture
def demo(app: Flask) -> None:
    """The demo practice (offices, rooms, physicians, procedures, one account per role) and 20
    patients, without the demo appointments: tests book what they need."""
    from backoffice import demo as demo_data
    from backoffice.auth.sessions import auth_policy
    from backoffice.core.db import utcnow

    with app.app_context():
        dialect = db.engine.dialect.name
        if dialect in _demo_snapshots:
            with db.engine.begin() as connection:
                _restore(connection, _demo_snapshots[dialect])
        else:
            demo_data.load(patient_count=20, policy=auth_policy(), now=utcnow(), appointments=False)
            with db.engine.connect() as connection:
                _demo_snapshots[dialect] = _snapshot(connection)
        db.session.remove()


@pytest.fixture
def one_appointment(app: Flask, demo: None) -> int:
    """A booked MBB (appointment 1) in the demo practice, a fortnight from today."""
    from datetime import date, time, timedelta

    from sqlalchemy import select

    from backoffice.core.db import utcnow
    from backoffice.models import Office, Patient, Physician, ProcedureType, Room
    from backoffice.scheduling import services
    from backoffice.scheduling.rules import Limits
    from tests.integration.scheduling_helpers import SCHEDULER

    with app.app_context():
        monday = date.today() + timedelta(days=14 - date.today().weekday())
        reyes = db.session.scalars(select(Physician).where(Physician.last_name == "Reyes")).one()
        annapolis = db.session.scalars(select(Office).where(Office.slug == "annapolis")).one()
        room = db.session.scalars(select(Room).where(Room.office_id == annapolis.id,
                                                     Room.name == "Procedure Room 1")).one()
        mbb = db.session.scalars(select(ProcedureType).where(ProcedureType.code == "MBB")).one()
        patient = db.session.scalars(select(Patient).order_by(Patient.id)).first()
        appointment = services.book_appointment(
            services.BookingRequest(patient.id, mbb.id, reyes.id, annapolis.id, room.id, monday, time(9, 0),
                                    "lumbar", "right", 1), by=SCHEDULER, now=utcnow(), limits=Limits())
        appointment_id = appointment.id
        db.session.remove()
    return appointment_id


@pytest.fixture
def one_follow_up(app: Flask, one_appointment: int) -> int:
    """Follow-ups 1 (6 hours) and 2 (next day) of an MBB done for patient 2 about a week ago,
    both still open."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from backoffice.models import Patient
    from tests.integration.course_helpers import done, follow_ups_of

    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(1)).first()
        assert patient is not None
        follow_up_id = follow_ups_of(done("MBB", date.today() - timedelta(days=10), patient=patient))[0].id
        db.session.remove()
    return follow_up_id


@pytest.fixture
def one_outside_procedure(app: Flask, demo: None) -> int:
    """Outside procedure 1: a lumbar epidural patient 1 had at Valley Pain two months ago, with its relief."""
    from datetime import date, timedelta

    from backoffice.models import Patient
    from tests.integration.course_helpers import outside_done

    with app.app_context():
        outside = outside_done("ILESI", date.today() - timedelta(days=60), patient=db.session.get(Patient, 1),
                               side=None, levels=None, percent_relief=70, relief_amount=6, relief_unit="weeks")
        outside_id = outside.id
        db.session.remove()
    return outside_id


@pytest.fixture
def one_device(app: Flask, demo: None) -> int:
    """Device 1: a 40 mL pump implanted in patient 1 a year ago, no refill yet; and SCS trial 1
    of the same patient, started three days ago."""
    from datetime import date, timedelta
    from decimal import Decimal

    from backoffice.catalog.rules import DeviceKind
    from backoffice.core.actor import Actor
    from backoffice.core.db import utcnow
    from backoffice.devices import services, trials

    nurse = Actor(2, "nurse", frozenset({"nurse"}))
    with app.app_context():
        device = services.add_device(1, services.DeviceEntry(
            kind=DeviceKind.PUMP, manufacturer="Medtronic", model="SynchroMed II 40 mL",
            implanted_on=date.today() - timedelta(days=365), gtin="00643169001763", lot="LOT123", serial="SN456",
            mri_conditional=True, reservoir_ml=Decimal(40)), by=nurse, now=utcnow(), today=date.today())
        trials.start_trial(1, trials.TrialEntry(started_on=date.today() - timedelta(days=3),
                                                    planned_end_on=date.today() + timedelta(days=4), physician_id=1,
                                                    office_id=1), by=nurse, now=utcnow(), today=date.today())
        device_id = device.id
        db.session.remove()
    return device_id


@pytest.fixture
def one_scheduling_request(app: Flask, demo: None) -> int:
    """Scheduling request 1: an RFA, lumbar right, two levels, for patient 1 with Dr. Reyes, open."""
    from datetime import date

    from backoffice.core.db import transaction, utcnow
    from backoffice.scheduling.requests import RequestDetails, open_request
    from tests.integration.scheduling_helpers import PHYSICIAN, office, physician, procedure

    with app.app_context():
        with transaction(db.session, PHYSICIAN):
            request = open_request(RequestDetails(
                patient_id=1, procedure_type_id=procedure("RFA").id, physician_id=physician("Reyes").id,
                office_id=office("annapolis").id, earliest_on=date.today(), region="lumbar", side="right",
                levels_count=2, levels="L4-L5, L5-S1"), by=PHYSICIAN, now=utcnow())
        request_id = request.id
        db.session.remove()
    return request_id


DEMO_PASSWORDS = {
    "scheduler": "harbor-lighthouse-42",
    "nurse": "severn-river-sunrise",
    "physician": "chesapeake-crab-feast",
    "manager": "bay-bridge-morning-42",
    "admin": "naval-academy-sailboat",
}


def give_roles(app: Flask, username: str, roles: str) -> None:
    """Change a demo account's roles directly in the database ("manager,physician")."""
    from sqlalchemy import select

    from backoffice.auth.models import User

    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        user.roles = roles
        db.session.commit()


def sign_in(client: FlaskClient, username: str, password: str | None = None) -> Any:
    return client.post("/login", data={"username": username,
                                       "password": password or DEMO_PASSWORDS[username]})


@pytest.fixture
def signed_in(app: Flask, demo: None) -> Any:
    """A new test client signed in as one of the demo accounts: `signed_in("nurse")`."""
    def as_role(username: str) -> FlaskClient:
        client = app.test_client()
        response = sign_in(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return as_role


# CI must not pass by skipping: a skipped test there is a failed run.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped:
        print(f"\nBACKOFFICE_CI=1 and {len(_skipped)} tests were skipped, e.g. {_skipped[0]}")
        session.exitstatus = 1


class QueryCounter:
    """Counts the SQL statements an app sends while the `with` block runs."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.statements: list[str] = []

    def _record(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        from sqlalchemy import event

        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        with self.app.app_context():
            event.remove(db.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)

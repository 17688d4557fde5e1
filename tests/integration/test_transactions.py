from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import event, insert, select, text

from backoffice.auth.models import User
from backoffice.catalog.data import CATALOG
from backoffice.catalog.services import create_procedure_type, update_procedure_type
from backoffice.core.db import transaction
from backoffice.core.errors import ConcurrentChange, StaleEdit
from backoffice.core.extensions import db
from backoffice.patients import services as patients
from backoffice.patients.models import Patient
from backoffice.practice.models import Office
from backoffice.procedures.models import CandidacyCheck
from tests.conftest import make_app, truncate_postgres

from .helpers import NOW, actor_for, count, make_user, patient_data


@pytest.mark.usefixtures("app_context")
def test_a_failing_service_writes_nothing():
    actor = actor_for(make_user())
    with pytest.raises(RuntimeError), transaction(db.session, actor):
        db.session.add(Patient(mrn="10000009", **patient_data().columns(), created_at=NOW,
                               updated_at=NOW))
        db.session.flush()
        raise RuntimeError("something went wrong half way")
    assert count(Patient) == 0


@pytest.mark.usefixtures("app_context")
def test_changes_outside_a_service_transaction_are_refused():
    user = db.session.get(User, make_user().id)
    user.full_name = "Changed In A View"
    with pytest.raises(RuntimeError, match="outside a service transaction"), transaction(db.session):
        pass
    db.session.rollback()


def test_sqlite_writers_take_the_write_lock_before_reading(sqlite_database):
    app = make_app(sqlite_database)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *args: statements.append(statement))
        make_user()
        db.session.remove()
        db.engine.dispose()
    assert "BEGIN IMMEDIATE" in statements


def test_sqlite_puts_every_commit_on_disk_before_it_is_confirmed(sqlite_database):
    # In WAL mode only FULL (2) syncs the log at each commit; NORMAL (1) can lose a confirmed
    # booking on power loss.
    app = make_app(sqlite_database)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2
        db.session.remove()
        db.engine.dispose()


def test_concurrent_registrations_all_succeed_without_database_is_locked(database_url):
    """Twenty staff registering patients at once: each gets its own MRN, nobody sees an error."""
    app = make_app(database_url)
    with app.app_context():
        actor = actor_for(make_user())
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def register(number: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                patients.create_patient(patient_data(first_name=f"Pat{chr(65 + number)}"),
                                        confirm_duplicate=False, by=actor, now=NOW)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        mrns = set(db.session.scalars(select(Patient.mrn)))
        db.session.remove()
        db.engine.dispose()
    assert errors == []
    assert len(mrns) == 20


def test_an_edit_checks_the_version_of_the_row_as_it_is_now_not_as_first_loaded(database_url):
    """The view loads the record, someone else saves, then this user's save arrives."""
    app = make_app(database_url)
    with app.app_context():
        actor = actor_for(make_user())
        patient = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
        db.session.remove()
    with app.app_context():
        loaded = patients.get_patient(patient.id, by=actor)  # this request's copy, version 1
        other = make_app(database_url)
        with other.app_context():
            patients.update_patient(patient.id, patient_data(address="7 Bay Ridge Rd"), expected_version=1,
                                    confirm_duplicate=False, by=actor, now=NOW)
            db.session.remove()
            db.engine.dispose()
        with pytest.raises(StaleEdit):
            patients.update_patient(loaded.id, patient_data(address="40 Duke of Gloucester St"), expected_version=1,
                                    confirm_duplicate=False, by=actor, now=NOW)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.usefixtures("app_context")
def test_a_constraint_that_fires_at_commit_becomes_a_concurrent_change_message():
    actor = actor_for(make_user())
    office = dict(name="Annapolis", slug="annapolis", address="1 Main St", city="Annapolis",
                  state="MD", postal_code="21401", phone="+14105550100", timezone="America/New_York",
                  created_at=NOW, updated_at=NOW)
    with transaction(db.session, actor):
        db.session.add(Office(**office))
    with pytest.raises(ConcurrentChange), transaction(db.session, actor):
        db.session.add(Office(**{**office, "name": "Annapolis 2"}))  # same slug
    assert count(Office) == 1


def test_a_deadlock_postgresql_breaks_becomes_a_concurrent_change_message(postgres_url):
    """Two writers lock the same two rows in opposite orders; PostgreSQL rolls one back."""
    truncate_postgres(postgres_url)
    app = make_app(postgres_url)
    with app.app_context():
        actor = actor_for(make_user())
        first, second = (patients.create_patient(patient_data(last_name=name), confirm_duplicate=False, by=actor,
                                                 now=NOW).id for name in ("Ames", "Byrne"))
        lock = "SELECT id FROM patient WHERE id = :id FOR UPDATE"
        other_holds_first, other_done = threading.Event(), threading.Event()
        engine = db.engine

        def other_writer() -> None:
            with engine.connect() as connection, connection.begin():
                connection.execute(text(lock), {"id": first})
                other_holds_first.set()
                time.sleep(0.3)  # this side starts waiting last, so the other side's check finds the deadlock
                connection.execute(text(lock), {"id": second})
            other_done.set()

        with pytest.raises(ConcurrentChange), transaction(db.session, actor):
            db.session.execute(text(lock), {"id": second})
            thread = threading.Thread(target=other_writer)
            thread.start()
            assert other_holds_first.wait(5)
            db.session.execute(text(lock), {"id": first})
        thread.join(10)
        assert other_done.is_set()
        db.session.remove()
        db.engine.dispose()


def test_a_catalog_edit_and_a_candidacy_refresh_at_the_same_moment_both_succeed_on_postgresql(postgres_url):
    """The edit locks its procedure and then marks every patient's candidacies stale, waiting for
    the check rows a refresh holds; the refresh stores a candidacy that refers to that procedure,
    whose foreign key check takes a key-share lock on it. The edit's lock must let that through
    (FOR NO KEY UPDATE): a FOR UPDATE lock made the two wait for each other, and PostgreSQL
    refused one of them."""
    truncate_postgres(postgres_url)
    app = make_app(postgres_url)
    with app.app_context():
        actor = actor_for(make_user())
        patient_id = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW).id
        mbb = next(data for data in CATALOG if data.code == "MBB")
        procedure = create_procedure_type(mbb, by=actor, now=NOW)
        procedure_id, version = procedure.id, procedure.version
        engine = db.engine
        with engine.begin() as connection:
            connection.execute(insert(CandidacyCheck).values(patient_id=patient_id))
        outcome: dict[str, object] = {}

        def catalog_edit() -> None:
            with app.app_context():
                try:
                    update_procedure_type(procedure_id, replace(mbb, max_per_year=3), expected_version=version,
                                          by=actor, now=NOW)
                    outcome["edit"] = "saved"
                except ConcurrentChange as refused:
                    outcome["edit"] = refused
                finally:
                    db.session.remove()

        with engine.connect() as refresh, refresh.begin():
            refresh.execute(text("SELECT patient_id FROM candidacy_check FOR UPDATE"))
            editor = threading.Thread(target=catalog_edit)
            editor.start()
            time.sleep(0.5)  # the edit now holds its procedure and waits for the check row
            # What the stored candidacy's foreign key check does:
            refresh.execute(text("SELECT id FROM procedure_type WHERE id = :id FOR KEY SHARE"), {"id": procedure_id})
        editor.join(10)
        assert outcome == {"edit": "saved"}
        db.session.remove()
        db.engine.dispose()

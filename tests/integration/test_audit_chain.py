"""The audit trail's hash chain: `flask audit verify` finds a row changed behind the app's back,
concurrent writers keep the chain whole, and SQLite's REPLACE cannot rewrite a row."""

from __future__ import annotations

import sqlite3
import threading

import flask_migrate
import pytest
from sqlalchemy import JSON, Integer, String, column, insert, table, text

from backoffice.audit.chain import GENESIS, rechain, row_hash
from backoffice.audit.models import AuditEvent
from backoffice.core.db import UTCDateTime
from backoffice.core.extensions import db
from backoffice.core.timefmt import format_datetime
from backoffice.patients import services as patients
from tests.conftest import make_app

from .helpers import NOW, actor_for, audit_rows, make_user, patient_data


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _behind_the_apps_back(app, statement: str) -> None:
    """Run SQL on audit_event as the tables' owner, the append-only triggers out of the way."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
            connection.execute(text(statement))
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
            connection.execute(text(statement))
        db.session.remove()


def _some_history(app) -> list[int]:
    """An account created, a patient registered and opened: four audit rows, ids 1 to 4."""
    with app.app_context():
        actor = actor_for(make_user())
        patient = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
        patients.open_patient_record(patient.id, by=actor)
        patients.open_patient_record(patient.id, by=actor)
        ids = [row.id for row in audit_rows()]
        db.session.remove()
    assert ids == [1, 2, 3, 4]
    return ids


def test_each_audit_row_carries_the_hash_of_the_row_before(app):
    _some_history(app)
    with app.app_context():
        rows = audit_rows()
        assert rows[0].prev_hash == GENESIS
        assert [row.prev_hash for row in rows[1:]] == [row.row_hash for row in rows[:-1]]
        content = {c.name: getattr(rows[2], c.name) for c in rows[2].__table__.columns
                   if c.name not in {"id", "prev_hash", "row_hash"}}
        assert rows[2].row_hash == row_hash(rows[1].row_hash, content)

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "4 audit rows checked: chain intact." in result.output
    assert f"Last row 4, hash {rows[-1].row_hash}" in result.output


def test_verify_says_an_empty_trail_is_intact(app):
    result = _verify(app)
    assert result.exit_code == 0
    assert "0 audit rows checked: chain intact." in result.output


@pytest.mark.parametrize(("tampering", "named", "reason"), [
    ("UPDATE audit_event SET summary = 'MRN 0000000' WHERE id = 3", 3, "its content does not match its hash"),
    ("UPDATE audit_event SET at = at - INTERVAL '1 day' WHERE id = 3", 3, "its content does not match its hash"),
    ("DELETE FROM audit_event WHERE id = 2", 3, "does not follow row 1"),
    ("UPDATE audit_event SET row_hash = prev_hash WHERE id = 2", 2, "its content does not match its hash"),
])
def test_verify_names_the_first_row_that_was_changed_behind_the_apps_back(app, tampering, named, reason):
    _some_history(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            tampering = tampering.replace("at - INTERVAL '1 day'", "strftime('%Y-%m-%d %H:%M:%f', at, '-1 day')")
        db.session.remove()

    _behind_the_apps_back(app, tampering)

    result = _verify(app)
    assert result.exit_code == 1
    with app.app_context():
        at = audit_rows(id=named)[0].at
    assert f"Audit row {named} ({format_datetime(at, 'America/New_York')}) does not match" in result.output
    assert reason in result.output
    assert f"{named - 1 if 'DELETE' in tampering else named} audit rows checked." in result.output


def test_verify_names_a_row_whose_hash_was_made_to_match_its_new_content(app):
    _some_history(app)
    with app.app_context():
        forged = audit_rows(id=2)[0]
        content = {c.name: getattr(forged, c.name) for c in forged.__table__.columns
                   if c.name not in {"id", "prev_hash", "row_hash"}}
        content["summary"] = "nothing to see"
        new_hash = row_hash(forged.prev_hash, content)
        db.session.remove()

    _behind_the_apps_back(app, f"UPDATE audit_event SET summary = 'nothing to see', row_hash = '{new_hash}' "
                               "WHERE id = 2")

    result = _verify(app)
    assert result.exit_code == 1
    assert "Audit row 3 (" in result.output and "does not follow row 2" in result.output


def _anchor(app) -> str:
    """The --anchor an intact run prints for its last row."""
    output = _verify(app).output
    return output.split("--anchor ")[1].split()[0]


def test_an_anchor_from_an_earlier_run_finds_a_chain_rewritten_from_a_row_on(app):
    _some_history(app)
    anchor = _anchor(app)
    with app.app_context(), db.engine.begin() as connection:  # the owner, every later hash redone
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("UPDATE audit_event SET summary = 'nothing to see' WHERE id = 2"))
        rechain(connection, AuditEvent.__table__)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))

    assert _verify(app).exit_code == 0  # consistent again: only the recorded head tells
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1
    assert "Audit row 4 (" in result.output and "not the one recorded earlier" in result.output


def test_an_anchor_from_an_earlier_run_finds_a_trail_cut_short(app):
    _some_history(app)
    anchor = _anchor(app)
    _behind_the_apps_back(app, "DELETE FROM audit_event WHERE id >= 3")

    assert _verify(app).exit_code == 0
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", anchor])
    assert result.exit_code == 1
    assert "Audit row 4 does not match the chain: the row recorded earlier is gone" in result.output
    assert app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", "4:abc"]).exit_code == 2


def test_concurrent_writers_leave_an_intact_chain(app):
    with app.app_context():
        actors = [actor_for(make_user(f"writer{n}")) for n in range(6)]
        db.session.remove()
    start = threading.Barrier(len(actors))
    failures: list[BaseException] = []

    def write(actor) -> None:
        try:
            with app.app_context():
                start.wait()
                for _ in range(4):
                    patient = patients.create_patient(patient_data(), confirm_duplicate=True, by=actor, now=NOW)
                    patients.open_patient_record(patient.id, by=actor)
                db.session.remove()
        except BaseException as error:  # reported below, on the test's thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"{len(actors) + len(actors) * 4 * 2} audit rows checked: chain intact." in result.output


def test_sqlite_refuses_insert_or_replace_on_an_audit_id(sqlite_database):
    app = make_app(sqlite_database)
    _some_history(app)
    with app.app_context():
        before = audit_rows(id=1)[0]
        original = (before.action, before.entity_type, before.row_hash)
        db.session.remove()
        db.engine.dispose()

    connection = sqlite3.connect(sqlite_database.removeprefix("sqlite:///"))
    for verb in ("INSERT OR REPLACE", "REPLACE"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute(
                f"{verb} INTO audit_event (id, at, username, action, entity_type, summary, prev_hash, "
                "row_hash) VALUES (1, '2026-11-24 14:00:00.000000', 'mallory', 'login', 'staff_user', '', "
                f"'{GENESIS}', '{GENESIS}')")
    connection.commit()
    connection.close()
    with app.app_context():
        after = audit_rows(id=1)[0]
        assert (after.action, after.entity_type, after.row_hash) == original
    assert _verify(app).exit_code == 0


def test_the_migration_chains_the_rows_already_in_the_trail(database_url):
    app = make_app(database_url)
    with app.app_context():
        flask_migrate.downgrade(revision="0018")
        before_the_chain = table("audit_event", column("at", UTCDateTime()), column("user_id", Integer()),
                                 column("username", String()), column("action", String()),
                                 column("entity_type", String()), column("entity_id", Integer()),
                                 column("summary", String()), column("changes", JSON()))
        with db.engine.begin() as connection:
            connection.execute(insert(before_the_chain), [
                {"at": NOW, "user_id": 1, "username": "admin", "action": "update", "entity_type": "office",
                 "entity_id": 1, "summary": f"change {n}", "changes": {"name": ["Annapolis", "Severn"]}}
                for n in range(3)])
        flask_migrate.upgrade()
        rows = audit_rows()
        assert [row.summary for row in rows] == ["change 0", "change 1", "change 2"]
        assert rows[0].prev_hash == GENESIS
        assert [row.prev_hash for row in rows[1:]] == [row.row_hash for row in rows[:-1]]
        db.session.remove()
        db.engine.dispose()

    with app.app_context():
        patients.open_patient_record(
            patients.create_patient(patient_data(), confirm_duplicate=False, by=actor_for(make_user()),
                                    now=NOW).id, by=actor_for(make_user("another")))
        db.session.remove()
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "7 audit rows checked: chain intact." in result.output


def test_the_demo_practice_leaves_an_intact_chain_of_many_rows_written_a_flush_at_a_time(app, demo):
    with app.app_context():
        written = len(audit_rows())
    assert written > 100
    assert f"{written:,} audit rows checked: chain intact." in _verify(app).output

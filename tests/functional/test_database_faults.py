"""The app survives its database: dropped connections are replaced before a request uses them, and
an error page never needs the database to tell the user what happened."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, make_url, text

from backoffice.extensions import db
from tests.conftest import make_app, sign_in

ERROR_TITLE = "Something went wrong on our side"


def break_database(app: Flask) -> None:
    """Every pooled connection closed and every new one refused, as when the server is down."""
    with app.app_context():
        engine = db.engine
        engine.dispose()

        @event.listens_for(engine, "do_connect")
        def refuse(*_: Any) -> None:
            raise engine.dialect.loaded_dbapi.OperationalError("connection refused (test)")


def test_a_signed_in_page_whose_database_is_down_gets_the_apps_own_error_page(signed_in):
    client = signed_in("nurse")
    break_database(client.application)
    response = client.get("/")   # loading the signed-in user is the request's first query
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert ERROR_TITLE in page and "Chesapeake Pain" in page
    assert "Sign out" not in page   # no menu: it would have needed the user the database could not give


def test_a_view_that_fails_after_a_rollback_gets_the_error_page_without_reading_the_user_again(app, signed_in):
    @app.get("/test-fails-after-rollback")
    def fails_after_rollback() -> str:
        db.session.rollback()   # as a failed service does: the signed-in user's columns are expired
        break_database(app)
        raise RuntimeError("forced failure")
    fails_after_rollback.access = "signed in"  # type: ignore[attr-defined]

    response = signed_in("nurse").get("/test-fails-after-rollback")
    assert response.status_code == 500
    assert ERROR_TITLE in response.get_data(as_text=True)


def test_an_error_page_keeps_the_menu_of_the_user_the_request_already_loaded(signed_in):
    response = signed_in("nurse").get("/admin/users")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not available to your role" in page
    assert 'href="/patients"' in page and "Sign out" in page and "Nurse" in page
    assert "Staff accounts" not in page


def test_an_unknown_address_answers_without_a_query(signed_in):
    from tests.conftest import QueryCounter

    client = signed_in("nurse")
    with QueryCounter(client.application) as queries:
        response = client.get("/no/such/page")
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)
    assert queries.count == 0


# PostgreSQL: the server ends the app's sessions (a restart, a failover, an administrator).

def named_url(url: str, name: str) -> str:
    """The same database, with connections that show `name` in pg_stat_activity."""
    return make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def terminate_backends(url: str, name_pattern: str) -> set[int]:
    """End every session whose application name matches, waiting until each has ended. The test
    role owns those sessions, which is all PostgreSQL asks of a role that is not a superuser."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid, pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
            "WHERE application_name LIKE %s AND pid <> pg_backend_pid()", (name_pattern,)).fetchall()
    assert rows and all(ended for _, ended in rows), rows
    return {pid for pid, _ in rows}


def backends(url: str, name_pattern: str) -> dict[int, str]:
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        rows = connection.execute("SELECT pid, application_name FROM pg_stat_activity "
                                  "WHERE application_name LIKE %s", (name_pattern,)).fetchall()
    return dict(rows)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_pages_answer_after_postgresql_ends_every_pooled_connection(database_url, demo):
    name = f"fault-test-{uuid.uuid4().hex[:8]}"
    app = make_app(named_url(database_url, name))
    client = app.test_client()
    assert sign_in(client, "scheduler").status_code == 302
    with app.app_context():   # several connections in the pool, as after a busy minute
        held = [db.engine.connect() for _ in range(3)]
        for connection in held:
            connection.execute(text("SELECT 1"))
        for connection in held:
            connection.close()
    assert len(backends(database_url, name)) == 3

    ended = terminate_backends(database_url, name)

    for path in ("/", "/patients?q=a", "/appointments/new", "/"):
        assert client.get(path).status_code == 200, path
    assert not ended & set(backends(database_url, name))
    with app.app_context():
        db.engine.dispose()

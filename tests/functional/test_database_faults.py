"""The app survives its database: dropped connections are replaced before a request uses them, and
an error page never needs the database to tell the user what happened."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, make_url, text

from backoffice.config import PROJECT_ROOT
from backoffice.core.extensions import db
from tests.conftest import DEMO_PASSWORDS, QueryCounter, make_app, sign_in

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


WORKERS = 3
GUNICORN_HOOKS = '''
import os
import runpy

globals().update({key: value for key, value in runpy.run_path(PRODUCTION).items() if not key.startswith("__")})
# The app is loaded once, before the workers fork, to start in bounded time on a busy machine; no
# connection is opened before the fork, so each worker still has a pool of its own.
preload_app = True


def post_fork(server, worker):
    # libpq names each worker's connections, so the test can see which workers connected.
    os.environ["PGAPPNAME"] = f"fault-worker-{os.getpid()}"
'''


class Gunicorn:
    """The production server with its own settings (gunicorn.conf.py), on a free loopback port."""

    def __init__(self, database_url: str, folder: Any) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        settings = Path(folder) / "gunicorn_test.conf.py"
        self.log = Path(folder) / "gunicorn.log"
        self.log_file = self.log.open("wb")
        settings.write_text(GUNICORN_HOOKS.replace("PRODUCTION", repr(str(PROJECT_ROOT / "gunicorn.conf.py"))))
        environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "fault-test-only",
                       "BACKOFFICE_ENV": "development", "BACKOFFICE_INSTANCE_PATH": str(folder),
                       "LOG_LEVEL": "WARNING", "LOGIN_RATE_LIMIT": "1000 per minute",
                       "WEB_CONCURRENCY": str(WORKERS), "BIND": f"127.0.0.1:{self.port}"}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(settings), "--access-logfile", "/dev/null",
             "--chdir", str(PROJECT_ROOT), "backoffice:create_app()"],
            env=environment, stdout=subprocess.DEVNULL, stderr=self.log_file)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        """Stops the server and returns what it logged."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()
        return self.log.read_text(errors="replace")


class Browser:
    """A signed-in user's cookies, shared by a few threads sending requests at once."""

    def __init__(self, base: str, username: str, deadline: float) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        while True:   # until the server listens
            try:
                login = self.opener.open(f"{base}/login", timeout=10).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
        assert token, "no CSRF token on the sign-in page"
        form = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username,
                                       "password": DEMO_PASSWORDS[username]}).encode()
        signed_in = self.opener.open(f"{base}/login", data=form, timeout=30)
        assert signed_in.status == 200 and "/login" not in signed_in.url, "sign-in failed"

    def status(self, path: str) -> int:
        try:
            with self.opener.open(self.base + path, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as answer:
            return int(answer.code)

    def burst(self, paths: list[str]) -> list[int]:
        """The pages requested at once, so that idle workers take some of them."""
        with ThreadPoolExecutor(len(paths)) as pool:
            return list(pool.map(self.status, paths))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_gunicorn_worker_answers_after_postgresql_ends_its_connections(database_url, demo, tmp_path):
    deadline = time.monotonic() + 180   # the whole test, start to stop, on a busy machine
    pages = ["/", "/patients?q=a", "/appointments/new", "/"] * 2
    server = Gunicorn(database_url, tmp_path)
    try:
        browser = Browser(server.base, "scheduler", deadline)
        while len(set(backends(database_url, "fault-worker-%").values())) < WORKERS:   # each worker connected
            assert time.monotonic() < deadline, "not every worker took a request"
            assert set(browser.burst(pages)) == {200}

        ended = terminate_backends(database_url, "fault-worker-%")

        statuses: list[int] = []
        reconnected: set[str] = set()
        while len(reconnected) < WORKERS:   # until every worker has served a page since
            assert time.monotonic() < deadline, f"only {len(reconnected)} workers answered since"
            statuses += browser.burst(pages)
            reconnected = {name for pid, name in backends(database_url, "fault-worker-%").items()
                           if pid not in ended}
        assert set(statuses) == {200}, statuses
    finally:
        errors = server.stop()
    assert "Traceback" not in errors, errors

"""Concurrent booking under load: gunicorn workers on PostgreSQL, many schedulers booking at once.

    .venv/bin/python -m bench.load --database-url postgresql+psycopg://... [--clients 20] [--seconds 30]

Fills the (empty) database with the one-year practice, starts gunicorn with several workers, and
lets each client sign in and then book, as fast as the server answers, one of the free times next
available offered before the run (common procedures, every physician, the coming four weeks) for
a random patient. The clients race each other for the same times, and a patient's own bookings and
limits refuse some; the server must answer each attempt with a page (booked: 302; refused: 400 or
409), never with a 5xx. Afterwards a SQL check looks for any two
active appointments that overlap in a room (with its turnover), for a physician or for a patient,
and the audit trail's hash chain, appended to by every worker at once, is verified.
Prints throughput and latency, writes bench/load.md, and exits 1 on any 5xx, double booking or
break in the audit chain.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import cast

import flask_migrate
from sqlalchemy import Table, select, text

from backoffice import create_app
from backoffice.audit import chain
from backoffice.audit.models import AuditEvent
from backoffice.catalog.models import ProcedureType
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.demo import ACCOUNTS
from backoffice.patients.models import Patient
from backoffice.practice.models import Physician
from backoffice.scheduling import availability as scheduling
from backoffice.scheduling.rules import ACTIVE_STATUSES, Limits
from bench.generate import SMALL, generate

HERE = Path(__file__).parent
CODES = ("MBB", "TFESI", "ILESI", "FJI", "SIJ", "TPI", "NEW", "FOLLOW-UP")
PASSWORD = {account.username: account.password for account in ACCOUNTS}["scheduler"]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
ACTIVE = "(" + ", ".join(f"'{status}'" for status in sorted(ACTIVE_STATUSES)) + ")"
OVERLAPS = {
    "room": f"""SELECT count(*) FROM appointment a JOIN appointment b ON a.id < b.id AND a.room_id = b.room_id
                AND a.starts_at < b.blocked_until AND b.starts_at < a.blocked_until
                WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}""",
    "physician": f"""SELECT count(*) FROM appointment a JOIN appointment b ON a.id < b.id
                     AND a.physician_id = b.physician_id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
                     WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}""",
    "patient": f"""SELECT count(*) FROM appointment a JOIN appointment b ON a.id < b.id
                   AND a.patient_id = b.patient_id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
                   WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}""",
}


@dataclass(frozen=True)
class Choices:
    slots: list[dict[str, str]]   # free times as next available found them before the run
    mrns: list[str]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds * 1000)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def _prepare(url: str) -> Choices:
    """The one-year practice, and the free times next available offers for its common procedures
    over the next four weeks: the clients race each other for these."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        flask_migrate.upgrade()
        if db.session.scalar(text("SELECT count(*) FROM patient")) == 0:
            generate(SMALL, now=utcnow())
        now = utcnow()
        slots = []
        for procedure in db.session.scalars(select(ProcedureType).where(ProcedureType.code.in_(CODES))):
            for physician in db.session.scalars(select(Physician.id).where(Physician.active.is_(True))):
                for slot in scheduling.find_next_available(procedure.id, physician_id=physician, earliest=now,
                                                           now=now, limits=Limits(), count=40, days=28):
                    local = slot.local_start
                    slots.append({"procedure_type_id": str(procedure.id), "physician_id": str(physician),
                                  "office_id": str(slot.office.id), "room_id": str(slot.room.id),
                                  "date": local.date().isoformat(), "time": local.strftime("%H:%M"),
                                  "region": "lumbar" if procedure.asks_region else "",
                                  "side": "right" if procedure.asks_side else "",
                                  "levels_count": "1" if procedure.asks_levels else ""})
        mrns = list(db.session.scalars(select(Patient.mrn).limit(3000)))
        db.session.remove()
        db.engine.dispose()
    return Choices(slots, mrns)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "load-test-only", "BACKOFFICE_ENV": "development",
                   "LOGIN_RATE_LIMIT": "1000 per minute", "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": str(workers),
                   "BIND": f"127.0.0.1:{port}"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null",
                               "backoffice:create_app()"], env=environment, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def _token(page: str) -> str:
    found = CSRF.search(page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1) or found.group(2)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _client(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         _NoRedirect())
    login = opener.open(f"{base}/login").read().decode()
    form = urllib.parse.urlencode({"csrf_token": _token(login), "username": "scheduler", "password": PASSWORD})
    try:
        opener.open(f"{base}/login", data=form.encode())
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise
    booking = opener.open(f"{base}/appointments/new").read().decode()
    return opener, _token(booking)


def _attempt(choices: Choices, rng: random.Random) -> dict[str, str]:
    return {**rng.choice(choices.slots), "patient": rng.choice(choices.mrns)}


def _client_loop(base: str, choices: Choices, until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    opener, token = _client(base)
    while time.monotonic() < until:
        form = urllib.parse.urlencode({**_attempt(choices, rng), "csrf_token": token}).encode()
        started = time.perf_counter()
        try:
            with opener.open(f"{base}/appointments/new", data=form, timeout=60) as answer:
                status = answer.status
        except urllib.error.HTTPError as answer:
            status = answer.code
        except OSError:
            status = 599   # no answer at all counts as a server error
        tally.add(status, time.perf_counter() - started)


def _double_bookings(url: str) -> dict[str, int]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        found = {what: int(db.session.scalar(text(query)) or 0) for what, query in OVERLAPS.items()}
        db.session.remove()
        db.engine.dispose()
    return found


def _audit_chain(url: str) -> chain.ChainCheck:
    """The audit trail's hash chain after every worker appended to it at once."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "LOG_LEVEL": "WARNING"})
    with app.app_context(), db.engine.connect() as connection:
        check = chain.verify(connection, cast(Table, AuditEvent.__table__))
    with app.app_context():
        db.engine.dispose()
    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty (or earlier load-test) PostgreSQL database")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    arguments = parser.parse_args()
    choices = _prepare(arguments.database_url)
    port = _free_port()
    server = _start_gunicorn(arguments.database_url, port, arguments.workers)
    tally = Tally()
    try:
        until = time.monotonic() + arguments.seconds
        threads = [threading.Thread(target=_client_loop, args=(f"http://127.0.0.1:{port}", choices, until, tally, n))
                   for n in range(arguments.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    overlaps = _double_bookings(arguments.database_url)
    report(tally, elapsed, overlaps, _audit_chain(arguments.database_url), arguments)


def report(tally: Tally, elapsed: float, overlaps: dict[str, int], audit: chain.ChainCheck,
           arguments: argparse.Namespace) -> None:
    latencies = sorted(tally.latencies)
    errors = sum(count for status, count in tally.statuses.items() if status >= 500)
    booked = tally.statuses.get(302, 0)
    lines = [f"{arguments.clients} clients, {arguments.workers} gunicorn workers, PostgreSQL, {elapsed:.0f} s "
             f"(measured {date.today():%m/%d/%Y}):", "",
             "| requests | per second | booked | refused (400/409) | 5xx | median ms | p95 ms | double bookings |",
             "|---|---|---|---|---|---|---|---|",
             f"| {len(latencies)} | {len(latencies) / elapsed:.1f} | {booked} "
             f"| {tally.statuses.get(400, 0) + tally.statuses.get(409, 0)} | {errors} "
             f"| {statistics.median(latencies):.0f} | {latencies[max(0, int(len(latencies) * 0.95) - 1)]:.0f} "
             f"| room {overlaps['room']}, physician {overlaps['physician']}, patient {overlaps['patient']} |", "",
             f"Answers by status: {dict(sorted(tally.statuses.items()))}.",
             f"Targets: no 5xx ({'met' if errors == 0 else 'MISSED'}), no double booking "
             f"({'met' if not any(overlaps.values()) else 'MISSED'}), audit chain intact "
             f"({f'met, {audit.checked:,} rows' if audit.broken is None else f'MISSED at row {audit.broken.id}'})."]
    text_ = "\n".join(lines)
    print(text_)
    (HERE / "load.md").write_text(text_ + "\n")
    if errors or any(overlaps.values()) or booked == 0 or audit.broken is not None:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

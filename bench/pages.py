"""Server time of the key pages at two sizes of practice history: `make bench`.

    .venv/bin/python -m bench.pages [--repeats 30] [--rebuild] [--small-url URL --large-url URL]

Builds (or reuses, in bench/.data/) a database with one year of history and one with ten
(bench/generate.py), then requests each key page through the whole stack (routing, session and
sign-in check, queries, template, security headers) with Flask's test client: median and 95th
percentile over repeated requests, and the SQL statements the page sends. Absolute times depend on
the machine, so the targets are ratios: each page against the same page with ten times the history,
and against the floor, a minimal signed-in page (the home page) through the same stack.
Writes bench/results.md and bench/results.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from backoffice import create_app
from backoffice.catalog.models import ProcedureType
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.core.timefmt import practice_today
from backoffice.demo import ACCOUNTS, CLOSED_DAYS
from backoffice.patients.models import Patient
from backoffice.practice.models import Physician
from backoffice.scheduling.models import Appointment
from bench.generate import LARGE, SMALL, Scale, generate

HERE = Path(__file__).parent
DATA = HERE / ".data"
PASSWORDS = {account.username: account.password for account in ACCOUNTS}
FLOOR = "floor: home page"
MAX_QUERIES = 12
MAX_GROWTH = 1.5
FLOOR_LIMITS = {"calendar": 6.0, "board": 6.0, "worklist": 6.0, "next available": 10.0}


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    kind: str          # which floor-ratio target applies: calendar, board, worklist, next available, other
    url: str = ""
    post: Callable[[int], dict[str, str]] | None = None   # the form sent on the n-th request


@dataclass
class Measure:
    median_ms: float
    p95_ms: float
    queries: int


def _database(scale_name: str, scale: Scale, url: str | None, rebuild: bool, now: datetime) -> Flask:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"{scale_name}-{scale.years}y.sqlite3"
    target = url or f"sqlite:///{path}"
    if rebuild and url is None:
        path.unlink(missing_ok=True)
    fresh = url is not None or not path.exists()
    app = create_app({"SQLALCHEMY_DATABASE_URI": target, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "BACKOFFICE_INSTANCE_PATH": str(DATA), "LOG_LEVEL": "WARNING"})
    with app.app_context():
        flask_migrate.upgrade()  # a database built by an earlier revision gets the new tables
        if fresh:
            started = time.perf_counter()
            counts = generate(scale, now=now)
            print(f"{scale_name}: built in {time.perf_counter() - started:.0f} s: "
                  + ", ".join(f"{counts[t]:,} {t}" for t in ("patient", "appointment", "follow_up", "device")))
    return app


CLOSED = frozenset(day for day, _ in CLOSED_DAYS)


def _working_day(after: date) -> date:
    day = after
    while day.weekday() > 3 or day in CLOSED:   # Monday to Thursday: Dr. Reyes works those days
        day += timedelta(days=1)
    return day


def _pages(app: Flask) -> list[Page]:
    with app.app_context():
        today = practice_today(utcnow())
        day = _working_day(today).isoformat()
        reyes = db.session.scalars(select(Physician).where(Physician.last_name == "Reyes")).one()
        mbb = db.session.scalars(select(ProcedureType).where(ProcedureType.code == "MBB")).one()
        busiest = db.session.execute(select(Appointment.patient_id).group_by(Appointment.patient_id)
                                     .order_by(func.count().desc(), Appointment.patient_id).limit(1)).scalar_one()
        mrns = list(db.session.scalars(select(Patient.mrn).order_by(Patient.id).limit(200)))
        # Past everything booked so far (earlier runs' bookings included), so that every POST books.
        latest = db.session.scalar(select(func.max(Appointment.starts_at)))
        after = max(today + timedelta(days=500), (latest.date() if latest else today) + timedelta(days=7))
        first_monday = _working_day(after - timedelta(days=after.weekday()) + timedelta(days=7))
    mondays = [first_monday + timedelta(weeks=n) for n in range(200)]
    mondays = [m for m in mondays if m not in CLOSED]

    def booking(n: int) -> dict[str, str]:
        # Far enough ahead to be free, one Monday each, another patient each: every POST books.
        return {"patient": mrns[n % len(mrns)], "procedure_type_id": str(mbb.id),
                "physician_id": str(reyes.id), "office_id": "1", "room_id": "1",
                "date": mondays[n].isoformat(), "time": "09:00", "region": "lumbar", "side": "right",
                "levels_count": "1"}

    return [
        Page(FLOOR, "scheduler", "floor", "/"),
        Page("calendar day, Annapolis", "scheduler", "calendar", f"/offices/annapolis/calendar?date={day}"),
        Page("calendar day, Glen Burnie", "scheduler", "calendar", f"/offices/glen-burnie/calendar?date={day}"),
        Page("calendar week, Annapolis", "scheduler", "calendar",
             f"/offices/annapolis/calendar?date={day}&view=week"),
        Page("calendar week, Glen Burnie", "scheduler", "calendar",
             f"/offices/glen-burnie/calendar?date={day}&view=week"),
        Page("physician's day", "physician", "calendar", f"/physicians/{reyes.id}/day?date={day}"),
        Page("day board", "scheduler", "board", f"/offices/annapolis/board?date={day}"),
        Page("follow-ups", "nurse", "worklist", "/followups"),
        Page("candidates", "physician", "worklist", "/candidates?who=all"),
        Page("refills due", "nurse", "worklist", "/devices/refills"),
        Page("patient search", "scheduler", "other", "/patients?q=smi"),
        Page("patient timeline", "nurse", "other", f"/patients/{busiest}"),
        Page("next available", "scheduler", "next available", f"/availability?procedure_type_id={mbb.id}"),
        Page("booking (POST)", "scheduler", "other", "/appointments/new", post=booking),
    ]


def _client(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": role, "password": PASSWORDS[role]})
    assert response.status_code == 302, f"{role} could not sign in"
    return client


class Probe:
    """One page on one database: sends a request and times it, counting its SQL statements."""

    def __init__(self, app: Flask, page: Page, clients: dict[str, FlaskClient]) -> None:
        self.app, self.page = app, page
        if page.role not in clients:
            clients[page.role] = _client(app, page.role)
        self.client = clients[page.role]
        self.statements: list[str] = []
        self.timings: list[float] = []
        self.queries = 0
        self.sent = 0
        with app.app_context():
            self.engine = db.engine

    def _count(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self.statements.append(statement)

    def send(self, keep: bool) -> None:
        self.statements.clear()
        event.listen(self.engine, "before_cursor_execute", self._count)
        try:
            started = time.perf_counter()
            if self.page.post:
                response, expected = self.client.post(self.page.url, data=self.page.post(self.sent)), 302
            else:
                response, expected = self.client.get(self.page.url), 200
            elapsed = (time.perf_counter() - started) * 1000
        finally:
            event.remove(self.engine, "before_cursor_execute", self._count)
        self.sent += 1
        assert response.status_code == expected, (self.page.name, response.status_code,
                                                   response.get_data(as_text=True)[:2000])
        if keep:
            self.timings.append(elapsed)
            self.queries = len([s for s in self.statements if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))])

    def result(self) -> Measure:
        timings = sorted(self.timings)
        return Measure(statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], self.queries)


def run(apps: dict[str, Flask], repeats: int) -> tuple[dict[str, dict[str, Measure]], dict[str, str]]:
    """Each round sends one request to every page on both databases, the floor included, so that
    whatever else the machine does slows both sides of every ratio alike."""
    clients: dict[str, dict[str, FlaskClient]] = {name: {} for name in apps}
    pages = {name: _pages(app) for name, app in apps.items()}
    probes = {(name, page.name): Probe(apps[name], page, clients[name]) for name in apps for page in pages[name]}
    for _ in range(2):   # the first two rounds warm caches
        for probe in probes.values():
            probe.send(keep=False)
    gc.collect()
    gc.freeze()   # as gunicorn.conf.py does once a worker has loaded the app
    for _ in range(repeats):
        for probe in probes.values():
            probe.send(keep=True)
    results: dict[str, dict[str, Measure]] = {}
    for (scale_name, page_name), probe in probes.items():
        results.setdefault(page_name, {})[scale_name] = probe.result()
    for page_name, measured in results.items():
        print(f"  {page_name:<28} " + "  ".join(f"{scale} {m.median_ms:7.1f} ms" for scale, m in measured.items()))
    kinds = {page.name: page.kind for page in pages["small"]}
    return results, kinds


def verdicts(results: dict[str, dict[str, Measure]], kinds: dict[str, str]) -> list[dict[str, Any]]:
    floor = results[FLOOR]["large"].median_ms
    rows = []
    for name, measured in results.items():
        small, large = measured["small"], measured["large"]
        growth = large.median_ms / small.median_ms
        to_floor = large.median_ms / floor
        limit = FLOOR_LIMITS.get(kinds[name])
        checks = {"queries": large.queries <= MAX_QUERIES and large.queries == small.queries,
                  "growth": growth <= MAX_GROWTH,
                  "floor": limit is None or to_floor <= limit}
        rows.append({"page": name, "small": asdict(small), "large": asdict(large), "growth": round(growth, 2),
                     "to_floor": round(to_floor, 1), "floor_limit": limit, "met": all(checks.values()),
                     "checks": checks})
    return rows


def table(rows: list[dict[str, Any]], machine: str) -> str:
    lines = [f"Measured {machine}. Times are server times in ms (median / 95th percentile); "
             f"queries are the SQL statements one request sends.", "",
             "| page | 1 year | 10 years | queries (1y / 10y) | 10y / 1y | page / floor (limit) | targets |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        small, large = row["small"], row["large"]
        limit = f" (≤ {row['floor_limit']:g})" if row["floor_limit"] else ""
        missed = [name for name, ok in row["checks"].items() if not ok]
        lines.append(f"| {row['page']} | {small['median_ms']:.1f} / {small['p95_ms']:.1f} "
                     f"| {large['median_ms']:.1f} / {large['p95_ms']:.1f} | {small['queries']} / {large['queries']} "
                     f"| {row['growth']:.2f} | {row['to_floor']:.1f}{limit} "
                     f"| {'met' if row['met'] else 'MISSED: ' + ', '.join(missed)} |")
    met = sum(row["met"] for row in rows)
    lines += ["", f"Targets: at most {MAX_QUERIES} queries per page and the same at both sizes; 10 years / 1 year "
              f"at most {MAX_GROWTH}; page / floor at most {FLOOR_LIMITS['calendar']:g} for calendars, board and "
              f"worklists, at most {FLOOR_LIMITS['next available']:g} for "
              f"next available. {met} of {len(rows)} pages meet every target."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true", help="build the SQLite databases again")
    parser.add_argument("--small-url", help="an empty database for the 1-year practice (default: SQLite)")
    parser.add_argument("--large-url", help="an empty database for the 10-year practice (default: SQLite)")
    arguments = parser.parse_args()
    now = utcnow()
    apps = {"small": _database("small", SMALL, arguments.small_url, arguments.rebuild, now),
            "large": _database("large", LARGE, arguments.large_url, arguments.rebuild, now)}
    results, kinds = run(apps, arguments.repeats)
    rows = verdicts(results, kinds)
    engine = (arguments.large_url or "sqlite").split(":")[0].split("+")[0]
    machine = f"on {datetime.now():%m/%d/%Y} with {engine}, Flask's test client, {arguments.repeats} requests a page"
    text = table(rows, machine)
    print("\n" + text)
    (HERE / "results.md").write_text(text + "\n")
    (HERE / "results.json").write_text(json.dumps({"measured": machine, "pages": rows}, indent=2) + "\n")
    if not all(row["met"] for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

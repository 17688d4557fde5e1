"""Patient search at scale: server time of /patients?q=... with tens of thousands of patients.

    .venv/bin/python -m bench.patient_search [--patients 30000] [--database-url URL]

Fills a fresh database (a temporary SQLite file by default) with the demo practice and N
synthetic patients, then times the search page through the whole stack (routing, sign-in check,
query, template) with Flask's test client: median and 95th percentile over repeated requests,
the SQL statements each request issues, and the ratio to the home page as a floor.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import flask_migrate
from sqlalchemy import event, insert

from backoffice import create_app, demo
from backoffice.auth.sessions import auth_policy
from backoffice.db import utcnow
from backoffice.extensions import db
from backoffice.patients.models import Patient
from backoffice.patients.rules import mrn_from_number

QUERIES = {
    "last name prefix": "smi",
    "last, first": "smith, j",
    "first and last": "mary john",
    "date of birth": "03/14/1958",
    "phone prefix": "410-555-01",
    "MRN prefix": "10004",
}
REPEATS = 60


def fill(patient_count: int) -> None:
    now = utcnow()
    demo.load(patient_count=0, policy=auth_policy(), now=now)
    office_ids = [1, 2]
    rows = []
    for number, data in enumerate(demo.synthetic_patients(patient_count, office_ids)):
        rows.append({**data.columns(), "mrn": mrn_from_number(1_000_000 + number), "version": 1,
                     "created_at": now, "updated_at": now})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Patient), rows[start:start + 5000])
    db.session.commit()


def measure(request: Callable[[], object], statements: list[str]) -> tuple[float, float, int]:
    timings = []
    for _ in range(REPEATS):
        statements.clear()
        started = time.perf_counter()
        request()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=30_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "BACKOFFICE_INSTANCE_PATH": folder})
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        fill(args.patients)
        engine = url.split(":")[0]
        print(f"Loaded {args.patients} patients in {time.perf_counter() - started:.1f} s ({engine})")
        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: statements.append(statement))
    client = app.test_client()
    client.post("/login", data={"username": "scheduler", "password": "harbor-lighthouse-42"})
    floor, _, _ = measure(lambda: client.get("/"), statements)
    print("\n| search | median ms | p95 ms | SQL statements | median / home page |")
    print("|---|---|---|---|---|")
    print(f"| (home page, the floor) | {floor:.1f} | | | 1.0 |")
    for label, query in QUERIES.items():
        median, p95, count = measure(lambda q=query: client.get("/patients", query_string={"q": q}),
                                     statements)
        print(f"| {label} `{query}` | {median:.1f} | {p95:.1f} | {count} | {median / floor:.1f} |")


if __name__ == "__main__":
    main()

"""What SQLite's `synchronous = FULL` costs a booking, against `NORMAL`: `python -m bench.synchronous`.

    .venv/bin/python -m bench.synchronous [--repeats 150]

In WAL mode NORMAL syncs the log only at checkpoints, so a commit already confirmed to the user can
be lost on power loss; FULL syncs the log on every commit (what the app uses, `backoffice/db.py`).
Two copies of the 1-year practice (bench/.data/, built as `make bench` builds it), one app on
each, one with each setting; the booking POST of the page benchmark is sent to both in turn, so
that whatever else the machine does slows both alike. Prints median and 95th percentile per setting.
"""

from __future__ import annotations

import argparse
import shutil
from typing import Any

from flask import Flask
from sqlalchemy import event, text

from backoffice import create_app
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from bench.generate import SMALL
from bench.pages import DATA, Probe, _database, _pages


def _app_on_copy(setting: str) -> Flask:
    source = DATA / f"small-{SMALL.years}y.sqlite3"
    copy = DATA / f"synchronous-{setting.lower()}.sqlite3"
    for suffix in ("-wal", "-shm"):
        (DATA / (copy.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(source, copy)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "BACKOFFICE_INSTANCE_PATH": str(DATA), "LOG_LEVEL": "WARNING"})
    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _setting(dbapi_connection: Any, _record: Any) -> None:
            # Runs after the app's own listener: the last PRAGMA wins.
            dbapi_connection.execute(f"PRAGMA synchronous = {setting}")

        applied = db.session.execute(text("PRAGMA synchronous")).scalar()
        assert applied == {"NORMAL": 1, "FULL": 2}[setting], applied
        db.session.remove()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=150, help="bookings per setting (at most 190)")
    arguments = parser.parse_args()
    source = _database("small", SMALL, None, False, utcnow())   # built once, reused afterwards
    with source.app_context():
        db.engine.dispose()
    probes = {}
    for setting in ("NORMAL", "FULL"):
        app = _app_on_copy(setting)
        booking = next(page for page in _pages(app) if page.post)
        probes[setting] = Probe(app, booking, {})
    for _ in range(2):
        for probe in probes.values():
            probe.send(keep=False)
    for _ in range(arguments.repeats):
        for probe in probes.values():
            probe.send(keep=True)
    results = {setting: probe.result() for setting, probe in probes.items()}
    for setting, measure in results.items():
        print(f"booking (POST), synchronous = {setting:<6}: median {measure.median_ms:.1f} ms, "
              f"p95 {measure.p95_ms:.1f} ms, {measure.queries} statements")
    extra = results["FULL"].median_ms - results["NORMAL"].median_ms
    print(f"FULL costs {extra:+.1f} ms a booking at the median "
          f"({results['FULL'].median_ms / results['NORMAL'].median_ms:.2f} times NORMAL)")


if __name__ == "__main__":
    main()

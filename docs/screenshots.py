"""Screenshots of the key pages, populated with the demo practice, for the README.

    .venv/bin/python -m docs.screenshots [--out docs/screenshots] [--width 1366]

Builds a fresh SQLite database with `demo-data` (as `make run` does), serves it on a free local
port and drives the system Chromium (Debian package chromium, or CHROMIUM_PATH) with Playwright,
signed in as each role in turn. The pages are chosen from the data: the busiest coming day at
Annapolis, the patient with the longest course, the pump with the most refills.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import flask_migrate
from sqlalchemy import func, select
from werkzeug.serving import make_server

from backoffice import create_app, demo
from backoffice.auth.sessions import auth_policy
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.devices.models import Device, PumpRefill
from backoffice.history.models import OutsideProcedure
from backoffice.patients.models import Patient
from backoffice.practice.models import Office
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES
from tests.e2e.conftest import CHROMIUM_ARGS  # the browser as the tests drive it
from tests.e2e.test_sign_in import sign_in

PATIENTS = 300


@dataclass(frozen=True)
class Shot:
    name: str
    role: str
    url: str
    caption: str
    then: str | None = None  # a button to press before the picture (the conflict is a POST)


@dataclass(frozen=True)
class Picks:
    busy_day: date
    board_day: date
    taken: Appointment
    other_patient_mrn: str
    patient_id: int
    pump_id: int
    referred_id: int  # the patient with procedures done elsewhere


def _picks() -> Picks:
    annapolis = db.session.scalars(select(Office).where(Office.slug == "annapolis")).one()
    zone = ZoneInfo(annapolis.timezone)
    now = utcnow()
    upcoming = list(db.session.scalars(select(Appointment).where(
        Appointment.office_id == annapolis.id, Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at >= now, Appointment.starts_at < now + timedelta(days=14))))
    by_day: dict[date, list[Appointment]] = {}
    for appointment in upcoming:
        by_day.setdefault(appointment.starts_at.astimezone(zone).date(), []).append(appointment)
    busy_day = max(by_day, key=lambda day: len(by_day[day]))
    board_day = min(by_day)   # today, when the office is open
    taken = next(a for a in sorted(by_day[busy_day], key=lambda a: a.starts_at)
                 if a.procedure_type.asks_region and a.region)
    other = db.session.scalars(select(Patient).where(Patient.id != taken.patient_id).order_by(Patient.id)).first()
    assert other is not None
    longest = db.session.execute(select(FollowUp.patient_id).join(Outcome).group_by(FollowUp.patient_id)
                                 .order_by(func.count().desc(), FollowUp.patient_id).limit(1)).scalar_one()
    pump = db.session.execute(select(PumpRefill.device_id).join(Device).where(Device.status == "implanted")
                              .group_by(PumpRefill.device_id).order_by(func.count().desc()).limit(1)).scalar_one()
    referred = db.session.execute(select(OutsideProcedure.patient_id).group_by(OutsideProcedure.patient_id)
                                  .order_by(func.count().desc(), OutsideProcedure.patient_id).limit(1)).scalar_one()
    return Picks(busy_day, board_day, taken, other.mrn, longest, pump, referred)


def _shots(picks: Picks) -> list[Shot]:
    day = picks.busy_day.isoformat()
    taken = picks.taken
    local = taken.starts_at.astimezone(ZoneInfo(taken.office.timezone))
    conflict = urlencode({"patient": picks.other_patient_mrn, "procedure_type_id": taken.procedure_type_id,
                          "physician_id": taken.physician_id, "office_id": taken.office_id,
                          "room_id": taken.room_id, "date": day, "time": local.strftime("%H:%M"),
                          "region": taken.region or "", "side": taken.side or "", "levels_count": 1})
    return [
        Shot("calendar-day", "scheduler", f"/offices/annapolis/calendar?date={day}",
             "Office day calendar: rooms as columns, turnover hatched, + on free quarter hours"),
        Shot("calendar-week", "scheduler", f"/offices/glen-burnie/calendar?date={day}&view=week",
             "Office week calendar"),
        Shot("day-board", "scheduler", f"/offices/annapolis/board?date={picks.board_day.isoformat()}",
             "Day board: one-click moves that are possible now"),
        Shot("booking-conflict", "scheduler", f"/appointments/new?{conflict}",
             "Booking form with a conflict: what is in the way, and the next free times", then="Book"),
        Shot("next-available", "scheduler", f"/availability?procedure_type_id={taken.procedure_type_id}",
             "Next available: the first free times across both offices"),
        Shot("follow-ups", "nurse", "/followups", "Follow-up worklist: overdue, due today, upcoming"),
        Shot("candidates", "physician", "/candidates?who=all",
             "Candidates: repeat blocks, rhizotomy, SCS trial, each with the rule's evidence"),
        Shot("patient-timeline", "nurse", f"/patients/{picks.patient_id}",
             "Patient page: course chart, what the rules say, timeline"),
        Shot("decisions", "physician", "/followups/decisions?who=all",
             "Decisions: outcomes awaiting the physician's decision, with the evidence and one-click decisions"),
        Shot("scheduling-requests", "scheduler", "/scheduling-requests",
             "To schedule: the physicians' decisions as requests, with the earliest date the rules allow"),
        Shot("outside-procedures", "nurse", f"/patients/{picks.referred_id}",
             "A referred patient: procedures done elsewhere count for every limit and rule, marked outside"),
        Shot("devices", "nurse", "/devices", "Devices overview: SCS trials by state, pumps, replacements"),
        Shot("device", "nurse", f"/devices/{picks.pump_id}", "Intrathecal pump with its refill log"),
        Shot("refills-due", "nurse", "/devices/refills", "Pump refills overdue and due in the next 14 days"),
        Shot("audit-trail", "manager", "/audit", "Audit trail, filterable by person, action, record, patient"),
    ]


def _chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise SystemExit("Screenshots need Chromium (Debian package chromium) or CHROMIUM_PATH.")
    return path


def _capture(base_url: str, shots: list[Shot], out: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        pages: dict[str, Any] = {}
        for shot in shots:
            if shot.role not in pages:
                page = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900}).new_page()
                page.goto("/login")
                sign_in(page, shot.role)
                page.wait_for_load_state()
                pages[shot.role] = page
            page = pages[shot.role]
            page.goto(shot.url)
            if shot.then:
                page.get_by_role("button", name=shot.then, exact=True).click()
                page.wait_for_load_state()
            page.screenshot(path=out / f"{shot.name}.png")
            print(f"{shot.name}.png  {shot.role:<9} {shot.url}")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--width", type=int, default=1366)
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'screenshots.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "BACKOFFICE_ENV": "development"})
        with app.app_context():
            flask_migrate.upgrade()
            demo.load(patient_count=PATIENTS, policy=auth_policy(), now=utcnow())
            shots = _shots(_picks())
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            _capture(f"http://127.0.0.1:{server.server_port}", shots, arguments.out, arguments.width)
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()
    print(f"{len(shots)} screenshots in {arguments.out}/ ({datetime.now():%m/%d/%Y %H:%M})")


if __name__ == "__main__":
    main()

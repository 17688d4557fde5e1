"""The clinical worklists send the same few SQL statements whatever the practice's size.

A small practice is built through the services (medial branch blocks, an epidural, an SCS trial,
follow-ups open in every section), and each page is counted under QueryCounter as a nurse and as
a physician, with its filters. Then about 10,000 synthetic patients with two years of completed
procedures, follow-ups and outcomes are bulk-inserted (Core executemany), marked for the candidacy
rules to work out again as any bulk load must be, and the same pages must send exactly as many
statements, while showing the new rows. Each page is visited once before it is counted: the visit
after a change works out the candidacies of the patients it touched (see staleness.py), and the
count is of the visits after that.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select, text

from backoffice.auth.models import User
from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import parse_follow_ups
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.core.timefmt import practice_today
from backoffice.demo import CLOSED_DAYS
from backoffice.patients.models import Patient
from backoffice.patients.rules import mrn_from_number, name_key
from backoffice.practice.models import Physician, Room
from backoffice.procedures import candidacy
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.procedures.rules import ReliefUnit, relief_hours
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES
from tests.conftest import QueryCounter
from tests.integration.course_helpers import block_with_relief, book, done, follow_ups_of, record
from tests.integration.scheduling_helpers import patients

# The SQL queries each page sends, as measured on both engines, not counting the BEGIN that SQLite
# is sent explicitly: the signed-in user, the physician account, the worklist's own queries and
# the office choices. The follow-up worklist reads a count and its three sections; the candidate
# worklist checks for patients to work out again, reads the settings, then every section's page of
# stored candidacies with their patients, physicians, offices and counts in one statement. After
# a change to a patient's records it first works that patient out again: it locks the patient's
# check, reads their history (procedures, outcomes and evaluations in one statement, then their
# SCS trials on record, which keep the trials' results), the settings and the catalog, replaces
# the stored candidacies (a delete and an insert) and updates the check; the settings are then
# not read again. Each list then adds the audit row saying who saw it (the lists name patients):
# the head of the audit chain is read, then the row inserted.
FOLLOW_UP_QUERIES = 9
CANDIDATE_QUERIES = 8
# A physician's pages add one: the menu's count of the outcomes awaiting their decision.
MENU_COUNT = {"nurse": 0, "physician": 1}
CANDIDATE_QUERIES_AFTER_A_CHANGE = 14
SYNTHETIC_PATIENTS = 10_000
SYNTHETIC = "Synthetic"  # the last names of the bulk-inserted patients start so

FOLLOW_UP_SECTIONS = ("overdue", "today", "upcoming")
CANDIDATE_SECTIONS = ("rfa", "confirmatory", "repeat", "scs")
CLOSED = frozenset(day for day, _ in CLOSED_DAYS)


# The small practice, through the services.

@dataclass(frozen=True)
class SmallPractice:
    """Whom each worklist section lists (names as the pages print them)."""

    rfa: str            # two qualifying blocks by Dr. Reyes; their 6-hour diaries still open
    confirmatory: str   # one qualifying block, one at 70 %; 6-hour diaries open
    repeat: str         # an epidural four months ago with three months of relief
    scs: str            # an SCS trial a few days ago, its 7-day call upcoming
    due_today: str      # a procedure whose follow-up falls due today
    okafor: str         # a block by Dr. Okafor, follow-ups open: not on Dr. Reyes's own list
    office_id: int      # the office of the rhizotomy candidate's last block


def working_day(day: date, weekdays: tuple[int, ...]) -> date:
    """The latest day on or before `day` that falls on one of `weekdays` and is no holiday."""
    while day.weekday() not in weekdays or day in CLOSED:
        day -= timedelta(days=1)
    return day


REYES = (0, 1, 2, 3)   # Dr. Reyes works Monday to Thursday in the demo practice
OKAFOR = (0, 1, 3, 4)  # Dr. Okafor Monday, Tuesday, Thursday and Friday


def shown(patient: Patient) -> str:
    return str(escape(patient.sortable_name))


def done_for_today(today: date, patient: Patient) -> Appointment:
    """A procedure whose follow-up falls due today: one day, two weeks or 90 days after it,
    whichever of those days someone works (every weekday is covered)."""
    for code, days, where in (("MBB", 1, {}), ("ILESI", 14, {"side": None, "levels": None}),
                              ("REGEN", 90, {"levels": None})):
        day = today - timedelta(days=days)
        if day.weekday() < 5 and day not in CLOSED:
            appointment = done(code, day, patient=patient, doctor="Reyes" if day.weekday() in REYES else "Okafor",
                               **where)
            zone = ZoneInfo(appointment.office.timezone)
            assert today in {f.due_at.astimezone(zone).date() for f in follow_ups_of(appointment)}
            return appointment
    raise AssertionError(f"no working day leads to a follow-up due on {today}")


def small_practice(app: Flask) -> SmallPractice:
    with app.app_context():
        today = practice_today(utcnow())
        p = patients()
        block_with_relief(working_day(today - timedelta(days=60), REYES), 90, 5, patient=p[0])
        last_block = block_with_relief(working_day(today - timedelta(days=40), REYES), 85, 4, patient=p[0])
        block_with_relief(working_day(today - timedelta(days=55), REYES), 90, 5, patient=p[1])
        block_with_relief(working_day(today - timedelta(days=35), REYES), 70, 4, patient=p[1])
        epidural = done("ILESI", working_day(today - timedelta(days=120), REYES), patient=p[2], side=None,
                        levels=None)
        record(follow_ups_of(epidural)[0], 70, 3, ReliefUnit.MONTHS)
        trial_day = working_day(today - timedelta(days=1), REYES)
        assert trial_day >= today - timedelta(days=6)  # so that its 7-day call is due within the week
        done("SCS-TRIAL", trial_day, patient=p[3], region="thoracic", side=None, levels=None)
        done_for_today(today, p[4])
        done("MBB", working_day(today - timedelta(days=20), OKAFOR), patient=p[5], doctor="Okafor")
        practice = SmallPractice(shown(p[0]), shown(p[1]), shown(p[2]), shown(p[3]), shown(p[4]), shown(p[5]),
                                 last_block.office_id)
        db.session.remove()
    return practice


# About 10,000 more patients, bulk-inserted.

LANES = 5                      # (physician, room) pairs working side by side
SLOT = timedelta(hours=2)      # the longest procedure generated (SCS trial) holds its room 2 hours
FIRST_SLOT = time(5, 0)        # local; the last starts at 19:00, far enough from midnight for DST
SLOTS_PER_DAY = 8


class Calendar:
    """Hands out two-hour slots on past days, each in one lane (a physician in a room), never
    overlapping one another nor an active appointment already booked: PostgreSQL's exclusion
    constraints refuse overlaps per room (to blocked_until) and per physician (to ends_at)."""

    def __init__(self, lanes: list[tuple[int, int, int]], booked: list[Any], zone: ZoneInfo) -> None:
        self.lanes = lanes  # (physician_id, room_id, office_id)
        self.booked = booked
        self.zone = zone
        self.used: dict[date, int] = defaultdict(int)

    def _clashes(self, lane: tuple[int, int, int], starts: datetime) -> bool:
        physician_id, room_id, _ = lane
        ends = starts + SLOT
        return any((b.room_id == room_id and b.starts_at < ends and starts < b.blocked_until)
                   or (b.physician_id == physician_id and b.starts_at < ends and starts < b.ends_at)
                   for b in self.booked)

    def take(self, day: date) -> tuple[tuple[int, int, int], datetime]:
        first = datetime.combine(day, FIRST_SLOT, self.zone).astimezone(UTC)
        while self.used[day] < LANES * SLOTS_PER_DAY:
            number = self.used[day]
            self.used[day] += 1
            lane, starts = self.lanes[number % LANES], first + (number // LANES) * SLOT
            if not self._clashes(lane, starts):
                return lane, starts
        raise AssertionError(f"no slot left on {day}: spread the synthetic appointments more")


class SyntheticPractice:
    """Rows for the patient, appointment, follow_up and outcome tables, with explicit ids."""

    def __init__(self, today: date, now: datetime, zone: ZoneInfo) -> None:
        self.today, self.now, self.zone = today, now, zone
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in
                                                      ("patient", "appointment", "follow_up", "outcome")}
        tables = {"patient": Patient, "appointment": Appointment, "follow_up": FollowUp, "outcome": Outcome}
        self.next_id = {name: (db.session.scalar(select(func.max(model.id))) or 0) + 1
                        for name, model in tables.items()}
        self.users = {username: user_id for username, user_id in db.session.execute(select(User.username, User.id))}
        template = db.session.execute(select(Patient.__table__).order_by(Patient.id).limit(1)).mappings().one()
        self.template = {key: value for key, value in template.items() if key != "id"}
        self.procedures = {t.code: t for t in db.session.scalars(select(ProcedureType))}
        physicians = list(db.session.scalars(select(Physician.id).order_by(Physician.id)))
        rooms = db.session.execute(select(Room.id, Room.office_id).where(Room.fluoroscopy.is_(True))
                                   .order_by(Room.id)).all()
        assert len(physicians) >= LANES and len(rooms) >= LANES
        booked = db.session.execute(select(Appointment.room_id, Appointment.physician_id, Appointment.starts_at,
                                           Appointment.ends_at, Appointment.blocked_until)
                                    .where(Appointment.status.in_(ACTIVE_STATUSES))).all()
        self.calendar = Calendar([(physicians[n], rooms[n].id, rooms[n].office_id) for n in range(LANES)],
                                 booked, zone)

    def _id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table] - 1

    def _stamps(self, at: datetime, version: int = 1, by: str = "nurse") -> dict[str, Any]:
        return {"version": version, "created_at": at, "updated_at": at, "updated_by_id": self.users[by]}

    def patient(self, number: int) -> int:
        first_name, last_name = self.template["first_name"], f"{SYNTHETIC}{number:05d}"
        row = {**self.template, "id": self._id("patient"), "mrn": mrn_from_number(100_000 + number),
               "first_name": first_name, "last_name": last_name, "first_name_key": name_key(first_name),
               "last_name_key": name_key(last_name), **self._stamps(self.now, by="scheduler")}
        self.rows["patient"].append(row)
        return int(row["id"])

    def completed(self, patient_id: int, code: str, days_ago: int, region: str | None = "lumbar",
                  side: str | None = "right", levels: str | None = "L4-L5, L5-S1") -> dict[str, Any]:
        procedure = self.procedures[code]
        (physician_id, room_id, office_id), starts = self.calendar.take(self.today - timedelta(days=days_ago))
        ends = starts + timedelta(minutes=procedure.duration_minutes)
        row = {"id": self._id("appointment"), "patient_id": patient_id, "procedure_type_id": procedure.id,
               "physician_id": physician_id, "office_id": office_id, "room_id": room_id, "starts_at": starts,
               "ends_at": ends, "blocked_until": ends + timedelta(minutes=procedure.turnover_minutes),
               "region": region, "side": side, "levels_count": len(levels.split(",")) if levels else None,
               "levels": levels, "status": "completed", "status_changed_at": ends, "cancel_reason": None,
               "cancel_note": None, "replaces_id": None, "override_reason": None, "prior_auth_ref": None,
               "notes": None, "baseline_nrs": 7, "created_by_id": self.users["scheduler"],
               "version": 5, "created_at": starts - timedelta(days=7), "updated_at": ends,
               "updated_by_id": self.users["nurse"]}
        self.rows["appointment"].append(row)
        return row

    def follow_ups(self, appointment: dict[str, Any], code: str, *statuses: str) -> list[dict[str, Any]]:
        """The procedure's follow-ups, in order, with these statuses (open, done, closed)."""
        offsets = parse_follow_ups(self.procedures[code].follow_ups)
        assert len(offsets) == len(statuses)
        created = []
        for offset, status in zip(offsets, statuses, strict=True):
            due = appointment["ends_at"] + offset.delay
            row = {"id": self._id("follow_up"), "appointment_id": appointment["id"],
                   "patient_id": appointment["patient_id"], "physician_id": appointment["physician_id"],
                   "office_id": appointment["office_id"], "delay": str(offset), "due_at": due, "status": status,
                   "closed_reason": "Could not reach the patient" if status == "closed" else None,
                   **self._stamps(appointment["ends_at"], 1 if status == "open" else 2)}
            row["updated_at"] = due if status != "open" else appointment["ends_at"]
            self.rows["follow_up"].append(row)
            created.append(row)
        return created

    def outcome(self, follow_up: dict[str, Any], relief: int, amount: int, unit: ReliefUnit) -> None:
        assert follow_up["status"] == "done"
        recorded = follow_up["due_at"]
        assert recorded.astimezone(self.zone).date() <= self.today
        self.rows["outcome"].append({
            "id": self._id("outcome"), "follow_up_id": follow_up["id"], "appointment_id": follow_up["appointment_id"],
            "patient_id": follow_up["patient_id"], "recorded_on": recorded.astimezone(self.zone).date(),
            "contact": "phone", "baseline_nrs": 7, "post_nrs": None, "percent_relief": relief,
            "relief_amount": amount, "relief_unit": unit.value, "relief_hours": relief_hours(amount, unit),
            "relief_ongoing": False, "function_change": None, "odi_score": None, "complications": None,
            "decision": None, "notes": None, "recorded_by_id": self.users["nurse"], **self._stamps(recorded)})

    def block(self, patient_id: int, days_ago: int, relief: int, hours: int, *, diary: str) -> None:
        """A medial branch block: its 6-hour diary `diary` (open or closed), its next-day call done."""
        appointment = self.completed(patient_id, "MBB", days_ago)
        _, call = self.follow_ups(appointment, "MBB", diary, "done")
        self.outcome(call, relief, hours, ReliefUnit.HOURS)

    def add(self, number: int) -> None:
        """Patient `number`'s history; three in ten have none. Days are spread over two years so
        that no day needs more slots than the lanes have."""
        patient_id = self.patient(number)
        group, rank = number % 10, number // 10
        spread = rank * 7 % 600
        if group in (0, 1):  # rhizotomy candidates; the second block's diary still open (overdue)
            self.block(patient_id, 54 + spread, 90, 5, diary="closed")
            self.block(patient_id, 40 + spread, 85, 4, diary="open")
        elif group == 2:  # needs a confirmatory block
            self.block(patient_id, 52 + spread, 90, 5, diary="closed")
            self.block(patient_id, 38 + spread, 70, 4, diary="closed")
        elif group in (3, 4):  # repeat epidural eligible: 70 % relief for 3 months
            appointment = self.completed(patient_id, "ILESI", 30 + spread, side=None, levels=None)
            [call] = self.follow_ups(appointment, "ILESI", "done")
            self.outcome(call, 70, 3, ReliefUnit.MONTHS)
        elif group == 5:  # SCS trials awaiting a decision
            recent = rank < 150
            appointment = self.completed(patient_id, "SCS-TRIAL", 2 + rank % 5 if recent else 12 + spread,
                                         region="thoracic", side=None, levels=None)
            status = "open" if recent or rank % 2 == 0 else "done"  # recent ones are due in the coming days
            [call] = self.follow_ups(appointment, "SCS-TRIAL", status)
            if status == "done":
                self.outcome(call, 60, 2, ReliefUnit.WEEKS)
        elif group == 6:  # blocks without outcomes: yesterday's are due today, older ones closed
            recent = rank < 30
            appointment = self.completed(patient_id, "MBB", 1 if recent else 10 + spread)
            self.follow_ups(appointment, "MBB", *(("open", "open") if recent else ("closed", "closed")))


def add_synthetic_practice(app: Flask, count: int = SYNTHETIC_PATIENTS) -> dict[str, int]:
    """Insert `count` synthetic patients and their histories; return the rows added per table."""
    with app.app_context():
        now = utcnow()
        zone = ZoneInfo(app.config["PRACTICE_TIMEZONE"])
        practice = SyntheticPractice(practice_today(now), now, zone)
        for number in range(count):
            practice.add(number)
        for name, model in (("patient", Patient), ("appointment", Appointment), ("follow_up", FollowUp),
                            ("outcome", Outcome)):
            db.session.execute(model.__table__.insert(), practice.rows[name])
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                        f"(SELECT max(id) FROM \"{name}\"))"))
        db.session.commit()
        candidacy.mark_all_candidacies_stale()
        db.session.remove()
    return {name: len(rows) for name, rows in practice.rows.items()}


# Reading the pages.

def section(html: str, key: str) -> str:
    start = html.index(f'<section class="mb-4" aria-labelledby="{key}">')
    return html[start:html.index("</section>", start)]


def total(html: str, key: str) -> int:
    """The section's count, as its heading shows it: "Overdue (12)"."""
    match = re.search(rf'<h2 class="h5" id="{key}">[^<]*<span class="text-muted">\((\d+)\)</span>', html)
    assert match is not None, key
    return int(match.group(1))


def measured(app: Flask, client: FlaskClient, url: str) -> tuple[list[str], str]:
    """The SQL statements a GET sends (SQLite's explicit BEGIN left out) and the page, on the
    visit after a first one."""
    assert client.get(url).status_code == 200, url
    with QueryCounter(app) as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return [s for s in counter.statements if not s.startswith("BEGIN")], response.get_data(as_text=True)


Page = tuple[str, str, dict[str, tuple[str, ...]], tuple[str, ...]]  # role, URL, names listed per section, not shown


def queries_small_and_large(app: Flask, signed_in: Any, pages: list[Page],
                            sections: tuple[str, ...]) -> dict[tuple[str, str], tuple[int, int]]:
    """Count each page's queries with the small practice, checking the rows it lists and those it
    must not show; then with 10,000 patients more, checking that every section's total grew and
    that it shows synthetic patients. Return {(role, URL): (queries small, queries large)}."""
    clients = {role: signed_in(role) for role in dict.fromkeys(role for role, *_ in pages)}
    small: dict[tuple[str, str], tuple[list[str], dict[str, int]]] = {}
    for role, url, listed, not_shown in pages:
        statements, html = measured(app, clients[role], url)
        for key, names in listed.items():
            assert all(name in section(html, key) for name in names), (role, url, key, names)
        assert not any(name in html for name in not_shown), (role, url, not_shown)
        small[role, url] = statements, {key: total(html, key) for key in sections}

    added = add_synthetic_practice(app)
    assert added["patient"] == SYNTHETIC_PATIENTS and added["appointment"] > SYNTHETIC_PATIENTS // 2

    counts = {}
    for role, url, _, _ in pages:
        statements, html = measured(app, clients[role], url)
        before, totals = small[role, url]
        for key in sections:
            assert total(html, key) > totals[key], (role, url, key, totals[key])
            assert SYNTHETIC in section(html, key), (role, url, key)
        assert len(statements) == len(before), (role, url, before, statements)
        counts[role, url] = len(before), len(statements)
    return counts


def test_follow_up_worklist_sends_as_many_queries_for_ten_thousand_patients_as_for_a_few(app, signed_in):
    few = small_practice(app)
    everyone = {"overdue": (few.rfa, few.confirmatory, few.okafor), "today": (few.due_today,),
                "upcoming": (few.scs,)}
    pages: list[Page] = [
        ("nurse", "/followups", everyone, ()),
        ("nurse", "/followups?days=30", everyone, ()),
        ("nurse", f"/followups?office={few.office_id}", {"overdue": (few.rfa,)}, ()),
        ("physician", "/followups", {"overdue": (few.rfa, few.confirmatory), "upcoming": (few.scs,)}, (few.okafor,)),
        ("physician", "/followups?who=all", everyone, ()),
        ("physician", f"/followups?who=all&office={few.office_id}", {"overdue": (few.rfa,)}, ()),
    ]
    counts = queries_small_and_large(app, signed_in, pages, FOLLOW_UP_SECTIONS)
    assert all(large <= FOLLOW_UP_QUERIES + MENU_COUNT[role] for (role, _), (_, large) in counts.items()), counts


def test_candidate_worklist_sends_as_many_queries_for_ten_thousand_patients_as_for_a_few(app, signed_in):
    few = small_practice(app)
    everyone = {"rfa": (few.rfa,), "confirmatory": (few.confirmatory,), "repeat": (few.repeat,), "scs": (few.scs,)}
    pages: list[Page] = [
        ("nurse", "/candidates", everyone, ()),
        ("nurse", "/candidates?horizon=365", everyone, ()),
        ("nurse", f"/candidates?office={few.office_id}", {"rfa": (few.rfa,)}, ()),
        ("physician", "/candidates", everyone, ()),
        ("physician", "/candidates?who=all", everyone, ()),
        ("physician", f"/candidates?who=all&office={few.office_id}", {"rfa": (few.rfa,)}, ()),
    ]
    counts = queries_small_and_large(app, signed_in, pages, CANDIDATE_SECTIONS)
    assert all(measured == (CANDIDATE_QUERIES + MENU_COUNT[role],) * 2 for (role, _), measured in counts.items()), \
        counts

    nurse = signed_in("nurse")
    first, second = (nurse.get(f"/candidates?repeat_page={n}").get_data(as_text=True) for n in (1, 2))
    repeats = total(first, "repeat")
    assert repeats > 50 and f"1-25 of {repeats}." in first and f"26-50 of {repeats}." in second
    patient_links = re.compile(r"/patients/\d+")
    assert patient_links.findall(section(first, "repeat")) != patient_links.findall(section(second, "repeat"))
    assert patient_links.findall(section(first, "rfa")) == patient_links.findall(section(second, "rfa"))
    past_the_end = nurse.get(f"/candidates?repeat_page={repeats // 25 + 2}").get_data(as_text=True)
    assert f"the list has {repeats}." in past_the_end and "repeat_page=1" in section(past_the_end, "repeat")


def first_visit_after_a_booking(app: Flask, client: FlaskClient, patient_number: int) -> tuple[list[str], str]:
    """Book a block for the practice's `patient_number`th patient, then count the statements of
    the next visit to the candidates list, the one that works that patient out again."""
    with app.app_context():
        patient = db.session.scalars(select(Patient).order_by(Patient.id).offset(patient_number).limit(1)).one()
        book("MBB", practice_today(utcnow()) + timedelta(days=100 + 7 * patient_number), patient=patient)
        db.session.remove()
    with QueryCounter(app) as counter:
        response = client.get("/candidates")
    assert response.status_code == 200
    return [s for s in counter.statements if not s.startswith("BEGIN")], response.get_data(as_text=True)


def test_candidate_list_works_out_a_changed_patient_in_as_many_queries_for_ten_thousand_patients(app, signed_in):
    small_practice(app)
    nurse = signed_in("nurse")
    nurse.get("/candidates")
    small, _ = first_visit_after_a_booking(app, nurse, 0)
    assert sum(s.startswith("DELETE FROM stored_candidacy") for s in small) == 1, small  # it did work one out

    add_synthetic_practice(app)
    nurse.get("/candidates")  # works out the bulk-inserted patients
    large, html = first_visit_after_a_booking(app, nurse, 1)
    assert len(small) == len(large) <= CANDIDATE_QUERIES_AFTER_A_CHANGE, (small, large)
    assert SYNTHETIC in html

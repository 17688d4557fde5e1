"""The synthetic demo practice: two offices in Anne Arundel County, Maryland, their rooms,
physicians whose weeks span both offices, one account per role and a few hundred patients.

Every person here is made up (Faker, fixed seed); phone numbers are in the 555-01xx range
reserved for fiction and email addresses use the example.* domains. Loading is idempotent:
each thing is looked up by its natural key before it is created.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from faker import Faker
from faker.providers.person.en_US import Provider as PersonNames
from sqlalchemy import func, select

from backoffice.auth import services as accounts
from backoffice.auth.models import User
from backoffice.auth.policy import AuthPolicy
from backoffice.catalog.data import CATALOG
from backoffice.catalog.services import create_procedure_type, list_procedure_types
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.core.permissions import Role
from backoffice.core.phones import parse_phone
from backoffice.core.timefmt import practice_today
from backoffice.devices import demo as device_demo
from backoffice.devices.rules import DeviceSettings
from backoffice.insurance import demo as insurance_demo
from backoffice.patients import rules as patient_rules
from backoffice.patients.models import Patient
from backoffice.patients.services import PatientData, allocate_mrn, store_name_tokens
from backoffice.practice import services as practice
from backoffice.practice.models import Office, Physician
from backoffice.procedures import demo_courses
from backoffice.procedures.candidacy import mark_all_candidacies_stale
from backoffice.scheduling import demo_schedule

ACTOR = Actor.system("demo-data")
SEED = 2026


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: Role
    password: str


ACCOUNTS = (
    DemoAccount("scheduler", "Dana Whitaker", Role.SCHEDULER, "harbor-lighthouse-42"),
    DemoAccount("nurse", "Luis Ortega", Role.NURSE, "severn-river-sunrise"),
    DemoAccount("physician", "Elena Reyes", Role.PHYSICIAN, "chesapeake-crab-feast"),
    DemoAccount("manager", "Morgan Blake", Role.MANAGER, "bay-bridge-morning-42"),
    DemoAccount("admin", "Alex Kim", Role.ADMIN, "naval-academy-sailboat"),
)

OFFICES = (
    practice.OfficeData("Annapolis", "annapolis", "100 Harbor Point Drive, Suite 200", "Annapolis",
                        "MD", "21401", "+14105550100", "America/New_York"),
    practice.OfficeData("Glen Burnie", "glen-burnie", "250 Ritchie Plaza, Suite 3", "Glen Burnie",
                        "MD", "21061", "+14105550150", "America/New_York"),
)
OPENING_HOURS = {"annapolis": (time(7, 0), time(17, 0)), "glen-burnie": (time(7, 30), time(16, 30))}
CLOSED_DAYS = ((date(2026, 11, 26), "Thanksgiving Day"), (date(2026, 12, 25), "Christmas Day"),
               (date(2027, 1, 1), "New Year's Day"), (date(2027, 1, 18), "Martin Luther King Jr. Day"))
ROOMS = {
    "annapolis": (practice.RoomData("Procedure Room 1", True, False, True),
                  practice.RoomData("Procedure Room 2", True, False, True),
                  practice.RoomData("Implant Suite", True, True, True),
                  practice.RoomData("Exam Room A", False, False, False)),
    "glen-burnie": (practice.RoomData("Procedure Room 1", True, False, True),
                    practice.RoomData("Procedure Room 2", True, False, False),
                    practice.RoomData("Exam Room A", False, False, False)),
}

A, G = "annapolis", "glen-burnie"
MON, TUE, WED, THU, FRI = range(5)
# (first, last, credentials, demo account, [(office, weekday, from, to)])
PHYSICIANS = (
    ("Elena", "Reyes", "MD", "physician",
     [(A, MON, "07:30", "16:30"), (G, TUE, "08:00", "16:00"), (A, WED, "07:30", "16:30"),
      (A, THU, "07:30", "12:00"), (G, THU, "13:00", "16:00")]),
    ("Marcus", "Okafor", "DO", None,
     [(G, MON, "07:30", "16:30"), (A, TUE, "07:30", "16:30"), (G, THU, "07:30", "16:30"),
      (A, FRI, "07:30", "16:30")]),
    ("Priya", "Natarajan", "MD", None,
     [(G, MON, "08:00", "16:00"), (A, TUE, "08:00", "16:00"), (A, WED, "08:00", "16:00"),
      (A, FRI, "08:00", "16:00")]),
    ("Samuel", "Whitfield", "MD", None,
     [(G, MON, "08:00", "16:00"), (G, WED, "08:00", "16:00"), (A, THU, "08:00", "16:00"),
      (G, FRI, "08:00", "16:00")]),
    ("Hannah", "Kowalski", "DO", None,
     [(A, TUE, "07:30", "11:30"), (G, TUE, "12:30", "16:30"), (A, WED, "07:30", "16:30"),
      (A, THU, "07:30", "11:30"), (G, THU, "12:30", "16:30")]),
)
LEAVE = (("Whitfield", date(2026, 12, 21), date(2026, 12, 31), "Vacation"),)
RELATIONSHIPS = ("Spouse", "Daughter", "Son", "Sister", "Brother", "Partner", "Friend", "Parent")
TOWNS = (("Annapolis", "21401"), ("Annapolis", "21403"), ("Glen Burnie", "21061"),
         ("Pasadena", "21122"), ("Severna Park", "21146"), ("Arnold", "21012"),
         ("Millersville", "21108"), ("Odenton", "21113"), ("Edgewater", "21037"))


def has_accounts() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _load_offices(now: datetime) -> dict[str, Office]:
    offices = {office.slug: office for office in practice.list_offices()}
    for data in OFFICES:
        if data.slug in offices:
            continue
        office = practice.create_office(data, by=ACTOR, now=now)
        opens, closes = OPENING_HOURS[data.slug]
        practice.set_office_hours(office.id, {day: (opens, closes) if day < 5 else None
                                              for day in range(7)},
                                  expected_version=office.version, by=ACTOR, now=now)
        for day, reason in CLOSED_DAYS:
            practice.add_closure(office.id, day, reason, by=ACTOR)
        for room in ROOMS[data.slug]:
            practice.create_room(office.id, room, by=ACTOR, now=now)
        offices[data.slug] = office
    return offices


def _load_accounts(policy: AuthPolicy, now: datetime) -> dict[str, User]:
    users: dict[str, User] = {}
    for account in ACCOUNTS:
        existing = db.session.scalars(select(User).where(User.username == account.username)).first()
        if existing is None:
            data = accounts.AccountData(account.username, account.full_name, None,
                                        frozenset({account.role}))
            existing, _ = accounts.create_user(data, by=ACTOR, policy=policy, now=now,
                                               password=account.password)
        else:
            _restore_demo_password(existing, account.password, policy)
        users[account.username] = existing
    return users


def _restore_demo_password(user: User, password: str, policy: AuthPolicy) -> None:
    """So that the logins printed below always work, even after someone changed them."""
    if policy.verify(user.password_hash, password) and user.locked_at is None:
        return
    password_hash = policy.hash(password)
    with transaction(db.session, ACTOR):
        user.password_hash = password_hash
        user.failed_logins = 0
        user.locked_at = None
        user.active = True
        user.must_change_password = False


def _load_physicians(offices: dict[str, Office], users: dict[str, User], now: datetime) -> None:
    existing = {(p.first_name, p.last_name) for p in practice.list_physicians()}
    for first, last, credentials, username, blocks in PHYSICIANS:
        if (first, last) in existing:
            continue
        user_id = users[username].id if username else None
        physician = practice.create_physician(
            practice.PhysicianData(first, last, credentials, None, user_id), by=ACTOR, now=now)
        for office_slug, weekday, starts, ends in blocks:
            practice.add_schedule_block(physician.id, practice.ScheduleData(
                offices[office_slug].id, weekday, _hm(starts), _hm(ends), None, None), by=ACTOR)
        for last_name, first_day, last_day, reason in LEAVE:
            if last_name == last:
                practice.add_leave(physician.id, first_day, last_day, reason, by=ACTOR)


def synthetic_patients(count: int, office_ids: list[int]) -> list[PatientData]:
    """`count` made-up patients, the same ones every time. What the record gained later (sex,
    emergency contact, outside physicians, two-part surnames) comes from a second generator, so
    the names and details drawn before stay as they were."""
    fake, more = Faker("en_US"), Faker("en_US")
    fake.seed_instance(SEED)
    more.seed_instance(SEED + 1)
    patients = []
    for number in range(count):
        town, postal_code = TOWNS[number % len(TOWNS)]
        area_code = ("410", "443", "667")[number % 3]
        data = PatientData(
            first_name=fake.first_name(), last_name=fake.last_name(),
            date_of_birth=fake.date_of_birth(minimum_age=25, maximum_age=90),
            phone=parse_phone(f"{area_code}-555-01{number % 100:02d}"),
            email=fake.free_email().split("@")[0] + "@example.com" if number % 3 else None,
            address=fake.street_address(), city=town, state="MD", postal_code=postal_code,
            preferred_office_id=office_ids[number % len(office_ids)])
        fake.bothify("???#########")  # the member ID patients had before coverage: drawn, so the names after stay
        patients.append(replace(data, last_name=_two_part_surname(data.last_name, number, more),
                                **_record_details(data.first_name, number, more)))
    return patients


def _two_part_surname(last_name: str, number: int, fake: Faker) -> str:
    """One patient in ten carries a hyphenated or a two-word surname, as search must find by
    either word."""
    if number % 10 == 9:
        return f"{last_name}{'-' if number % 20 == 9 else ' '}{fake.last_name()}"
    return last_name


def sex_of(first_name: str, number: int) -> patient_rules.Sex:
    """The sex a given name suggests, Unknown for one patient in fifty (not asked, not given)."""
    if number % 50 == 49:
        return patient_rules.Sex.UNKNOWN
    female = first_name in PersonNames.first_names_female
    return patient_rules.Sex.FEMALE if female else patient_rules.Sex.MALE


def _outside_physician(fake: Faker, practice: str, area_code: str, number: int) -> tuple[str, str, str | None,
                                                                                       str | None]:
    """Name, practice, phone and fax of a made-up physician outside the practice."""
    return (f"Dr. {fake.first_name()} {fake.last_name()}", practice,
            parse_phone(f"{area_code}-555-01{number % 100:02d}"),
            parse_phone(f"{area_code}-555-01{(number + 1) % 100:02d}"))


def _record_details(first_name: str, number: int, fake: Faker) -> dict[str, Any]:
    """Sex for everyone, an emergency contact for three in four, a primary care physician for two
    in three, and a referring physician (the primary care one, or an orthopedic surgeon) for most."""
    town = TOWNS[number % len(TOWNS)][0]
    details: dict[str, Any] = {"sex": sex_of(first_name, number)}
    if number % 4:
        details |= {"emergency_contact_name": f"{fake.first_name()} {fake.last_name()}",
                    "emergency_contact_relationship": RELATIONSHIPS[number % len(RELATIONSHIPS)],
                    "emergency_contact_phone": parse_phone(f"410-555-01{(number * 7) % 100:02d}")}
    primary_care = _outside_physician(fake, f"{fake.last_name()} Family Medicine, {town}", "443", number * 3)
    surgeon = _outside_physician(fake, f"Chesapeake Orthopedics, {town}", "667", number * 11)
    if number % 3:
        details |= dict(zip(("primary_care_name", "primary_care_practice", "primary_care_phone",
                             "primary_care_fax"), primary_care, strict=True))
    if number % 5:
        referring = primary_care if number % 3 == 1 else surgeon
        details |= dict(zip(("referring_name", "referring_practice", "referring_phone", "referring_fax"),
                            referring, strict=True))
    return details


def _load_patients(count: int, offices: dict[str, Office], now: datetime) -> int:
    office_ids = [office.id for office in offices.values()]
    known = {(p.last_name_key, p.first_name_key, p.date_of_birth)
             for p in db.session.execute(select(Patient.last_name_key, Patient.first_name_key,
                                                Patient.date_of_birth))}
    added = 0
    with transaction(db.session, ACTOR):
        for data in synthetic_patients(count, office_ids):
            key = (patient_rules.name_key(data.last_name), patient_rules.name_key(data.first_name),
                   data.date_of_birth)
            if key in known:
                continue
            known.add(key)
            patient = Patient(mrn=allocate_mrn(), **data.columns(), created_at=now, updated_at=now)
            db.session.add(patient)
            store_name_tokens(patient, replacing=False)
            added += 1
    return added


def _load_catalog(now: datetime) -> None:
    known = {procedure.code for procedure in list_procedure_types()}
    for data in CATALOG:
        if data.code not in known:
            create_procedure_type(data, by=ACTOR, now=now)


def load(*, patient_count: int, policy: AuthPolicy, now: datetime, appointments: bool = True) -> str:
    offices = _load_offices(now)
    users = _load_accounts(policy, now)
    _load_physicians(offices, users, now)
    _load_catalog(now)
    added = _load_patients(patient_count, offices, now)
    covered = insurance_demo.load(now, practice_today(now))
    booked = demo_schedule.load(now) if appointments else 0
    followed = demo_courses.load(now) if appointments else 0
    if booked or followed:  # written as a bulk load is, without the services' events
        mark_all_candidacies_stale()
    implanted = device_demo.load(now, practice_today(now), DeviceSettings(), implants=appointments)
    physicians = db.session.scalar(select(func.count()).select_from(Physician))
    return (f"Demo practice ready: {len(offices)} offices, {physicians} physicians, "
            f"{len(CATALOG)} procedures, {added} new synthetic patients ({covered} new coverages), "
            f"{booked} new appointments, "
            f"{followed} new follow-ups, {implanted} new devices.")


def logins_text() -> str:
    lines = ["Demo sign-ins (synthetic data only):"]
    lines += [f"  {a.role.label:<10} {a.username:<10} {a.password}" for a in ACCOUNTS]
    return "\n".join(lines)

"""The demo practice's payers and its synthetic patients' coverage: most on Medicare Part B, some
with Medicaid or a Medigap plan as secondary, the others on Medicare Advantage, Medicaid, commercial
plans (a spouse's plan now and then), TRICARE, workers' compensation or self-pay; a few with the
employer plan they had before Medicare ended, or a new plan starting next month. Synthetic only:
made-up member IDs, group numbers and subscribers, 555 phone numbers; payer names as cards in
Maryland carry them. The benchmark's generator writes the same rows in bulk (`coverage_rows`)."""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from backoffice.auth.editing import stamps
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.extensions import db
from backoffice.core.phones import parse_phone
from backoffice.insurance.models import Coverage, Payer
from backoffice.insurance.payers import PayerData
from backoffice.insurance.rules import CoverageRank, PayerKind, Relationship, payer_key
from backoffice.patients.models import Patient

ACTOR = Actor.system("demo-data")

MEDICARE = "Medicare Part B"
ADVANTAGE = "Aetna Medicare Advantage PPO"
MEDICAID = "Maryland Medicaid (HealthChoice)"
CAREFIRST, AETNA, UNITED, CIGNA, EHP = ("CareFirst BlueCross BlueShield", "Aetna", "UnitedHealthcare", "Cigna",
                                        "Johns Hopkins EHP")
TRICARE, WORKERS, SELF_PAY = "TRICARE East", "Chesapeake Employers' Insurance", "Self-pay"

# (name, kind, the last two digits of its prior-authorization phone and fax, offered)
PAYERS: tuple[tuple[str, PayerKind, int | None, bool], ...] = (
    (MEDICARE, PayerKind.MEDICARE, 80, True),
    (ADVANTAGE, PayerKind.MEDICARE_ADVANTAGE, 82, True),
    (MEDICAID, PayerKind.MEDICAID, 84, True),
    (CAREFIRST, PayerKind.COMMERCIAL, 86, True),
    (AETNA, PayerKind.COMMERCIAL, 88, True),
    (UNITED, PayerKind.COMMERCIAL, 90, True),
    (CIGNA, PayerKind.COMMERCIAL, 92, True),
    (EHP, PayerKind.COMMERCIAL, 94, True),
    (TRICARE, PayerKind.OTHER, 96, True),
    (WORKERS, PayerKind.WORKERS_COMPENSATION, 98, True),
    (SELF_PAY, PayerKind.SELF_PAY, None, True),
    ("Chesapeake Community Health Plan", PayerKind.COMMERCIAL, 78, False),  # no longer billed
)
# The primary payer of patient number n is PRIMARY[n % len(PRIMARY)]: Medicare for about a third.
PRIMARY = (MEDICARE, CAREFIRST, MEDICARE, ADVANTAGE, AETNA, MEDICARE, MEDICAID, UNITED, MEDICARE, CIGNA, EHP,
           TRICARE, MEDICARE, WORKERS, SELF_PAY)
PLANS = {ADVANTAGE: "Medicare Eagle PPO", CAREFIRST: "BlueChoice HMO Open Access", AETNA: "Open Access Managed Choice",
         UNITED: "Choice Plus", CIGNA: "Open Access Plus", EHP: "EHP Choice", TRICARE: "TRICARE Select",
         MEDICAID: "HealthChoice"}
EMPLOYER_PLANS = (CAREFIRST, AETNA, UNITED, CIGNA)
# Letters a Medicare Beneficiary Identifier uses (no S, L, O, I, B or Z).
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def payer_data() -> list[PayerData]:
    return [PayerData(name, kind, parse_phone(f"410-555-01{digits}") if digits else None,
                      parse_phone(f"410-555-01{digits + 1}") if digits else None, active)
            for name, kind, digits, active in PAYERS]


def load_payers(now: datetime) -> dict[str, int]:
    """The demo payers the list lacks (by name, whatever the case), and every payer's id by name."""
    known = {payer.name_key: payer for payer in db.session.scalars(select(Payer))}
    with transaction(db.session, ACTOR):
        for data in payer_data():
            if payer_key(data.name) not in known:
                payer = Payer(**data.columns(), **stamps(ACTOR, now))
                db.session.add(payer)
                known[payer.name_key] = payer
    return {payer.name: payer.id for payer in known.values()}


def _mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier's shape (1EG4-TE5-MK73 without the dashes), made up."""
    alnum = MBI_LETTERS + string.digits
    pattern = ("123456789", MBI_LETTERS, alnum, string.digits, MBI_LETTERS, alnum, string.digits, MBI_LETTERS,
               MBI_LETTERS, string.digits, string.digits)
    return "".join(rng.choice(choices) for choices in pattern)


def _member_id(payer: str, rng: random.Random) -> str | None:
    if payer == SELF_PAY:
        return None
    if payer == MEDICARE:
        return _mbi(rng)
    if payer == MEDICAID:
        return "".join(rng.choice(string.digits) for _ in range(11))
    if payer == WORKERS:
        return f"WC{rng.randint(10**7, 10**8 - 1)}"
    prefix = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    return f"{prefix}{rng.randint(10**8, 10**9 - 1)}"


def _row(rank: CoverageRank, payer: str, payer_ids: Mapping[str, int], rng: random.Random, starts: date,
         ends: date | None = None, spouse: str | None = None) -> dict[str, Any]:
    group = f"{rng.randint(10**5, 10**6 - 1)}" if payer in EMPLOYER_PLANS or payer == EHP else None
    return {"rank": rank, "payer_id": payer_ids[payer], "plan_name": PLANS.get(payer),
            "member_id": _member_id(payer, rng), "group_number": group,
            "relationship_to_subscriber": Relationship.SPOUSE if spouse else Relationship.SELF,
            "subscriber_name": spouse, "effective_on": starts, "ends_on": ends}


def coverage_rows(number: int, last_name: str, today: date, payer_ids: Mapping[str, int]) -> list[dict[str, Any]]:
    """The coverage columns of synthetic patient `number` (the same every time), `patient_id` aside."""
    rng = random.Random(f"coverage-{number}")
    payer = PRIMARY[number % len(PRIMARY)]
    starts = date(today.year - 1 - number % 6, 1 + number % 12, 1)
    spouse = (f"{rng.choice(('Daniel', 'Patricia', 'James', 'Linda', 'Robert', 'Susan'))} {last_name}"
              if payer in EMPLOYER_PLANS and number % 7 == 3 else None)
    rows = [_row(CoverageRank.PRIMARY, payer, payer_ids, rng, starts, spouse=spouse)]
    if payer == MEDICARE and number % 4 == 0:
        rows.append(_row(CoverageRank.SECONDARY, MEDICAID, payer_ids, rng, starts))
    elif payer == MEDICARE and number % 4 == 2:
        rows.append({**_row(CoverageRank.SECONDARY, CAREFIRST, payer_ids, rng, starts), "plan_name": "Medigap Plan G"})
    if payer in (MEDICARE, ADVANTAGE) and number % 4 == 1:  # the employer plan they had before Medicare
        before = EMPLOYER_PLANS[number % len(EMPLOYER_PLANS)]
        rows.append(_row(CoverageRank.PRIMARY, before, payer_ids, rng, date(starts.year - 8, 1, 1),
                         starts - timedelta(days=1)))
    if payer in EMPLOYER_PLANS and number % 11 == 4:  # a new employer's plan from next month
        next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        rows[0]["ends_on"] = next_month - timedelta(days=1)
        after = EMPLOYER_PLANS[(EMPLOYER_PLANS.index(payer) + 1) % len(EMPLOYER_PLANS)]
        rows.append(_row(CoverageRank.PRIMARY, after, payer_ids, rng, next_month))
    return rows


def load(now: datetime, today: date) -> int:
    """The demo payers, then coverage for each patient who has none. How many coverages were added."""
    payer_ids = load_payers(now)
    covered = set(db.session.scalars(select(Coverage.patient_id).distinct()))
    patients = db.session.execute(select(Patient.id, Patient.last_name).order_by(Patient.id)).all()
    added = 0
    with transaction(db.session, ACTOR):
        for number, (patient_id, last_name) in enumerate(patients):
            if patient_id in covered:
                continue
            for row in coverage_rows(number, last_name, today, payer_ids):
                db.session.add(Coverage(patient_id=patient_id, **row, **stamps(ACTOR, now)))
                added += 1
    return added

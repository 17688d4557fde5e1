"""Patient actions. Each public function is one user action and one transaction."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, insert, or_, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from backoffice.audit.readings import record_reading
from backoffice.audit.trail import record_event
from backoffice.auth.editing import apply_edit, stamps
from backoffice.core.actor import Actor
from backoffice.core.db import get_one, transaction
from backoffice.core.errors import DomainError, NotFound
from backoffice.core.events import publish
from backoffice.core.extensions import db
from backoffice.core.permissions import Permission
from backoffice.core.phones import search_digits
from backoffice.patients import rules
from backoffice.patients.events import PatientChanged
from backoffice.patients.models import Patient, PatientNameToken


@dataclass(frozen=True)
class PatientData:
    first_name: str
    last_name: str
    date_of_birth: date
    phone: str | None
    email: str | None
    address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    preferred_office_id: int | None
    sex: rules.Sex | None = None
    emergency_contact_name: str | None = None
    emergency_contact_relationship: str | None = None
    emergency_contact_phone: str | None = None
    referring_name: str | None = None
    referring_practice: str | None = None
    referring_phone: str | None = None
    referring_fax: str | None = None
    primary_care_name: str | None = None
    primary_care_practice: str | None = None
    primary_care_phone: str | None = None
    primary_care_fax: str | None = None

    def columns(self) -> dict[str, Any]:
        """The stored columns, with the search keys derived from the names and phone."""
        values = asdict(self)
        values["first_name_key"] = rules.name_key(self.first_name)
        values["last_name_key"] = rules.name_key(self.last_name)
        values["phone_digits"] = search_digits(self.phone)
        return values


class PossibleDuplicate(DomainError):
    """A patient with the same name and date of birth exists; the user must confirm."""

    def __init__(self, matches: list[Patient]) -> None:
        super().__init__("A patient with this name and date of birth is already registered "
                         f"(MRN {', '.join(p.mrn for p in matches)}). Open that record, or tick "
                         "the box to register a different person with the same details.")
        self.matches = matches


def _may_see_patients(actor: Actor) -> bool:
    """Finding, opening and booking patients: clinical roles only (see README, Roles)."""
    return actor.can(Permission.MANAGE_PATIENTS)


def find_by_mrn(mrn: str, *, by: Actor, shown_on: str | None = None) -> Patient | None:
    """The patient with this MRN. `shown_on` names the page that shows who they are (the booking
    form): the finding is then audited as an opening of their record."""
    if not _may_see_patients(by) or not rules.is_valid_mrn(mrn):
        return None
    patient = db.session.scalars(select(Patient).where(Patient.mrn == mrn)).first()
    if patient is not None and shown_on is not None:
        record_reading(by, "patient", patient.id, patient_id=patient.id, office_id=patient.preferred_office_id,
                       subject=shown_on)
    return patient


def get_patient(patient_id: int, *, by: Actor, lock: bool = False) -> Patient:
    """A patient the actor may see; NotFound otherwise (whether or not the id exists)."""
    if not _may_see_patients(by):
        raise NotFound("patient", patient_id)
    return get_one(db.session, Patient, patient_id, entity="patient", lock=lock)


def open_patient_record(patient_id: int, *, by: Actor, page: str | None = None) -> Patient:
    """Opening a patient's page, or a form that shows the patient (`page` names it): the record,
    and an audit row saying who looked."""
    if not _may_see_patients(by):
        raise NotFound("patient", patient_id)
    with transaction(db.session, by):
        patient = db.session.scalars(select(Patient).where(Patient.id == patient_id)
                                     .options(joinedload(Patient.preferred_office))).one_or_none()
        if patient is None:
            raise NotFound("patient", patient_id)
        record_event(db.session, by, "view", "patient", patient.id, patient_id=patient.id,
                     office_id=patient.preferred_office_id, subject=page or "", details={"mrn": patient.mrn})
    return patient


def _prefix(column: InstrumentedAttribute[Any], prefix: str) -> ColumnElement[bool]:
    return and_(column >= prefix, column < rules.prefix_upper_bound(prefix))


def _has_name_word(prefix: str, part: rules.NamePart | None) -> ColumnElement[bool]:
    """The patient has a name token starting with `prefix` (in the given or family name)."""
    tokens = select(PatientNameToken.patient_id).where(_prefix(PatientNameToken.token, prefix))
    if part is not None:
        tokens = tokens.where(PatientNameToken.part == part)
    return Patient.id.in_(tokens)


def search_statement(terms: rules.SearchTerms, limit: int) -> Select[Patient]:
    """The patients `terms` find, first `limit` in name order."""
    conditions = [_has_name_word(name, part) for name, part in terms.name_parts()]
    if terms.date_of_birth is not None:
        conditions.append(Patient.date_of_birth == terms.date_of_birth)
    if terms.digits:
        conditions.append(or_(_prefix(Patient.mrn, terms.digits),
                              _prefix(Patient.phone_digits, terms.digits)))
    return (select(Patient).where(*conditions).options(joinedload(Patient.preferred_office))
            .order_by(Patient.last_name_key, Patient.first_name_key, Patient.date_of_birth)
            .limit(limit))


def search_patients(terms: rules.SearchTerms, *, by: Actor, limit: int = rules.MAX_RESULTS,
                    searched_on: str = "patient search") -> list[Patient]:
    """Prefix search on names, exact date of birth, MRN or phone prefix; every part must match.
    Each name typed must begin a word of the given or family name ("nguyen" finds O'Brien-Nguyen;
    in "last, first" the comma says which). Each condition is an index range scan (the names' on
    their tokens), so it stays fast on a large practice. Each search is audited: that it happened,
    on which page (`searched_on`) and how many it found, never what was typed (a name or a birth
    date is itself patient data)."""
    if terms.is_empty or not _may_see_patients(by):
        return []
    query = search_statement(terms, limit)
    found = list(db.session.scalars(query))
    record_reading(by, "patient", action="search",
                   subject=f"{searched_on}: {len(found)} found" + (" (the first shown)" if len(found) == limit else ""))
    return found


def find_same_person(first_name: str, last_name: str, date_of_birth: date,
                     exclude_id: int | None = None) -> list[Patient]:
    query = select(Patient).where(Patient.last_name_key == rules.name_key(last_name),
                                  Patient.first_name_key == rules.name_key(first_name),
                                  Patient.date_of_birth == date_of_birth)
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    return list(db.session.scalars(query))


def name_token_rows(patient_id: int, first_name: str, last_name: str) -> list[dict[str, Any]]:
    """The patient_name_token rows of a patient with these names (also for bulk loads)."""
    return [{"patient_id": patient_id, "part": part, "token": token}
            for part, token in rules.patient_name_tokens(first_name, last_name)]


def store_name_tokens(patient: Patient, *, replacing: bool) -> None:
    """Write the tokens the search finds `patient` by, in the caller's transaction; `replacing`
    removes those of the names the patient had."""
    db.session.flush()
    if replacing:
        db.session.execute(delete(PatientNameToken).where(PatientNameToken.patient_id == patient.id))
    rows = name_token_rows(patient.id, patient.first_name, patient.last_name)
    if rows:
        db.session.execute(insert(PatientNameToken), rows)


def allocate_mrn() -> str:
    """A new MRN no patient has."""
    while True:
        mrn = rules.mrn_from_number(1_000_000 + secrets.randbelow(9_000_000))
        if db.session.scalars(select(Patient.id).where(Patient.mrn == mrn)).first() is None:
            return mrn


def create_patient(data: PatientData, *, confirm_duplicate: bool, by: Actor,
                   now: datetime) -> Patient:
    """Register a patient with a new MRN. Raises PossibleDuplicate unless confirmed."""
    with transaction(db.session, by):
        matches = find_same_person(data.first_name, data.last_name, data.date_of_birth)
        if matches and not confirm_duplicate:
            raise PossibleDuplicate(matches)
        patient = Patient(mrn=allocate_mrn(), **data.columns(), **stamps(by, now))
        db.session.add(patient)
        store_name_tokens(patient, replacing=False)
    return patient


def update_patient(patient_id: int, data: PatientData, *, expected_version: int,
                   confirm_duplicate: bool, by: Actor, now: datetime) -> Patient:
    with transaction(db.session, by):
        patient = get_patient(patient_id, by=by, lock=True)
        names_changed = (data.first_name, data.last_name) != (patient.first_name, patient.last_name)
        identity_changed = (rules.name_key(data.first_name) != patient.first_name_key
                            or rules.name_key(data.last_name) != patient.last_name_key
                            or data.date_of_birth != patient.date_of_birth)
        if identity_changed and not confirm_duplicate:
            matches = find_same_person(data.first_name, data.last_name, data.date_of_birth,
                                       exclude_id=patient_id)
            if matches:
                raise PossibleDuplicate(matches)
        changed = apply_edit(db.session, patient, data.columns(), expected_version=expected_version,
                             by=by, now=now, what=f"The record of {patient.full_name}")
        if names_changed:
            store_name_tokens(patient, replacing=True)
        if changed:
            publish(PatientChanged(patient.id, changed, by=by, at=now))
    return patient

"""The payer list and a patient's coverage on both engines: one coverage of each rank at a time,
stale edits refused, every change audited with the patient, nothing written when refused."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import ConcurrentChange, FieldErrors, NotFound, Refused, StaleEdit
from backoffice.core.extensions import db
from backoffice.core.permissions import Role
from backoffice.insurance import coverage as coverages
from backoffice.insurance import payers
from backoffice.insurance.models import Coverage, Payer
from backoffice.insurance.rules import CoverageEntry, CoverageRank, PayerKind, Relationship
from backoffice.patients import services as patients

from .helpers import NOW, actor_for, audit_rows, count, make_user, patient_data

pytestmark = pytest.mark.usefixtures("app_context")

ADMIN = Actor(None, "admin", frozenset({"admin"}), "192.0.2.30")
MANAGER = Actor(None, "manager", frozenset({"manager"}), "192.0.2.31")
PRIMARY, SECONDARY = CoverageRank.PRIMARY, CoverageRank.SECONDARY


@pytest.fixture
def scheduler() -> Actor:
    return actor_for(make_user("sched", Role.SCHEDULER))


@pytest.fixture
def patient_id(scheduler) -> int:
    return patients.create_patient(patient_data(), confirm_duplicate=False, by=scheduler, now=NOW).id


def add_payer(name: str, kind: PayerKind = PayerKind.COMMERCIAL, **changes) -> Payer:
    return payers.add_payer(payers.PayerData(name, kind, **changes), by=ADMIN, now=NOW)


def cover(patient_id: int, payer: Payer, by: Actor, rank: CoverageRank = PRIMARY, **changes) -> Coverage:
    values = {"effective_on": date(2026, 1, 1), "member_id": "XYZ123456"}
    return coverages.add_coverage(patient_id, CoverageEntry(rank, payer.id, **{**values, **changes}), by=by, now=NOW)


def entry_of(coverage: Coverage, **changes) -> CoverageEntry:
    values = {"rank": coverage.rank, "payer_id": coverage.payer_id, "effective_on": coverage.effective_on,
              "member_id": coverage.member_id, "ends_on": coverage.ends_on}
    return CoverageEntry(**{**values, **changes})


def test_payers_are_listed_offered_and_named_once_whatever_the_case(scheduler):
    aetna = add_payer("  Aetna ", prior_auth_phone="+14105550188")
    add_payer("Medicare Part B", PayerKind.MEDICARE)
    closed = add_payer("Chesapeake Community Health Plan", active=False)
    with pytest.raises(FieldErrors) as refused:
        add_payer("AETNA")
    assert refused.value.errors == {"name": "The list has this payer already: Aetna."}
    assert [p.name for p in payers.list_payers()] == ["Aetna", "Medicare Part B", "Chesapeake Community Health Plan"]
    assert [p.name for p in payers.offered_payers()] == ["Aetna", "Medicare Part B"]
    assert [p.name for p in payers.offered_payers(keeping=closed.id)] == [
        "Aetna", "Chesapeake Community Health Plan", "Medicare Part B"]
    assert aetna.prior_auth_phone_display == "(410) 555-0188"


def test_only_an_admin_keeps_the_payer_list(scheduler):
    with pytest.raises(Refused):
        payers.add_payer(payers.PayerData("Aetna", PayerKind.COMMERCIAL), by=scheduler, now=NOW)
    assert count(Payer) == 0


def test_a_payer_edit_is_audited_and_a_stale_one_refused():
    payer = add_payer("Cigna")
    payers.update_payer(payer.id, payers.PayerData("Cigna Healthcare", PayerKind.COMMERCIAL, "+14105550192"),
                        expected_version=1, by=ADMIN, now=NOW)
    with pytest.raises(StaleEdit):
        payers.update_payer(payer.id, payers.PayerData("Cigna", PayerKind.OTHER), expected_version=1, by=ADMIN,
                            now=NOW)
    created, updated = audit_rows(entity_type="payer")
    assert (created.action, created.subject, created.patient_id) == ("create", "Cigna", None)
    assert updated.changes == {"name": ["Cigna", "Cigna Healthcare"], "prior_auth_phone": [None, "+14105550192"]}


def test_renaming_a_payer_to_another_payers_name_is_refused():
    add_payer("Aetna")
    cigna = add_payer("Cigna")
    with pytest.raises(FieldErrors):
        payers.update_payer(cigna.id, payers.PayerData("aetna", PayerKind.COMMERCIAL), expected_version=1,
                            by=ADMIN, now=NOW)
    assert db.session.get(Payer, cigna.id).name == "Cigna"


def test_a_primary_and_a_secondary_coverage_are_audited_with_the_patient(scheduler, patient_id):
    medicare, medicaid = add_payer("Medicare Part B", PayerKind.MEDICARE), add_payer("Medicaid", PayerKind.MEDICAID)
    primary = cover(patient_id, medicare, scheduler, member_id="1EG4TE5MK73")
    secondary = cover(patient_id, medicaid, scheduler, SECONDARY, member_id="12345678901")
    in_force = coverages.coverage_on(patient_id, date(2026, 6, 1))
    assert (in_force.primary, in_force.secondary) == (primary, secondary)
    assert in_force.primary.payer.name == "Medicare Part B"
    rows = audit_rows(entity_type="coverage")
    assert [(r.action, r.patient_id, r.username) for r in rows] == [("create", patient_id, "sched")] * 2
    assert rows[0].changes["member_id"] == [None, "1EG4TE5MK73"] and rows[0].subject == ""


def test_a_second_primary_overlapping_the_first_is_refused_and_writes_nothing(scheduler, patient_id):
    medicare, aetna = add_payer("Medicare Part B", PayerKind.MEDICARE), add_payer("Aetna")
    cover(patient_id, medicare, scheduler)
    before = len(audit_rows())
    with pytest.raises(FieldErrors) as refused:
        cover(patient_id, aetna, scheduler, effective_on=date(2026, 6, 1))
    assert "primary coverage with Medicare Part B runs from 01/01/2026, no end date" in refused.value.errors[
        "effective_on"]
    assert count(Coverage) == 1 and len(audit_rows()) == before


def test_ending_the_old_plan_lets_the_new_one_start_the_next_day(scheduler, patient_id):
    aetna, cigna = add_payer("Aetna"), add_payer("Cigna")
    old = cover(patient_id, aetna, scheduler)
    coverages.change_coverage(old.id, entry_of(old, ends_on=date(2026, 6, 30)), expected_version=1, by=scheduler,
                              now=NOW)
    new = cover(patient_id, cigna, scheduler, effective_on=date(2026, 7, 1))
    assert coverages.coverage_on(patient_id, date(2026, 6, 30)).primary == old
    assert coverages.coverage_on(patient_id, date(2026, 7, 1)).primary == new
    assert audit_rows(entity_type="coverage", action="update")[0].changes == {"ends_on": [None, "2026-06-30"]}


def test_a_change_saved_on_an_out_of_date_form_is_refused(scheduler, patient_id):
    aetna = add_payer("Aetna")
    held = cover(patient_id, aetna, scheduler)
    coverages.change_coverage(held.id, entry_of(held, member_id="NEW1"), expected_version=1, by=scheduler, now=NOW)
    with pytest.raises(StaleEdit) as stale:
        coverages.change_coverage(held.id, entry_of(held, member_id="OLD2"), expected_version=1, by=scheduler,
                                  now=NOW)
    assert stale.value.headline == "This coverage was changed by Dana Whitaker after you opened it."
    assert db.session.get(Coverage, held.id).member_id == "NEW1"


def test_a_payer_no_longer_offered_stays_on_its_coverage_but_is_not_chosen_anew(scheduler, patient_id):
    closed = add_payer("Chesapeake Community Health Plan")
    held = cover(patient_id, closed, scheduler, effective_on=date(2020, 1, 1), ends_on=date(2020, 12, 31))
    payers.update_payer(closed.id, payers.PayerData(closed.name, PayerKind.COMMERCIAL, active=False),
                        expected_version=1, by=ADMIN, now=NOW)
    coverages.change_coverage(held.id, entry_of(held, member_id="KEPT1"), expected_version=1, by=scheduler,
                              now=NOW)
    with pytest.raises(FieldErrors) as refused:
        cover(patient_id, closed, scheduler)
    assert refused.value.errors == {"payer_id": "Choose a payer from the list."}


def test_the_subscriber_is_kept_only_when_it_is_not_the_patient(scheduler, patient_id):
    aetna = add_payer("Aetna")
    spouse = cover(patient_id, aetna, scheduler, relationship_to_subscriber=Relationship.SPOUSE,
                   subscriber_name="Daniel Gonzalez")
    assert (spouse.relationship_to_subscriber, spouse.subscriber_name) == (Relationship.SPOUSE, "Daniel Gonzalez")
    with pytest.raises(FieldErrors):
        coverages.change_coverage(spouse.id, entry_of(spouse, relationship_to_subscriber=Relationship.SELF,
                                                      subscriber_name="Daniel Gonzalez"),
                                  expected_version=1, by=scheduler, now=NOW)


def test_removing_a_coverage_entered_in_error_keeps_what_it_said_and_why(scheduler, patient_id):
    aetna = add_payer("Aetna")
    wrong = cover(patient_id, aetna, scheduler)
    with pytest.raises(FieldErrors):
        coverages.remove_coverage(wrong.id, reason=" ", expected_version=1, by=scheduler)
    assert coverages.remove_coverage(wrong.id, reason="Entered for the wrong patient", expected_version=1,
                                     by=scheduler) == patient_id
    assert count(Coverage) == 0
    [removed] = audit_rows(entity_type="coverage", action="delete")
    assert removed.details["reason"] == "Entered for the wrong patient"
    assert removed.changes["member_id"] == ["XYZ123456", None]


def test_those_who_do_not_open_patient_records_neither_read_nor_write_coverage(scheduler, patient_id):
    aetna = add_payer("Aetna")
    held = cover(patient_id, aetna, scheduler)
    with pytest.raises(NotFound):
        coverages.get_coverage(held.id, by=MANAGER)
    with pytest.raises(NotFound):
        cover(patient_id, aetna, ADMIN)
    with pytest.raises(NotFound):
        coverages.change_coverage(held.id, entry_of(held), expected_version=1, by=MANAGER, now=NOW)
    with pytest.raises(NotFound):
        coverages.remove_coverage(held.id, reason="no", expected_version=1, by=MANAGER)
    assert count(Coverage) == 1


def test_opening_a_coverage_form_is_audited_as_a_view_of_the_patients_record(scheduler, patient_id):
    held = cover(patient_id, add_payer("Aetna"), scheduler)
    coverages.open_coverage(held.id, by=scheduler, page="edit form")
    [opened] = audit_rows(entity_type="coverage", action="view")
    assert (opened.patient_id, opened.subject) == (patient_id, "edit form")


def test_the_patient_pages_coverage_is_every_coverage_newest_first_with_its_payer(scheduler, patient_id):
    aetna, medicare = add_payer("Aetna"), add_payer("Medicare Part B", PayerKind.MEDICARE)
    old = cover(patient_id, aetna, scheduler, effective_on=date(2010, 1, 1), ends_on=date(2025, 12, 31))
    new = cover(patient_id, medicare, scheduler)
    db.session.expunge_all()
    listed = coverages.coverages_of(patient_id)
    assert [c.id for c in listed] == [new.id, old.id]
    assert [c.payer.name for c in listed] == ["Medicare Part B", "Aetna"]


def test_the_database_refuses_a_second_payer_of_the_same_name_that_slipped_past_the_check():
    add_payer("Aetna")
    with pytest.raises(ConcurrentChange), transaction(db.session, ADMIN):
        db.session.add(Payer(name="AETNA", name_key="aetna", kind=PayerKind.COMMERCIAL, created_at=NOW,
                             updated_at=NOW))
    assert db.session.scalars(select(Payer.name)).all() == ["Aetna"]

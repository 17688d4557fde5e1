from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backoffice.audit.trail import AuditIsAppendOnly
from backoffice.core.extensions import db
from backoffice.patients import services as patients

from .helpers import NOW, actor_for, audit_rows, make_user, patient_data

pytestmark = pytest.mark.usefixtures("app_context")


def test_creating_and_editing_a_patient_records_who_what_and_before_after():
    user = make_user()
    actor = actor_for(user)
    patient = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
    patients.update_patient(patient.id, patient_data(phone="+14435550199", address="7 Bay Ridge Rd"),
                            expected_version=patient.version, confirm_duplicate=False, by=actor,
                            now=NOW)

    created, updated = audit_rows(entity_type="patient")
    assert (created.action, created.entity_id, created.patient_id) == ("create", patient.id, patient.id)
    assert created.changes["last_name"] == [None, "Gonzalez"]
    assert created.username == "dwhitaker" and created.client_address == "192.0.2.10"
    assert updated.action == "update"
    assert updated.changes == {"phone": ["+14105550142", "+14435550199"],
                               "address": [None, "7 Bay Ridge Rd"]}


def test_an_edit_that_changes_nothing_writes_no_audit_row():
    actor = actor_for(make_user())
    patient = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
    patients.update_patient(patient.id, patient_data(), expected_version=patient.version,
                            confirm_duplicate=False, by=actor, now=NOW)
    assert [row.action for row in audit_rows(entity_type="patient")] == ["create"]


def test_opening_a_patient_record_is_audited():
    actor = actor_for(make_user())
    patient = patients.create_patient(patient_data(), confirm_duplicate=False, by=actor, now=NOW)
    patients.open_patient_record(patient.id, by=actor)
    view = audit_rows(action="view")
    assert [(row.patient_id, row.username) for row in view] == [(patient.id, "dwhitaker")]


def test_password_hashes_never_reach_the_audit_trail():
    user = make_user()
    row = audit_rows(entity_type="staff_user", entity_id=user.id)[0]
    assert row.changes["password_hash"] == ["(secret)", "(changed)"]
    assert user.password_hash not in str(row.changes)


def test_the_app_refuses_to_change_an_audit_row():
    make_user()
    row = audit_rows()[0]
    row.summary = "rewritten"
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(audit_rows()[0])
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET summary = 'rewritten'",
                                       "DELETE FROM audit_event"])
def test_the_database_refuses_to_change_an_audit_row(statement):
    make_user()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert len(audit_rows()) == 1

"""Enum columns keep the strings the database always held: a column reads as its enum's members,
stores their values in the VARCHAR the migrations made, records those values in the audit trail,
and refuses any other string before it reaches the database, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import Enum, select, text
from sqlalchemy.exc import StatementError

from backoffice.audit.models import AuditEvent
from backoffice.core.db import utcnow
from backoffice.core.extensions import db
from backoffice.scheduling import services
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import CancelReason, Status

from .scheduling_helpers import SCHEDULER

pytestmark = pytest.mark.usefixtures("app_context")


def _stored(column: str, appointment_id: int) -> object:
    return db.session.execute(text(f"SELECT {column} FROM appointment WHERE id = :id"),
                              {"id": appointment_id}).scalar()


def test_an_enum_column_stores_the_members_value_and_reads_back_the_member(one_appointment):
    appointment = db.session.get(Appointment, one_appointment)
    services.cancel_appointment(one_appointment, CancelReason.WEATHER, None, expected_version=appointment.version,
                                by=SCHEDULER, now=utcnow())
    db.session.expire_all()

    assert (_stored("status", one_appointment), _stored("cancel_reason", one_appointment)) == ("cancelled", "weather")
    appointment = db.session.get(Appointment, one_appointment)
    assert appointment.status is Status.CANCELLED
    assert appointment.cancel_reason is CancelReason.WEATHER


def test_the_audit_trail_records_an_enum_columns_change_as_the_stored_strings(one_appointment):
    appointment = db.session.get(Appointment, one_appointment)
    services.change_status(one_appointment, Status.CONFIRMED, expected_version=appointment.version,
                           by=SCHEDULER, now=utcnow())

    changed = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "appointment",
                                                          AuditEvent.action == "update")).one()
    assert changed.changes["status"] == ["scheduled", "confirmed"]
    assert [type(value) for value in changed.changes["status"]] == [str, str]


def test_a_string_that_is_no_value_of_the_enum_is_refused_before_the_database(one_appointment):
    appointment = db.session.get(Appointment, one_appointment)
    appointment.status = "SCHEDULED"  # the member's name, which SQLAlchemy would store by default

    with pytest.raises(StatementError, match="is not among the defined enum values"):
        db.session.flush()
    db.session.rollback()


def test_every_enum_column_stores_values_not_names_as_a_plain_string():
    columns = [column for table in db.metadata.tables.values() for column in table.columns
               if isinstance(column.type, Enum)]

    assert columns
    for column in columns:
        kind = column.type
        assert kind.enums == [member.value for member in kind.enum_class], column
        assert not kind.native_enum and not kind.create_constraint, column
        assert max(map(len, kind.enums)) <= kind.length, column

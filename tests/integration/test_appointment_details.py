"""Changing a booked appointment's details (prior authorization number, notes, levels), on both
engines: the levels checked as booking checks them, stale edits refused, done appointments read
only, every change audited and published, and a change of levels marking candidacies stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from backoffice.audit.models import AuditEvent
from backoffice.catalog.models import ProcedureType
from backoffice.core.db import transaction
from backoffice.core.errors import FieldErrors, Refused, StaleEdit
from backoffice.core.events import handlers_of
from backoffice.core.extensions import db
from backoffice.procedures import staleness
from backoffice.procedures.models import CandidacyCheck
from backoffice.scheduling import details, services
from backoffice.scheduling.details import AppointmentDetails, update_appointment_details
from backoffice.scheduling.events import AppointmentDetailsChanged
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import CancelReason

from .course_helpers import NURSE, complete
from .scheduling_helpers import MONDAY, NOW, PHYSICIAN, SCHEDULER, book, patients

pytestmark = pytest.mark.usefixtures("demo", "app_context")
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The events the details service publishes (still handed to their handlers)."""
    seen: list[object] = []
    publish = details.publish

    def record_then_publish(event: object) -> None:
        seen.append(event)
        publish(event)

    monkeypatch.setattr(details, "publish", record_then_publish)
    return seen


def edit(appointment: Appointment, *, by=SCHEDULER, version: int | None = None, **changes) -> Appointment:
    """Save the appointment's details as they are, but `changes`."""
    current = AppointmentDetails(appointment.prior_auth_ref, appointment.notes, appointment.levels_count,
                                 appointment.levels)
    wanted = AppointmentDetails(**{**vars(current), **changes})
    return update_appointment_details(appointment.id, wanted, expected_version=version or appointment.version, by=by,
                                      now=LATER)


def stored(appointment_id: int) -> Appointment:
    db.session.expire_all()
    found = db.session.get(Appointment, appointment_id)
    assert found is not None
    return found


def updates_of(appointment_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "appointment", AuditEvent.entity_id == appointment_id,
        AuditEvent.action == "update").order_by(AuditEvent.id)))


def test_entering_the_prior_authorization_number_saves_it_audits_it_and_publishes_what_changed(published):
    appointment = book()
    version = appointment.version
    edit(appointment, prior_auth_ref="PA-778812")
    saved = stored(appointment.id)
    assert saved.prior_auth_ref == "PA-778812" and saved.version == version + 1
    assert (saved.updated_by_id, saved.updated_at) == (SCHEDULER.user_id, LATER)
    [audited] = updates_of(appointment.id)
    assert audited.changes["prior_auth_ref"] == [None, "PA-778812"]
    assert (audited.username, audited.patient_id) == ("scheduler", appointment.patient_id)
    assert published == [AppointmentDetailsChanged(
        appointment.id, appointment.patient_id, appointment.procedure_type_id, appointment.office_id,
        appointment.starts_at, frozenset({"prior_auth_ref"}), by=SCHEDULER, at=LATER)]


def test_levels_and_notes_change_together_and_the_trail_keeps_before_and_after(published):
    appointment = book(levels=1)
    edit(appointment, levels_count=2, levels="L4-L5, L5-S1", notes="Needs an interpreter")
    saved = stored(appointment.id)
    assert (saved.levels_count, saved.levels, saved.notes) == (2, "L4-L5, L5-S1", "Needs an interpreter")
    [audited] = updates_of(appointment.id)
    assert audited.changes["levels_count"] == [1, 2]
    assert audited.changes["notes"] == [None, "Needs an interpreter"]
    assert published[0].changed == frozenset({"levels_count", "levels", "notes"})


def test_more_levels_than_the_catalog_allows_per_session_are_refused_as_booking_refuses_them(published):
    appointment = book(levels=1)  # a medial branch block: at most 3 levels
    with pytest.raises(FieldErrors) as refused:
        edit(appointment, levels_count=4, prior_auth_ref="PA-1")
    assert refused.value.errors == {"levels_count": "At most 3 levels per session for a medial branch block."}
    with pytest.raises(FieldErrors) as at_booking:
        book(levels=4, patient=patients()[1])
    assert at_booking.value.errors == refused.value.errors
    saved = stored(appointment.id)
    assert (saved.levels_count, saved.prior_auth_ref, saved.version) == (1, None, appointment.version)
    assert updates_of(appointment.id) == [] and published == []


def test_the_levels_cannot_be_cleared_when_the_procedure_asks_for_them():
    appointment = book(levels=2)
    with pytest.raises(FieldErrors) as refused:
        edit(appointment, levels_count=None)
    assert refused.value.errors == {"levels_count": "Give the number of levels."}


def test_a_note_is_saved_on_levels_the_catalog_has_since_lowered_its_limit_below():
    appointment = book(levels=3)
    db.session.execute(update(ProcedureType).where(ProcedureType.id == appointment.procedure_type_id)
                       .values(max_levels=2))
    db.session.commit()
    edit(appointment, notes="Ride home arranged")
    assert (stored(appointment.id).notes, stored(appointment.id).levels_count) == ("Ride home arranged", 3)


def test_a_procedure_that_asks_no_levels_keeps_none():
    appointment = book(code="ILESI", side=None, levels=None)
    edit(appointment, levels_count=2, levels="L4-L5", notes="Fasting")
    saved = stored(appointment.id)
    assert (saved.levels_count, saved.levels, saved.notes) == (None, None, "Fasting")


def test_saving_the_details_unchanged_writes_and_publishes_nothing(published):
    appointment = book()
    edit(appointment)
    assert stored(appointment.id).version == appointment.version
    assert updates_of(appointment.id) == [] and published == []


def test_a_save_from_a_form_opened_before_someone_elses_save_is_refused_naming_them(published):
    appointment = book()
    opened_at = appointment.version
    edit(appointment, notes="Bring the MRI disc", by=PHYSICIAN)
    with pytest.raises(StaleEdit) as stale:
        edit(stored(appointment.id), prior_auth_ref="PA-2", version=opened_at)
    assert stale.value.what == "The medial branch block appointment"
    assert stale.value.current_version == opened_at + 1
    saved = stored(appointment.id)
    assert (saved.prior_auth_ref, saved.notes) == (None, "Bring the MRI disc")
    assert len(published) == 1


def test_a_completed_appointment_is_read_only():
    appointment = complete(book())
    with pytest.raises(services.StatusRefused) as refused:
        edit(stored(appointment.id), prior_auth_ref="PA-3")
    assert "The procedure is done" in refused.value.message
    assert stored(appointment.id).prior_auth_ref is None


def test_a_cancelled_appointment_is_read_only():
    appointment = book()
    cancelled = services.cancel_appointment(appointment.id, CancelReason.PATIENT_REQUEST, None,
                                            expected_version=appointment.version, by=SCHEDULER, now=NOW)
    with pytest.raises(services.StatusRefused, match="was cancelled"):
        edit(cancelled, notes="too late")


def test_an_appointment_with_the_patient_in_the_room_may_still_change():
    appointment = book()
    at = appointment.starts_at + timedelta(minutes=5)
    for target in ("confirmed", "checked_in", "in_room"):
        appointment = services.change_status(appointment.id, services.Status(target),
                                             expected_version=stored(appointment.id).version, by=NURSE, now=at)
    edit(stored(appointment.id), levels_count=2, by=PHYSICIAN)
    assert stored(appointment.id).levels_count == 2


def test_nurses_do_not_change_booked_details_as_they_do_not_book():
    appointment = book()
    with pytest.raises(Refused):
        edit(appointment, prior_auth_ref="PA-4", by=NURSE)


# Candidacies rest on the levels, not on the notes or the authorization number.

def hold(patient_id: int) -> None:
    db.session.execute(delete(CandidacyCheck).where(CandidacyCheck.patient_id == patient_id))
    db.session.execute(insert(CandidacyCheck), [{"patient_id": patient_id, "assessed_on": MONDAY,
                                                 "holds_until": MONDAY + timedelta(days=90)}])
    db.session.commit()


def is_stale(patient_id: int) -> bool:
    db.session.expire_all()
    check = db.session.get(CandidacyCheck, patient_id)
    return check is not None and check.holds_until is None


def details_changed(patient_id: int, *changed: str) -> AppointmentDetailsChanged:
    return AppointmentDetailsChanged(1, patient_id, 1, 1, NOW, frozenset(changed), by=SCHEDULER, at=NOW)


def test_the_staleness_handler_is_subscribed_to_details_changes():
    assert staleness.mark_patient_stale_when_an_appointments_levels_change in handlers_of(AppointmentDetailsChanged)


@pytest.mark.parametrize("changed, stale", [
    (("levels_count",), True), (("levels", "notes"), True), (("prior_auth_ref",), False), (("notes",), False),
])
def test_a_change_of_levels_alone_marks_the_patients_candidacies_stale(changed, stale):
    patient_id = patients()[0].id
    hold(patient_id)
    with transaction(db.session, SCHEDULER):
        staleness.mark_patient_stale_when_an_appointments_levels_change(details_changed(patient_id, *changed))
    assert is_stale(patient_id) is stale


def test_editing_the_levels_end_to_end_marks_the_patient_stale_and_the_number_does_not():
    appointment = book(levels=1)
    hold(appointment.patient_id)
    edit(appointment, prior_auth_ref="PA-5")
    assert not is_stale(appointment.patient_id)
    edit(stored(appointment.id), levels_count=2)
    assert is_stale(appointment.patient_id)

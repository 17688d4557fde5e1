"""What an appointment's status means, said once in scheduling.rules and read from there."""

from __future__ import annotations

import pytest

from backoffice.practice.models import Physician
from backoffice.practice.rules import physician_short_name
from backoffice.procedures.candidacy_rules import COUNTED
from backoffice.scheduling.models import Appointment
from backoffice.scheduling.rules import ACTIVE_STATUSES, Status


@pytest.mark.parametrize("status, movable", [
    (Status.SCHEDULED, True), (Status.CONFIRMED, True), (Status.CHECKED_IN, True), (Status.IN_ROOM, False),
    (Status.COMPLETED, False), (Status.CANCELLED, False), (Status.NO_SHOW, False), (Status.RESCHEDULED, False),
])
def test_an_appointment_can_be_moved_while_open_and_until_the_patient_is_in_the_room(status, movable):
    assert Appointment(status=status).is_movable is movable


def test_candidacy_counts_the_procedures_that_hold_their_time():
    assert COUNTED == set(ACTIVE_STATUSES) == {"scheduled", "confirmed", "checked_in", "in_room", "completed"}


def test_a_status_label_reads_as_the_badge_says_it():
    assert [status.label for status in Status] == ["Scheduled", "Confirmed", "Checked in", "In room", "Completed",
                                                   "Cancelled", "No show", "Rescheduled"]


def test_a_physician_is_named_by_title_and_last_name_everywhere():
    assert physician_short_name("Reyes") == "Dr. Reyes"
    assert Physician(first_name="Elena", last_name="Reyes").short_name == "Dr. Reyes"

"""What may change on a booked appointment, and the levels checked as a booking checks them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backoffice.practice.rules import Capability
from backoffice.scheduling.rules import OPEN_STATUSES, ProcedureSpec, Status, details_locked_because
from backoffice.scheduling.slot_rules import levels_problems

RFA = ProcedureSpec(2, "Radiofrequency ablation", "RFA", timedelta(minutes=60), timedelta(minutes=15),
                    frozenset({Capability.FLUOROSCOPY}), asks_region=True, asks_side=True, asks_levels=True,
                    max_levels=3)
ESI = ProcedureSpec(3, "Interlaminar epidural steroid injection", "ILESI", timedelta(minutes=30),
                    timedelta(minutes=15), frozenset({Capability.FLUOROSCOPY}), asks_region=True)


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_an_open_appointments_details_may_change_even_with_the_patient_in_the_room(status):
    assert details_locked_because(status) is None


@pytest.mark.parametrize("status, says", [
    (Status.COMPLETED, "The procedure is done"),
    (Status.CANCELLED, "was cancelled"),
    (Status.NO_SHOW, "did not come (no-show)"),
    (Status.RESCHEDULED, "change the details on the appointment that replaced it"),
])
def test_a_done_cancelled_missed_or_rescheduled_appointment_is_read_only_and_says_why(status, says):
    reason = details_locked_because(status)
    assert reason is not None and says in reason


@pytest.mark.parametrize("levels, expected", [
    (1, []), (3, []), (4, ["levels_too_many"]), (None, ["levels_missing"]), (0, ["levels_missing"]),
])
def test_the_levels_are_given_and_within_the_catalogs_limit_per_session(levels, expected):
    assert [problem.code for problem in levels_problems(RFA, levels)] == expected


def test_too_many_levels_are_said_next_to_the_levels_field_with_the_limit():
    [problem] = levels_problems(RFA, 4)
    assert (problem.field, problem.overridable) == ("levels_count", False)
    assert problem.message == "At most 3 levels per session for a radiofrequency ablation."


def test_a_procedure_that_asks_no_levels_has_no_level_problem():
    assert levels_problems(ESI, None) == levels_problems(ESI, 7) == []

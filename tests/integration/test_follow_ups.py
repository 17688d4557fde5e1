"""Follow-ups after procedures and their outcomes, through the services, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.core.errors import FieldErrors, StaleEdit
from backoffice.core.extensions import db
from backoffice.procedures import followups, worklists
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.models import FollowUp, Outcome
from backoffice.procedures.rules import Contact, FunctionChange, PlanDecision, ReliefUnit
from backoffice.scheduling import services
from backoffice.scheduling.rules import CancelReason, Status

from .course_helpers import NURSE, complete, done, follow_ups_of, record
from .scheduling_helpers import MONDAY, NOW, PHYSICIAN, SCHEDULER, book, patients, physician

pytestmark = pytest.mark.usefixtures("demo", "app_context")
EVENING = datetime.combine(MONDAY, time(23, 0), UTC)


def entry(**values: object) -> OutcomeEntry:
    defaults: dict[str, object] = {"recorded_on": MONDAY + timedelta(days=1), "contact": Contact.PHONE,
                                   "baseline_nrs": 8, "post_nrs": 2, "relief_amount": 5,
                                   "relief_unit": ReliefUnit.HOURS}
    return OutcomeEntry(**{**defaults, **values})  # type: ignore[arg-type]


def save(follow_up: FollowUp, *, by=NURSE, version: int | None = None, **values: object) -> Outcome:
    """A new outcome, or with `version` (the outcome's) a correction of the one recorded."""
    return followups.record_outcome(follow_up.id, entry(**values), by=by, now=EVENING,
                                    today=MONDAY + timedelta(days=3), correcting=version is not None,
                                    expected_version=follow_up.version if version is None else version)


def test_completing_a_block_creates_its_follow_ups_due_after_it_with_its_physician():
    appointment = done("MBB", MONDAY, patient=patients()[0])
    due = [(f.delay, f.due_at - appointment.ends_at, f.physician_id, f.office_id, f.status)
           for f in follow_ups_of(appointment)]
    assert due == [("6h", timedelta(hours=6), physician("Reyes").id, appointment.office_id, "open"),
                   ("1d", timedelta(days=1), physician("Reyes").id, appointment.office_id, "open")]


def test_each_procedure_gets_the_follow_ups_its_catalog_entry_names():
    rfa = done("RFA", MONDAY, patient=patients()[0], override="Blocks done at the referring practice")
    assert [f.delay for f in follow_ups_of(rfa)] == ["6w", "26w"]
    trigger_points = done("TPI", MONDAY + timedelta(days=7), patient=patients()[1], region=None, side=None,
                          levels=None)
    assert follow_ups_of(trigger_points) == []


@pytest.mark.parametrize("ending", ["cancel", "no_show"])
def test_cancelled_and_no_show_procedures_create_no_follow_ups(ending):
    appointment = book(patient=patients()[2])
    if ending == "cancel":
        services.cancel_appointment(appointment.id, CancelReason.PATIENT_REQUEST, None,
                                    expected_version=appointment.version, by=SCHEDULER, now=NOW)
    else:
        services.change_status(appointment.id, Status.NO_SHOW, expected_version=appointment.version,
                               by=SCHEDULER, now=appointment.starts_at + timedelta(hours=1))
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_the_pain_score_at_check_in_is_kept_as_the_baseline():
    appointment = done("MBB", MONDAY, patient=patients()[0], baseline=7)
    assert appointment.baseline_nrs == 7


def test_recording_an_outcome_computes_relief_and_closes_the_follow_up():
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[1]
    outcome = save(follow_up, function_change=FunctionChange.BETTER, odi_answers=(2, 2, 1, 1, 2, 2, 1, None, 1, 1))
    assert (outcome.percent_relief, outcome.relief_hours, outcome.relief_said) == (75, 5, "5 hours")
    assert (outcome.odi_answers, outcome.odi_score) == ([2, 2, 1, 1, 2, 2, 1, None, 1, 1], 29)
    assert db.session.get(FollowUp, follow_up.id).status == "done"
    assert outcome.recorded_by_id == NURSE.user_id


def test_a_relief_percentage_entered_by_hand_wins_over_the_scores():
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[1]
    assert save(follow_up, baseline_nrs=None, post_nrs=None, percent_relief=90).percent_relief == 90


@pytest.mark.parametrize("values, field", [
    ({"baseline_nrs": 11}, "baseline_nrs"),
    ({"post_nrs": -1}, "post_nrs"),
    ({"percent_relief": 150}, "percent_relief"),
    ({"baseline_nrs": None, "post_nrs": None}, "percent_relief"),
    ({"recorded_on": MONDAY - timedelta(days=1)}, "recorded_on"),
    ({"recorded_on": MONDAY + timedelta(days=30)}, "recorded_on"),
    ({"relief_unit": None}, "relief_unit"),
    ({"odi_answers": (6,) + (None,) * 9}, "odi"),
])
def test_impossible_outcomes_are_refused_and_write_nothing(values, field):
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[1]
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(FieldErrors) as refused:
        save(follow_up, **values)
    assert field in refused.value.errors
    assert db.session.scalar(select(func.count()).select_from(Outcome)) == 0
    assert db.session.get(FollowUp, follow_up.id).status == "open"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_only_a_physician_records_the_decision():
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[1]
    by_nurse = save(follow_up, decision=PlanDecision.PROCEED_RFA)
    assert by_nurse.decision is None
    by_physician = save(follow_up, by=PHYSICIAN, version=by_nurse.version, decision=PlanDecision.PROCEED_RFA)
    assert by_physician.decision == "proceed_rfa"
    corrected = save(follow_up, version=by_physician.version, post_nrs=1)
    assert (corrected.decision, corrected.percent_relief) == ("proceed_rfa", 88)


def test_a_second_nurse_saving_the_same_follow_up_is_told_who_saved_first():
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[1]
    save(follow_up, by=PHYSICIAN)
    with pytest.raises(StaleEdit) as stale:
        save(follow_up, post_nrs=5)
    assert "Elena Reyes" in stale.value.message
    outcome = db.session.scalars(select(Outcome)).one()
    assert outcome.post_nrs == 2
    opened_at = outcome.version
    save(follow_up, version=opened_at, post_nrs=3)
    with pytest.raises(StaleEdit):
        save(follow_up, version=opened_at, post_nrs=5)
    assert db.session.scalars(select(Outcome)).one().post_nrs == 3


def test_outcomes_and_their_corrections_are_in_the_audit_trail_with_the_patient():
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[1]
    outcome = save(follow_up)
    save(follow_up, version=outcome.version, post_nrs=4)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outcome")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.username, e.patient_id) for e in events] == [
        ("create", "nurse", follow_up.patient_id), ("update", "nurse", follow_up.patient_id)]
    assert events[1].changes["post_nrs"] == [2, 4]


def test_a_follow_up_closes_without_an_outcome_only_with_a_reason_and_can_be_reopened():
    follow_up = follow_ups_of(done("MBB", MONDAY, patient=patients()[0]))[0]
    with pytest.raises(FieldErrors):
        followups.close_follow_up(follow_up.id, "  ", expected_version=follow_up.version, by=NURSE, now=EVENING)
    closed = followups.close_follow_up(follow_up.id, "No answer after three calls",
                                       expected_version=follow_up.version, by=NURSE, now=EVENING)
    assert (closed.status, closed.closed_reason) == ("closed", "No answer after three calls")
    reopened = followups.reopen_follow_up(follow_up.id, expected_version=closed.version, by=NURSE, now=EVENING)
    assert (reopened.status, reopened.closed_reason) == ("open", None)


def worklist(now: datetime, **filters: object) -> worklists.FollowUpList:
    arguments: dict[str, object] = {"office_id": None, "physician_id": None, "upcoming_days": 7, "limit": 50,
                                    "by": NURSE, **filters}
    return worklists.follow_up_worklist(now=now, timezone="America/New_York", **arguments)  # type: ignore[arg-type]


def test_the_worklist_puts_each_open_follow_up_under_overdue_today_or_upcoming():
    block = done("MBB", MONDAY, patient=patients()[0])
    esi = done("ILESI", MONDAY, patient=patients()[1], side=None, levels=None)
    six_hours, next_day = follow_ups_of(block)
    record(six_hours, 90, 5)
    tuesday_noon = datetime.combine(MONDAY + timedelta(days=1), time(17, 0), UTC)
    found = worklist(tuesday_noon)
    assert [f.id for f in found.overdue] == []
    assert [f.id for f in found.today] == [next_day.id]
    assert found.upcoming == []
    two_weeks = worklist(tuesday_noon, upcoming_days=14)
    assert [f.id for f in two_weeks.upcoming] == [follow_ups_of(esi)[0].id]
    assert worklist(tuesday_noon + timedelta(days=2)).counts == {"overdue": 1, "today": 0, "upcoming": 0}
    assert worklist(tuesday_noon + timedelta(days=7)).counts == {"overdue": 1, "today": 0, "upcoming": 1}


def test_the_worklist_shows_one_physicians_or_one_offices_follow_ups():
    done("MBB", MONDAY, patient=patients()[0])
    okafor = done("MBB", MONDAY, patient=patients()[1], doctor="Okafor")
    later = datetime.combine(MONDAY + timedelta(days=5), time(17, 0), UTC)
    mine = worklist(later, physician_id=physician("Okafor").id)
    assert {f.appointment_id for f in mine.overdue} == {okafor.id}
    other_office = worklist(later, office_id=okafor.office_id + 100)
    assert other_office.counts == {"overdue": 0, "today": 0, "upcoming": 0}


def test_a_scheduler_sees_no_follow_ups():
    done("MBB", MONDAY, patient=patients()[0])
    assert worklist(EVENING + timedelta(days=3), by=SCHEDULER).counts["overdue"] == 0
    with pytest.raises(Exception, match="No follow-up"):
        followups.get_follow_up(1, by=SCHEDULER)


def test_completing_the_same_day_twice_does_not_duplicate_follow_ups():
    appointment = done("MBB", MONDAY, patient=patients()[0])
    with pytest.raises(services.StatusRefused):
        complete(appointment)
    assert len(follow_ups_of(appointment)) == 2


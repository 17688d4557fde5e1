"""The hand-off from physician to scheduler through the services, on both engines: a decision (from
the decisions list or the outcome form) or the candidates list opens a scheduling request with the
procedure, place, levels and the first day the rules allow; booking it closes it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.core.actor import Actor
from backoffice.core.db import transaction
from backoffice.core.errors import FieldErrors, NotFound, Refused, StaleEdit
from backoffice.core.extensions import db
from backoffice.procedures import candidacy, decisions, followups, handoff, worklists
from backoffice.procedures.candidacy_rules import CandidacyKind, months_after
from backoffice.procedures.decisions import DecisionEntry
from backoffice.procedures.followups import OutcomeEntry
from backoffice.procedures.models import CandidacyCheck, Outcome, StoredCandidacy
from backoffice.procedures.rules import Contact, PlanDecision, ReliefUnit
from backoffice.scheduling import requests, services
from backoffice.scheduling.availability import find_next_available
from backoffice.scheduling.models import SchedulingRequest
from backoffice.scheduling.request_rules import RequestPriority, RequestStatus
from backoffice.scheduling.requests import RequestDetails

from .course_helpers import NURSE, block_with_relief, done, follow_ups_of, record
from .scheduling_helpers import LIMITS, MONDAY, PHYSICIAN, SCHEDULER, office, patients, physician, procedure

pytestmark = pytest.mark.usefixtures("demo", "app_context")
LATER = MONDAY + timedelta(days=21)
AT = datetime.combine(LATER, time(15), UTC)


def decide(outcome: Outcome, decision: PlanDecision, *, today: date = LATER, by=PHYSICIAN,
           **entry) -> decisions.Decided:
    current = db.session.get(Outcome, outcome.id)
    assert current is not None
    return decisions.decide_outcome(outcome.id, DecisionEntry(decision, **entry), expected_version=current.version,
                                    by=by, now=datetime.combine(today, time(15), UTC), today=today)


def two_good_blocks(patient=None) -> Outcome:
    """Two qualifying lumbar right blocks, L4-L5 and L5-S1; the second's next-day outcome, undecided."""
    patient = patient or patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    second = block_with_relief(MONDAY + timedelta(days=14), 85, 4, patient=patient)
    return db.session.scalars(select(Outcome).where(Outcome.appointment_id == second.id)).one()


def open_requests() -> list[SchedulingRequest]:
    return list(db.session.scalars(select(SchedulingRequest).where(SchedulingRequest.status == RequestStatus.OPEN)
                                   .order_by(SchedulingRequest.id)))


def test_proceeding_to_rfa_asks_the_schedulers_for_the_rfa_with_the_blocks_place_and_levels():
    outcome = two_good_blocks()
    decided = decide(outcome, PlanDecision.PROCEED_RFA, note="Mornings suit her", priority=RequestPriority.URGENT)
    [request] = open_requests()
    assert decided.hand_off.request is request and decided.outcome.scheduling_request_id == request.id
    assert (request.procedure_type_id, request.region, request.side, request.levels_count, request.levels) == (
        procedure("RFA").id, "lumbar", "right", 2, "L4-L5, L5-S1")
    assert (request.physician_id, request.office_id) == (physician("Reyes").id, decided.follow_up.office_id)
    assert (request.earliest_on, request.needs_override) == (LATER, False)  # a rhizotomy candidate now
    assert (request.priority, request.note, request.created_by_id) == (RequestPriority.URGENT, "Mornings suit her",
                                                                       PHYSICIAN.user_id)
    assert decided.outcome.decision is PlanDecision.PROCEED_RFA and decided.outcome.decision_note == "Mornings suit her"
    # The decision is clinical news: the patient's candidacies are worked out again.
    assert db.session.get(CandidacyCheck, outcome.patient_id).holds_until is None


def test_a_decision_on_the_outcome_form_hands_off_the_same_way():
    patient = patients()[0]
    block_with_relief(MONDAY, 90, 5, patient=patient)
    second = done("MBB", MONDAY + timedelta(days=14), patient=patient)
    record(follow_ups_of(second)[-1], 85, 4, decision=PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    assert (request.procedure_type_id, request.levels) == (procedure("RFA").id, "L4-L5, L5-S1")


def test_a_nurse_saving_the_outcome_keeps_the_decision_and_asks_for_nothing_more():
    outcome = two_good_blocks()
    decide(outcome, PlanDecision.PROCEED_RFA)
    current = db.session.get(Outcome, outcome.id)
    corrected = OutcomeEntry(recorded_on=current.recorded_on, contact=Contact.PHONE, percent_relief=80,
                             relief_amount=4, relief_unit=ReliefUnit.HOURS)  # the form of someone who does not decide
    followups.record_outcome(current.follow_up_id, corrected, expected_version=current.version, by=NURSE, now=AT,
                             today=LATER, correcting=True)
    assert db.session.get(Outcome, outcome.id).percent_relief == 80
    assert db.session.get(Outcome, outcome.id).decision is PlanDecision.PROCEED_RFA
    assert len(open_requests()) == 1


def test_a_repeat_rfa_is_asked_for_from_the_calendar_month_the_rules_allow():
    patient = patients()[0]
    rfa = done("RFA", MONDAY, patient=patient, override="Two qualifying blocks elsewhere")
    outcome = record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    four_months_on = MONDAY + timedelta(days=122)
    decide(outcome, PlanDecision.REPEAT_BLOCK, today=four_months_on)
    [request] = open_requests()
    assert request.procedure_type_id == procedure("RFA").id  # "repeat": the same procedure again
    assert (request.earliest_on, request.needs_override) == (months_after(MONDAY, 6), False)


def test_a_repeat_epidural_waits_the_fourteen_days_after_the_last_one():
    patient = patients()[0]
    epidural = done("TFESI", MONDAY, patient=patient, levels="L5-S1")
    outcome = record(follow_ups_of(epidural)[0], 70, 3, ReliefUnit.MONTHS, on=MONDAY + timedelta(days=5))
    decide(outcome, PlanDecision.REPEAT_BLOCK, today=MONDAY + timedelta(days=6))
    [request] = open_requests()
    assert (request.procedure_type_id, request.side, request.levels) == (procedure("TFESI").id, "right", "L5-S1")
    assert request.earliest_on == MONDAY + timedelta(days=14)


def test_an_rfa_the_rules_do_not_allow_is_asked_for_from_today_with_a_physicians_override():
    patient = patients()[0]
    block = block_with_relief(MONDAY, 90, 5, patient=patient)  # one qualifying block only
    outcome = db.session.scalars(select(Outcome).where(Outcome.appointment_id == block.id)).one()
    decide(outcome, PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    assert (request.earliest_on, request.needs_override) == (LATER, True)


def test_an_scs_trial_is_asked_for_in_the_region_followed_up_without_side_or_levels():
    outcome = two_good_blocks()
    decide(outcome, PlanDecision.SCS_TRIAL)
    [request] = open_requests()
    assert (request.procedure_type_id, request.region, request.side, request.levels) == (
        procedure("SCS-TRIAL").id, "lumbar", None, None)


def test_a_second_decision_for_the_same_procedure_updates_the_open_request_rather_than_doubling_it():
    patient = patients()[0]
    first_block = block_with_relief(MONDAY, 90, 5, patient=patient)
    first = db.session.scalars(select(Outcome).where(Outcome.appointment_id == first_block.id)).one()
    decide(first, PlanDecision.PROCEED_RFA, today=MONDAY + timedelta(days=3))
    [asked] = open_requests()
    assert asked.needs_override  # one block then
    later_block = block_with_relief(MONDAY + timedelta(days=14), 85, 4, patient=patient)
    later = db.session.scalars(select(Outcome).where(Outcome.appointment_id == later_block.id)).one()
    decide(later, PlanDecision.PROCEED_RFA, priority=RequestPriority.URGENT)
    [updated] = open_requests()
    assert updated.id == asked.id and not updated.needs_override and updated.priority is RequestPriority.URGENT
    # Changing the first decision leaves the request the second one still asks for.
    decide(first, PlanDecision.NO_FURTHER)
    assert [r.id for r in open_requests()] == [asked.id]


def test_changing_the_decision_withdraws_the_request_it_made_and_asks_for_the_new_one():
    outcome = two_good_blocks()
    decide(outcome, PlanDecision.PROCEED_RFA)
    [rfa] = open_requests()
    decide(outcome, PlanDecision.REPEAT_BLOCK)
    [block] = open_requests()
    assert block.procedure_type_id == procedure("MBB").id
    withdrawn = db.session.get(SchedulingRequest, rfa.id)
    assert withdrawn.status is RequestStatus.CANCELLED and withdrawn.open_key is None
    assert withdrawn.cancel_reason == "The physician's decision changed to “Repeat block”."
    decide(outcome, PlanDecision.OTHER, note="Refer to spine surgery")
    assert open_requests() == []
    assert db.session.get(Outcome, outcome.id).scheduling_request_id is None


def test_other_needs_a_note_and_writes_nothing_without_one():
    outcome = two_good_blocks()
    with pytest.raises(FieldErrors) as refused:
        decide(outcome, PlanDecision.OTHER, note="  ")
    assert refused.value.errors == {"note": "Say what the plan is."}
    assert db.session.get(Outcome, outcome.id).decision is None


def test_a_decision_on_an_outcome_changed_since_the_list_was_shown_is_refused():
    outcome = two_good_blocks()
    version = outcome.version
    decide(outcome, PlanDecision.NO_FURTHER)
    with pytest.raises(StaleEdit):
        decisions.decide_outcome(outcome.id, DecisionEntry(PlanDecision.PROCEED_RFA), expected_version=version,
                                 by=PHYSICIAN, now=AT, today=LATER)
    assert open_requests() == []


def test_only_physicians_decide():
    outcome = two_good_blocks()
    with pytest.raises(NotFound):
        decide(outcome, PlanDecision.PROCEED_RFA, by=NURSE)


def test_decisions_and_requests_are_in_the_audit_trail():
    outcome = two_good_blocks()
    decide(outcome, PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    changes = [e.changes for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "outcome", AuditEvent.entity_id == outcome.id, AuditEvent.action == "update"))]
    assert any(c.get("decision") == [None, "proceed_rfa"] for c in changes)
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "scheduling_request",
                                                          AuditEvent.entity_id == request.id)).one()
    assert (created.action, created.username, created.patient_id) == ("create", "physician", outcome.patient_id)


def test_the_decisions_list_shows_the_latest_undecided_outcome_of_each_procedure_oldest_first():
    patient = patients()[0]
    first = block_with_relief(MONDAY, 90, 5, patient=patient)
    diary, call = follow_ups_of(done("MBB", MONDAY + timedelta(days=14), patient=patient))
    record(diary, 85, 4)
    found = worklists.decision_worklist(office_id=None, physician_id=None, today=LATER, limit=10, offset=0,
                                        by=PHYSICIAN)
    assert [row.outcome.appointment_id for row in found.rows] == [first.id, diary.appointment_id]
    record(call, 85, 4)  # the next-day call: shown instead of the diary, with the diary beside it
    found = worklists.decision_worklist(office_id=None, physician_id=None, today=LATER, limit=10, offset=0,
                                        by=PHYSICIAN)
    assert [row.outcome.follow_up_id for row in found.rows] == [follow_ups_of(first)[-1].id, call.id]
    assert [o.follow_up_id for o in found.rows[1].earlier] == [diary.id]
    assert [c.kind for c in found.rows[1].candidacies] == [CandidacyKind.RFA_CANDIDATE]
    assert found.count == 2
    assert worklists.awaiting_decision_count(PHYSICIAN.user_id, LATER) == 2
    decide(found.rows[0].outcome, PlanDecision.NO_FURTHER)
    assert worklists.awaiting_decision_count(PHYSICIAN.user_id, LATER) == 1
    # Three months on, an undecided outcome has left the list.
    assert worklists.awaiting_decision_count(PHYSICIAN.user_id, LATER + timedelta(days=120)) == 0


def test_the_decisions_list_shows_one_physicians_or_one_offices_outcomes():
    outcome = two_good_blocks()
    office_id = outcome.follow_up.office_id

    def listed(**filters: int | None) -> int:
        return worklists.decision_worklist(office_id=filters.get("office_id"), physician_id=filters.get("physician_id"),
                                           today=LATER, limit=10, offset=0, by=PHYSICIAN).count
    assert listed(physician_id=physician("Reyes").id) == listed() == listed(office_id=office_id) == 2
    assert listed(physician_id=physician("Okafor").id) == 0
    assert worklists.decision_worklist(office_id=None, physician_id=None, today=LATER, limit=10, offset=0,
                                       by=NURSE).rows == []


# Booking the request.

def slot_for(request: SchedulingRequest, today: date):
    return find_next_available(request.procedure_type_id, physician_id=request.physician_id,
                               earliest=datetime.combine(max(request.earliest_on, today), time(0), UTC),
                               now=datetime.combine(today, time(12), UTC), limits=LIMITS, count=1,
                               patient_id=request.patient_id, region=request.region, side=request.side)[0]


def book_request(request: SchedulingRequest, today: date, *, request_id: int | None = -1, by=SCHEDULER):
    slot = slot_for(request, today)
    return services.book_appointment(services.BookingRequest(
        request.patient_id, request.procedure_type_id, slot.physician.id, slot.office.id, slot.room.id,
        slot.local_start.date(), slot.local_start.time(), request.region, request.side, request.levels_count,
        request.levels, scheduling_request_id=request.id if request_id == -1 else request_id),
        by=by, now=datetime.combine(today, time(12), UTC), limits=LIMITS)


def test_booking_the_request_closes_it_with_its_appointment_and_levels():
    decide(two_good_blocks(), PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    appointment = book_request(request, LATER)
    closed = db.session.get(SchedulingRequest, request.id)
    assert (closed.status, closed.appointment_id, closed.open_key) == (RequestStatus.BOOKED, appointment.id, None)
    assert (appointment.levels_count, appointment.levels) == (2, "L4-L5, L5-S1")


def test_booking_the_same_procedure_another_way_closes_the_open_request_too():
    decide(two_good_blocks(), PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    appointment = book_request(request, LATER, request_id=None)
    assert db.session.get(SchedulingRequest, request.id).appointment_id == appointment.id


def test_a_booking_that_fails_leaves_the_request_open():
    decide(two_good_blocks(), PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    slot = slot_for(request, LATER)
    with pytest.raises(services.BookingConflict):
        services.book_appointment(services.BookingRequest(
            request.patient_id, request.procedure_type_id, slot.physician.id, slot.office.id, slot.room.id,
            slot.local_start.date(), time(3, 0), request.region, request.side, 2, request.levels,
            scheduling_request_id=request.id), by=SCHEDULER, now=AT, limits=LIMITS)
    assert [r.id for r in open_requests()] == [request.id]


def test_a_request_cancelled_meanwhile_is_not_booked():
    decide(two_good_blocks(), PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    requests.cancel_request(request.id, "The patient declined", expected_version=request.version, by=SCHEDULER,
                            now=AT)
    with pytest.raises(FieldErrors) as refused:
        book_request(request, LATER)
    assert "cancelled meanwhile (The patient declined)" in refused.value.errors["request"]
    assert db.session.scalar(select(func.count()).select_from(SchedulingRequest)
                             .where(SchedulingRequest.appointment_id.is_not(None))) == 0


def test_a_request_is_cancelled_only_with_a_reason_and_only_once():
    decide(two_good_blocks(), PlanDecision.PROCEED_RFA)
    [request] = open_requests()
    shown = request.version
    with pytest.raises(FieldErrors):
        requests.cancel_request(request.id, " ", expected_version=shown, by=SCHEDULER, now=AT)
    cancelled = requests.cancel_request(request.id, "Booked at the hospital", expected_version=shown,
                                        by=SCHEDULER, now=AT)
    assert cancelled.status is RequestStatus.CANCELLED
    with pytest.raises(StaleEdit):  # a second scheduler, on the page opened before
        requests.cancel_request(request.id, "Again", expected_version=shown, by=SCHEDULER, now=AT)
    with pytest.raises(FieldErrors, match="already cancelled"):
        requests.cancel_request(request.id, "Again", expected_version=cancelled.version, by=SCHEDULER, now=AT)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "scheduling_request",
                                                        AuditEvent.action == "update")).one()
    assert event.changes["cancel_reason"] == [None, "Booked at the hospital"]


def test_the_candidates_list_sends_a_candidacy_to_scheduling_with_its_levels():
    patient = patients()[0]
    two_good_blocks(patient)
    worklists.candidate_worklist(office_id=None, physician_id=None, horizon_days=None, today=LATER, limit=10,
                                 by=NURSE)
    stored = db.session.scalars(select(StoredCandidacy).where(StoredCandidacy.kind == "rfa_candidate")).one()
    request = handoff.ask_to_schedule(stored.id, by=NURSE, now=AT, today=LATER)
    assert (request.procedure_type_id, request.region, request.side, request.levels, request.levels_count) == (
        procedure("RFA").id, "lumbar", "right", "L4-L5, L5-S1", 2)
    assert request.earliest_on == LATER and request.created_by_id == NURSE.user_id
    assert handoff.ask_to_schedule(stored.id, by=NURSE, now=AT, today=LATER).id == request.id  # once only
    with pytest.raises(NotFound):
        handoff.ask_to_schedule(stored.id + 1000, by=NURSE, now=AT, today=LATER)


def test_the_region_side_and_levels_are_kept_only_where_the_procedure_asks_for_them():
    with transaction(db.session, PHYSICIAN):
        request = requests.open_request(RequestDetails(
            patient_id=patients()[0].id, procedure_type_id=procedure("ILESI").id, physician_id=physician("Reyes").id,
            office_id=office("annapolis").id, earliest_on=LATER, region="lumbar", side="right", levels_count=1,
            levels="L5-S1"), by=PHYSICIAN, now=AT)
    assert (request.region, request.side, request.levels) == ("lumbar", None, None)


def test_a_manager_opens_no_request():
    manager = Actor(4, "manager", frozenset({"manager"}))
    with pytest.raises(Refused), transaction(db.session, manager):
        requests.open_request(RequestDetails(
            patient_id=1, procedure_type_id=procedure("MBB").id, physician_id=1, office_id=1, earliest_on=LATER),
            by=manager, now=AT)


# Next available and booking agree about candidacy.

def test_next_available_offers_no_time_that_booking_would_refuse_for_candidacy():
    patient = patients()[0]
    rfa = done("RFA", MONDAY, patient=patient, override="Two qualifying blocks elsewhere")
    record(follow_ups_of(rfa)[0], 80, 6, ReliefUnit.WEEKS, ongoing=True)
    today = months_after(MONDAY, 6) - timedelta(days=10)
    eligible_from = months_after(MONDAY, 6)
    [repeat] = candidacy.candidacies_for_patient(patient.id, today=today)
    assert repeat.eligible_from == eligible_from
    now = datetime.combine(today, time(12), UTC)
    slots = find_next_available(procedure("RFA").id, earliest=now, now=now, limits=LIMITS, count=5, days=30,
                                patient_id=patient.id, region="lumbar", side="right")
    assert slots and all(slot.local_start.date() >= eligible_from for slot in slots)
    # The same search without the patient offers earlier times; booking one for the patient is refused.
    anyone = find_next_available(procedure("RFA").id, earliest=now, now=now, limits=LIMITS, count=1, days=30)
    early = anyone[0]
    assert early.local_start.date() < eligible_from
    with pytest.raises(services.BookingConflict) as refused:
        services.book_appointment(services.BookingRequest(
            patient.id, procedure("RFA").id, early.physician.id, early.office.id, early.room.id,
            early.local_start.date(), early.local_start.time(), "lumbar", "right", 2, "L4-L5, L5-S1"),
            by=SCHEDULER, now=now, limits=LIMITS)
    assert any(problem.code == "candidacy" for problem in refused.value.problems)
    first = slots[0]
    booked = services.book_appointment(services.BookingRequest(
        patient.id, procedure("RFA").id, first.physician.id, first.office.id, first.room.id,
        first.local_start.date(), first.local_start.time(), "lumbar", "right", 2, "L4-L5, L5-S1"),
        by=SCHEDULER, now=now, limits=LIMITS)
    assert booked.id
    # And a region with no candidacy gets no time at all, as booking there is refused.
    assert find_next_available(procedure("RFA").id, earliest=now, now=now, limits=LIMITS, count=1, days=30,
                               patient_id=patient.id, region="cervical", side="right") == []

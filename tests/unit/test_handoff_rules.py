"""The hand-off's pure rules: which procedure a decision asks for, the first day the rules allow
it, what a decision needs, and scheduling requests' keys and ages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backoffice.catalog.rules import ProcedureKind
from backoffice.procedures.candidacy_rules import Candidacy, CandidacyKind, Eligibility
from backoffice.procedures.handoff_rules import first_allowed_day, kind_asked, procedure_asked
from backoffice.procedures.rules import PlanDecision, decision_problems
from backoffice.scheduling.request_rules import age_in_days, age_said, open_key, search_from

K = ProcedureKind
BOOKABLE = {"ablation": [7, 8], "scs_trial": [10], "diagnostic_facet": [4]}
TODAY = date(2026, 9, 1)


@pytest.mark.parametrize("decision, done, asked", [
    (PlanDecision.REPEAT_BLOCK, K.DIAGNOSTIC_FACET, K.DIAGNOSTIC_FACET),
    (PlanDecision.REPEAT_BLOCK, K.EPIDURAL, K.EPIDURAL),
    (PlanDecision.REPEAT_BLOCK, K.ABLATION, K.ABLATION),
    (PlanDecision.PROCEED_RFA, K.DIAGNOSTIC_FACET, K.ABLATION),
    (PlanDecision.SCS_TRIAL, K.EPIDURAL, K.SCS_TRIAL),
    (PlanDecision.NO_FURTHER, K.DIAGNOSTIC_FACET, None),
    (PlanDecision.OTHER, K.DIAGNOSTIC_FACET, None),
    (None, K.DIAGNOSTIC_FACET, None),
])
def test_each_decision_asks_for_its_kind_of_procedure(decision, done, asked):
    assert kind_asked(decision, done) is asked


@pytest.mark.parametrize("decision, done_type, done, asked", [
    (PlanDecision.REPEAT_BLOCK, 5, K.EPIDURAL, 5),          # a transforaminal epidural stays transforaminal
    (PlanDecision.PROCEED_RFA, 4, K.DIAGNOSTIC_FACET, 7),   # the catalog's first ablation
    (PlanDecision.PROCEED_RFA, 8, K.ABLATION, 8),           # an RFA after an RFA: the same one
    (PlanDecision.SCS_TRIAL, 4, K.DIAGNOSTIC_FACET, 10),
    (PlanDecision.NO_FURTHER, 4, K.DIAGNOSTIC_FACET, None),
])
def test_the_procedure_asked_for_is_the_one_done_or_the_catalogs_first_of_the_kind(decision, done_type, done, asked):
    assert procedure_asked(decision, done_type_id=done_type, done=done, bookable=BOOKABLE) == asked


def test_no_procedure_is_asked_for_when_the_catalog_has_none_of_the_kind():
    assert procedure_asked(PlanDecision.SCS_TRIAL, done_type_id=4, done=K.DIAGNOSTIC_FACET, bookable={}) is None


def candidacy(kind: CandidacyKind, eligibility: Eligibility, eligible_from: date | None = None,
              region: str = "lumbar", side: str | None = "right") -> Candidacy:
    return Candidacy(kind, region, side, eligibility, (), "rule", eligible_from)


@pytest.mark.parametrize("candidacies, kind, region, side, allowed", [
    # A rhizotomy candidate now: today.
    ([candidacy(CandidacyKind.RFA_CANDIDATE, Eligibility.ELIGIBLE)], K.ABLATION, "lumbar", "right", TODAY),
    # A repeat RFA eligible from its calendar-month date: that date.
    ([candidacy(CandidacyKind.REPEAT_RFA, Eligibility.ELIGIBLE_FROM, date(2026, 9, 30))], K.ABLATION, "lumbar",
     "right", date(2026, 9, 30)),
    # A repeat epidural, any side, from the day the 14 days are over.
    ([candidacy(CandidacyKind.REPEAT_EPIDURAL, Eligibility.ELIGIBLE_FROM, date(2026, 9, 12), side=None)],
     K.EPIDURAL, "lumbar", "left", date(2026, 9, 12)),
    # The other side has no candidacy: never, with the records as they are.
    ([candidacy(CandidacyKind.RFA_CANDIDATE, Eligibility.ELIGIBLE)], K.ABLATION, "lumbar", "left", None),
    # Waiting on a follow-up, or not eligible: never yet.
    ([candidacy(CandidacyKind.REPEAT_EPIDURAL, Eligibility.AWAITING, side=None)], K.EPIDURAL, "lumbar", None, None),
    ([candidacy(CandidacyKind.REPEAT_RFA, Eligibility.NOT_ELIGIBLE)], K.ABLATION, "lumbar", "right", None),
    # Kinds the rules do not check (a block, an SCS trial): today.
    ([], K.DIAGNOSTIC_FACET, "lumbar", "right", TODAY),
    ([], K.SCS_TRIAL, "thoracic", None, TODAY),
    # An epidural never done before: nothing stands in the way.
    ([], K.EPIDURAL, "cervical", None, TODAY),
])
def test_the_first_allowed_day_is_the_day_booking_stops_refusing(candidacies, kind, region, side, allowed):
    assert first_allowed_day(candidacies, kind=kind, region=region, side=side, today=TODAY) == allowed


@pytest.mark.parametrize("decision, note, problems", [
    (PlanDecision.OTHER, None, {"note": "Say what the plan is."}),
    (PlanDecision.OTHER, "   ", {"note": "Say what the plan is."}),
    (PlanDecision.OTHER, "Refer to spine surgery", {}),
    (PlanDecision.NO_FURTHER, None, {}),
    (PlanDecision.PROCEED_RFA, "x" * 501, {"note": "Keep the note under 500 characters."}),
])
def test_other_says_what_the_plan_is_and_notes_fit(decision, note, problems):
    assert decision_problems(decision, note) == problems


def test_one_open_request_per_patient_procedure_region_and_side():
    assert open_key(12, 7, "lumbar", "right") == open_key(12, 7, "lumbar", "right")
    assert len({open_key(12, 7, "lumbar", "right"), open_key(12, 7, "lumbar", "left"), open_key(12, 7, "lumbar", None),
                open_key(12, 8, "lumbar", "right"), open_key(13, 7, "lumbar", "right")}) == 5


@pytest.mark.parametrize("created, now, days, said", [
    (datetime(2026, 9, 1, 13, tzinfo=UTC), datetime(2026, 9, 1, 20, tzinfo=UTC), 0, "today"),
    # 22:00 in New York on 09/01 is 02:00 UTC on 09/02: still the same day at the office.
    (datetime(2026, 9, 1, 13, tzinfo=UTC), datetime(2026, 9, 2, 2, tzinfo=UTC), 0, "today"),
    (datetime(2026, 9, 1, 13, tzinfo=UTC), datetime(2026, 9, 2, 13, tzinfo=UTC), 1, "1 day"),
    (datetime(2026, 9, 1, 13, tzinfo=UTC), datetime(2026, 11, 2, 13, tzinfo=UTC), 62, "62 days"),
])
def test_a_requests_age_counts_calendar_days_at_the_office(created, now, days, said):
    assert age_in_days(created, now, "America/New_York") == days
    assert age_said(days) == said


def test_next_available_searches_from_the_earliest_day_unless_it_is_past():
    assert search_from(date(2026, 9, 30), TODAY) == date(2026, 9, 30)
    assert search_from(TODAY, TODAY) is None
    assert search_from(date(2026, 8, 1), TODAY) is None

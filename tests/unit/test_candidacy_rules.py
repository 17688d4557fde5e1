"""Outcomes and candidacy, table by table, with no app and no database."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.catalog.rules import IntervalScope, IntervalUnit, MinimumInterval, ProcedureKind, months_after
from backoffice.devices.rules import TrialDecision, TrialRecord
from backoffice.procedures.booking_rules import booking_refusal
from backoffice.procedures.candidacy_rules import (
    Candidacy,
    CandidacyKind,
    DoneProcedure,
    Eligibility,
    RecordedOutcome,
    SessionLimit,
    Thresholds,
    assess,
    assessment_holds_until,
    relief_lasts_until,
)
from backoffice.procedures.rules import ReliefUnit, odi_score, outcome_problems, percent_relief, relief_hours

TODAY = date(2026, 11, 24)
DEFAULTS = Thresholds()
SIX_MONTHS = MinimumInterval(6, IntervalUnit.MONTHS)
LIMITS = {"epidural": SessionLimit(4, MinimumInterval(14), IntervalScope.PATIENT),
          "facet_diagnostic": SessionLimit(4), "facet_therapeutic": SessionLimit(4),
          "ablation": SessionLimit(2, SIX_MONTHS, IntervalScope.REGION_SIDE)}
CODES = {ProcedureKind.DIAGNOSTIC_FACET: "MBB", ProcedureKind.THERAPEUTIC_FACET: "FJI",
         ProcedureKind.EPIDURAL: "ILESI", ProcedureKind.ABLATION: "RFA", ProcedureKind.SCS_TRIAL: "SCS-TRIAL",
         ProcedureKind.SCS_IMPLANT: "SCS-IMPLANT"}
ids = count(1)


def done(kind: ProcedureKind, day: date, *, region: str | None = "lumbar", side: str | None = "right",
         status: str = "completed", levels: str | None = "L4-L5, L5-S1") -> DoneProcedure:
    return DoneProcedure(next(ids), day, CODES[kind], kind, region, side, levels, status)


def relief(procedure: DoneProcedure, percent: int, hours: int | None = 5, *, ongoing: bool = False,
           after: int = 1, months: int | None = None) -> RecordedOutcome:
    """A follow-up `after` days on; its relief said in hours, or in `months` (calendar months)."""
    return RecordedOutcome(procedure.appointment_id, procedure.day + timedelta(days=after), percent,
                           relief_hours=months * 730 if months else hours, relief_ongoing=ongoing,
                           relief_months=months)


def mbb(day: date, **where: str | None) -> DoneProcedure:
    return done(ProcedureKind.DIAGNOSTIC_FACET, day, **where)


def candidacies(procedures: list[DoneProcedure], outcomes: list[RecordedOutcome], *, today: date = TODAY,
                thresholds: Thresholds = DEFAULTS, psych: date | None = None,
                trials: tuple[TrialRecord, ...] = ()) -> list[Candidacy]:
    return assess(procedures, outcomes, thresholds=thresholds, limits=LIMITS, today=today, psych_cleared_on=psych,
                  trials=trials)


def kinds(found: list[Candidacy]) -> list[tuple[CandidacyKind, str | None, str | None, Eligibility]]:
    return [(c.kind, c.region, c.side, c.eligibility) for c in found]


# Outcome arithmetic.

@pytest.mark.parametrize("baseline, post, expected", [
    (8, 2, 75), (8, 0, 100), (8, 8, 0), (5, 1, 80), (10, 3, 70),
    (4, 6, 0),        # worse than before is no relief, not negative relief
    (0, 0, None),     # no pain to relieve: cannot be computed
    (None, 3, None), (7, None, None),
])
def test_percent_relief_is_computed_from_the_two_pain_scores(baseline: int | None, post: int | None,
                                                             expected: int | None) -> None:
    assert percent_relief(baseline, post) == expected


@pytest.mark.parametrize("amount, unit, hours", [
    (5, ReliefUnit.HOURS, 5), (3, ReliefUnit.DAYS, 72), (2, ReliefUnit.WEEKS, 336), (6, ReliefUnit.MONTHS, 4380),
    (None, ReliefUnit.DAYS, None), (4, None, None),
])
def test_relief_duration_is_kept_in_hours(amount: int | None, unit: ReliefUnit | None, hours: int | None) -> None:
    assert relief_hours(amount, unit) == hours


@pytest.mark.parametrize("answers, score", [
    ([0] * 10, 0), ([5] * 10, 100), ([2] * 10, 40),
    ([3, 3, 3, 3, 3, 3, 3, 3, 3, None], 60),   # a section left out (often sex life) is not counted
    ([None] * 10, None),
])
def test_oswestry_index_scores_the_sections_answered(answers: list[int | None], score: int | None) -> None:
    assert odi_score(answers) == score


@pytest.mark.parametrize("values, field", [
    ({"baseline": 11, "post": 2}, "baseline_nrs"),
    ({"baseline": 8, "post": -1}, "post_nrs"),
    ({"relief": 150}, "percent_relief"),
    ({"relief": None, "baseline": None, "post": 3}, "percent_relief"),
    ({"recorded_on": date(2026, 11, 9)}, "recorded_on"),    # before the procedure
    ({"recorded_on": date(2026, 11, 25)}, "recorded_on"),   # in the future
])
def test_refuses_impossible_outcomes(values: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"baseline": 8, "post": 2, "relief": None, "recorded_on": date(2026, 11, 12),
                                    "procedure_day": date(2026, 11, 10), "today": TODAY, **values}
    assert field in outcome_problems(**arguments)  # type: ignore[arg-type]


def test_accepts_an_outcome_on_the_day_of_the_procedure() -> None:
    assert outcome_problems(baseline=7, post=1, relief=None, recorded_on=TODAY, procedure_day=TODAY,
                            today=TODAY) == {}


# Rhizotomy candidacy.

def test_two_qualifying_lumbar_right_blocks_make_a_rhizotomy_candidate_with_both_as_evidence() -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))
    found = candidacies([first, second], [relief(first, 90), relief(second, 85, 4)])
    assert kinds(found) == [(CandidacyKind.RFA_CANDIDATE, "lumbar", "right", Eligibility.ELIGIBLE)]
    evidence = [(e.appointment_id, e.text) for e in found[0].evidence]
    assert evidence == [(first.appointment_id, "MBB 10/01/2026: 90% relief for 5 h"),
                        (second.appointment_id, "MBB 10/20/2026: 85% relief for 4 h")]
    assert "≥ 80%" in found[0].rule


@pytest.mark.parametrize("second_relief, expected", [
    (80, CandidacyKind.RFA_CANDIDATE),          # exactly the threshold qualifies
    (79, CandidacyKind.CONFIRMATORY_BLOCK),     # one below does not
    (70, CandidacyKind.CONFIRMATORY_BLOCK),
])
def test_each_block_needs_eighty_percent_relief(second_relief: int, expected: CandidacyKind) -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))
    found = candidacies([first, second], [relief(first, 90), relief(second, second_relief)])
    assert [c.kind for c in found] == [expected]


def test_a_block_below_the_threshold_is_shown_with_why_it_does_not_qualify() -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))
    found = candidacies([first, second], [relief(first, 90), relief(second, 70)])
    assert found[0].evidence[1].text == "MBB 10/20/2026: 70% relief for 5 h (below 80%: does not qualify)"


@pytest.mark.parametrize("hours, expected", [
    (2, [CandidacyKind.RFA_CANDIDATE]), (1, [CandidacyKind.CONFIRMATORY_BLOCK]),
    (None, [CandidacyKind.CONFIRMATORY_BLOCK]),   # how long it lasted must be recorded
])
def test_relief_must_last_as_long_as_the_anesthetic(hours: int | None, expected: list[CandidacyKind]) -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))
    found = candidacies([first, second], [relief(first, 90), relief(second, 90, hours)])
    assert [c.kind for c in found] == expected


@pytest.mark.parametrize("second_place", [
    {"side": "left"}, {"region": "cervical"}, {"side": "bilateral"}, {"levels": "L3-L4"},
])
def test_blocks_of_another_side_region_or_levels_are_never_combined(second_place: dict[str, str]) -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20), **second_place)
    found = candidacies([first, second], [relief(first, 90), relief(second, 90)])
    assert CandidacyKind.RFA_CANDIDATE not in [c.kind for c in found]
    assert all(c.kind is CandidacyKind.CONFIRMATORY_BLOCK for c in found)


def test_left_and_right_are_assessed_separately() -> None:
    procedures = [mbb(date(2026, 9, 1)), mbb(date(2026, 9, 20)), mbb(date(2026, 10, 1), side="left")]
    outcomes = [relief(p, 90) for p in procedures]
    assert kinds(candidacies(procedures, outcomes)) == [
        (CandidacyKind.CONFIRMATORY_BLOCK, "lumbar", "left", Eligibility.ELIGIBLE),
        (CandidacyKind.RFA_CANDIDATE, "lumbar", "right", Eligibility.ELIGIBLE)]


@pytest.mark.parametrize("status", ["cancelled", "no_show", "rescheduled"])
def test_cancelled_and_missed_blocks_never_count(status: str) -> None:
    first, missed = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20), status=status)
    found = candidacies([first, missed], [relief(first, 90), relief(missed, 90)])
    assert [c.kind for c in found] == [CandidacyKind.CONFIRMATORY_BLOCK]


def test_a_block_without_a_follow_up_is_not_yet_evidence() -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 11, 23))
    found = candidacies([first, second], [relief(first, 90)])
    assert [c.kind for c in found] == [CandidacyKind.CONFIRMATORY_BLOCK]
    assert found[0].evidence[1].text == "MBB 11/23/2026: no follow-up recorded"


def test_a_confirmatory_block_already_booked_takes_the_patient_off_the_list() -> None:
    first, booked = mbb(date(2026, 10, 1)), mbb(date(2026, 12, 2), status="scheduled")
    assert candidacies([first, booked], [relief(first, 90)]) == []


def test_the_latest_follow_up_of_a_block_is_the_one_that_counts() -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))
    outcomes = [relief(first, 90), relief(second, 90, after=0), relief(second, 60, after=1)]
    assert [c.kind for c in candidacies([first, second], outcomes)] == [CandidacyKind.CONFIRMATORY_BLOCK]


def test_a_decision_of_no_further_intervention_takes_the_place_off_the_list() -> None:
    first, second = mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))
    declined = RecordedOutcome(second.appointment_id, date(2026, 10, 21), 85, 4, decision="no_further")
    assert candidacies([first, second], [relief(first, 90), declined]) == []
    other_side = mbb(date(2026, 10, 5), side="left")
    assert [c.side for c in candidacies([first, second, other_side],
                                        [relief(first, 90), declined, relief(other_side, 90)])] == ["left"]


def test_the_number_of_blocks_needed_is_a_setting() -> None:
    first = mbb(date(2026, 10, 1))
    found = candidacies([first], [relief(first, 90)], thresholds=Thresholds(blocks_for_rfa=1))
    assert [c.kind for c in found] == [CandidacyKind.RFA_CANDIDATE]
    assert found[0].rule.startswith("1 diagnostic")


def test_blocks_before_the_last_ablation_do_not_make_a_new_candidacy() -> None:
    old = [mbb(date(2025, 1, 5)), mbb(date(2025, 1, 20))]
    rfa = done(ProcedureKind.ABLATION, date(2025, 2, 10))
    found = candidacies([*old, rfa], [relief(p, 90) for p in old] + [relief(rfa, 30, 24 * 30, after=42)])
    assert [c.kind for c in found] == [CandidacyKind.REPEAT_RFA]
    assert found[0].eligibility is Eligibility.NOT_ELIGIBLE


def test_a_candidate_at_the_yearly_ablation_limit_is_eligible_from_when_the_oldest_leaves_the_window() -> None:
    left_1, left_2 = (done(ProcedureKind.ABLATION, day, side="left") for day in (date(2026, 1, 12),
                                                                                 date(2026, 7, 20)))
    blocks = [mbb(date(2026, 10, 1)), mbb(date(2026, 10, 20))]
    limits = {**LIMITS, "ablation": SessionLimit(2, SIX_MONTHS, IntervalScope.REGION_SIDE)}
    found = assess([left_1, left_2, *blocks], [relief(b, 90) for b in blocks], thresholds=DEFAULTS,
                   limits=limits, today=TODAY)
    right = next(c for c in found if c.side == "right")
    # Only per side here: the two left RFAs are another side, so the right side is free.
    assert right.eligibility is Eligibility.ELIGIBLE


# Repeat rhizotomy.

@pytest.mark.parametrize("last_rfa, outcome, eligibility, eligible_from", [
    # four months ago, relief still going on: eligible six calendar months after it
    (date(2026, 7, 24), (80, None, True), Eligibility.ELIGIBLE_FROM, date(2027, 1, 24)),
    # exactly six calendar months ago (05/24 to 11/24) with 6 months of relief: eligible today
    (date(2026, 5, 24), (60, 184 * 24, False), Eligibility.ELIGIBLE, None),
    # 182 days ago is one day short of six calendar months: eligible tomorrow
    (date(2026, 5, 25), (60, 184 * 24, False), Eligibility.ELIGIBLE_FROM, date(2026, 11, 25)),
    # 50% is enough, 49% is not
    (date(2026, 1, 5), (50, 200 * 24, False), Eligibility.ELIGIBLE, None),
    (date(2026, 1, 5), (49, 200 * 24, False), Eligibility.NOT_ELIGIBLE, None),
    # relief that lasted 180 days (01/05 to 07/04) is not six months (until 07/05)
    (date(2026, 1, 5), (70, 180 * 24, False), Eligibility.NOT_ELIGIBLE, None),
])
def test_repeat_rhizotomy_needs_six_months_and_half_the_pain_gone_for_six_months(
        last_rfa: date, outcome: tuple[int, int | None, bool], eligibility: Eligibility,
        eligible_from: date | None) -> None:
    rfa = done(ProcedureKind.ABLATION, last_rfa)
    percent, hours, ongoing = outcome
    found = candidacies([rfa], [relief(rfa, percent, hours, ongoing=ongoing, after=42)])
    assert [(c.kind, c.eligibility, c.eligible_from) for c in found] == [
        (CandidacyKind.REPEAT_RFA, eligibility, eligible_from)]


def test_a_repeat_rhizotomy_without_a_follow_up_is_awaiting_one() -> None:
    rfa = done(ProcedureKind.ABLATION, date(2026, 10, 1))
    found = candidacies([rfa], [])
    assert found[0].eligibility is Eligibility.AWAITING
    assert "no follow-up recorded yet" in found[0].evidence[0].text


def test_the_repeat_interval_is_a_setting() -> None:
    rfa = done(ProcedureKind.ABLATION, date(2026, 7, 24))
    found = candidacies([rfa], [relief(rfa, 80, months=3, after=90)],
                        thresholds=Thresholds(rfa_repeat_relief_months=3))
    assert (found[0].eligibility, found[0].eligible_from) == (Eligibility.ELIGIBLE_FROM, date(2027, 1, 24))


def test_the_rolling_twelve_months_of_ablations_cross_the_year_end() -> None:
    first, second = done(ProcedureKind.ABLATION, date(2025, 12, 29)), done(ProcedureKind.ABLATION, date(2026, 6, 29))
    outcomes = [relief(first, 80, 200 * 24, after=42), relief(second, 80, None, ongoing=True, after=42)]
    found = candidacies([first, second], outcomes, today=date(2026, 12, 28))
    # the interval from June is over (12/28), but 12/29/2025 and 6/29/2026 both fall in the 12 months
    # before 12/28/2026: the first leaves the window on 12/29/2026
    assert (found[0].eligibility, found[0].eligible_from) == (Eligibility.ELIGIBLE_FROM, date(2026, 12, 29))
    assert "2 sessions in the last 12 months until 12/29/2026" in [e.text for e in found[0].evidence]


def test_a_repeat_already_booked_is_not_listed_again() -> None:
    rfa = done(ProcedureKind.ABLATION, date(2026, 1, 5))
    booked = done(ProcedureKind.ABLATION, date(2026, 12, 14), status="confirmed")
    assert candidacies([rfa, booked], [relief(rfa, 80, 200 * 24)]) == []


# Repeat epidural and facet injections.

@pytest.mark.parametrize("percent, days, expected", [   # two calendar months from 08/01 is 10/01: 61 days
    (50, 61, Eligibility.ELIGIBLE), (49, 61, Eligibility.NOT_ELIGIBLE), (50, 60, Eligibility.NOT_ELIGIBLE),
])
def test_repeat_epidural_needs_half_the_pain_gone_for_two_months(percent: int, days: int,
                                                                 expected: Eligibility) -> None:
    esi = done(ProcedureKind.EPIDURAL, date(2026, 8, 1), side=None)
    found = candidacies([esi], [relief(esi, percent, days * 24, after=14)])
    assert kinds(found) == [(CandidacyKind.REPEAT_EPIDURAL, "lumbar", None, expected)]


def test_relief_still_going_on_counts_only_once_it_has_lasted_long_enough() -> None:
    esi = done(ProcedureKind.EPIDURAL, date(2026, 11, 3), side=None)
    found = candidacies([esi], [relief(esi, 70, 14 * 24, ongoing=True, after=14)])
    assert (found[0].eligibility, found[0].eligible_from) == (Eligibility.ELIGIBLE_FROM, date(2027, 1, 3))
    assert found[0].evidence[-1].text == "relief must last 2 months: until 01/03/2027"
    later = candidacies([esi], [relief(esi, 70, 14 * 24, ongoing=True, after=14)], today=date(2027, 1, 3))
    assert later[0].eligibility is Eligibility.ELIGIBLE


def test_a_repeat_epidural_waits_fourteen_days_after_any_epidural() -> None:
    lumbar = done(ProcedureKind.EPIDURAL, date(2026, 8, 1), side=None)
    cervical = done(ProcedureKind.EPIDURAL, date(2026, 11, 17), region="cervical", side=None)
    found = candidacies([lumbar, cervical], [relief(lumbar, 70, None, ongoing=True, after=14)])
    lumbar_repeat = next(c for c in found if c.region == "lumbar")
    assert (lumbar_repeat.eligibility, lumbar_repeat.eligible_from) == (Eligibility.ELIGIBLE_FROM, date(2026, 12, 1))


def test_four_epidurals_in_a_region_within_twelve_months_wait_for_the_oldest_to_leave_the_window() -> None:
    esis = [done(ProcedureKind.EPIDURAL, day, side=None)
            for day in (date(2026, 1, 10), date(2026, 4, 10), date(2026, 7, 10), date(2026, 9, 10))]
    found = candidacies(esis, [relief(esis[-1], 70, 70 * 24, after=14)])
    assert (found[0].eligibility, found[0].eligible_from) == (Eligibility.ELIGIBLE_FROM, date(2027, 1, 10))


def test_cancelled_epidurals_do_not_count_toward_the_four() -> None:
    esis = [done(ProcedureKind.EPIDURAL, day, side=None, status=status) for day, status in (
        (date(2026, 1, 10), "cancelled"), (date(2026, 4, 10), "completed"), (date(2026, 7, 10), "no_show"),
        (date(2026, 9, 10), "completed"))]
    found = candidacies(esis, [relief(esis[-1], 70, 70 * 24, after=14)])
    assert found[0].eligibility is Eligibility.ELIGIBLE


# Three calendar months from 05/01 is 08/01: 92 days.
@pytest.mark.parametrize("days, expected", [(92, Eligibility.ELIGIBLE), (91, Eligibility.NOT_ELIGIBLE)])
def test_repeat_facet_injection_needs_relief_for_three_months(days: int, expected: Eligibility) -> None:
    facet = done(ProcedureKind.THERAPEUTIC_FACET, date(2026, 5, 1))
    found = candidacies([facet], [relief(facet, 60, days * 24, after=90)])
    assert [(c.kind, c.eligibility) for c in found] == [(CandidacyKind.REPEAT_FACET, expected)]


# Spinal cord stimulation: the trial's result is read from the trial on record (its one home),
# never from the trial procedure's follow-up.

TRIAL_DAY = date(2026, 11, 2)
TRIAL_END = date(2026, 11, 9)
PSYCH = date(2026, 8, 1)


def scs_trial(day: date = TRIAL_DAY) -> DoneProcedure:
    return done(ProcedureKind.SCS_TRIAL, day, region="thoracic", side=None)


def on_record(procedure: DoneProcedure | None = None, *, pain: int | None = None, analgesic: int | None = None,
              ended: date | None = TRIAL_END, decision: TrialDecision | None = None,
              day: date = TRIAL_DAY) -> TrialRecord:
    """The trial as the devices registry keeps it; no result when neither reduction is given."""
    has_result = pain is not None or analgesic is not None
    return TrialRecord(next(ids), day, procedure.appointment_id if procedure else None, "SCS-TRIAL", "thoracic",
                       ended if has_result else None, pain, analgesic, decision)


NOT_RECORDED = "SCS-TRIAL 11/02/2026: trial result not recorded"
GAVE_65 = "SCS-TRIAL 11/02/2026: trial gave 65% reduction of target pain, ended 11/09/2026"
NO_PSYCH = "no psychological evaluation on record: implant not indicated yet"
PSYCH_ONLY = "psychological evaluation 08/01/2026: implant not indicated yet"
INDICATED = "psychological evaluation 08/01/2026: implant indicated"


@pytest.mark.parametrize("pain, analgesic, psych, kind, eligibility, evidence", [
    (None, None, PSYCH, CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING, [NOT_RECORDED, PSYCH_ONLY]),
    (None, None, None, CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING, [NOT_RECORDED, NO_PSYCH]),
    (65, None, None, CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING, [GAVE_65, NO_PSYCH]),
    (65, None, PSYCH, CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE, [GAVE_65, INDICATED]),
    (50, None, PSYCH, CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE,
     ["SCS-TRIAL 11/02/2026: trial gave 50% reduction of target pain, ended 11/09/2026", INDICATED]),
    (49, None, PSYCH, CandidacyKind.SCS_IMPLANT, Eligibility.NOT_ELIGIBLE,
     ["SCS-TRIAL 11/02/2026: trial gave 49% reduction of target pain, ended 11/09/2026",
      "below 50%: the trial did not succeed"]),
    (30, 60, PSYCH, CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE,   # analgesic use counts as much as pain
     ["SCS-TRIAL 11/02/2026: trial gave 30% reduction of target pain, 60% of analgesic use, ended 11/09/2026",
      INDICATED]),
    (None, 55, None, CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING,
     ["SCS-TRIAL 11/02/2026: trial gave 55% reduction of analgesic use, ended 11/09/2026", NO_PSYCH]),
    (30, 40, PSYCH, CandidacyKind.SCS_IMPLANT, Eligibility.NOT_ELIGIBLE,
     ["SCS-TRIAL 11/02/2026: trial gave 30% reduction of target pain, 40% of analgesic use, ended 11/09/2026",
      "below 50%: the trial did not succeed"]),
])
def test_a_permanent_stimulator_needs_the_trials_result_and_a_psychological_evaluation_and_says_what_is_missing(
        pain: int | None, analgesic: int | None, psych: date | None, kind: CandidacyKind, eligibility: Eligibility,
        evidence: list[str]) -> None:
    procedure = scs_trial()
    [found] = candidacies([procedure], [], psych=psych, trials=(on_record(procedure, pain=pain, analgesic=analgesic),))
    assert (found.kind, found.eligibility, found.region) == (kind, eligibility, "thoracic")
    assert [e.text for e in found.evidence] == evidence
    assert found.evidence[0].appointment_id == procedure.appointment_id


def test_the_threshold_is_the_practices_setting() -> None:
    procedure = scs_trial()
    trial = on_record(procedure, pain=55)
    [found] = candidacies([procedure], [], psych=PSYCH, trials=(trial,),
                          thresholds=Thresholds(scs_trial_relief_percent=60))
    assert found.eligibility is Eligibility.NOT_ELIGIBLE
    assert found.evidence[1].text == "below 60%: the trial did not succeed"


def test_the_trial_procedures_follow_up_is_not_a_second_home_for_the_result() -> None:
    procedure = scs_trial()
    outcome = relief(procedure, 70, None, after=7)
    [found] = candidacies([procedure], [outcome], psych=PSYCH, trials=(on_record(procedure),))
    assert [e.text for e in found.evidence] == [NOT_RECORDED, PSYCH_ONLY]
    [unrecorded] = candidacies([procedure], [outcome], psych=PSYCH)  # done here, its trial not on record yet
    assert [e.text for e in unrecorded.evidence] == [NOT_RECORDED, PSYCH_ONLY]


def test_a_trial_on_record_without_a_procedure_done_here_counts() -> None:
    [found] = candidacies([], [], psych=PSYCH, trials=(on_record(pain=65),))
    assert (found.kind, found.eligibility) == (CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)
    assert found.evidence[0].appointment_id is None


@pytest.mark.parametrize("decision, expected", [
    (TrialDecision.FAILED, []),  # not proceeding answers the trial
    (TrialDecision.IMPLANT, [(CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE)]),  # still to book
])
def test_the_trials_decision_answers_it_only_when_it_is_not_to_proceed(
        decision: TrialDecision, expected: list[tuple[CandidacyKind, Eligibility]]) -> None:
    procedure = scs_trial()
    found = candidacies([procedure], [], psych=PSYCH, trials=(on_record(procedure, pain=65, decision=decision),))
    assert [(c.kind, c.eligibility) for c in found] == expected


@pytest.mark.parametrize("implant_day, status, answered", [
    (date(2026, 12, 8), "scheduled", True),
    (date(2026, 12, 8), "completed", True),
    (date(2026, 12, 8), "cancelled", False),
    (date(2025, 6, 1), "completed", False),  # an implant before this trial (it replaced one) does not answer it
])
def test_an_implant_after_the_trial_closes_the_question(implant_day: date, status: str, answered: bool) -> None:
    procedure = scs_trial()
    implant = done(ProcedureKind.SCS_IMPLANT, implant_day, region="thoracic", side=None, status=status)
    found = candidacies([procedure, implant], [], psych=PSYCH, trials=(on_record(procedure, pain=70),))
    assert (found == []) is answered


def test_the_latest_trial_speaks() -> None:
    old = on_record(pain=20, day=date(2026, 3, 2), ended=date(2026, 3, 9), decision=TrialDecision.FAILED)
    procedure = scs_trial()
    [found] = candidacies([procedure], [], psych=PSYCH, trials=(old, on_record(procedure, pain=65)))
    assert [e.text for e in found.evidence] == [GAVE_65, INDICATED]
    assert candidacies([procedure], [], psych=PSYCH, trials=(on_record(procedure, pain=65), old)) == [found]


def test_no_further_intervention_at_the_trials_follow_up_still_answers_it() -> None:
    procedure = scs_trial()
    outcome = RecordedOutcome(procedure.appointment_id, TRIAL_END, 65, decision="no_further")
    assert candidacies([procedure], [outcome], psych=PSYCH, trials=(on_record(procedure, pain=65),)) == []


# Booking knows the rules.

def refusal(procedures: list[DoneProcedure], outcomes: list[RecordedOutcome], kind: ProcedureKind,
            day: date = date(2026, 12, 7), *, side: str | None = "right") -> str | None:
    return booking_refusal(candidacies(procedures, outcomes), kind=kind, region="lumbar", side=side, day=day)


def test_booking_a_repeat_rhizotomy_too_early_says_why_and_from_when() -> None:
    rfa = done(ProcedureKind.ABLATION, date(2026, 7, 24))
    message = refusal([rfa], [relief(rfa, 80, None, ongoing=True, after=42)], ProcedureKind.ABLATION)
    assert message == ("Repeat RFA: not eligible yet. RFA 07/24/2026: 80% relief, ongoing; relief must last 6 months: "
                       "until 01/24/2027. Eligible from 01/24/2027.")
    assert refusal([rfa], [relief(rfa, 80, None, ongoing=True, after=42)], ProcedureKind.ABLATION,
                   date(2027, 1, 24)) is None


def test_booking_a_rhizotomy_without_qualifying_blocks_is_refused() -> None:
    block = mbb(date(2026, 10, 1))
    assert "two diagnostic medial branch blocks" in (refusal([block], [relief(block, 90)], ProcedureKind.ABLATION)
                                                     or "")
    other_side = [mbb(date(2026, 9, 1), side="left"), mbb(date(2026, 9, 20), side="left")]
    assert refusal(other_side, [relief(b, 90) for b in other_side], ProcedureKind.ABLATION) is not None
    assert refusal(other_side, [relief(b, 90) for b in other_side], ProcedureKind.ABLATION, side="left") is None


def test_a_first_epidural_or_diagnostic_block_needs_no_candidacy() -> None:
    assert refusal([], [], ProcedureKind.EPIDURAL) is None
    assert refusal([], [], ProcedureKind.DIAGNOSTIC_FACET) is None


def test_a_repeat_epidural_after_too_little_relief_is_refused_with_the_follow_up() -> None:
    esi = done(ProcedureKind.EPIDURAL, date(2026, 8, 1), side=None)
    outcome = RecordedOutcome(esi.appointment_id, date(2026, 8, 15), 30, 30 * 24, relief_as_entered="30 days")
    message = refusal([esi], [outcome], ProcedureKind.EPIDURAL)
    assert message == ("Repeat epidural injection: not eligible yet. ILESI 08/01/2026: 30% relief for 30 days; "
                       "relief below 50%.")


def test_a_therapeutic_facet_injection_needs_the_two_qualifying_blocks() -> None:
    assert refusal([], [], ProcedureKind.THERAPEUTIC_FACET) is not None
    blocks = [mbb(date(2026, 9, 1)), mbb(date(2026, 9, 20))]
    assert refusal(blocks, [relief(b, 90) for b in blocks], ProcedureKind.THERAPEUTIC_FACET) is None


def test_a_permanent_stimulator_without_a_psychological_evaluation_is_refused_saying_what_is_missing() -> None:
    trial = scs_trial()
    found = candidacies([trial], [], trials=(on_record(trial, pain=70),))
    message = booking_refusal(found, kind=ProcedureKind.SCS_IMPLANT, region="thoracic", side=None,
                              day=date(2026, 12, 7))
    assert message == ("SCS trial awaiting decision: not eligible yet. SCS-TRIAL 11/02/2026: trial gave 70% reduction "
                       "of target pain, ended 11/09/2026; no psychological evaluation on record: implant not indicated "
                       "yet.")


# How long an assessment holds: the candidates list keeps each patient's until that day.

HISTORY_DAYS = 730


def assessed_on(day: date, procedures: list[DoneProcedure], outcomes: list[RecordedOutcome],
                psych: date | None = None, trials: tuple[TrialRecord, ...] = ()) -> list[Candidacy]:
    """The assessment a reader of the last `HISTORY_DAYS` gets on `day`."""
    since = day - timedelta(days=HISTORY_DAYS)
    return candidacies([p for p in procedures if p.day >= since], [o for o in outcomes if o.recorded_on >= since],
                       today=day, psych=psych, trials=tuple(t for t in trials if t.started_on >= since))


def holds_until(procedures: list[DoneProcedure], outcomes: list[RecordedOutcome], *, today: date = TODAY,
                psych: date | None = None, trials: tuple[TrialRecord, ...] = ()) -> date:
    return assessment_holds_until(procedures, assessed_on(today, procedures, outcomes, psych, trials),
                                  thresholds=DEFAULTS, limits=LIMITS, today=today, history_days=HISTORY_DAYS,
                                  trials=[t for t in trials if t.started_on >= today - timedelta(days=HISTORY_DAYS)])


def epidural_with_ongoing_relief() -> tuple[list[DoneProcedure], list[RecordedOutcome], date]:
    epidural = done(ProcedureKind.EPIDURAL, TODAY - timedelta(days=40), side=None)
    return [epidural], [relief(epidural, 70, None, ongoing=True)], months_after(epidural.day, 2)


def relief_long_enough_while_the_year_is_full() -> tuple[list[DoneProcedure], list[RecordedOutcome], date]:
    epidurals = [done(ProcedureKind.EPIDURAL, TODAY - timedelta(days=n), side=None) for n in (300, 200, 100, 40)]
    return epidurals, [relief(epidurals[-1], 70, None, ongoing=True)], months_after(epidurals[-1].day, 2)


def booked_confirmatory_block() -> tuple[list[DoneProcedure], list[RecordedOutcome], date]:
    first = mbb(TODAY - timedelta(days=20))
    booked = mbb(TODAY + timedelta(days=5), status="scheduled")
    return [first, booked], [relief(first, 90)], booked.day + timedelta(days=1)


def repeat_rfa_waiting_for_six_months() -> tuple[list[DoneProcedure], list[RecordedOutcome], date]:
    rfa = done(ProcedureKind.ABLATION, TODAY - timedelta(days=100))
    return [rfa], [relief(rfa, 80, 24 * 200)], SIX_MONTHS.after(rfa.day)


def epidural_awaiting_its_follow_up() -> tuple[list[DoneProcedure], list[RecordedOutcome], date]:
    epidural = done(ProcedureKind.EPIDURAL, TODAY - timedelta(days=5), side=None)
    return [epidural], [], epidural.day + timedelta(days=14)  # the interval's date leaves the evidence


def blocks_leaving_the_history() -> tuple[list[DoneProcedure], list[RecordedOutcome], date]:
    first, second = mbb(TODAY - timedelta(days=725)), mbb(TODAY - timedelta(days=700))
    return [first, second], [relief(first, 90), relief(second, 90)], first.day + timedelta(days=HISTORY_DAYS + 1)


@pytest.mark.parametrize("history", [epidural_with_ongoing_relief, relief_long_enough_while_the_year_is_full,
                                     booked_confirmatory_block,
                                     repeat_rfa_waiting_for_six_months, epidural_awaiting_its_follow_up,
                                     blocks_leaving_the_history])
def test_an_assessment_is_redone_no_later_than_the_day_it_changes(history) -> None:
    procedures, outcomes, changes_on = history()
    until = holds_until(procedures, outcomes)
    assert TODAY < until <= changes_on
    assert assessed_on(changes_on, procedures, outcomes) != assessed_on(TODAY, procedures, outcomes)


def test_an_assessment_with_nothing_ahead_holds_for_good() -> None:
    assert holds_until([], []) == date.max


KINDS = [ProcedureKind.DIAGNOSTIC_FACET, ProcedureKind.THERAPEUTIC_FACET, ProcedureKind.EPIDURAL,
         ProcedureKind.ABLATION, ProcedureKind.SCS_TRIAL, ProcedureKind.SCS_IMPLANT]
procedure_days = st.integers(min_value=-800, max_value=60).map(lambda n: TODAY + timedelta(days=n))


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[DoneProcedure], list[RecordedOutcome], date | None,
                                        tuple[TrialRecord, ...]]:
    procedures = [done(draw(st.sampled_from(KINDS)), draw(procedure_days),
                       region=draw(st.sampled_from(["lumbar", "cervical"])),
                       side=draw(st.sampled_from(["left", "right"])),
                       status=draw(st.sampled_from(["completed", "completed", "scheduled", "cancelled"])),
                       levels=draw(st.sampled_from(["L4-L5", "L5-S1"])))
                  for _ in range(draw(st.integers(min_value=1, max_value=6)))]
    outcomes = []
    for procedure in procedures:
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            outcome = RecordedOutcome(
                procedure.appointment_id, procedure.day + timedelta(days=draw(st.integers(0, 120))),
                draw(st.integers(0, 100)), draw(st.sampled_from([None, 1, 5, 24 * 30, 24 * 70, 24 * 100, 24 * 200])),
                draw(st.booleans()), draw(st.sampled_from([None, None, "no_further", "proceed_rfa"])))
            if outcome.recorded_on <= TODAY:
                outcomes.append(outcome)
    trials = tuple(TrialRecord(next(ids), p.day, p.appointment_id if draw(st.booleans()) else None, p.code, p.region,
                               p.day + timedelta(days=7), percent, None,
                               draw(st.sampled_from([None, None, TrialDecision.FAILED, TrialDecision.IMPLANT])))
                   for p in procedures if p.kind is ProcedureKind.SCS_TRIAL and p.status != "cancelled"
                   and (percent := draw(st.sampled_from([None, 30, 70]))) is not None)
    return procedures, outcomes, draw(st.sampled_from([None, TODAY - timedelta(days=30)])), trials


@settings(max_examples=300, deadline=None)
@given(histories())
def test_an_assessment_says_the_same_on_every_day_before_it_is_redone(
        history: tuple[list[DoneProcedure], list[RecordedOutcome], date | None, tuple[TrialRecord, ...]]) -> None:
    procedures, outcomes, psych, trials = history
    until = holds_until(procedures, outcomes, psych=psych, trials=trials)
    now = assessed_on(TODAY, procedures, outcomes, psych, trials)
    last = min(until, TODAY + timedelta(days=900))
    for offset in range(1, (last - TODAY).days):
        day = TODAY + timedelta(days=offset)
        assert assessed_on(day, procedures, outcomes, psych, trials) == now, (day, until)


# Months are calendar months (domain-rules.md): clamped at the month's end.

@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 3, 31), 6, date(2026, 9, 30)),     # September has 30 days
    (date(2026, 8, 29), 6, date(2027, 2, 28)),     # 2027 is not a leap year
    (date(2027, 8, 29), 6, date(2028, 2, 29)),     # 2028 is
    (date(2027, 8, 31), 6, date(2028, 2, 29)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),    # across the year end
    (date(2026, 5, 15), 6, date(2026, 11, 15)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
])
def test_months_are_calendar_months_clamped_at_the_month_end(day: date, months: int, expected: date) -> None:
    assert months_after(day, months) == expected


@pytest.mark.parametrize("done_on, amount, expected", [
    (date(2026, 3, 31), {"months": 7}, date(2026, 10, 31)),
    (date(2026, 7, 31), {"months": 7}, date(2027, 2, 28)),
    (date(2026, 3, 31), {"hours": 24 * 30}, date(2026, 4, 30)),   # days stay days
    (date(2026, 3, 31), {"hours": None}, None),
])
def test_relief_said_in_months_lasts_calendar_months(done_on: date, amount: dict[str, int | None],
                                                     expected: date | None) -> None:
    rfa = done(ProcedureKind.ABLATION, done_on)
    assert relief_lasts_until(relief(rfa, 80, **amount), done_on) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("last_rfa, eligible_from", [
    (date(2026, 3, 31), date(2026, 9, 30)),
    (date(2026, 8, 29), date(2027, 2, 28)),
])
def test_a_repeat_rhizotomy_counts_six_calendar_months_from_the_last(last_rfa: date, eligible_from: date) -> None:
    rfa = done(ProcedureKind.ABLATION, last_rfa)
    outcome = relief(rfa, 80, months=7, after=42)
    before = candidacies([rfa], [outcome], today=eligible_from - timedelta(days=1))
    assert (before[0].eligibility, before[0].eligible_from) == (Eligibility.ELIGIBLE_FROM, eligible_from)
    assert candidacies([rfa], [outcome], today=eligible_from)[0].eligibility is Eligibility.ELIGIBLE


def test_an_epidural_awaiting_its_follow_up_also_says_when_the_fourteen_days_allow_the_next() -> None:
    epidural = done(ProcedureKind.EPIDURAL, date(2026, 11, 20), side=None)
    found, = candidacies([epidural], [])
    assert found.eligibility is Eligibility.AWAITING
    assert [e.text for e in found.evidence] == [
        "ILESI 11/20/2026: no follow-up recorded yet",
        "the 14-day interval allows the next one from 12/04/2026"]


def test_a_repeat_rhizotomy_awaiting_its_follow_up_names_the_calendar_month_date() -> None:
    rfa = done(ProcedureKind.ABLATION, date(2026, 8, 29))
    found, = candidacies([rfa], [], today=date(2026, 10, 1))
    assert "the 6-month interval allows the next one from 02/28/2027" in [e.text for e in found.evidence]


def test_an_interval_already_passed_is_not_mentioned_while_awaiting_a_follow_up() -> None:
    epidural = done(ProcedureKind.EPIDURAL, date(2026, 10, 1), side=None)
    found, = candidacies([epidural], [])
    assert [e.text for e in found.evidence] == ["ILESI 10/01/2026: no follow-up recorded yet"]

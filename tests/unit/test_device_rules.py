"""Implanted-device rules, table by table, with no app and no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import product

import pytest

from backoffice.catalog.rules import DeviceKind, gtin_problem
from backoffice.devices.rules import (
    DeviceStatus,
    RefillCheck,
    RefillPlan,
    StatusChangeRefused,
    TrialDecision,
    TrialState,
    Udi,
    UdiError,
    check_refill,
    check_status_change,
    completed_from,
    daily_volume,
    expected_residual,
    is_due_for_replacement_planning,
    parse_udi,
    plan_next_refill,
    planned_trial_end,
    replacement_due,
    trial_reduction,
    trial_result_problems,
    trial_result_said,
    trial_state,
    udi_disagreements,
    with_group_separators,
    years_in_service,
)

GS = chr(29)
D = Decimal


# Kinds and statuses.

@pytest.mark.parametrize("kind, label, has_battery", [
    (DeviceKind.PUMP, "Intrathecal pump", True),
    (DeviceKind.SCS_GENERATOR, "SCS generator", True),
    (DeviceKind.SCS_LEAD, "SCS lead", False),
    (DeviceKind.TRIAL_LEAD, "SCS trial lead", False),
    (DeviceKind.IT_CATHETER, "Intrathecal catheter", False),
])
def test_only_pumps_and_generators_have_a_battery(kind: DeviceKind, label: str, has_battery: bool) -> None:
    assert (kind.label, kind.has_battery) == (label, has_battery)


@pytest.mark.parametrize("status, label, is_active", [
    (DeviceStatus.TRIAL, "Trial", True), (DeviceStatus.IMPLANTED, "Implanted", True),
    (DeviceStatus.EXPLANTED, "Explanted", False), (DeviceStatus.REPLACED, "Replaced", False),
])
def test_a_device_on_trial_or_implanted_is_in_the_patient(status: DeviceStatus, label: str, is_active: bool) -> None:
    assert (status.label, status.is_active) == (label, is_active)


ALLOWED = {(DeviceStatus.TRIAL, DeviceStatus.IMPLANTED), (DeviceStatus.TRIAL, DeviceStatus.EXPLANTED),
           (DeviceStatus.IMPLANTED, DeviceStatus.EXPLANTED), (DeviceStatus.IMPLANTED, DeviceStatus.REPLACED)}


@pytest.mark.parametrize("current, target", sorted(ALLOWED))
def test_a_trial_goes_on_to_implant_or_explant_and_an_implant_to_explant_or_replacement(
        current: DeviceStatus, target: DeviceStatus) -> None:
    check_status_change(current, target)


@pytest.mark.parametrize("current, target", [pair for pair in product(DeviceStatus, DeviceStatus)
                                             if pair not in ALLOWED])
def test_every_other_status_change_is_refused_naming_both_states(current: DeviceStatus, target: DeviceStatus) -> None:
    with pytest.raises(StatusChangeRefused) as refused:
        check_status_change(current, target)
    assert (refused.value.current, refused.value.target) == (current, target)
    message = str(refused.value)
    assert current.label.lower() in message and target.label.lower() in message


@pytest.mark.parametrize("current, target, message", [
    (DeviceStatus.EXPLANTED, DeviceStatus.EXPLANTED, "This device is already explanted; it cannot be explanted again."),
    (DeviceStatus.REPLACED, DeviceStatus.IMPLANTED, "A replaced device cannot be implanted."),
    (DeviceStatus.TRIAL, DeviceStatus.REPLACED,
     "A device on trial cannot be replaced: it can only be implanted or explanted."),
    (DeviceStatus.IMPLANTED, DeviceStatus.TRIAL,
     "An implanted device cannot be put on trial: it can only be explanted or replaced."),
])
def test_a_refusal_says_what_the_device_is_what_was_asked_and_what_is_possible(
        current: DeviceStatus, target: DeviceStatus, message: str) -> None:
    with pytest.raises(StatusChangeRefused, match=f"^{message}$"):
        check_status_change(current, target)


# UDI barcodes.

FULL = Udi(gtin="00643169001763", lot="LOT123", serial="SN456", expiry=date(2028, 1, 31), manufactured=None)
RAW = "0100643169001763172801311" + "0LOT123" + GS + "21SN456"


@pytest.mark.parametrize("text", [
    "(01)00643169001763(17)280131(10)LOT123(21)SN456",
    "  (01) 00643169001763 (17) 280131 (10) LOT123 (21) SN456\n",
    RAW,
    f"\t{RAW}\r\n",
    "]d2" + RAW,  # GS1 DataMatrix
    "]C1" + RAW,  # GS1-128
    "]Q3" + RAW,  # GS1 QR Code
    "]d2" + GS + RAW[:-8] + GS + "21SN456",  # the opening FNC1 sent as a GS
    RAW.replace(GS, "<GS>"),
    RAW.replace(GS, "<gs>"),
    RAW.replace(GS, "^]"),
    "0100643169001763" + "10LOT123" + GS + "17280131" + "21SN456",  # any order; GS only after variable lengths
    "(01)00643169001763(17)280131(10)LOT123(21)SN456(240)ABC(30)2",  # other AIs are ignored
    "(01)00643169001763(10)LOT123(10)LOT123(17)280131(21)SN456",  # a repeat that agrees is harmless
])
def test_a_udi_reads_the_same_however_it_was_scanned_or_typed(text: str) -> None:
    assert parse_udi(text) == FULL


@pytest.mark.parametrize("text, expected", [
    ("(01)00643169001763", Udi("00643169001763", None, None, None, None)),
    ("(01)00643169001763(11)250615(17)300615", Udi("00643169001763", None, None, date(2030, 6, 15),
                                                   date(2025, 6, 15))),
    # day 00 is the last day of the month (GS1 General Specifications, AI 17), leap years included
    ("(01)00643169001763(17)280200", Udi("00643169001763", None, None, date(2028, 2, 29), None)),
    ("(01)00643169001763(17)270200", Udi("00643169001763", None, None, date(2027, 2, 28), None)),
    ("0100643169001763" + "17271200", Udi("00643169001763", None, None, date(2027, 12, 31), None)),
    # what the 14 digits hold is kept as scanned: a GTIN-12 padded with zeros
    ("(01)00643169001763(21)0042", Udi("00643169001763", None, "0042", None, None)),
])
def test_a_udi_keeps_the_gtin_lot_serial_and_dates(text: str, expected: Udi) -> None:
    assert parse_udi(text) == expected


@pytest.mark.parametrize("text, message", [
    ("(01)00643169001764(17)280131(10)LOT123(21)SN456",
     "The GTIN check digit is wrong (expected 3, got 4): check the barcode or type the fields by hand."),
    ("0100643169001760" + "10LOT", "The GTIN check digit is wrong (expected 3, got 0)"),
    ("(17)280131(10)LOT123(21)SN456", "The barcode has no GTIN (01)"),
    ("]d21728013110LOT123", "The barcode has no GTIN (01)"),
    ("", "Nothing was scanned"),
    ("   \n", "Nothing was scanned"),
    ("]d2 ", "Nothing was scanned"),
    ("hello", "This is not a UDI barcode we can read"),
    ("(hello)", "This is not a UDI barcode we can read"),
    ("]", "This is not a UDI barcode we can read"),
    ("(01)0064316900176", "This is not a UDI barcode we can read"),  # 13 digits
    ("(01)00643169001763(10)", "This is not a UDI barcode we can read"),  # an AI with nothing after it
    ("(01)00643169001763(10)A(B)", "This is not a UDI barcode we can read"),  # text that is no AI
    ("(01)00643169001763(7777)X", "This is not a UDI barcode we can read"),  # an AI that does not exist
    ("0100643169001763" + "1728013", "This is not a UDI barcode we can read"),  # a date cut short
    ("(01)00643169001763(17)280230", "The expiry date (17) 280230 is not a real date"),
    ("(01)00643169001763(17)280000", "The expiry date (17) 280000 is not a real date"),  # month 00
    ("(01)00643169001763(11)250431", "The manufacture date (11) 250431 is not a real date"),
    ("(01)00643169001763(10)A(10)B", "The barcode has two different lot numbers (10)"),
    ("+H123456789012", "This is a HIBCC barcode"),
])
def test_a_barcode_that_cannot_be_read_says_why_to_the_nurse(text: str, message: str) -> None:
    with pytest.raises(UdiError) as error:
        parse_udi(text)
    assert str(error.value).startswith(message)
    assert isinstance(error.value, ValueError)


NOTHING_TYPED = Udi(None, None, None, None, None)


@pytest.mark.parametrize("typed, disagreements", [
    (NOTHING_TYPED, {}),
    (FULL, {}),
    (Udi("00643169001763", "LOT999", None, None, None), {"lot": "LOT123"}),
    (Udi(None, None, "SN456", date(2028, 2, 1), date(2025, 1, 1)), {"expiry": "01/31/2028"}),  # it has no (11)
])
def test_fields_typed_otherwise_than_the_scanned_barcode_are_named_with_what_it_says(typed, disagreements):
    assert udi_disagreements(FULL, typed) == disagreements


def test_fields_left_empty_take_the_scanned_barcodes_values_and_typed_ones_are_kept():
    assert completed_from(FULL, NOTHING_TYPED) == FULL
    typed = Udi(None, None, "SN456", None, date(2025, 1, 1))
    assert completed_from(FULL, typed) == Udi("00643169001763", "LOT123", "SN456", date(2028, 1, 31), date(2025, 1, 1))


def test_group_separators_written_out_become_the_character_a_scanner_sends():
    assert with_group_separators("10LOT<GS>21SN^]30 2\N{SYMBOL FOR GROUP SEPARATOR}") == f"10LOT{GS}21SN{GS}30 2{GS}"


@pytest.mark.parametrize("gtin, problem", [
    ("00643169001763", None),
    ("10643169001760", None),
    ("00643169001764", "The GTIN check digit is wrong (expected 3, got 4): check the number on the label."),
    ("0643169001763", "A GTIN has 14 digits."),
    ("006431690017630", "A GTIN has 14 digits."),
    ("0064316900176A", "A GTIN has 14 digits."),
    ("", "A GTIN has 14 digits."),
])
def test_a_gtin_typed_by_hand_is_checked_like_a_scanned_one(gtin: str, problem: str | None) -> None:
    assert gtin_problem(gtin) == problem


# Pump refills.

DAY = date(2026, 11, 24)


@pytest.mark.parametrize("volume, daily, stability, margin, days_of_drug, capped, interval", [
    ("40", "0.5", 90, 7, 76, False, 69),   # 38 mL at 0.5 mL/day
    ("40", "0.3", 90, 7, 126, True, 83),   # the drug's stability comes first
    ("47", "0.5", 90, 7, 90, False, 83),   # exactly at the stability cap: the volume and stability agree
    ("47.5", "0.5", 90, 7, 91, True, 83),  # a day over it
    ("40", "0.7", 90, 7, 54, False, 47),   # 54.3 days: part-days are floored
    ("20", "0.3", 90, 7, 60, False, 53),   # 18 / 0.3 is exactly 60 in Decimal (59.99... as floats)
    ("40", "0.5", 90, 0, 76, False, 76),   # no margin
    ("40", "0.5", 90, 75, 76, False, 1),
    ("40", "0.5", 90, 76, 76, False, 0),   # the margin uses every day: due on the refill day
    ("40", "0.5", 90, 80, 76, False, 0),   # never before the refill day
    ("2.01", "0.5", 90, 7, 0, False, 0),   # just above the alarm: not a single day of drug
    ("2.5", "0.5", 90, 0, 1, False, 1),
])
def test_the_next_refill_is_due_when_the_drug_runs_low_or_expires_less_the_margin(
        volume: str, daily: str, stability: int, margin: int, days_of_drug: int, capped: bool,
        interval: int) -> None:
    plan = plan_next_refill(DAY, volume_ml=D(volume), alarm_ml=D("2"), daily_ml=D(daily),
                            stability_days=stability, margin_days=margin)
    assert plan == RefillPlan(daily_ml=D(daily), days_of_drug=days_of_drug, capped_by_stability=capped,
                              interval_days=interval, next_due=DAY + timedelta(days=interval))


def test_the_required_refill_examples() -> None:
    def due(daily: str) -> date:
        return plan_next_refill(DAY, volume_ml=D(40), alarm_ml=D(2), daily_ml=D(daily), stability_days=90,
                                margin_days=7).next_due
    assert (due("0.5") - DAY).days == 69
    assert (due("0.3") - DAY).days == 83


@pytest.mark.parametrize("volume, daily", [("40", "0"), ("40", "-0.5"), ("2", "0.5"), ("1.5", "0.5")])
def test_a_refill_plan_refuses_a_daily_volume_of_nothing_or_a_fill_at_or_below_the_alarm(
        volume: str, daily: str) -> None:
    with pytest.raises(ValueError):
        plan_next_refill(DAY, volume_ml=D(volume), alarm_ml=D(2), daily_ml=D(daily), stability_days=90,
                         margin_days=7)


@pytest.mark.parametrize("stability, margin", [(0, 7), (90, -1)])
def test_a_refill_plan_refuses_no_stability_or_a_negative_margin(stability: int, margin: int) -> None:
    with pytest.raises(ValueError):
        plan_next_refill(DAY, volume_ml=D(40), alarm_ml=D(2), daily_ml=D("0.5"), stability_days=stability,
                         margin_days=margin)


@pytest.mark.parametrize("dose, concentration, daily", [
    ("10", "20", "0.5"), ("3", "25", "0.12"), ("1", "3", "0.3333"), ("2", "3", "0.6667"), ("0.05", "2", "0.025"),
])
def test_the_daily_volume_is_the_dose_over_the_concentration_to_a_ten_thousandth_of_a_ml(
        dose: str, concentration: str, daily: str) -> None:
    assert daily_volume(D(dose), D(concentration)) == D(daily)


@pytest.mark.parametrize("dose, concentration", [("10", "0"), ("10", "-1"), ("0", "20")])
def test_a_daily_volume_needs_a_dose_and_a_concentration(dose: str, concentration: str) -> None:
    with pytest.raises(ValueError):
        daily_volume(D(dose), D(concentration))


@pytest.mark.parametrize("expected, withdrawn, added, check", [
    ("5", "5", "40", RefillCheck(overfill=False, mismatch=False, difference_ml=D("0"))),
    ("5", "5", "40.1", RefillCheck(overfill=True, mismatch=False, difference_ml=D("0"))),
    ("5", "6", "38", RefillCheck(overfill=False, mismatch=False, difference_ml=D("1"))),    # at the tolerance
    ("5", "6.1", "38", RefillCheck(overfill=False, mismatch=True, difference_ml=D("1.1"))),
    ("5", "4", "38", RefillCheck(overfill=False, mismatch=False, difference_ml=D("-1"))),
    ("5", "3.9", "38", RefillCheck(overfill=False, mismatch=True, difference_ml=D("-1.1"))),  # less came out
    (None, "12", "40", RefillCheck(overfill=False, mismatch=False, difference_ml=None)),   # first refill
])
def test_a_refill_is_checked_against_the_reservoir_and_what_should_have_been_left(
        expected: str | None, withdrawn: str, added: str, check: RefillCheck) -> None:
    assert check_refill(reservoir_ml=D(40), expected_residual_ml=None if expected is None else D(expected),
                        withdrawn_ml=D(withdrawn), added_ml=D(added), tolerance_ml=D(1)) == check


@pytest.mark.parametrize("volumes", [
    {"reservoir_ml": D(0)}, {"withdrawn_ml": D(-1)}, {"added_ml": D(-1)}, {"tolerance_ml": D(-1)}])
def test_a_refill_check_refuses_impossible_volumes(volumes: dict[str, Decimal]) -> None:
    arguments = {"reservoir_ml": D(40), "withdrawn_ml": D(5), "added_ml": D(38), "tolerance_ml": D(1), **volumes}
    with pytest.raises(ValueError):
        check_refill(expected_residual_ml=D(5), **arguments)


@pytest.mark.parametrize("last, daily, days, residual", [
    ("40", "0.5", 0, "40"), ("40", "0.5", 30, "25.0"), ("40", "0.3", 76, "17.2"), ("40", "0.5", 80, "0"),
    ("40", "0.5", 200, "0"),  # never below 0
])
def test_what_should_be_left_is_the_last_volume_less_the_days_of_use(last: str, daily: str, days: int,
                                                                      residual: str) -> None:
    assert expected_residual(last_volume_ml=D(last), daily_ml=D(daily), days=days) == D(residual)


def test_the_days_since_the_last_refill_cannot_be_negative() -> None:
    with pytest.raises(ValueError):
        expected_residual(last_volume_ml=D(40), daily_ml=D("0.5"), days=-1)


# Battery and service life.

def test_the_device_must_be_replaced_some_days_after_its_replacement_indicator() -> None:
    assert replacement_due(date(2026, 11, 24), days_after_eri=90) == date(2027, 2, 22)


@pytest.mark.parametrize("implanted_on, today, years", [
    (date(2020, 1, 15), date(2020, 1, 15), 0.0),
    (date(2020, 1, 15), date(2026, 7, 15), 6.5),
    (date(2020, 1, 15), date(2021, 1, 15), 1.0),
    (date(2020, 1, 31), date(2020, 2, 29), 1 / 12),  # a month from the 31st ends on the month's last day
    (date(2020, 1, 15), date(2019, 1, 15), 0.0),     # not in service yet
])
def test_years_in_service_count_calendar_months(implanted_on: date, today: date, years: float) -> None:
    assert years_in_service(implanted_on, today) == pytest.approx(years)


def test_years_in_service_grow_day_by_day_within_a_month() -> None:
    assert 6.49 < years_in_service(date(2020, 1, 15), date(2026, 7, 14)) < 6.5


@pytest.mark.parametrize("implanted_on, today, due", [
    (date(2020, 1, 15), date(2026, 7, 14), False),  # 6.5 years less a day
    (date(2020, 1, 15), date(2026, 7, 15), True),   # 6.5 years exactly
    (date(2020, 1, 15), date(2027, 1, 15), True),
    (date(2020, 2, 29), date(2026, 8, 28), False),  # implanted on a leap day
    (date(2020, 2, 29), date(2026, 8, 29), True),
    (date(2020, 8, 31), date(2027, 2, 27), False),  # 6.5 years on lands in February: its last day
    (date(2020, 8, 31), date(2027, 2, 28), True),
])
def test_replacement_planning_starts_at_six_and_a_half_years(implanted_on: date, today: date, due: bool) -> None:
    assert is_due_for_replacement_planning(implanted_on, today, years=6.5) is due


def test_the_replacement_planning_age_is_a_setting() -> None:
    assert is_due_for_replacement_planning(date(2020, 1, 15), date(2025, 1, 15), years=5)
    assert not is_due_for_replacement_planning(date(2020, 1, 15), date(2025, 1, 15), years=5.1)


# SCS trials.

START = date(2026, 11, 2)


@pytest.mark.parametrize("decision, label", [
    (TrialDecision.IMPLANT, "Proceed to permanent implant"), (TrialDecision.FAILED, "Failed: leads removed")])
def test_a_trial_decision_reads_as_what_happens_next(decision: TrialDecision, label: str) -> None:
    assert decision.label == label


def test_a_trial_ends_its_planned_days_after_the_start() -> None:
    assert planned_trial_end(START, trial_days=7) == date(2026, 11, 9)
    with pytest.raises(ValueError):
        planned_trial_end(START, trial_days=0)


@pytest.mark.parametrize("trial_days, day, decision, state", [
    (10, 0, None, TrialState.RUNNING),
    (10, 2, None, TrialState.RUNNING),             # the end is 8 days away
    (10, 3, None, TrialState.ENDING_THIS_WEEK),    # 7 days away
    (7, 0, None, TrialState.ENDING_THIS_WEEK),     # a 7-day trial ends within the week from its first day
    (7, 6, None, TrialState.ENDING_THIS_WEEK),
    (7, 7, None, TrialState.RESULT_DUE),           # day 7: the planned end, and no result yet
    (7, 10, None, TrialState.RESULT_DUE),          # day 10: still within the 10 days
    (7, 11, None, TrialState.OVERDUE),             # day 11: past 10 days without a result
    (14, 11, None, TrialState.OVERDUE),            # overdue comes before a later planned end
    (7, 11, TrialDecision.IMPLANT, TrialState.IMPLANT_TO_BOOK),
    (7, 3, TrialDecision.FAILED, TrialState.DECIDED),
    (7, -1, None, TrialState.RUNNING),             # starts tomorrow: the end is 8 days away
])
def test_a_trial_without_a_result_runs_passes_its_end_and_is_flagged_after_ten_days(
        trial_days: int, day: int, decision: TrialDecision | None, state: TrialState) -> None:
    planned_end = planned_trial_end(START, trial_days=trial_days)
    assert trial_state(START, planned_end, START + timedelta(days=day), ended_on=None, decision=decision,
                       implant_on=None, overdue_days=10) is state


END = START + timedelta(days=7)


@pytest.mark.parametrize("day, ended, decision, implant, state", [
    (8, END, None, None, TrialState.AWAITING_DECISION),     # a result: ended, whenever it is read
    (30, END, None, None, TrialState.AWAITING_DECISION),    # not "running past 10 days"
    (3, START + timedelta(days=3), None, None, TrialState.AWAITING_DECISION),  # ended early
    (30, END, TrialDecision.IMPLANT, None, TrialState.IMPLANT_TO_BOOK),
    (30, END, TrialDecision.IMPLANT, START + timedelta(days=40), TrialState.DECIDED),  # the implant is booked
    (30, END, None, START + timedelta(days=40), TrialState.DECIDED),     # booked without a decision recorded
    (30, None, None, START + timedelta(days=40), TrialState.DECIDED),    # even without a result
    (30, END, None, START - timedelta(days=400), TrialState.AWAITING_DECISION),  # an older implant does not count
    (30, END, TrialDecision.FAILED, None, TrialState.DECIDED),
])
def test_a_trial_with_a_result_has_ended_and_awaits_a_decision_until_answered(
        day: int, ended: date | None, decision: TrialDecision | None, implant: date | None,
        state: TrialState) -> None:
    assert trial_state(START, END, START + timedelta(days=day), ended_on=ended, decision=decision, implant_on=implant,
                       overdue_days=10) is state


@pytest.mark.parametrize("pain, analgesic, reduction, said", [
    (65, None, 65, "65% reduction of target pain"),
    (None, 60, 60, "60% reduction of analgesic use"),
    (30, 60, 60, "30% reduction of target pain, 60% of analgesic use"),
    (None, None, None, "no result"),
])
def test_a_trials_result_is_the_larger_reduction_of_pain_or_analgesic_use(
        pain: int | None, analgesic: int | None, reduction: int | None, said: str) -> None:
    assert (trial_reduction(pain, analgesic), trial_result_said(pain, analgesic)) == (reduction, said)


TODAY_OF_RESULT = START + timedelta(days=9)


@pytest.mark.parametrize("ended, pain, analgesic, decision, errors", [
    (END, 65, None, None, {}),
    (END, None, 40, TrialDecision.IMPLANT, {}),
    (None, None, None, TrialDecision.FAILED, {}),  # a trial can fail without a result (an infection)
    (None, None, None, None, {}),
    (None, 65, None, None, {"ended_on": "Give the day the trial ended."}),
    (END, None, None, None, {"pain_reduction_percent": "Give the reduction of target pain or of analgesic use "
                                                       "the trial gave."}),
    (START - timedelta(days=1), 65, None, None, {"ended_on": "The trial started on 11/02/2026."}),
    (TODAY_OF_RESULT + timedelta(days=1), 65, None, None, {"ended_on": "The trial cannot have ended in the future."}),
    (None, None, None, TrialDecision.IMPLANT, {"decision": "Record the trial's result before deciding to implant."}),
])
def test_a_result_is_a_reduction_with_the_day_the_trial_ended(
        ended: date | None, pain: int | None, analgesic: int | None, decision: TrialDecision | None,
        errors: dict[str, str]) -> None:
    assert trial_result_problems(started_on=START, ended_on=ended, pain_percent=pain, analgesic_percent=analgesic,
                                 decision=decision, today=TODAY_OF_RESULT) == errors

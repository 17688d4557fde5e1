"""Candidacy: who is a candidate for what next, with the reasons. Pure: plain values in and out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from backoffice.catalog.rules import (
    IntervalScope,
    MinimumInterval,
    ProcedureKind,
    months_after,
    one_year_after,
    one_year_before,
)
from backoffice.devices.rules import (
    TrialDecision,
    TrialRecord,
    is_followed_by_implant,
    trial_reduction,
    trial_result_said,
)
from backoffice.procedures.rules import PlanDecision
from backoffice.scheduling.rules import ACTIVE_STATUSES


class CandidacyKind(StrEnum):
    RFA_CANDIDATE = "rfa_candidate"
    CONFIRMATORY_BLOCK = "confirmatory_block"
    REPEAT_RFA = "repeat_rfa"
    REPEAT_EPIDURAL = "repeat_epidural"
    REPEAT_FACET = "repeat_facet"
    SCS_AWAITING_DECISION = "scs_awaiting_decision"
    SCS_IMPLANT = "scs_implant"

    @property
    def label(self) -> str:
        return {"rfa_candidate": "Rhizotomy (RFA) candidate", "confirmatory_block": "Needs a confirmatory block",
                "repeat_rfa": "Repeat RFA", "repeat_epidural": "Repeat epidural injection",
                "repeat_facet": "Repeat facet injection", "scs_awaiting_decision": "SCS trial awaiting decision",
                "scs_implant": "SCS permanent implant"}[self.value]

    @property
    def schedules(self) -> ProcedureKind:
        """The kind of procedure to book for this candidacy."""
        return {"rfa_candidate": ProcedureKind.ABLATION, "confirmatory_block": ProcedureKind.DIAGNOSTIC_FACET,
                "repeat_rfa": ProcedureKind.ABLATION, "repeat_epidural": ProcedureKind.EPIDURAL,
                "repeat_facet": ProcedureKind.THERAPEUTIC_FACET, "scs_awaiting_decision": ProcedureKind.SCS_IMPLANT,
                "scs_implant": ProcedureKind.SCS_IMPLANT}[self.value]


class Eligibility(StrEnum):
    ELIGIBLE = "eligible"
    ELIGIBLE_FROM = "eligible_from"
    AWAITING = "awaiting"
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True)
class Thresholds:
    """The clinical thresholds (a settings page edits them; defaults from domain-rules.md)."""

    mbb_relief_percent: int = 80
    mbb_relief_hours: int = 2
    blocks_for_rfa: int = 2
    # Calendar months where the sources say months (domain-rules.md: 6 months after 03/31 is 09/30);
    # how long after the last RFA a repeat may be is the catalog's minimum interval.
    rfa_repeat_relief_percent: int = 50
    rfa_repeat_relief_months: int = 6
    epidural_repeat_relief_percent: int = 50
    epidural_repeat_relief_months: int = 2
    facet_repeat_relief_percent: int = 50
    facet_repeat_relief_months: int = 3
    scs_trial_relief_percent: int = 50
    soon_days: int = 30


@dataclass(frozen=True)
class SessionLimit:
    """From the procedure catalog: how many per region in 12 months, how far apart (days or
    calendar months)."""

    max_per_year: int | None = None
    min_interval: MinimumInterval | None = None
    interval_scope: IntervalScope = IntervalScope.REGION


@dataclass(frozen=True)
class DoneProcedure:
    # The appointment; for a procedure done elsewhere (`outside`), minus its record's id, as its
    # relief is keyed by it like an appointment's outcomes.
    appointment_id: int
    day: date
    code: str
    kind: ProcedureKind
    region: str | None
    side: str | None
    levels: str | None
    status: str  # completed, scheduled, confirmed ... (cancelled and no-show never count)
    outside: str | None = None  # done elsewhere: by whom and where ("Dr Lee, Valley Pain")


@dataclass(frozen=True)
class RecordedOutcome:
    appointment_id: int
    recorded_on: date
    percent_relief: int
    relief_hours: int | None = None
    relief_ongoing: bool = False
    decision: str | None = None
    relief_as_entered: str | None = None  # "30 days": how the duration is said back
    relief_months: int | None = None  # when the relief was said in months: calendar months, not hours


@dataclass(frozen=True)
class Evidence:
    text: str
    appointment_id: int | None = None  # the appointment it cites, to link to
    outside_id: int | None = None  # the record of a procedure done elsewhere it cites (no link)


@dataclass(frozen=True)
class Candidacy:
    kind: CandidacyKind
    region: str | None
    side: str | None
    eligibility: Eligibility
    evidence: tuple[Evidence, ...]
    rule: str
    eligible_from: date | None = None

    def is_eligible_on(self, day: date) -> bool:
        return self.eligibility is Eligibility.ELIGIBLE or (
            self.eligibility is Eligibility.ELIGIBLE_FROM and self.eligible_from is not None
            and day >= self.eligible_from)


# The procedures that count: those that hold their time (cancelled and no-shows never count).
COUNTED = ACTIVE_STATUSES


def _label_day(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def _named(procedure: DoneProcedure) -> str:
    """"MBB 09/02/2026", or for one done elsewhere "MBB 09/02/2026 (outside: Dr Lee, Valley Pain)"."""
    said = f"{procedure.code} {_label_day(procedure.day)}"
    return f"{said} (outside: {procedure.outside})" if procedure.outside else said


def _about(procedure: DoneProcedure, text: str) -> Evidence:
    """Evidence citing a procedure: its appointment, or for one done elsewhere its record."""
    if procedure.outside:
        return Evidence(text, outside_id=-procedure.appointment_id)
    return Evidence(text, procedure.appointment_id)


def _duration(hours: int) -> str:
    if hours < 48:
        return f"{hours} h"
    if hours < 24 * 14:
        return f"{hours // 24} days"
    if hours < 730 * 3:
        return f"{hours // (24 * 7)} weeks"
    return f"{hours // 730} months"


def _months(months: int) -> str:
    return f"{months} month{'s' if months != 1 else ''}"


def _relief(outcome: RecordedOutcome) -> str:
    said = f"{outcome.percent_relief}% relief"
    if outcome.relief_hours is not None:
        said += f" for {outcome.relief_as_entered or _duration(outcome.relief_hours)}"
    if outcome.relief_ongoing:
        said += ", still ongoing" if outcome.relief_hours is not None else ", ongoing"
    elif outcome.relief_hours is None:
        said += ", duration not recorded"
    return said


def _best(outcomes: Sequence[RecordedOutcome]) -> RecordedOutcome | None:
    """The outcome that speaks for a procedure: the latest recorded."""
    return max(outcomes, key=lambda o: o.recorded_on) if outcomes else None


def relief_lasts_until(outcome: RecordedOutcome, done_on: date) -> date | None:
    """The day the recorded relief lasted until (None when its duration is not recorded): relief
    of "7 months" after a procedure on 03/31 lasts until 10/31."""
    if outcome.relief_months is not None:
        return months_after(done_on, outcome.relief_months)
    if outcome.relief_hours is None:
        return None
    return done_on + timedelta(days=outcome.relief_hours // 24)


def _relief_qualifies_from(outcome: RecordedOutcome, done_on: date, months: int, today: date) -> date | None:
    """From when the relief counts as having lasted `months`: today when it did, or, while it is
    still going on, the day it will have (it must go on until then); None when it ended sooner."""
    needed_until = months_after(done_on, months)
    lasted_until = relief_lasts_until(outcome, done_on)
    if outcome.relief_ongoing:
        lasted_until = max(lasted_until or today, today)
    if lasted_until is not None and lasted_until >= needed_until:
        return today
    return needed_until if outcome.relief_ongoing else None


def _window_free_from(days: Sequence[date], limit: SessionLimit, today: date) -> date | None:
    """When fewer than `max_per_year` sessions fall in the 12 months before a day: None when that
    is already so today, else the first day it will be."""
    if limit.max_per_year is None:
        return None
    recent = sorted(d for d in days if one_year_before(today) < d <= today)
    if len(recent) < limit.max_per_year:
        return None
    return one_year_after(recent[-limit.max_per_year])


def _is_booked(procedures: Sequence[DoneProcedure], today: date) -> bool:
    return any(p.status != "completed" and p.day >= today for p in procedures)


def _eligibility(earliest: date, today: date) -> tuple[Eligibility, date | None]:
    return (Eligibility.ELIGIBLE, None) if earliest <= today else (Eligibility.ELIGIBLE_FROM, earliest)


def _same_levels(a: str | None, b: str | None) -> bool:
    def normal(levels: str | None) -> str:
        return "".join((levels or "").lower().split())
    return not a or not b or normal(a) == normal(b)


def _qualifying_blocks(blocks: Sequence[DoneProcedure], outcomes: dict[int, list[RecordedOutcome]],
                       thresholds: Thresholds) -> tuple[list[DoneProcedure], list[Evidence]]:
    qualifying: list[DoneProcedure] = []
    evidence: list[Evidence] = []
    for block in blocks:
        outcome = _best(outcomes.get(block.appointment_id, []))
        if outcome is None:
            evidence.append(_about(block, f"{_named(block)}: no follow-up recorded"))
            continue
        said = f"{_named(block)}: {_relief(outcome)}"
        if outcome.percent_relief < thresholds.mbb_relief_percent:
            why = f"below {thresholds.mbb_relief_percent}%"
        elif outcome.relief_hours is None or outcome.relief_hours < thresholds.mbb_relief_hours:
            why = f"relief shorter than {thresholds.mbb_relief_hours} h"
        elif not all(_same_levels(block.levels, q.levels) for q in qualifying):
            why = "other levels than the first qualifying block"
        else:
            qualifying.append(block)
            evidence.append(_about(block, said))
            continue
        evidence.append(_about(block, f"{said} ({why}: does not qualify)"))
    return qualifying, evidence


def _rfa_candidacy(region: str | None, side: str | None, procedures: Sequence[DoneProcedure],
                   outcomes: dict[int, list[RecordedOutcome]], thresholds: Thresholds, limits: dict[str, SessionLimit],
                   today: date) -> Candidacy | None:
    last_rfa = max((p.day for p in procedures if p.kind is ProcedureKind.ABLATION and p.status == "completed"),
                   default=None)
    blocks = sorted((p for p in procedures if p.kind is ProcedureKind.DIAGNOSTIC_FACET and p.status == "completed"
                     and (last_rfa is None or p.day > last_rfa)), key=lambda p: p.day)
    if not blocks or _is_booked([p for p in procedures if p.kind in (ProcedureKind.ABLATION,
                                                                      ProcedureKind.DIAGNOSTIC_FACET)], today):
        return None
    qualifying, evidence = _qualifying_blocks(blocks, outcomes, thresholds)
    rule = (f"{thresholds.blocks_for_rfa} diagnostic medial branch blocks, each ≥ {thresholds.mbb_relief_percent}% "
            f"relief for ≥ {thresholds.mbb_relief_hours} h, same region, side and levels")
    if len(qualifying) >= thresholds.blocks_for_rfa:
        free_from = _window_free_from([p.day for p in procedures if p.kind is ProcedureKind.ABLATION
                                       and p.status in COUNTED], limits.get("ablation", SessionLimit()), today)
        if free_from:
            evidence.append(Evidence(f"RFA sessions in the last 12 months at the limit until {_label_day(free_from)}"))
        eligibility, eligible_from = _eligibility(free_from or today, today)
        return Candidacy(CandidacyKind.RFA_CANDIDATE, region, side, eligibility, tuple(evidence), rule, eligible_from)
    if len(qualifying) == 1:
        return Candidacy(CandidacyKind.CONFIRMATORY_BLOCK, region, side, Eligibility.ELIGIBLE, tuple(evidence), rule)
    return None


def _repeat(kind: CandidacyKind, done: ProcedureKind, region: str | None, side: str | None,
            procedures: Sequence[DoneProcedure], outcomes: dict[int, list[RecordedOutcome]], *, relief_percent: int,
            relief_months: int, limit: SessionLimit, today: date,
            interval_days: Sequence[date] = ()) -> Candidacy | None:
    """A repeat of `done`: the last one's relief and how long it lasted, the sessions in the last
    12 months, and the catalog's minimum interval since the last one (or since any of
    `interval_days`)."""
    mine = sorted((p for p in procedures if p.kind is done and p.status in COUNTED), key=lambda p: p.day)
    completed = [p for p in mine if p.status == "completed"]
    if not completed or _is_booked(mine, today):
        return None  # never done, or the repeat is already booked
    last = completed[-1]
    name = last.code
    rule = f"last {name} ≥ {relief_percent}% relief for ≥ {_months(relief_months)}"
    if limit.min_interval:
        rule += f", ≥ {limit.min_interval} after it"
    if limit.max_per_year:
        rule += f", at most {limit.max_per_year} per region in 12 months"
    interval_allows = _interval_allows(limit, [last.day, *interval_days])
    free_from = _window_free_from([p.day for p in mine], limit, today)
    outcome = _best(outcomes.get(last.appointment_id, []))
    if outcome is None:
        # Waiting on two things: the follow-up, and the interval and yearly limit, named with their dates.
        evidence = [_about(last, f"{_named(last)}: no follow-up recorded yet")]
        evidence += _waits(limit, interval_allows, free_from, today)
        return Candidacy(kind, region, side, Eligibility.AWAITING, tuple(evidence), rule)
    evidence = [_about(last, f"{_named(last)}: {_relief(outcome)}")]
    if outcome.percent_relief < relief_percent:
        evidence.append(Evidence(f"relief below {relief_percent}%"))
        return Candidacy(kind, region, side, Eligibility.NOT_ELIGIBLE, tuple(evidence), rule)
    qualifies_from = _relief_qualifies_from(outcome, last.day, relief_months, today)
    if qualifies_from is None:
        evidence.append(Evidence(f"relief lasted less than {_months(relief_months)}"))
        return Candidacy(kind, region, side, Eligibility.NOT_ELIGIBLE, tuple(evidence), rule)
    if qualifies_from > today:
        evidence.append(Evidence(f"relief must last {_months(relief_months)}: until {_label_day(qualifies_from)}"))
    earliest = max(qualifies_from, interval_allows or today)
    if free_from:
        evidence.append(Evidence(f"{limit.max_per_year} sessions in the last 12 months until {_label_day(free_from)}"))
        earliest = max(earliest, free_from)
    eligibility, eligible_from = _eligibility(earliest, today)
    return Candidacy(kind, region, side, eligibility, tuple(evidence), rule, eligible_from)


def _interval_allows(limit: SessionLimit, since: Sequence[date]) -> date | None:
    """The first day the catalog's minimum interval allows after the latest of `since`."""
    return limit.min_interval.after(max(since)) if limit.min_interval else None


def _waits(limit: SessionLimit, interval_allows: date | None, free_from: date | None, today: date) -> list[Evidence]:
    """What else a repeat waits on, each with the date it allows the next one."""
    waits = []
    if limit.min_interval and interval_allows and interval_allows > today:
        waits.append(Evidence(f"the {limit.min_interval.adjective} interval allows the next one from "
                              f"{_label_day(interval_allows)}"))
    if free_from:
        waits.append(Evidence(f"{limit.max_per_year} sessions in the last 12 months until {_label_day(free_from)}"))
    return waits


def latest_trial(procedures: Sequence[DoneProcedure], trials: Sequence[TrialRecord]) -> TrialRecord | None:
    """The patient's latest SCS trial: on record, or a trial procedure completed here whose trial
    is not on record yet."""
    linked = {t.appointment_id for t in trials if t.appointment_id is not None}
    unrecorded = [TrialRecord(None, p.day, p.appointment_id, p.code, p.region) for p in procedures
                  if p.kind is ProcedureKind.SCS_TRIAL and p.status == "completed" and p.appointment_id not in linked]
    return max([*trials, *unrecorded], key=lambda t: (t.started_on, t.trial_id or 0), default=None)


NOT_YET = "implant not indicated yet"


def _scs(procedures: Sequence[DoneProcedure], trials: Sequence[TrialRecord], psych_cleared_on: date | None,
         thresholds: Thresholds) -> Candidacy | None:
    """A permanent stimulator: the latest trial's result (its home is the trial) and a
    psychological evaluation, each said to be missing when it is. None once the trial is answered:
    a decision not to proceed, or an implant booked or done since it started."""
    trial = latest_trial(procedures, trials)
    if trial is None or trial.decision is TrialDecision.FAILED:
        return None
    implant_on = max((p.day for p in procedures if p.kind is ProcedureKind.SCS_IMPLANT and p.status in COUNTED),
                     default=None)
    if is_followed_by_implant(trial.started_on, implant_on):
        return None
    percent = thresholds.scs_trial_relief_percent
    rule = f"trial ≥ {percent}% reduction of target pain or of analgesic use, and a psychological evaluation on record"
    psych = (f"psychological evaluation {_label_day(psych_cleared_on)}" if psych_cleared_on
             else "no psychological evaluation on record")
    reduction = trial_reduction(trial.pain_reduction_percent, trial.analgesic_reduction_percent)
    said = f"{trial.code} {_label_day(trial.started_on)}"
    if reduction is None or trial.ended_on is None:
        said, reduction = f"{said}: trial result not recorded", None
    else:
        result = trial_result_said(trial.pain_reduction_percent, trial.analgesic_reduction_percent)
        said = f"{said}: trial gave {result}, ended {_label_day(trial.ended_on)}"
    if reduction is not None and reduction < percent:
        kind, eligibility, verdict = (CandidacyKind.SCS_IMPLANT, Eligibility.NOT_ELIGIBLE,
                                      f"below {percent}%: the trial did not succeed")
    elif reduction is not None and psych_cleared_on is not None:
        kind, eligibility, verdict = CandidacyKind.SCS_IMPLANT, Eligibility.ELIGIBLE, f"{psych}: implant indicated"
    else:  # the result, the evaluation or both are missing
        kind, eligibility, verdict = CandidacyKind.SCS_AWAITING_DECISION, Eligibility.AWAITING, f"{psych}: {NOT_YET}"
    return Candidacy(kind, trial.region, None, eligibility, (Evidence(said, trial.appointment_id), Evidence(verdict)),
                     rule)


def _declined(procedures: Sequence[DoneProcedure], outcomes: dict[int, list[RecordedOutcome]]) -> bool:
    """The physician's latest decision about these procedures was no further intervention."""
    recorded = [o for p in procedures for o in outcomes.get(p.appointment_id, [])]
    latest = max(recorded, key=lambda o: o.recorded_on, default=None)
    return latest is not None and latest.decision == PlanDecision.NO_FURTHER


def assess(procedures: Sequence[DoneProcedure], outcomes: Sequence[RecordedOutcome], *, thresholds: Thresholds,
           limits: dict[str, SessionLimit], today: date, psych_cleared_on: date | None = None,
           trials: Sequence[TrialRecord] = ()) -> list[Candidacy]:
    """A patient's candidacies, per spinal region and side, each with its evidence, the rule
    applied and, when not yet eligible, the date from which it will be. An SCS trial's result is
    read from `trials` (its home), never from the trial procedure's follow-ups."""
    counted = [p for p in procedures if p.status in COUNTED]
    by_outcome: dict[int, list[RecordedOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_outcome[outcome.appointment_id].append(outcome)
    found: list[Candidacy] = []
    places = sorted({(p.region, p.side) for p in counted
                     if p.kind in (ProcedureKind.DIAGNOSTIC_FACET, ProcedureKind.ABLATION,
                                   ProcedureKind.THERAPEUTIC_FACET)}, key=str)
    for region, side in places:
        here = [p for p in counted if p.region == region and p.side == side]
        if _declined(here, by_outcome):
            continue
        rfa = _rfa_candidacy(region, side, here, by_outcome, thresholds, limits, today)
        if rfa is not None:
            found.append(rfa)
        elif repeat_rfa := _repeat(
                CandidacyKind.REPEAT_RFA, ProcedureKind.ABLATION, region, side, here, by_outcome,
                relief_percent=thresholds.rfa_repeat_relief_percent,
                relief_months=thresholds.rfa_repeat_relief_months, limit=limits.get("ablation", SessionLimit()),
                today=today):
            found.append(repeat_rfa)
        if facet := _repeat(
                CandidacyKind.REPEAT_FACET, ProcedureKind.THERAPEUTIC_FACET, region, side, here, by_outcome,
                relief_percent=thresholds.facet_repeat_relief_percent,
                relief_months=thresholds.facet_repeat_relief_months,
                limit=limits.get("facet_therapeutic", SessionLimit()), today=today):
            found.append(facet)
    epidural_days = [p.day for p in counted if p.kind is ProcedureKind.EPIDURAL]
    epidural_limit = limits.get("epidural", SessionLimit())
    for region in sorted({p.region for p in counted if p.kind is ProcedureKind.EPIDURAL}, key=str):
        here = [p for p in counted if p.region == region]
        if _declined([p for p in here if p.kind is ProcedureKind.EPIDURAL], by_outcome):
            continue
        if candidacy := _repeat(
                CandidacyKind.REPEAT_EPIDURAL, ProcedureKind.EPIDURAL, region, None, here, by_outcome,
                relief_percent=thresholds.epidural_repeat_relief_percent,
                relief_months=thresholds.epidural_repeat_relief_months, limit=epidural_limit, today=today,
                interval_days=epidural_days if epidural_limit.interval_scope is IntervalScope.PATIENT else ()):
            found.append(candidacy)
    scs = _scs(counted, trials, psych_cleared_on, thresholds)
    if scs is not None and not _declined([p for p in counted if p.kind is ProcedureKind.SCS_TRIAL], by_outcome):
        found.append(scs)
    return found


def assessment_holds_until(procedures: Sequence[DoneProcedure], candidacies: Sequence[Candidacy], *,
                           thresholds: Thresholds, limits: dict[str, SessionLimit], today: date,
                           history_days: int, trials: Sequence[TrialRecord] = ()) -> date:
    """The first day after `today` on which `assess` may say something else about the same
    records: a booked procedure's day comes or passes, a session leaves the 12-month window,
    ongoing relief reaches the length a repeat needs, a minimum interval ends, a candidacy becomes
    eligible, or a record
    leaves the `history_days` the caller reads (its outcomes, recorded after it, leave later).
    `date.max` when nothing will change."""
    relief_months = (thresholds.rfa_repeat_relief_months, thresholds.epidural_repeat_relief_months,
                     thresholds.facet_repeat_relief_months)
    intervals = [limit.min_interval for limit in limits.values() if limit.min_interval]
    days: list[date] = [c.eligible_from for c in candidacies if c.eligible_from is not None]
    for procedure in procedures:
        days += [procedure.day, procedure.day + timedelta(days=1), one_year_after(procedure.day),
                 one_year_after(procedure.day) + timedelta(days=1)]
        days += [months_after(procedure.day, n) for n in relief_months]
        days += [interval.after(procedure.day) for interval in intervals]
        # One day either side of the edge: the caller's window is cut at midnight UTC, not local.
        days += [procedure.day + timedelta(days=history_days + n) for n in range(3)]
    days += [trial.started_on + timedelta(days=history_days + n) for trial in trials for n in range(3)]
    return min((day for day in days if day > today), default=date.max)


"""The hand-off from physician to scheduler: which procedure a physician's decision asks the
schedulers to book, and the first day the rules allow it. Pure: plain values in and out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from backoffice.catalog.rules import ProcedureKind
from backoffice.procedures.booking_rules import booking_refusal
from backoffice.procedures.candidacy_rules import Candidacy
from backoffice.procedures.rules import PlanDecision


def kind_asked(decision: PlanDecision | None, done: ProcedureKind) -> ProcedureKind | None:
    """The kind of procedure a decision about a procedure of kind `done` asks for: the same
    again for a repeat block, an ablation, an SCS trial; None for no further intervention,
    other, or no decision (nothing to book)."""
    if decision is PlanDecision.REPEAT_BLOCK:
        return done
    if decision is PlanDecision.PROCEED_RFA:
        return ProcedureKind.ABLATION
    if decision is PlanDecision.SCS_TRIAL:
        return ProcedureKind.SCS_TRIAL
    return None


def procedure_asked(decision: PlanDecision | None, *, done_type_id: int, done: ProcedureKind,
                    bookable: Mapping[str, Sequence[int]]) -> int | None:
    """The procedure type to book: the one done when the decision asks for its kind again (a
    repeat transforaminal epidural stays transforaminal; an RFA after an RFA), else the
    catalog's first active one of the kind asked (`bookable`: ids by kind, in catalog order).
    None when nothing is asked, or the catalog has no such procedure."""
    kind = kind_asked(decision, done)
    if kind is None:
        return None
    if kind is done:
        return done_type_id
    return next(iter(bookable.get(kind.value, ())), None)


def first_allowed_day(candidacies: Sequence[Candidacy], *, kind: ProcedureKind, region: str | None,
                      side: str | None, today: date) -> date | None:
    """The first day from `today` on which the candidacy rules let a procedure of `kind` be
    booked there: the booking check's own answer (`booking_refusal`), which changes only on the
    days candidacies become eligible. None when no such day comes with the records as they are
    (not eligible, or waiting on a follow-up): only a physician's override books it then."""
    later = sorted({c.eligible_from for c in candidacies if c.eligible_from is not None and c.eligible_from > today})
    for day in (today, *later):
        if booking_refusal(candidacies, kind=kind, region=region, side=side, day=day) is None:
            return day
    return None

"""What the candidacy rules say about booking one procedure for a region, side and day: the
refusal booking, moving and next available show (a physician may override it). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from backoffice.catalog.rules import ProcedureKind
from backoffice.procedures.candidacy_rules import Candidacy, CandidacyKind


def booking_refusal(candidacies: Sequence[Candidacy], *, kind: ProcedureKind, region: str | None,
                    side: str | None, day: date) -> str | None:
    """Why the rules say a procedure of `kind` should not be booked for that region, side and
    day (a physician may override with a reason); None when nothing stands in the way."""
    here = [c for c in candidacies if c.region == region and (c.side is None or c.side == side)]
    wanted: list[Candidacy]
    missing: str | None = None
    if kind is ProcedureKind.ABLATION:
        wanted = [c for c in here if c.kind in (CandidacyKind.RFA_CANDIDATE, CandidacyKind.REPEAT_RFA)]
        missing = ("No rhizotomy candidacy for this region and side: it needs two diagnostic medial branch "
                   "blocks with enough relief.")
    elif kind is ProcedureKind.EPIDURAL:
        wanted = [c for c in here if c.kind is CandidacyKind.REPEAT_EPIDURAL]
    elif kind is ProcedureKind.THERAPEUTIC_FACET:
        wanted = [c for c in here if c.kind is CandidacyKind.REPEAT_FACET]
        if not wanted and any(c.kind is CandidacyKind.RFA_CANDIDATE for c in here):
            return None  # a first therapeutic injection after two qualifying diagnostic blocks
        missing = "A therapeutic facet injection needs two qualifying diagnostic blocks in this region and side."
    elif kind is ProcedureKind.SCS_IMPLANT:
        wanted = [c for c in candidacies
                  if c.kind in (CandidacyKind.SCS_IMPLANT, CandidacyKind.SCS_AWAITING_DECISION)]
        missing = "No successful SCS trial with a psychological evaluation on record."
    else:
        return None
    if any(c.is_eligible_on(day) for c in wanted):
        return None
    if not wanted:
        return missing
    reasons = "; ".join(e.text for c in wanted for e in c.evidence)
    when = next((c.eligible_from for c in wanted if c.eligible_from), None)
    due = f" Eligible from {when:%m/%d/%Y}." if when else ""
    return f"{wanted[0].kind.label}: not eligible yet. {reasons}.{due}"

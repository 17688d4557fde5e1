"""The candidacy rules as one of scheduling's booking checks: booking, moving or offering a time
for a rhizotomy, a repeat epidural or facet injection, or a stimulator implant the rules say
should wait is refused, unless a physician overrides with a reason.

Registered when the app is created (`create_app` imports this module)."""

from __future__ import annotations

from datetime import date

from backoffice.catalog.rules import ProcedureKind
from backoffice.procedures import candidacy
from backoffice.procedures.booking_rules import booking_refusal
from backoffice.scheduling.booking_checks import BookingCase, DayCheck, booking_check, no_problems
from backoffice.scheduling.rules import Problem

# The kinds `booking_rules.booking_refusal` speaks about; any other is booked without asking.
CHECKED_KINDS = frozenset({ProcedureKind.ABLATION, ProcedureKind.EPIDURAL, ProcedureKind.THERAPEUTIC_FACET,
                           ProcedureKind.SCS_IMPLANT})


@booking_check("candidacy")
def candidacy_check(case: BookingCase) -> DayCheck:
    """The patient's candidacies as of `case.today` (four queries, none for other kinds), then,
    for any day, why the rules say the procedure should wait until later."""
    if case.procedure_kind not in CHECKED_KINDS:
        return no_problems
    candidacies = candidacy.candidacies_for_patient(case.patient_id, today=case.today, leaving_out=case.moving)

    def refusal_on(day: date) -> list[Problem]:
        message = booking_refusal(candidacies, kind=case.procedure_kind, region=case.region, side=case.side,
                                  day=day)
        if message is None:
            return []
        return [Problem("candidacy", "procedure_type_id", f"{message} A physician can override with a reason.",
                        overridable=True)]
    return refusal_on

"""The patient page's procedures done elsewhere: a card listing them, marked "outside", with the
links to add, correct and delete one.

Those who record them (nurses and physicians) are those who read the clinical course, so the
course (procedures.patient_page) gives this section, built from the records its timeline has
already loaded: one read of them for the card, the timeline and the chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from backoffice.core.pages import Section
from backoffice.history.models import OutsideProcedure


def outside_sections(outside: Sequence[OutsideProcedure]) -> list[Section]:
    return [Section("history/_patient_outside.html", order=20, place="side", context={"outside": outside})]

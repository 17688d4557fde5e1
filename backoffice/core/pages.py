"""Pages that higher packages add to: a lower package's page asks, through a signal, for the
sections other packages want on it, without importing them.

The patient page (patients) shows the patient's appointments (scheduling), devices (devices) and
clinical course (procedures); each of those packages subscribes a function that returns a
`Section` (or None to add nothing) and the page renders the sections in their order.

    patient_page = page_signal("patient-page")

    @patient_page.connect
    def appointments_section(patient: Patient, **context: Any) -> Section | None: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace, Signal

_pages = Namespace()


@dataclass(frozen=True)
class Section:
    """One part of a page: the template that renders it and what that template is given."""

    template: str
    order: int
    context: Mapping[str, Any] = field(default_factory=dict)


def page_signal(name: str) -> Signal:
    return _pages.signal(name)


def sections_of(page: Signal, subject: object, **context: Any) -> list[Section]:
    """The sections the subscribed packages give for `subject`, in their order."""
    found = [section for _, section in page.send(subject, **context) if section is not None]
    return sorted(found, key=lambda section: section.order)

"""Pages that higher packages add to: a lower package's page asks, through a signal, for the
sections other packages want on it, without importing them.

The patient page (patients) shows the patient's appointments (scheduling), devices (devices) and
clinical course (procedures); each of those packages subscribes a function that returns a
`Section` (or None to add nothing) and the page renders the sections in their order.

    patient_page = page_signal("patient-page")

    @patient_page.connect
    def appointments_section(patient: Patient, **context: Any) -> Section | None: ...

A subscriber receives the page's subject and keyword arguments (the viewer as `by`, the time);
it must accept any other keyword argument, so that a page can pass more without breaking it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blinker import Namespace, Signal

_pages = Namespace()


@dataclass(frozen=True)
class Section:
    """One part of a page: the template that renders it and what that template is given."""

    template: str
    order: int
    place: str = "main"  # which part of the page it goes in; each page names its places
    context: Mapping[str, Any] = field(default_factory=dict)


def page_signal(name: str) -> Signal:
    return _pages.signal(name)


Given = Section | Sequence[Section] | None


def sections_of(page: Signal, subject: object, **context: Any) -> list[Section]:
    """The sections the subscribed packages give for `subject` (each gives one, several or
    none), in their order."""
    found: list[Section] = []
    for _, given in page.send(subject, **context):
        if isinstance(given, Section):
            found.append(given)
        elif given:
            found.extend(given)
    return sorted(found, key=lambda section: section.order)

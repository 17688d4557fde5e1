"""Flags other packages put on patients, for the pages that list patients (the calendars) to
show without importing those packages: devices flags a patient with an implant that is not MRI
conditional.

A package connects a function to `patient_flags` that returns its `PatientFlag`. A page reads
`known_flags()` and selects each flag's `carried_by` as a column of its own query, so showing
the flags costs no statement of its own, however many patients the page lists.

    @patient_flags.connect
    def mri_unsafe(_sender: object) -> PatientFlag: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blinker import Namespace
from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute

patient_flags = Namespace().signal("patient-flags")


@dataclass(frozen=True)
class PatientFlag:
    name: str   # names its column in a page's query: "mri_unsafe"
    label: str  # the badge: "MRI unsafe"
    title: str  # what the badge means: "Has an implant that is not MRI conditional"
    # Whether the patient whose id is given (a column of the page's query) carries the flag.
    carried_by: Callable[[QueryableAttribute[int]], ColumnElement[bool]]


def known_flags() -> list[PatientFlag]:
    """The flags the subscribed packages put on patients, in the order they subscribed."""
    return [flag for _, flag in patient_flags.send(None)]

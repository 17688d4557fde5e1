"""The patient page's clinical course: the pain chart, what the rules say and the timeline, for
those whose work needs clinical detail (nurses and physicians), with the devices card and the
procedures done elsewhere built from the records the timeline has loaded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from backoffice.core.actor import Actor
from backoffice.core.pages import Section
from backoffice.devices.patient_page import devices_sections
from backoffice.history.patient_page import outside_sections
from backoffice.patients.models import Patient
from backoffice.patients.pages import patient_page
from backoffice.procedures.timeline import patient_course

COURSE_DAYS = 730  # the timeline: two years unless the whole course is asked for


@patient_page.connect
def course_sections(patient: Patient, *, by: Actor, today: date, whole_course: bool = False,
                    **_: Any) -> list[Section]:
    course = patient_course(patient.id, today=today, by=by,
                            since=None if whole_course else today - timedelta(days=COURSE_DAYS))
    if course is None:
        return []
    return [Section("procedures/_patient_chart.html", order=10, place="main", context={"course": course}),
            Section("procedures/_patient_course.html", order=10, place="below", context={"course": course}),
            *devices_sections(course.devices), *outside_sections(course.outside)]

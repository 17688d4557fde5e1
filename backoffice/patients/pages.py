"""The patient page's sections come from the packages that know them (insurance, appointments,
devices, the clinical course), all above patients: they subscribe to `patient_page` (see core.pages).

Places on the page: "flags" under the name, "insurance" right under the contact card, "side" at the
foot of that column, "main" beside it, "below" across the page under both. Subscribers are called as
`receiver(patient, by=Actor, now=datetime, today=date, whole_course=bool)`.
"""

from __future__ import annotations

from backoffice.core.pages import page_signal

patient_page = page_signal("patient-page")

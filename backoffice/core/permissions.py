from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SCHEDULER = "scheduler"
    NURSE = "nurse"
    PHYSICIAN = "physician"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


ALL_ROLES: tuple[Role, ...] = tuple(Role)

# Who does what. Views declare these groups in @allow and services check the same ones, so a page
# and the service behind it cannot disagree; README's "Roles" table states them page by page and
# tests/functional/test_access.py compares the two.

# Roles whose work needs patient records: finding, opening and registering patients, opening
# appointments, the day board and the day sheet. Admins run the practice setup and managers watch
# calendars and numbers: neither sees patient records.
CLINICAL_ROLES: tuple[Role, ...] = (Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN)
# Booking, rescheduling and cancelling procedures.
BOOKERS: tuple[Role, ...] = (Role.SCHEDULER, Role.PHYSICIAN)
# The office calendars, a physician's day and next available (patient names only to CLINICAL_ROLES).
CALENDAR_READERS: tuple[Role, ...] = (*CLINICAL_ROLES, Role.MANAGER)
# Follow-ups, outcomes, candidates, psychological evaluations, implanted devices and pump refills.
CLINICIANS: tuple[Role, ...] = (Role.NURSE, Role.PHYSICIAN)
# The device registry's pages (scheduler: to book refills and replacements).
DEVICE_READERS: tuple[Role, ...] = (Role.NURSE, Role.PHYSICIAN, Role.SCHEDULER)
# Recall search and its export: which patients carry a recalled device (audited).
RECALL_SEARCHERS: tuple[Role, ...] = (Role.NURSE, Role.PHYSICIAN, Role.MANAGER)

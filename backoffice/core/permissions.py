"""Who may do what: the roles, the permissions they grant and the one table between them.

Views declare a permission with `@allow(Permission.X)` and services ask `by.can(Permission.X)`,
so a page and the service behind it cannot disagree. README's "Roles" section states the same
table (a test compares them) and, page by page, who may open what (tests/functional/test_access.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum, auto


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


class Permission(StrEnum):
    """Something a member of staff may do. (A room's `Capability` is what a room offers.)"""

    READ_CALENDARS = auto()  # office calendars, a physician's day, next available
    SEE_PATIENT_NAMES = auto()  # who is booked, on the calendars and a physician's day
    OPEN_APPOINTMENTS = auto()  # an appointment's page, which names its patient
    WORK_THE_FRONT_DESK = auto()  # day board, day sheet, moving appointments through the day
    BOOK_APPOINTMENTS = auto()  # book, reschedule, cancel, change a booked appointment's details
    OVERRIDE_BOOKING_RULES = auto()  # book past a frequency limit or clinical rule, with a reason
    HANDLE_SCHEDULING_REQUESTS = auto()  # the list of procedures to schedule, asking for one, cancelling one
    SEE_OWN_DAY = auto()  # My day: a physician's own day across both offices
    MANAGE_PATIENTS = auto()  # find, register, open and edit patients, read their coverage
    MANAGE_COVERAGE = auto()  # a patient's insurance coverage: add, change, end, remove
    READ_CLINICAL_COURSE = auto()  # a patient's procedures, follow-ups, outcomes and evaluations
    RECORD_FOLLOW_UPS = auto()  # the follow-ups worklist and outcomes
    DECIDE_OUTCOMES = auto()  # the physician's decision on an outcome
    REVIEW_CANDIDATES = auto()  # the candidates worklist
    RECORD_PSYCH_EVALUATIONS = auto()
    RECORD_OUTSIDE_PROCEDURES = auto()  # procedures done elsewhere or before the app: add, correct, delete
    SET_CLINICAL_RULES = auto()  # the clinical rule settings
    READ_DEVICES = auto()  # implanted devices, refills due, SCS trials
    MANAGE_DEVICES = auto()  # implant, edit, explant, refill, replacement indicator, trials
    SEARCH_RECALLS = auto()  # recall search and its export (audited)
    READ_AUDIT_TRAIL = auto()
    EXPORT_AUDIT_TRAIL = auto()
    SEE_AUDITED_PATIENT_DATA = auto()  # patient identity and clinical values in the audit trail
    MANAGE_STAFF_ACCOUNTS = auto()
    ADMINISTER_PRACTICE = auto()  # offices, rooms, physicians, procedure and device model catalogs, payers


# The one table: which roles grant each permission (README's "Roles" section shows it as a grid).
# Schedulers, nurses and physicians work with patient records; managers watch the calendars and
# the numbers and admins run the practice setup: neither sees patient records. Someone holding
# several roles may do what any of them may.
GRANTED_TO: Mapping[Permission, frozenset[Role]] = {
    Permission.READ_CALENDARS: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN, Role.MANAGER}),
    Permission.SEE_PATIENT_NAMES: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.OPEN_APPOINTMENTS: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.WORK_THE_FRONT_DESK: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.BOOK_APPOINTMENTS: frozenset({Role.SCHEDULER, Role.PHYSICIAN}),
    Permission.OVERRIDE_BOOKING_RULES: frozenset({Role.PHYSICIAN}),
    Permission.HANDLE_SCHEDULING_REQUESTS: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.SEE_OWN_DAY: frozenset({Role.PHYSICIAN}),
    Permission.MANAGE_PATIENTS: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.MANAGE_COVERAGE: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.READ_CLINICAL_COURSE: frozenset({Role.NURSE, Role.PHYSICIAN}),
    Permission.RECORD_FOLLOW_UPS: frozenset({Role.NURSE, Role.PHYSICIAN}),
    Permission.DECIDE_OUTCOMES: frozenset({Role.PHYSICIAN}),
    Permission.REVIEW_CANDIDATES: frozenset({Role.NURSE, Role.PHYSICIAN}),
    Permission.RECORD_PSYCH_EVALUATIONS: frozenset({Role.NURSE, Role.PHYSICIAN}),
    Permission.RECORD_OUTSIDE_PROCEDURES: frozenset({Role.NURSE, Role.PHYSICIAN}),
    Permission.SET_CLINICAL_RULES: frozenset({Role.PHYSICIAN, Role.ADMIN}),
    Permission.READ_DEVICES: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.MANAGE_DEVICES: frozenset({Role.NURSE, Role.PHYSICIAN}),
    Permission.SEARCH_RECALLS: frozenset({Role.NURSE, Role.PHYSICIAN, Role.MANAGER}),
    Permission.READ_AUDIT_TRAIL: frozenset({Role.MANAGER, Role.ADMIN}),
    Permission.EXPORT_AUDIT_TRAIL: frozenset({Role.MANAGER}),
    Permission.SEE_AUDITED_PATIENT_DATA: frozenset({Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN}),
    Permission.MANAGE_STAFF_ACCOUNTS: frozenset({Role.ADMIN}),
    Permission.ADMINISTER_PRACTICE: frozenset({Role.ADMIN}),
}


def roles_with(permission: Permission) -> frozenset[Role]:
    return GRANTED_TO[permission]


def may(roles: Iterable[str], permission: Permission) -> bool:
    """Whether someone holding `roles` (names or `Role`s) has `permission`."""
    return not GRANTED_TO[permission].isdisjoint(roles)

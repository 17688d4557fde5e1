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
# Roles whose work needs patient records. Admins run the practice setup and see no clinical data.
CLINICAL_ROLES: tuple[Role, ...] = (Role.SCHEDULER, Role.NURSE, Role.PHYSICIAN)

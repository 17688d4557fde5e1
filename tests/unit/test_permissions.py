"""The permission module is the one table of who may do what, and README's "Roles" section states
that same table."""

from __future__ import annotations

import re

import pytest

from backoffice.config import PROJECT_ROOT
from backoffice.core.access import allow
from backoffice.core.actor import Actor
from backoffice.core.permissions import GRANTED_TO, Permission, Role, may

README = (PROJECT_ROOT / "README.md").read_text()
PERMISSION_CELL = re.compile(r"`([A-Z_]+)`: .+")


def roles_section() -> str:
    section = README[README.index("## Roles"):]
    return section[:section.index("\n## ", 1)]


def table_rows(header: str) -> list[list[str]]:
    """The cells of each row of the section's table that starts with `header` (header and rule left out)."""
    lines = roles_section().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def readme_grants() -> dict[Permission, frozenset[Role]]:
    header, _, *rows = table_rows("Permission")
    columns = [Role(label.lower()) for label in header[1:]]
    granted: dict[Permission, frozenset[Role]] = {}
    for first, *marks in rows:
        named = PERMISSION_CELL.fullmatch(first)
        assert named is not None, f"a row of the permission table names no permission: {first}"
        assert set(marks) <= {"✓", ""}, first
        permission = Permission[named.group(1)]
        assert permission not in granted, f"{permission.name} is in the README twice"
        granted[permission] = frozenset(role for role, mark in zip(columns, marks, strict=True) if mark == "✓")
    return granted


def test_every_permission_is_granted_to_some_role_in_the_table():
    assert set(GRANTED_TO) == set(Permission)
    assert all(GRANTED_TO.values())


def test_the_readme_permission_table_is_the_permission_module():
    assert readme_grants() == dict(GRANTED_TO)


def test_the_readme_permission_table_has_a_column_per_role_in_order():
    header = table_rows("Permission")[0]
    assert header[1:] == [role.label for role in Role]


def test_the_readme_role_table_describes_every_role():
    _, _, *rows = table_rows("Role")
    assert [row[0] for row in rows] == [role.label for role in Role]


def test_someone_with_several_roles_may_do_what_any_of_them_may():
    scheduling_manager = Actor(1, "frontdesk", frozenset({"manager", "scheduler"}))
    assert scheduling_manager.can(Permission.BOOK_APPOINTMENTS)
    assert scheduling_manager.can(Permission.EXPORT_AUDIT_TRAIL)
    assert not scheduling_manager.can(Permission.RECORD_FOLLOW_UPS)


def test_an_actor_without_roles_or_with_an_unknown_one_may_do_nothing():
    assert not any(Actor(None, "cli").can(permission) for permission in Permission)
    assert not any(may({"superuser"}, permission) for permission in Permission)


def test_a_page_declares_a_permission_and_keeps_the_roles_granting_it():
    @allow(Permission.SET_CLINICAL_RULES)
    def settings() -> str:
        return ""

    assert settings.access == {Role.PHYSICIAN, Role.ADMIN}  # type: ignore[attr-defined]


def test_a_page_cannot_declare_roles():
    with pytest.raises(TypeError):
        allow(Role.ADMIN)  # type: ignore[arg-type]

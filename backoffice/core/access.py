"""Deny by default: every endpoint declares who may use it, and the request guard enforces it.

    @bp.get("/patients")
    @allow(Permission.MANAGE_PATIENTS)
    def search(): ...

A page names a permission, never roles: which roles hold it is said once, in
`backoffice.core.permissions.GRANTED_TO`, which the services consult too (`by.can(...)`).
An endpoint without a declaration answers 403 to everyone (and a test fails on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_login import current_user

from backoffice.core.permissions import Permission, Role, roles_with

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
SIGNED_IN = "signed in"
Access = frozenset[Role] | str


def allow(permission: Permission) -> Callable[[F], F]:
    """Only staff whose roles grant `permission`. The view keeps the roles it resolves to, which
    the request guard, the menu and `can_access` read."""
    if not isinstance(permission, Permission):
        raise TypeError(f"allow() takes a Permission, not {permission!r}")
    roles = roles_with(permission)

    def declare(view: F) -> F:
        view.access = roles  # type: ignore[attr-defined]
        return view
    return declare


def public(view: F) -> F:
    """Anyone, signed in or not (sign-in page, health check)."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    """Any active member of staff (their own account pages, the home page)."""
    view.access = SIGNED_IN  # type: ignore[attr-defined]
    return view


def is_static_endpoint(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def access_of(app: Flask, endpoint: str) -> Access | None:
    """What `endpoint` declared, or None when it declared nothing."""
    if is_static_endpoint(endpoint):
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def is_allowed(access: Access | None, user: Any) -> bool:
    if access == PUBLIC:
        return True
    if access is None or not user.is_authenticated:
        return False
    if access == SIGNED_IN:
        return True
    return bool(user.has_any_role(*access))


def can_access(endpoint: str) -> bool:
    """For templates: show a link only to those who may follow it."""
    return is_allowed(access_of(current_app, endpoint), current_user)

"""What every template can use: formatting filters, the navigation for the signed-in role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app

from backoffice.auth.access import can_access
from backoffice.phones import format_phone
from backoffice.timefmt import format_date, format_datetime


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    section: str = "main"


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("Patients", "patients.search"),
    NavItem("Audit trail", "audit.index"),
    NavItem("Users", "auth.users", "admin"),
    NavItem("Offices and rooms", "practice.offices", "admin"),
    NavItem("Physicians", "practice.physicians", "admin"),
)


def navigation(section: str) -> list[NavItem]:
    return [item for item in NAVIGATION if item.section == section and can_access(item.endpoint)]


def _practice_datetime(value: datetime | None, timezone: str | None = None) -> str:
    return format_datetime(value, timezone or current_app.config["PRACTICE_TIMEZONE"])


def _date(value: date | None) -> str:
    return format_date(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(date=_date, datetime=_practice_datetime, phone=format_phone)
    app.jinja_env.globals.update(navigation=navigation, can_access=can_access)

    @app.context_processor
    def practice_context() -> dict[str, Any]:
        return {"practice_timezone": current_app.config["PRACTICE_TIMEZONE"]}

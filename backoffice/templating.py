"""What every template can use: formatting filters, the navigation for the signed-in role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, g, url_for

from backoffice.core.access import access_of, can_access, is_allowed
from backoffice.core.db import utcnow
from backoffice.core.phones import format_phone
from backoffice.core.timefmt import (
    TIME_FORMAT,
    format_date,
    format_datetime,
    local_datetime,
    practice_today,
    timezone_label,
)
from backoffice.devices.rules import plain_amount
from backoffice.scheduling.request_rules import age_said
from backoffice.scheduling.rules import CancelReason, Status


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    section: str = "main"
    unless: str | None = None  # not shown to those who reach it from this endpoint's page
    counted: bool = False  # shows how many rows wait there (`menu_count`)


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("My day", "scheduling.my_day"),
    NavItem("Calendar", "scheduling.calendar_home"),
    NavItem("Day board", "scheduling.board_home"),
    NavItem("Next available", "scheduling.availability"),
    NavItem("Book", "scheduling.new_appointment"),
    # Nurses and physicians send procedures to scheduling from the candidates and decisions
    # lists, which link to it; the menu keeps room for their own lists.
    NavItem("To schedule", "scheduling_requests.index", unless="procedures.candidates"),
    NavItem("Patients", "patients.search"),
    NavItem("Follow-ups", "procedures.follow_ups"),
    NavItem("Decisions", "procedures.decisions_awaited", counted=True),
    NavItem("Candidates", "procedures.candidates"),
    NavItem("Devices", "devices.index"),
    NavItem("Refills", "devices.refills"),
    NavItem("Device recall", "devices.recall", unless="devices.index"),
    NavItem("Audit trail", "auditlog.index"),
    NavItem("Staff accounts", "auth.users", "admin"),
    NavItem("Offices and rooms", "practice.offices", "admin"),
    NavItem("Physicians", "practice.physicians", "admin"),
    NavItem("Procedure catalog", "catalog.index", "admin"),
    NavItem("Device models", "catalog.device_models", "admin"),
    NavItem("Payers", "insurance.payers", "admin"),
    NavItem("Clinical rule settings", "procedures.clinical_settings", "admin", unless="procedures.candidates"),
)


def navigation(section: str, user: Any) -> list[NavItem]:
    """The menu `user` may follow (the signed-in user, or on an error page the one already loaded)."""
    def allowed(endpoint: str) -> bool:
        return is_allowed(access_of(current_app, endpoint), user)

    return [item for item in NAVIGATION if item.section == section and allowed(item.endpoint)
            and not (item.unless and allowed(item.unless))]


def menu_count(item: NavItem, user: Any) -> int | None:
    """How many rows wait on a counted menu item's page for `user`: the outcomes awaiting the
    signed-in physician's decision (one query, once per request). Only for pages that may read
    the database (error pages do not ask)."""
    from backoffice.procedures.worklists import awaiting_decision_count

    if not item.counted or user is None or not getattr(user, "is_authenticated", False):
        return None
    if "decisions_awaited" not in g:
        g.decisions_awaited = awaiting_decision_count(user.id, practice_today(utcnow()))
    count: int = g.decisions_awaited
    return count


def _practice_datetime(value: datetime | None, timezone: str | None = None) -> str:
    return format_datetime(value, timezone or current_app.config["PRACTICE_TIMEZONE"])


def _date(value: date | None) -> str:
    return format_date(value)


def _local_time(value: datetime, timezone: str) -> str:
    return local_datetime(value, timezone).strftime(TIME_FORMAT)


def is_mri_unsafe(patient_id: int) -> bool:
    """For a page's few patients (the calendars read it with their rows): loaded once per request."""
    from backoffice.devices.services import all_mri_unsafe_patients

    if "mri_unsafe" not in g:
        g.mri_unsafe = all_mri_unsafe_patients()
    return patient_id in g.mri_unsafe


# An id no row reaches, standing in for the id while the URL is built once.
_ID_MARK = 1987654321


class IdUrl:
    """The URL of an endpoint for each of many rows that differ only in one id argument, built
    once with url_for and then joined per row: a page of a hundred links calls url_for once.

        {% set appointment_url = id_url('scheduling.appointment', 'appointment_id') %}
        <a href="{{ appointment_url(a.id) }}">
    """

    __slots__ = ("_head", "_tail")

    def __init__(self, endpoint: str, id_name: str, **values: Any) -> None:
        arguments: dict[str, Any] = {**values, id_name: _ID_MARK}
        url = url_for(endpoint, **arguments)
        self._head, _, self._tail = url.partition(str(_ID_MARK))

    def __call__(self, row_id: int) -> str:
        return f"{self._head}{int(row_id)}{self._tail}"


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    """Query arguments worth sending: no empty ones."""
    return {key: value for key, value in values.items() if value not in (None, "")}


def _place(region: str | None, side: str | None) -> str:
    """"Lumbar, right", as the worklists show where a procedure was done."""
    return ", ".join(filter(None, [region.capitalize() if region else None, side])) or "—"


def _where_and_how(appointment: Any) -> str:
    """"Lumbar, right, 2 levels": the region, side and number of levels an appointment names, as
    far as it names them (an appointment, or a calendar's row of one)."""
    levels = appointment.levels_count
    return ", ".join(filter(None, (appointment.region.capitalize() if appointment.region else None, appointment.side,
                                   f"{levels} level{'s' if levels > 1 else ''}" if levels else None)))


def _status_label(status: str) -> str:
    return Status(status).label


def _cancel_reason_label(reason: str) -> str:
    return CancelReason(reason).label


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(date=_date, datetime=_practice_datetime, phone=format_phone, request_age=age_said,
                                 timezone_label=timezone_label,
                                 local_time=_local_time, dict_without_empty=_without_empty,
                                 normalize=plain_amount, place=_place,
                                 where_and_how=_where_and_how, status_label=_status_label,
                                 cancel_reason_label=_cancel_reason_label)
    app.jinja_env.globals.update(navigation=navigation, can_access=can_access, is_mri_unsafe=is_mri_unsafe,
                                 id_url=IdUrl, menu_count=menu_count)

    @app.context_processor
    def practice_context() -> dict[str, Any]:
        return {"practice_timezone": current_app.config["PRACTICE_TIMEZONE"]}

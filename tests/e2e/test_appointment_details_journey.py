"""A scheduler clears the day board's "Prior auth missing" in one step, in a real browser."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from backoffice.core.extensions import db
from backoffice.models import Appointment, ProcedureType

from .test_sign_in import sign_in

pytestmark = pytest.mark.browser


def board_day_needing_authorization(app, appointment_id: int) -> date:
    """The booked MBB's day, once medial branch blocks need prior authorization."""
    with app.app_context():
        db.session.execute(update(ProcedureType).where(ProcedureType.code == "MBB").values(prior_authorization=True))
        db.session.commit()
        appointment = db.session.get(Appointment, appointment_id)
        day = appointment.starts_at.astimezone(ZoneInfo("America/New_York")).date()
        db.session.remove()
    return day


def test_a_scheduler_enters_the_missing_authorization_from_the_board_and_is_back_on_it(page, app, one_appointment):
    board = f"/offices/annapolis/board?date={board_day_needing_authorization(app, one_appointment).isoformat()}"
    page.goto(board)
    sign_in(page, "scheduler")
    page.wait_for_url(re.compile(f".*{re.escape(board)}$"))
    page.get_by_role("link", name="Prior auth missing").click()
    page.wait_for_url(re.compile(rf".*/appointments/{one_appointment}/edit\?next=.*"))
    page.get_by_label("Prior authorization number").fill("PA-640022")
    page.get_by_role("button", name="Save the details").click()
    page.wait_for_url(re.compile(f".*{re.escape(board)}#appointment-{one_appointment}$"))
    assert page.get_by_text("Saved: the appointment's details are changed.").is_visible()
    assert page.get_by_text("Prior auth missing").count() == 0
    assert page.console_errors == []

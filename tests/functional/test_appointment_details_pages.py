"""An appointment's details page through HTTP: who may use it, bad input shown next to the field
with nothing written, stale edits merged, done appointments read only, and the day board's
"Prior auth missing" cleared in one step, back on the board."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs

from sqlalchemy import select, update

from backoffice.core.extensions import db
from backoffice.models import Appointment, ProcedureType
from backoffice.procedures.models import FollowUp

from .browser_form import form_values
from .test_day_board import appointment_day


def stored(app, appointment_id: int) -> Appointment:
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        db.session.expunge(appointment)
        return appointment


def as_sent(html: str) -> dict[str, list[str]]:
    """The form's values as a browser sends them: a textarea's first line break is not its text."""
    return {name: [value.removeprefix("\r\n").removeprefix("\n") for value in values]
            for name, values in form_values(html).items()}


def opened_form(client, url: str) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200
    return as_sent(page.get_data(as_text=True))


def submitted(values: dict[str, list[str]], **changes: str) -> dict[str, list[str]]:
    return {**values, **{name: [value] for name, value in changes.items()}}


def needs_prior_authorization(app, code: str = "MBB", max_levels: int | None = None) -> None:
    changes: dict[str, object] = {"prior_authorization": True}
    if max_levels is not None:
        changes["max_levels"] = max_levels
    with app.app_context():
        db.session.execute(update(ProcedureType).where(ProcedureType.code == code).values(**changes))
        db.session.commit()


def test_schedulers_and_physicians_edit_details_from_the_appointment_page_and_nurses_do_not(signed_in, one_appointment):
    url = f"/appointments/{one_appointment}/edit"
    for role in ("scheduler", "physician"):
        page = signed_in(role).get(f"/appointments/{one_appointment}").get_data(as_text=True)
        assert f'href="{url}">Edit details</a>' in page, role
    nurse = signed_in("nurse")
    assert f'href="{url}"' not in nurse.get(f"/appointments/{one_appointment}").get_data(as_text=True)
    assert nurse.get(url).status_code == 403
    assert nurse.post(url, data={"prior_auth_ref": "PA-1"}).status_code == 403
    assert signed_in("manager").get(url).status_code == 403


def test_the_page_says_region_and_side_need_a_new_booking_and_saving_goes_back_to_the_appointment(app, signed_in,
                                                                                                  one_appointment):
    client = signed_in("scheduler")
    url = f"/appointments/{one_appointment}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "The region and side (Lumbar, right) cannot be changed here" in page
    assert "Cancel this appointment and book it again." in page and "At most 3 levels per session" in page
    values = opened_form(client, url)
    response = client.post(url, data=submitted(values, prior_auth_ref="PA-204417", levels_count="2",
                                               levels="L3-L4, L4-L5", notes="Interpreter: Spanish"))
    assert response.status_code == 302 and response.location == f"/appointments/{one_appointment}"
    saved = stored(app, one_appointment)
    assert (saved.prior_auth_ref, saved.levels_count, saved.levels, saved.notes) == (
        "PA-204417", 2, "L3-L4, L4-L5", "Interpreter: Spanish")
    shown = client.get(response.location).get_data(as_text=True)
    assert "PA-204417" in shown and "Lumbar, right, 2 levels (L3-L4, L4-L5)" in shown


def test_levels_beyond_the_catalogs_limit_are_refused_next_to_the_field_and_nothing_is_written(app, signed_in,
                                                                                              one_appointment):
    needs_prior_authorization(app, max_levels=2)
    client = signed_in("scheduler")
    url = f"/appointments/{one_appointment}/edit"
    values = opened_form(client, url)
    before = stored(app, one_appointment)
    response = client.post(url, data=submitted(values, levels_count="3", prior_auth_ref="PA-9"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="levels_count".*?At most 2 levels per session for a medial branch block\.', page, re.S)
    assert 'value="PA-9"' in page  # what was typed is kept
    response = client.post(url, data=submitted(values, notes="<script>alert(1)</script>", levels_count="7"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Remove the markup" in page and "Number must be between 1 and 3" in page
    after = stored(app, one_appointment)
    assert (after.version, after.prior_auth_ref, after.levels_count, after.notes) == (
        before.version, None, before.levels_count, None)


def test_a_save_after_someone_elses_is_refused_and_keeps_both_changes_in_the_form(app, signed_in, one_appointment):
    url = f"/appointments/{one_appointment}/edit"
    scheduler, physician = signed_in("scheduler"), signed_in("physician")
    mine = opened_form(scheduler, url)
    theirs = opened_form(physician, url)
    assert physician.post(url, data=submitted(theirs, notes="Hold aspirin")).status_code == 302
    response = scheduler.post(url, data=submitted(mine, prior_auth_ref="PA-31"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "was changed by" in page and 'value="PA-31"' in page and "Hold aspirin" in page
    assert stored(app, one_appointment).prior_auth_ref is None
    assert scheduler.post(url, data=as_sent(page)).status_code == 302
    saved = stored(app, one_appointment)
    assert (saved.prior_auth_ref, saved.notes) == ("PA-31", "Hold aspirin")


def test_a_completed_appointment_is_shown_read_only_and_a_save_changes_nothing(app, signed_in, one_follow_up):
    with app.app_context():
        appointment_id = db.session.scalar(select(FollowUp.appointment_id).where(FollowUp.id == one_follow_up))
    client = signed_in("scheduler")
    url = f"/appointments/{appointment_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "The procedure is done: the appointment&#39;s details are kept as they were" in page
    assert "<form" not in page.split("<main", 1)[1].split("</main>")[0]
    assert "Edit details" not in client.get(f"/appointments/{appointment_id}").get_data(as_text=True)
    before = stored(app, appointment_id)
    response = client.post(url, data={"version": str(before.version), "prior_auth_ref": "PA-77"})
    assert response.status_code == 409
    assert stored(app, appointment_id).prior_auth_ref is None


def test_prior_auth_missing_on_the_board_links_to_the_page_and_disappears_once_the_number_is_entered(
        app, signed_in, one_appointment):
    needs_prior_authorization(app)
    client = signed_in("scheduler")
    assert (f'Missing · <a href="/appointments/{one_appointment}/edit">enter the number</a>'
            in client.get(f"/appointments/{one_appointment}").get_data(as_text=True))
    board_url = f"/offices/annapolis/board?date={appointment_day(app, one_appointment).isoformat()}"
    board = client.get(board_url).get_data(as_text=True)
    link = re.search(r'<a class="badge text-bg-warning" href="([^"]+)"[^>]*>Prior auth missing</a>', board)
    assert link is not None
    edit_url = unescape(link.group(1))
    path, _, query = edit_url.partition("?")
    assert (path, parse_qs(query)) == (f"/appointments/{one_appointment}/edit", {"next": [board_url]})
    response = client.post(edit_url, data=submitted(opened_form(client, edit_url), prior_auth_ref="PA-500123"))
    assert response.status_code == 302 and response.location == f"{board_url}#appointment-{one_appointment}"
    board = client.get(board_url).get_data(as_text=True)
    assert "Prior auth missing" not in board
    shown = client.get(f"/appointments/{one_appointment}").get_data(as_text=True)
    assert "PA-500123" in shown and "enter the number" not in shown
    # nurses work the board but do not book: the badge is not a link for them
    with app.app_context():
        db.session.execute(update(Appointment).values(prior_auth_ref=None))
        db.session.commit()
    nurse_board = signed_in("nurse").get(board_url).get_data(as_text=True)
    assert '<span class="badge text-bg-warning">Prior auth missing</span>' in nurse_board
    assert "/edit" not in nurse_board


def test_a_next_that_leaves_the_site_is_ignored(app, signed_in, one_appointment):
    client = signed_in("scheduler")
    url = f"/appointments/{one_appointment}/edit?next=https://example.com/x"
    response = client.post(url, data=submitted(opened_form(client, url), notes="Call the day before"))
    assert response.status_code == 302 and response.location == f"/appointments/{one_appointment}"

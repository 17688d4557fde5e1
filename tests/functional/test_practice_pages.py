from __future__ import annotations

from datetime import time

from sqlalchemy import select

from backoffice.core.extensions import db
from backoffice.practice.models import Office, OfficeHours, PhysicianSchedule


def week(opens="07:00", closes="17:00", closed=(5, 6), **extra):
    days = {"version": "1", **extra}
    for day in set(range(7)) - set(closed):
        days |= {f"days-{day}-is_open": "y", f"days-{day}-opens": opens, f"days-{day}-closes": closes}
    return days


def test_admin_sets_opening_hours_and_opens_on_saturday(app, signed_in):
    client = signed_in("admin")
    days = week(closed=(6,)) | {"days-5-opens": "09:00", "days-5-closes": "12:00"}
    assert client.post("/admin/offices/2/hours", data=days).status_code == 302
    with app.app_context():
        hours = {row.weekday: (row.opens, row.closes) for row in
                 db.session.scalars(select(OfficeHours).where(OfficeHours.office_id == 2))}
    assert hours[0] == (time(7), time(17)) and hours[5] == (time(9), time(12)) and 6 not in hours


def test_hours_that_would_leave_a_physician_outside_them_are_refused(app, signed_in):
    response = signed_in("admin").post("/admin/offices/2/hours", data=week(closed=(4, 5, 6)))
    assert response.status_code == 400
    assert "Dr. Whitfield works Fridays 08:00-16:00 at Glen Burnie" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(OfficeHours).where(OfficeHours.office_id == 2,
                                                            OfficeHours.weekday == 4)).one()


def test_two_admins_saving_hours_at_once_do_not_overwrite_each_other(signed_in):
    first, second = signed_in("admin"), signed_in("admin")
    assert first.post("/admin/offices/2/hours", data=week(closes="18:00")).status_code == 302
    refused = second.post("/admin/offices/2/hours", data=week(closes="17:30"))
    assert refused.status_code == 409
    assert "was changed by Alex Kim" in refused.get_data(as_text=True)


def test_a_schedule_block_outside_opening_hours_is_refused_with_the_hours(signed_in):
    response = signed_in("admin").post("/admin/physicians/1/schedule", data={
        "office_id": "1", "weekday": "5", "starts": "08:00", "ends": "12:00"})
    assert response.status_code == 400
    assert "Annapolis is closed on Saturdays" in response.get_data(as_text=True)


def test_a_physician_cannot_be_scheduled_at_two_offices_at_once(signed_in):
    # Dr. Reyes works Glen Burnie on Tuesdays 08:00-16:00.
    response = signed_in("admin").post("/admin/physicians/1/schedule", data={
        "office_id": "1", "weekday": "1", "starts": "15:00", "ends": "17:00"})
    assert response.status_code == 400
    assert "already works Tuesdays at Glen Burnie 08:00-16:00" in response.get_data(as_text=True)


def test_admin_adds_and_removes_a_schedule_block(app, signed_in):
    client = signed_in("admin")
    client.post("/admin/physicians/1/schedule", data={"office_id": "1", "weekday": "4",
                                                       "starts": "08:00", "ends": "12:00"})
    with app.app_context():
        block = db.session.scalars(select(PhysicianSchedule).where(
            PhysicianSchedule.physician_id == 1, PhysicianSchedule.weekday == 4)).one()
    assert "Friday" in client.get("/admin/physicians/1").get_data(as_text=True)
    client.post(f"/admin/physicians/1/schedule/{block.id}/delete")
    with app.app_context():
        assert db.session.get(PhysicianSchedule, block.id) is None


def test_closing_an_office_on_a_day_shows_in_its_list(signed_in):
    client = signed_in("admin")
    client.post("/admin/offices/1/closures", data={"day": "2027-07-05", "reason": "Independence Day"})
    html = client.get("/admin/offices/1").get_data(as_text=True)
    assert "07/05/2027 · Independence Day" in html


def test_a_new_office_gets_its_slug_from_its_name(app, signed_in):
    response = signed_in("admin").post("/admin/offices/new", data={
        "name": "Severna Park", "address": "1 Ritchie Hwy", "city": "Severna Park", "state": "MD",
        "postal_code": "21146", "phone": "410 555 0170", "timezone": "America/New_York"})
    assert response.status_code == 302
    with app.app_context():
        office = db.session.scalars(select(Office).where(Office.name == "Severna Park")).one()
    assert (office.slug, office.state, office.phone) == ("severna-park", "MD", "+14105550170")


def test_a_physician_is_linked_to_a_physician_account_only(signed_in):
    client = signed_in("admin")
    response = client.post("/admin/physicians/new", data={
        "first_name": "Ada", "last_name": "Lovelace", "credentials": "MD", "user_id": "1"})
    assert response.status_code == 400  # account 1 is the scheduler
    assert "not a valid choice" in response.get_data(as_text=True).lower()


def test_closing_a_day_with_bookings_warns_the_admin_and_flags_the_day_board(app, signed_in, one_appointment):
    from zoneinfo import ZoneInfo

    from backoffice.scheduling.models import Appointment

    with app.app_context():
        day = db.session.get(Appointment, one_appointment).starts_at.astimezone(ZoneInfo("America/New_York")).date()
    closed = signed_in("admin").post("/admin/offices/1/closures", data={"day": day.isoformat(), "reason": "Snow"},
                                     follow_redirects=True).get_data(as_text=True)
    assert "1 appointment is still booked at Annapolis that day" in closed
    board = signed_in("scheduler").get(f"/offices/annapolis/board?date={day.isoformat()}").get_data(as_text=True)
    assert "Annapolis is closed on this day (Snow), yet these appointments are still booked" in board

"""The appointment's page shows the follow-ups procedures adds to it, to nurses and physicians,
through HTTP."""

from __future__ import annotations

from sqlalchemy import select

from backoffice.core.extensions import db
from backoffice.procedures.models import FollowUp
from backoffice.scheduling.models import Appointment


def _status_part(page: str) -> str:
    return page.split('id="status-heading"')[1]


def test_nurses_and_physicians_see_a_completed_blocks_follow_ups_and_schedulers_do_not(signed_in, app,
                                                                                       one_follow_up):
    with app.app_context():
        follow_ups = db.session.scalars(select(FollowUp).order_by(FollowUp.due_at)).all()
        appointment_id = follow_ups[0].appointment_id
    for role in ("nurse", "physician"):
        page = _status_part(signed_in(role).get(f"/appointments/{appointment_id}").get_data(as_text=True))
        assert "Follow-ups</h2>" in page
        assert all(f'href="/followups/{f.id}"' in page for f in follow_ups), role
        assert "6 hours after" in page and "1 day after" in page
    scheduler = _status_part(signed_in("scheduler").get(f"/appointments/{appointment_id}").get_data(as_text=True))
    assert "Follow-ups</h2>" not in scheduler and "/followups/" not in scheduler


def test_a_completed_procedure_without_its_follow_ups_says_so(signed_in, app, one_follow_up):
    with app.app_context():
        appointment_id = db.session.scalars(select(FollowUp.appointment_id)).first()
        db.session.execute(FollowUp.__table__.delete())
        db.session.commit()
        assert db.session.get(Appointment, appointment_id).status == "completed"
    page = _status_part(signed_in("nurse").get(f"/appointments/{appointment_id}").get_data(as_text=True))
    assert "No follow-ups were created." in page

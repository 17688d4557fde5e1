"""The procedure catalog's minimum interval, as an admin sets it: days or calendar months."""

from __future__ import annotations

from sqlalchemy import select

from backoffice.catalog.models import ProcedureType
from backoffice.catalog.rules import IntervalUnit
from backoffice.core.extensions import db

from .browser_form import form_values


def _procedure(app, code: str) -> ProcedureType:
    with app.app_context():
        return db.session.scalars(select(ProcedureType).where(ProcedureType.code == code)).one()


def _edit_form(client, procedure_id: int) -> dict[str, str]:
    html = client.get(f"/admin/procedures/{procedure_id}").get_data(as_text=True)
    return {name: values[0] if values else "" for name, values in form_values(html).items()}


def test_the_catalog_states_the_repeat_rfa_interval_in_calendar_months(signed_in):
    page = signed_in("admin").get("/admin/procedures").get_data(as_text=True)
    assert "≥ 6 months after one in the region and side" in page
    assert "≥ 14 days after one in any region" in page


def test_an_admin_states_an_interval_in_calendar_months(app, signed_in):
    client = signed_in("admin")
    facet = _procedure(app, "FJI")
    form = _edit_form(client, facet.id) | {"min_interval": "3", "min_interval_unit": "months"}
    assert client.post(f"/admin/procedures/{facet.id}", data=form).status_code == 302
    saved = _procedure(app, "FJI")
    assert (saved.min_interval, saved.min_interval_unit) == (3, IntervalUnit.MONTHS)
    assert str(saved.minimum_interval) == "3 months"


def test_more_than_two_years_of_months_is_refused_next_to_the_field_and_writes_nothing(app, signed_in):
    client = signed_in("admin")
    rfa = _procedure(app, "RFA")
    form = _edit_form(client, rfa.id) | {"min_interval": "30", "min_interval_unit": "months"}
    response = client.post(f"/admin/procedures/{rfa.id}", data=form)
    assert response.status_code == 400
    assert "At most 24 months." in response.get_data(as_text=True)
    kept = _procedure(app, "RFA")
    assert (kept.min_interval, kept.min_interval_unit, kept.version) == (6, IntervalUnit.MONTHS, rfa.version)

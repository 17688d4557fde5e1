"""Template helpers that pages of many rows use in place of work per row."""

from __future__ import annotations

from types import SimpleNamespace

from flask import url_for

from backoffice.templating import IdUrl, _where_and_how
from tests.conftest import make_app


def test_an_id_url_is_what_url_for_builds_for_each_id():
    app = make_app("sqlite://")
    with app.test_request_context("/followups?days=7"):
        for endpoint, name, values in (("scheduling.appointment", "appointment_id", {}),
                                       ("procedures.follow_up", "follow_up_id", {"next": "/followups?days=7&office=1"}),
                                       ("devices.new_refill", "device_id", {})):
            made = IdUrl(endpoint, name, **values)
            for row_id in (1, 42, 1987654321, 2**31 - 1):
                assert made(row_id) == url_for(endpoint, **{name: row_id}, **values)


def test_where_and_how_names_what_the_appointment_names():
    def appointment(region: str | None, side: str | None, levels: int | None) -> SimpleNamespace:
        return SimpleNamespace(region=region, side=side, levels_count=levels)

    assert _where_and_how(appointment("lumbar", "right", 2)) == "Lumbar, right, 2 levels"
    assert _where_and_how(appointment("cervical", None, 1)) == "Cervical, 1 level"
    assert _where_and_how(appointment(None, "bilateral", None)) == "bilateral"
    assert _where_and_how(appointment(None, None, None)) == ""

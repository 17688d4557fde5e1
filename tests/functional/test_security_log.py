"""Refusals by a security control are logged, with the account and endpoint but never the path or
query string (they can carry patient data)."""

from __future__ import annotations

import logging
import re

from tests.conftest import make_app


def refusals(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "backoffice.security"]


def test_a_request_refused_by_access_control_is_logged_without_its_query(signed_in, caplog):
    client = signed_in("scheduler")
    with caplog.at_level(logging.WARNING, logger="backoffice.security"):
        assert client.get("/admin/users?q=Smith").status_code == 403
    [message] = refusals(caplog)
    assert re.fullmatch(r"refused by access control: GET auth\.users by user \d+ from 127\.0\.0\.1", message)
    assert "Smith" not in message


def test_a_form_without_its_csrf_token_is_logged(database_url, caplog):
    client = make_app(database_url, WTF_CSRF_ENABLED=True).test_client()
    with caplog.at_level(logging.WARNING, logger="backoffice.security"):
        assert client.post("/login", data={"username": "admin", "password": "x"}).status_code == 400
    assert refusals(caplog) == ["CSRF check failed: POST auth.login by user None from 127.0.0.1"]

"""Every route, as every role, answers hostile values in every query argument and form field it
takes without a 5xx (issue 14: one class of 500 per shared parser, found by a probe from outside).

The walk, on each engine: as each role (anonymous first, the admin last, since an admin's forms can
lock other accounts), open every page the role may use, with ids of the fixtures' records in the
path, and read the forms and links on it: which query arguments each endpoint takes, which fields
each form posts, and what a browser would send. Then every endpoint gets a fixed number of
requests in which its arguments carry hostile values. The values are laid out as a Latin square,
request i giving argument j value (i + j) mod n, so over n requests each argument gets each value
once; some rows send two values for every key, and every row adds keys no form has (`endpoint`,
`_method` ... which `url_for` reads as its own) and the ones views read from the raw query string.
A few more requests change one field of the browser's own submission at a time, so that a 500 only
valid neighbours reach is found too. The same requests go out on every run (no randomness), the
requests an endpoint gets are shared out among the roles that may use it, and the total is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from backoffice.auth.access import PUBLIC, SIGNED_IN
from backoffice.config import PROJECT_ROOT

from .test_access import DEMO_ACCOUNTS, EXPECTED, app_endpoints

HOSTILE = [
    "", "x" * 10_000, "²", "99999999999999999999", "2147483648", "-99999999999999999999", "NaN", "sNaN",
    "Infinity", "\x00", "a\r\nSet-Cookie: x=1", "<script>alert(1)</script>", "' OR '1'='1' --", "9999-12-31",
    "🙂" * 20,
]
# Keys no form sends: url_for's own parameter names, and the bookkeeping fields of versioned forms.
UNEXPECTED = ("endpoint", "_method", "_external", "_anchor", "values", "version", "original")
# What views read straight from the query string or the form, found in the code itself.
READ_BY_VIEWS = tuple(sorted({name for path in (PROJECT_ROOT / "backoffice").rglob("*.py")
                              for name in re.findall(r'request\.(?:args|form)(?:\.get\(|\[)"(\w+)"',
                                                     Path(path).read_text())}))
SINGLE_FIELD_CHANGES = 3   # requests per endpoint that change one field of what a browser sends
NEVER_SENT = {"auth.logout"}   # would end the session the walk goes on with
# An upper bound on the whole walk, so that it stays a few dozen seconds per engine.
MAX_REQUESTS = 2_000


@dataclass
class Target:
    """One endpoint and method as one role reaches it: a URL and what a browser would send."""

    url: str
    sent: list[tuple[str, str]] = field(default_factory=list)

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.sent if name != "csrf_token"))


class PageReader(HTMLParser):
    """The forms (action, method, fields as a browser sends them) and the links of a page."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.links: list[str] = []
        self._select: tuple[str, list[str], list[str]] | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href", "").startswith("/"):
            self.links.append(found["href"])
        elif tag == "form":
            self.forms.append((found.get("action") or self.page_url, found.get("method", "get").upper(), []))
        elif not self.forms or "name" not in found:
            return
        elif tag == "input" and found.get("type") not in ("submit", "button", "reset"):
            checked = found.get("type") not in ("checkbox", "radio") or "checked" in found
            self.forms[-1][2].append((found["name"], found.get("value", "y") if checked else ""))
        elif tag == "select":
            self._select = (found["name"], [], [])
        elif tag == "textarea":
            self._textarea = [found["name"], ""]
        if tag == "option" and self._select is not None:
            (self._select[2] if "selected" in found else self._select[1]).append(found.get("value", ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self.forms:
            name, options, selected = self._select
            self.forms[-1][2].append((name, (selected or options or [""])[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self.forms:
            self.forms[-1][2].append((self._textarea[0], self._textarea[1]))
            self._textarea = None


def endpoint_of(app: Flask, url: str, method: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(url).path, method=method)
    except (HTTPException, RequestRedirect):
        return None
    return str(endpoint)


def may_use(role: str | None, endpoint: str) -> bool:
    expected = EXPECTED[endpoint]
    if expected == PUBLIC:
        return True
    return role is not None and (expected == SIGNED_IN or role in expected)


def targets_of(app: Flask, client: FlaskClient, role: str | None, extra_pages: list[str]) -> dict[
        tuple[str, str], Target]:
    """What `role` reaches, learnt by opening each of its pages and reading their forms and links."""
    targets: dict[tuple[str, str], Target] = {}
    pages = [(endpoint, url) for endpoint, method, url in app_endpoints(app) if method == "GET"]
    for page in [*(url for endpoint, url in pages if may_use(role, endpoint)), *extra_pages]:
        response = client.get(page)
        if response.mimetype != "text/html":
            continue
        reader = PageReader(page)
        reader.feed(response.get_data(as_text=True))
        for link in reader.links:
            endpoint = endpoint_of(app, link, "GET")
            if endpoint and may_use(role, endpoint):
                target = targets.setdefault((endpoint, "GET"), Target(urlsplit(link).path))
                target.sent += parse_qsl(urlsplit(link).query, keep_blank_values=True)
        for action, method, sent in reader.forms:
            endpoint = endpoint_of(app, action, method)
            if endpoint and may_use(role, endpoint):
                target = targets.setdefault((endpoint, method), Target(urlsplit(action).path))
                target.sent += sent
    for endpoint, method, url in app_endpoints(app):   # what no page links to or has a form for
        if may_use(role, endpoint) or role is None:
            targets.setdefault((endpoint, method), Target(url))
    return targets


def hostile_requests(target: Target) -> Iterator[MultiDict[str, str]]:
    """The requests an endpoint gets: the Latin square, then one field at a time."""
    names = [*target.names(), *(name for name in (*UNEXPECTED, *READ_BY_VIEWS) if name not in target.names())]
    for row in range(len(HOSTILE)):
        values = MultiDict[str, str]()
        for column, name in enumerate(names):
            values.add(name, HOSTILE[(row + column) % len(HOSTILE)])
            if row % 4 == 1:   # duplicate keys: which one does the view read?
                values.add(name, HOSTILE[(row + column + 1) % len(HOSTILE)])
        yield values
    own = target.names()
    for change in range(SINGLE_FIELD_CHANGES if own else 0):
        values = MultiDict(target.sent)
        name = own[change * 7 % len(own)]
        values.setlist(name, [HOSTILE[(change * 5 + len(name)) % len(HOSTILE)]])
        yield values


@pytest.mark.usefixtures("one_follow_up", "one_device")
def test_no_hostile_value_in_any_argument_of_any_route_gets_a_5xx(app, signed_in, one_appointment):
    from datetime import date, timedelta

    appointment_day = (date.today() + timedelta(days=14 - date.today().weekday())).isoformat()
    # The booked appointment's day: its board and calendar have status forms with their way back.
    extra_pages = [f"/offices/annapolis/{page}?date={appointment_day}" for page in ("board", "calendar")]
    roles: list[str | None] = [None, *(DEMO_ACCOUNTS[role] for role in DEMO_ACCOUNTS)]
    roles.sort(key=lambda role: role == "admin")
    clients = {role: app.test_client() if role is None else signed_in(role) for role in roles}
    learnt = {role: targets_of(app, clients[role], role, extra_pages) for role in roles}
    sent, failures = sum(len(targets) for targets in learnt.values()), []
    for role in roles:
        client = clients[role]
        for (endpoint, method), target in learnt[role].items():
            if endpoint in NEVER_SENT:
                continue
            sharing = [other for other in roles if (endpoint, method) in learnt[other]]
            for number, values in enumerate(hostile_requests(target)):
                if number % len(sharing) != sharing.index(role):
                    continue   # another role sends this one
                if role is None and EXPECTED[endpoint] != PUBLIC and number > 0:
                    continue   # a stranger is sent to the login page whatever the arguments
                response = client.open(target.url, method=method, query_string=values if method == "GET" else None,
                                       data=values if method != "GET" else None)
                sent += 1
                if response.status_code >= 500:
                    failures.append((role, endpoint, method, response.status_code,
                                     {key: value[:40] for key, value in values.items()}))
    assert failures == [], (sorted({failure[:3] for failure in failures}), failures[:3])
    assert sent <= MAX_REQUESTS

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

from backoffice.config import PROJECT_ROOT
from backoffice.core.access import PUBLIC, SIGNED_IN, is_static_endpoint

from .test_access import DEMO_ACCOUNTS, EXPECTED, URL_ARGUMENTS, app_endpoints

HUGE = "99999999999999999999"
HOSTILE = [
    "", "x" * 10_000, "²", HUGE, "2147483648", f"-{HUGE}", "NaN", "sNaN", "Infinity", "\x00\r\nSet-Cookie: x=1",
    "<script>alert(1)</script>", "' OR '1'='1' --", "9999-12-31",
]
# Keys no form sends: url_for's own parameter names, and the bookkeeping fields of versioned forms.
UNEXPECTED = ("endpoint", "_method", "_external", "_anchor", "values", "version", "original")
# What views read straight from the query string or the form, found in the code itself.
READ_BY_VIEWS = tuple(sorted({name for path in (PROJECT_ROOT / "backoffice").rglob("*.py")
                              for name in re.findall(r'request\.(?:args|form)(?:\.get\(|\[)"(\w+)"',
                                                     Path(path).read_text())}))
SINGLE_FIELDS = 25   # the fields of a form (at most) that get a breaking value one at a time
ROWS_WITHOUT_OWN_ARGUMENTS = 4   # for a page that takes no argument: unexpected keys only
NEVER_SENT = {"auth.logout"}   # would end the session the walk goes on with
# An upper bound on the whole walk, so that it stays a few dozen seconds per engine.
MAX_REQUESTS = 2_500


@dataclass
class Target:
    """One endpoint and method as one role reaches it: a URL and what a browser would send."""

    url: str
    sent: list[tuple[str, str]] = field(default_factory=list)
    numeric: set[str] = field(default_factory=set)   # selects whose options are ids

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.sent if name != "csrf_token"))

    def learn(self, sent: list[tuple[str, str]], numeric: set[str]) -> None:
        known = set(self.names())
        self.sent += [(name, value) for name, value in sent if name not in known]
        self.numeric |= numeric


class PageReader(HTMLParser):
    """The forms (action, method, fields as a browser sends them) and the links of a page."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[tuple[str, str, list[tuple[str, str]], set[str]]] = []
        self.links: list[str] = []
        self._select: tuple[str, list[str], list[str]] | None = None
        self._textarea: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href", "").startswith("/"):
            self.links.append(found["href"])
        elif tag == "form":
            self.forms.append((found.get("action") or self.page_url, found.get("method", "get").upper(), [], set()))
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
            if any(option.isascii() and option.isdigit() for option in options + selected):
                self.forms[-1][3].add(name)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self.forms:
            self.forms[-1][2].append((self._textarea[0], self._textarea[1]))
            self._textarea = None


def hostile_paths(app: Flask) -> Iterator[tuple[str, str]]:
    """(endpoint, URL) with hostile text in each path argument that is text (an office's slug)."""
    for rule in app.url_map.iter_rules():
        if is_static_endpoint(rule.endpoint):
            continue
        texts = [name for name in rule.arguments if isinstance(URL_ARGUMENTS[name], str)]
        for value in HOSTILE if texts and "GET" in (rule.methods or ()) else ():
            if value:
                arguments = {name: value if name in texts else URL_ARGUMENTS[name] for name in rule.arguments}
                yield rule.endpoint, rule.build(arguments)[1]


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
                target.learn(parse_qsl(urlsplit(link).query, keep_blank_values=True), set())
        for action, method, sent, numeric in reader.forms:
            endpoint = endpoint_of(app, action, method)
            if endpoint and may_use(role, endpoint):
                target = targets.setdefault((endpoint, method), Target(urlsplit(action).path))
                target.learn(sent, numeric)
    for endpoint, method, url in app_endpoints(app):   # what no page links to or has a form for
        if may_use(role, endpoint) or role is None:
            targets.setdefault((endpoint, method), Target(url))
    return targets


def breaking_values(target: Target, name: str) -> list[str]:
    """What breaks a loose parser of a field like this one: of whole numbers and ids ("²" passes
    str.isdigit(), then int() refuses it; twenty digits overflow the database), of decimals (sNaN
    raises on comparison), of text (NUL, which PostgreSQL refuses, and CR/LF, which headers do)."""
    baseline = dict(target.sent).get(name, "")
    if name in target.numeric or re.fullmatch(r"-?[0-9]+", baseline):
        return ["²", HUGE]
    if re.fullmatch(r"-?[0-9]*\.[0-9]+", baseline):
        return ["sNaN"]
    return [f"{baseline}\x00\r\nSet-Cookie: x=1"]


def hostile_requests(target: Target) -> Iterator[MultiDict[str, str]]:
    """The requests an endpoint gets: the Latin square, then one field at a time of what a browser
    sends, then what it sends with unexpected keys, then a stale save whose snapshot of the form is
    not what the form wrote."""
    names = [*target.names(), *(name for name in (*UNEXPECTED, *READ_BY_VIEWS) if name not in target.names())]
    own = target.names()
    for row in range(len(HOSTILE) if own else ROWS_WITHOUT_OWN_ARGUMENTS):
        values = MultiDict[str, str]()
        for column, name in enumerate(names):
            values.add(name, HOSTILE[(row + column) % len(HOSTILE)])
            if row % 4 == 1:   # duplicate keys: which one does the view read?
                values.add(name, HOSTILE[(row + column + 1) % len(HOSTILE)])
        yield values
    for name in own[:SINGLE_FIELDS]:
        for value in breaking_values(target, name):
            values = MultiDict(target.sent)
            values.setlist(name, [value])
            yield values
    if own:   # what a browser sends, and keys it never sends
        yield MultiDict([*target.sent, *((name, "x") for name in UNEXPECTED if name not in own)])
    if {"version", "original"} <= set(own):
        stale = MultiDict(target.sent)
        stale.setlist("version", ["0"])
        stale.setlist("original", ['["first_name"]'])
        yield stale


@pytest.mark.usefixtures("one_follow_up", "one_device", "one_outside_procedure", "one_scheduling_request")
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
            stranger = role is None and EXPECTED[endpoint] != PUBLIC
            sharing = [other for other in roles if (endpoint, method) in learnt[other]
                       and (other is not None or EXPECTED[endpoint] == PUBLIC)]
            for number, values in enumerate(hostile_requests(target)):
                if (number > 0) if stranger else (number % len(sharing) != sharing.index(role)):
                    continue   # another role sends this one; a stranger is sent to sign in whatever it sends
                response = client.open(target.url, method=method, query_string=values if method == "GET" else None,
                                       data=values if method != "GET" else None)
                sent += 1
                if response.status_code >= 500:
                    failures.append((role, endpoint, method, response.status_code,
                                     {key: value[:30] for key, value in values.items(multi=True)}))
    for endpoint, url in hostile_paths(app):   # as the first role that may open the page
        role = next(role for role in roles if role is not None and may_use(role, endpoint))
        response = clients[role].get(url)
        sent += 1
        if response.status_code >= 500:
            failures.append((role, endpoint, "GET", response.status_code, {"path": url[:60]}))
    if failures:
        first_of_each = {failure[:3]: failure for failure in reversed(failures)}
        pytest.fail(f"{len(failures)} answers of 5xx, first of each:\n" + "\n".join(
            f"{role or 'anonymous'} {method} {endpoint}: {status} for {values}"
            for (role, endpoint, method), (*_, status, values) in sorted(first_of_each.items(), key=str)))
    assert sent <= MAX_REQUESTS

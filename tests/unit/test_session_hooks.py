"""No hidden reactions to a flush: the audit trail is the only code that hooks the ORM (its session
events); whatever else must react to a change subscribes to the domain event the service that made
it publishes (`backoffice.core.events`). Engine events (connection setup) are not ORM hooks."""

from __future__ import annotations

import re
from pathlib import Path

import backoffice

# `@event.listens_for(target, ...)` or `event.listen(target, ...)`: the target's name.
REGISTRATION = re.compile(r"\b(?:listens_for|listen)\(\s*([\w.]+)")
PACKAGE = Path(backoffice.__file__).parent


def event_registrations() -> list[tuple[str, str]]:
    """(module path, target) of every SQLAlchemy event listener the app registers."""
    return sorted((path.relative_to(PACKAGE).as_posix(), target)
                  for path in PACKAGE.rglob("*.py")
                  for target in REGISTRATION.findall(path.read_text(encoding="utf-8")))


def test_only_the_audit_trail_hooks_the_orm_session():
    orm_hooks = [(module, target) for module, target in event_registrations() if target != "engine"]
    assert orm_hooks == [("audit/trail.py", "Session"), ("audit/trail.py", "Session")]


def test_the_scan_finds_the_engine_events_too():
    assert ("core/db.py", "engine") in event_registrations()

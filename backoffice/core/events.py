"""Domain events: what happened, told to whoever must react, inside the same transaction.

A service publishes a small frozen dataclass named in the past tense (`AppointmentCompleted`) once
it has written what happened; the handlers subscribed to that type run at once, in the same
session and transaction, so a rolled-back change leaves none of their writes behind. A lower
package publishes; a higher one subscribes: that is how scheduling lets follow-ups be created
without importing them. `docs/architecture.md` lists every event, its publisher and its handlers.

    @subscribe(AppointmentCompleted)
    def create_follow_ups(event: AppointmentCompleted) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from blinker import Namespace

_events = Namespace()

EventT = TypeVar("EventT")
Handler = Callable[[EventT], None]


def _signal_of(event_type: type[Any]) -> Any:
    return _events.signal(f"{event_type.__module__}.{event_type.__qualname__}")


def publish(event: object) -> None:
    """Run every handler of `event`'s type. Handlers must not rely on running before one another."""
    _signal_of(type(event)).send(event)


def subscribe(event_type: type[EventT]) -> Callable[[Handler[EventT]], Handler[EventT]]:
    """Make the decorated function a handler of `event_type` (held strongly, for the app's life)."""
    def connect(handler: Handler[EventT]) -> Handler[EventT]:
        _signal_of(event_type).connect(handler, weak=False)
        return handler
    return connect


def handlers_of(event_type: type[Any]) -> list[Callable[..., Any]]:
    """The functions subscribed to `event_type` (for the architecture document and its test)."""
    return list(_signal_of(event_type).receivers.values())

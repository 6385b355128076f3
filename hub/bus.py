"""The hub's event bus: what happened, typed, for the parts around the core to react to.

The core (`antrian.core`) decides and commits; everything outward (LED boards, speakers, Home
Assistant, the web pages, later notifications and reports) is an extension that listens here.
Each kind of bus event is a frozen dataclass, and a listener is registered for one kind, so a
handler's argument is typed. Listeners are registered under their owner (an extension) and
all removed with `remove(owner)` when it stops: a stopped part never hears anything again.

A handler returns the MQTT messages its reaction needs (or nothing); `emit` gathers them in
listener order, so the caller publishes them after the core's own. A handler that raises is
logged and skipped: one part's bug never takes the queue or another part down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from antrian.contract import Outgoing
from antrian.queue import Event, QueueState

log = logging.getLogger("antrian.bus")


@dataclass(frozen=True)
class Committed:
    """Events were just committed to the log (one batch of requests, or the hub's own tick)."""

    events: tuple[Event, ...]
    now: datetime


@dataclass(frozen=True)
class Committing:
    """Events are about to be committed; `state` already has them applied (not yet durable).

    The one hook that may add to the commit itself: its handlers return `StoreWrite`s, which
    the store runs in the same SQLite transaction as the events. What an event causes later
    (a message to the citizen) is then queued exactly when the event is, never one without
    the other, even if the hub dies right after. Handlers must only read `state` and be quick:
    the commit waits for them.
    """

    events: tuple[Event, ...]
    state: QueueState
    now: datetime


#: One SQL statement and its parameters, run inside the commit of a batch of events.
StoreWrite = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Connected:
    """The hub is on the broker: its first connect, or again after a reconnect.

    The broker may be a fresh one that lost every retained message: republish what you own.
    """

    reconnect: bool


@dataclass(frozen=True)
class MessageIn:
    """A message on a topic the hub listens to that is not a request (availability, info,
    Home Assistant's status). Requests go to the core, never here."""

    topic: str
    payload: bytes
    retained: bool


@dataclass(frozen=True)
class Ticked:
    """The hub's periodic tick (every few seconds): time-driven changes, such as expiry."""

    now: datetime


@dataclass(frozen=True)
class Answered:
    """Requests that came over MQTT on `hub/request/...` and their responses, pairwise.

    For a part that must tell the sender's own users what became of a command when the sender
    cannot read responses itself (Home Assistant shows a refusal as an event)."""

    requests: tuple[tuple[str, bytes], ...]
    responses: tuple[Outgoing, ...]


BusEvent = Committed | Connected | MessageIn | Ticked | Answered
E = TypeVar("E", Committed, Connected, MessageIn, Ticked, Answered)
Handler = Callable[[Any], Iterable[Outgoing] | None]


class EventBus:
    """Typed publish/subscribe inside one hub process."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[tuple[object, Handler]]] = {}
        self._writers: list[tuple[object, Callable[[Committing], Iterable[StoreWrite]]]] = []

    def on(self, kind: type[E], owner: object, handler: Callable[[E], Iterable[Outgoing] | None]) -> None:
        """Call `handler` for every event of `kind`, until `remove(owner)`."""
        self._handlers.setdefault(kind, []).append((owner, handler))

    def remove(self, owner: object) -> None:
        """Forget every handler `owner` registered (called when an extension stops)."""
        for kind, handlers in self._handlers.items():
            self._handlers[kind] = [(o, h) for o, h in handlers if o is not owner]
        self._writers = [(o, h) for o, h in self._writers if o is not owner]

    def emit(self, event: BusEvent) -> list[Outgoing]:
        """Run the handlers of `event`'s kind; the messages they return, in order."""
        out: list[Outgoing] = []
        for owner, handler in list(self._handlers.get(type(event), ())):
            try:
                result = handler(event)
            except Exception:  # one part's bug must not stop the others, or the queue
                log.exception("%s failed on %s", type(owner).__name__, type(event).__name__)
                continue
            if result is not None:
                out.extend(result)
        return out

    def on_committing(self, owner: object, handler: Callable[[Committing], Iterable[StoreWrite]]) -> None:
        """Call `handler` before each commit; its writes join the commit (see `Committing`)."""
        self._writers.append((owner, handler))

    def committing(self, event: Committing) -> list[StoreWrite]:
        """The writes the `Committing` handlers add to this commit.

        A handler that raises is logged and left out: the queue's own events are committed
        whatever a part around it does (its loss is logged, never silent).
        """
        out: list[StoreWrite] = []
        for owner, handler in list(self._writers):
            try:
                out.extend(handler(event))
            except Exception:
                log.exception("%s failed before a commit; its writes are left out", type(owner).__name__)
        return out

    def listeners(self, kind: type[BusEvent]) -> int:
        """How many handlers `kind` has (for tests and the admin page)."""
        return len(self._handlers.get(kind, ()))

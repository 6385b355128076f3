"""Retained messages, sent only when they change: shared by the core and the extensions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from antrian.contract import Outgoing, dumps


class RetainedCache:
    """Retained messages published only when their content changed since the last time.

    A retained topic is the state a newcomer gets; republishing an unchanged one costs every
    subscriber a message. `force` (after a reconnect: the broker may have lost them) sends all.
    """

    def __init__(self) -> None:
        self._published: dict[str, bytes] = {}

    def changed(self, topic: str, payload: Mapping[str, Any], *, force: bool = False) -> list[Outgoing]:
        body = dumps(payload)
        if not force and self._published.get(topic) == body:
            return []
        self._published[topic] = body
        return [Outgoing(topic, body, retain=True)]

"""A live view of every topic of the office and of Home Assistant discovery, like MQTT Explorer.

Why a connection of its own: the hub subscribes only to what it must answer (requests,
availability), but an admin needs to see everything on the broker, including what devices
and the hub publish. Retained values are kept per topic, and the last messages in a ring.

Why an account of its own (`[mqtt] monitor_username`, read-only in the generated ACL): the
broker config `antrian devices` writes forces client id = user name, so a monitor logged in as
the hub would take over the hub's session, the hub would take it back, and so on about twice a
second (hub/state flapping, requests lost). With only the hub's account configured the monitor
stays off and says why.

Why bounded: anyone allowed to publish can make topics, and the monitor keeps one entry per
topic. 50,000 junk topics once added ~71 MB to the hub and a 76 MB first event to `/admin`.
So it keeps at most `MAX_TOPICS` (the least recently updated go first, and the snapshot says
how many went), topic names of at most `MAX_TOPIC_CHARS` and payload text of `MAX_TEXT`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

import aiomqtt

from antrian import mqtt
from antrian.config import Config

log = logging.getLogger("antrian.web.monitor")

#: Longest payload text kept per message (device payloads are at most 1 KiB by contract).
MAX_TEXT: Final = 1200
#: Topics kept at once: an office has a few hundred (26 services, 99 counters, devices and
#: Home Assistant discovery stay under 1,000); past that the least recently updated go.
MAX_TOPICS: Final = 2000
#: Longest topic name kept (the office's own are under 100 characters).
MAX_TOPIC_CHARS: Final = 200
RECENT: Final = 200


@dataclass
class TopicEntry:
    """The last message seen on one topic."""

    payload: str
    retained: bool
    at: str
    count: int = 1

    def to_json(self, topic: str) -> dict[str, Any]:
        return {
            "topic": topic,
            "payload": self.payload,
            "retained": self.retained,
            "at": self.at,
            "count": self.count,
        }


def _text(payload: bytes) -> str:
    # decode only what can be kept: a UTF-8 character is at most 4 bytes
    text = payload[: MAX_TEXT * 4 + 4].decode("utf-8", "replace")
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _topic(topic: str) -> str:
    return topic if len(topic) <= MAX_TOPIC_CHARS else topic[:MAX_TOPIC_CHARS] + "…"


class TopicMonitor:
    """Subscribes to `antrian/{office}/#` and `homeassistant/#`; reconnects by itself."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.topics: OrderedDict[str, TopicEntry] = OrderedDict()  # least recently updated first
        self.dropped = 0  # topics forgotten to stay within MAX_TOPICS
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.connected = False

    def record(self, topic: str, payload: bytes, retained: bool) -> None:
        """Keep one message and tell the listeners (the admin pages' event streams)."""
        at = datetime.now(self.cfg.office.tz).isoformat(timespec="seconds")
        text, topic = _text(payload), _topic(topic)
        entry = self.topics.get(topic)
        if not payload:  # an empty retained message clears the topic
            self.topics.pop(topic, None)
        elif entry is None:
            while len(self.topics) >= MAX_TOPICS:
                self.topics.popitem(last=False)
                self.dropped += 1
            self.topics[topic] = TopicEntry(text, retained, at)
        else:
            entry.payload, entry.retained, entry.at = text, retained, at
            entry.count += 1
            self.topics.move_to_end(topic)
        msg = {"topic": topic, "payload": text, "retained": retained, "at": at}
        self.recent.append(msg)
        for listener in self.listeners:
            listener(msg)

    def snapshot(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "topics": [e.to_json(t) for t, e in sorted(self.topics.items())],
            "recent": list(self.recent)[-50:],
            "dropped": self.dropped,
            "max_topics": MAX_TOPICS,
        }

    def account(self) -> tuple[str | None, str | None] | None:
        """User name and password to log in with; None when only the hub's account is known."""
        m = self.cfg.mqtt
        if m.monitor_username is not None:
            return m.monitor_username, m.monitor_password
        if m.username is None:
            return None, None  # a broker open to anonymous clients (the demo, a test bench)
        return None

    async def run(self, stop: asyncio.Event) -> None:
        m = self.cfg.mqtt
        account = self.account()
        if account is None:
            log.warning(
                "pemantau topik mati: isi [mqtt] monitor_username/monitor_password dari"
                " secrets/hub-mqtt.toml / topic monitor off: set [mqtt]"
                " monitor_username/monitor_password (from secrets/hub-mqtt.toml); it"
                " must not share the hub's account"
            )
            return
        username, password = account
        # a client id of its own: the hub's would take the hub's session over
        own = f"{m.client_id}-web-{secrets.token_hex(3)}"
        cfg = replace(m, username=username, password=password, client_id=own)
        await mqtt.reconnecting(
            lambda: mqtt.client(cfg), self._serve, name="topic monitor", stop=stop, on_down=self._down
        )

    async def _serve(self, client: aiomqtt.Client) -> None:
        for f in (f"antrian/{self.cfg.office.slug}/#", "homeassistant/#"):
            await client.subscribe(f, qos=0)
        self.connected = True
        async for message in client.messages:
            raw = message.payload
            if isinstance(raw, bytes | bytearray):
                payload = bytes(raw)
            else:
                payload = str(raw).encode() if raw is not None else b""
            self.record(str(message.topic), payload, bool(message.retain))

    def _down(self) -> None:
        self.connected = False

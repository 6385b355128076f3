"""The broker's packet limit (`max_packet_size`) fits everything the hub publishes.

The generated mosquitto.conf refuses packets over `MAX_PACKET_BYTES`, so that a 100 MB payload
from a device never reaches the hub. The limit is only safe if the hub's own largest message
fits well within it: measured here for the largest office the configuration allows.
"""

from __future__ import annotations

import json
import string
import time

import pytest

from antrian.config import parse_config
from antrian.contract import MAX_PACKET_BYTES, Topics
from antrian.core import HubCore, Outgoing
from antrian.extensions.homeassistant import messages as discovery_messages
from antrian.store import EventStore
from tests.kit import Mosquitto, Probe

T = Topics("kantor")


def packet_bytes(topic: str, payload: bytes) -> int:
    """A QoS 1 PUBLISH: fixed header (at most 5), topic and its length, packet id, payload."""
    return 5 + 2 + len(topic.encode()) + 2 + len(payload)


def largest_office() -> dict:
    letters = string.ascii_uppercase
    return {
        "office": {"name": "Kantor Kecamatan " + "N" * 80},
        "services": [
            {"letter": x, "name": f"Layanan {x} " + "n" * 80, "completion": "c" * 40, "quota": 9999}
            for x in letters
        ],
        "counters": [
            {
                "number": n,
                "services": list(letters),
                "name": f"Loket {n} " + "n" * 40,
                "spoken_name": "s" * 40,
            }
            for n in range(1, 100)
        ],
        "devices": [{"id": f"pad-{n}", "role": "call_pad", "counter": n} for n in range(1, 100)]
        + [{"id": f"kiosk-{n}", "role": "kiosk"} for n in range(1, 30)],
    }


def test_the_largest_retained_or_discovery_message_fits_the_packet_limit(tmp_path):
    cfg = parse_config(largest_office())
    store = EventStore(tmp_path / "antrian.db")
    try:
        core = HubCore(cfg, store)
        messages = core.retained_all() + discovery_messages(cfg, set())
    finally:
        store.close()
    sizes = sorted(((packet_bytes(m.topic, m.payload), m.topic) for m in messages), reverse=True)
    biggest, topic = sizes[0]
    print(f"largest of {len(sizes)} retained/discovery messages: {biggest} bytes ({topic})")
    assert topic == T.hub_info
    # a margin for longer names than these: the limit is more than twice the largest
    assert biggest * 2 < MAX_PACKET_BYTES
    assert max(s for s, t in sizes if t.startswith("homeassistant/")) < 2048


@pytest.fixture
def broker():
    """The suite's broker with the generated config's packet limit (`make_hub` uses it)."""
    b = Mosquitto(extra_conf=f"max_packet_size {MAX_PACKET_BYTES}")
    b.start()
    yield b
    b.close()


def test_a_message_over_the_limit_costs_the_hub_that_message_not_its_connection(broker, make_hub, caplog):
    """The broker drops a client for an oversized packet; the hub must never send one."""
    hub = make_hub()
    probe = Probe(broker)
    try:
        probe.subscribe(f"{T.base}/#")
        big = Outgoing(T.hub_event, json.dumps({"type": "x", "data": "y" * MAX_PACKET_BYTES}).encode())
        after = Outgoing(T.hub_event, b'{"type": "after"}')
        hub.call(lambda: hub.service.publish([big, after]))
        probe.wait_for(T.hub_event, lambda p: p == after.payload)
        time.sleep(0.5)  # a dropped connection would be seen as a reconnect by now
        assert hub.call(lambda: hub.service.connections) == 1
        assert not [p for t, p, _ in probe.messages if len(p) > MAX_PACKET_BYTES]
        assert "exceed the broker's packet limit" in caplog.text
    finally:
        probe.close()

"""The admin topic monitor stays bounded however many topics the broker carries.

Anyone allowed to publish can make topics; the monitor keeps one entry per topic and sends
them all as the first event of `/admin`. 50,000 junk topics once added ~71 MB to the hub and
a 76 MB first event. The monitor runs here on its own loop against a real Mosquitto.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
import time

from antrian.config import MqttConfig, parse_config
from antrian.web.monitor import MAX_TEXT, MAX_TOPIC_CHARS, MAX_TOPICS, TopicMonitor
from tests.kit import Probe

JUNK = 5000


class RunningMonitor:
    def __init__(self, broker) -> None:
        cfg = parse_config({})
        cfg = dataclasses.replace(cfg, mqtt=MqttConfig(host=broker.host, port=broker.port))
        self.monitor = TopicMonitor(cfg)
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        self.task = self.loop.create_task(self.monitor.run(self.stop))
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self.task)

    def call(self, fn):
        async def wrap():
            return fn()

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(10)

    def wait(self, pred, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.call(pred):
            assert time.monotonic() < deadline, "the monitor did not catch up"
            time.sleep(0.05)

    def close(self) -> None:
        """As the web server stops it: set `stop` and cancel the task (it may be reading)."""
        self.loop.call_soon_threadsafe(self.stop.set)
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


def test_the_topic_monitor_keeps_a_bounded_number_of_topics(broker):
    running = RunningMonitor(broker)
    sender = Probe(broker)
    m = running.monitor
    try:
        running.wait(lambda: m.connected)
        seen = lambda: len(m.topics) + m.dropped  # noqa: E731 - distinct topics recorded
        sender.publish("antrian/kantor/hub/state", {"state": "online"}, retain=True)
        sender.publish("antrian/kantor/hub/info", {"name": "first, never updated"}, retain=True)
        running.wait(lambda: seen() == 2)
        # in batches: the broker drops QoS 0 messages for a subscriber whose queue is full
        for start in range(0, JUNK, 500):
            for i in range(start, start + 500):
                sender.client.publish(f"antrian/kantor/junk/{i}", b"j" * 2048, qos=0, retain=True)
            running.wait(lambda end=start + 500: seen() == 2 + end)
            # a topic that keeps being updated (as the hub's own state is) is kept
            sender.publish("antrian/kantor/hub/state", {"state": "online", "batch": start})
        sender.publish("antrian/kantor/" + "x" * 10_000, b"y" * 60_000)
        sender.publish("antrian/kantor/hub/state", {"state": "online", "again": True}, retain=True)

        def caught_up() -> bool:
            entry = m.topics.get("antrian/kantor/hub/state")
            return seen() == JUNK + 3 and entry is not None and '"again"' in entry.payload

        running.wait(caught_up)
        snapshot = running.call(m.snapshot)
        topics = {t["topic"]: t for t in snapshot["topics"]}
        assert len(topics) == MAX_TOPICS
        assert snapshot["dropped"] == JUNK + 3 - MAX_TOPICS
        assert snapshot["max_topics"] == MAX_TOPICS
        # the least recently updated went first; an update keeps a topic
        assert "antrian/kantor/hub/info" not in topics
        assert "antrian/kantor/junk/0" not in topics
        assert f"antrian/kantor/junk/{JUNK - 1}" in topics
        assert json.loads(topics["antrian/kantor/hub/state"]["payload"])["again"] is True
        assert max(len(t) for t in topics) <= MAX_TOPIC_CHARS + 1
        assert max(len(t["payload"]) for t in topics.values()) <= MAX_TEXT + 1
        first_event = len(json.dumps(snapshot))
        print(
            f"{JUNK} junk topics: {len(topics)} kept, {snapshot['dropped']} dropped,"
            f" first /admin event {first_event / 1e6:.1f} MB"
        )
        assert first_event < 3_500_000
    finally:
        sender.close()
        running.close()

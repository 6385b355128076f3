"""The waiting-room TV gets every call itself, not a picture it has to guess calls from.

Two pads calling in the same moment used to reach the TV as one picture with both calls in
it, and the TV flashed and spoke only the newest: the other citizen never heard their number.
"""

from __future__ import annotations

import json
import socket

from playwright.sync_api import expect
from web_helpers import T, hub_fixture, read_sse

from tests.kit import Probe

tv_hub = hub_fixture("tvcalls")


def _sse_events(sock: socket.socket, wanted: int) -> list[tuple[str, dict]]:
    """Read server-sent events from `sock` until `wanted` `call` events have come."""
    return read_sse(sock, lambda events: sum(1 for name, _ in events if name == "call") >= wanted)


def _two_calls_at_once(hub) -> list[str]:
    """Two tickets, then two counters calling in one burst; the tickets called, in order."""
    probe = Probe(hub.proc.broker)
    try:
        probe.subscribe(T.hub_response("+"))
        for svc in ("A", "B"):
            probe.request(T.hub_request("take_ticket"), T.hub_response("take_ticket"), {"service": svc})
        start = len(probe.messages)
        for counter in (1, 2):  # back to back: the hub takes them in one batch
            probe.client.publish(T.hub_request("call_next"), json.dumps({"counter": counter}), qos=1)
        answers = []
        for _ in range(2):
            raw = probe.wait_for(T.hub_response("call_next"), start=start)
            start = next(i for i, m in enumerate(probe.messages) if m[1] == raw and i >= start) + 1
            answers.append(json.loads(raw)["data"]["ticket"])
        return answers
    finally:
        probe.close()


def test_two_calls_in_one_moment_are_two_call_events_in_order(tv_hub):
    sock = socket.create_connection(("127.0.0.1", tv_hub.port))
    try:
        sock.sendall(b"GET /events/public HTTP/1.1\r\nHost: hub\r\n\r\n")
        called = _two_calls_at_once(tv_hub)
        calls = [data for name, data in _sse_events(sock, 2) if name == "call"]
    finally:
        sock.close()
    assert [c["ticket"] for c in calls] == called
    assert [c["counter"] for c in calls] == [1, 2]
    assert {c["counter_name"] for c in calls} == {"Loket 1", "Loket 2"}


def test_the_tv_shows_each_of_two_calls_made_together(tv_hub, new_page):
    tv = new_page(1920, 1080)
    tv.goto(f"{tv_hub.base}/tv")
    expect(tv.locator("#services")).not_to_be_empty()
    seen: list[str] = []
    tv.expose_function("sawHero", lambda text: seen.append(text))
    tv.evaluate("""() => new MutationObserver(() => window.sawHero(
        document.getElementById('hero-ticket').textContent)).observe(
        document.getElementById('hero-ticket'), {childList: true, characterData: true, subtree: true})""")
    called = _two_calls_at_once(tv_hub)
    expect(tv.locator("#hero-ticket")).to_have_text(called[-1], timeout=10_000)
    ours = [t for t in seen if t in called]  # the module's earlier calls may show first
    shown = [t for i, t in enumerate(ours) if i == 0 or ours[i - 1] != t]
    assert shown == called  # the first call was on screen before the second

"""A call the speaker node could not play in time reaches the people who can fix it: the
officer of that counter and the admin read "Panggilan tidak terdengar: A-001 (Loket 1)", and
the TV flashes the call again. And the TV and the speakers never both say a call."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from playwright.sync_api import expect
from test_streams import in_a_thread
from test_tv_room import ask
from web_helpers import T, WebHub, hub_fixture, read_sse

from antrian.config import parse_config
from antrian.core import HubCore, Origin
from antrian.service import HubService
from antrian.store import EventStore
from antrian.web.server import WebApp
from tests.kit import Probe

SPEAKER = "speaker-1"
hub = hub_fixture("notheard", f'[[devices]]\nid = "{SPEAKER}"\nrole = "speaker"\n')


@pytest.fixture
def mqtt(hub: WebHub, probe) -> Probe:
    """The hub's MQTT side, as call pads and kiosks use it."""
    client: Probe = probe(hub)
    client.subscribe(T.hub_response("+"))
    return client


def not_heard(probe: Probe, ticket: str, counter: int, device: str = SPEAKER, **extra: Any) -> None:
    """What the speaker node says when it gave a call up (`SpeakerEvent`)."""
    event = {
        "event_type": "call_missed",
        "id": f"call-{ticket}",
        "ticket": ticket,
        "counter": counter,
        "at": "2026-03-02T10:00:00+07:00",
        "reason": "late",
        **extra,
    }
    probe.publish(T.device_event(device), event)


def sse_until(sock: socket.socket, wanted: str) -> list[tuple[str, dict]]:
    """Server-sent events from `sock` until one named `wanted` has come."""
    return read_sse(sock, lambda events: any(name == wanted for name, _ in events))


def test_a_call_not_heard_is_shown_to_that_counters_officer_and_the_admin_until_called_again(
    hub, mqtt, new_page, login, tmp_path
):
    ticket = ask(mqtt, "take_ticket", service="A")["data"]["ticket"]
    officer = new_page(1024, 800)
    login(officer, hub.base, "officer", "/officer?counter=1")
    other = new_page(1024, 800)
    login(other, hub.base, "officer", "/officer?counter=2")
    admin = new_page(1280, 900)
    login(admin, hub.base, "admin", "/admin")
    assert ask(mqtt, "call_next", counter=1)["data"]["ticket"] == ticket
    expect(officer.locator("#serving")).to_have_text(ticket)

    tv = socket.create_connection(("127.0.0.1", hub.port))
    try:
        tv.sendall(b"GET /events/public HTTP/1.1\r\nHost: hub\r\n\r\n")
        sse_until(tv, "state")
        not_heard(mqtt, ticket, 1)
        flashed = [data for name, data in sse_until(tv, "missed") if name == "missed"]
    finally:
        tv.close()
    assert [(m["ticket"], m["counter_name"]) for m in flashed] == [(ticket, "Loket 1")]

    said = f"Panggilan tidak terdengar: {ticket} (Loket 1)"
    expect(officer.locator("#missed")).to_be_visible()
    expect(officer.locator("#missed")).to_contain_text(said)
    expect(admin.locator("#missed-calls")).to_contain_text(said)
    expect(other.locator("#serving")).to_have_text("—")
    expect(other.locator("#missed")).to_be_hidden()
    officer.screenshot(path=str(tmp_path / "officer-call-not-heard.png"))
    admin.screenshot(path=str(tmp_path / "admin-call-not-heard.png"))

    officer.click("#btn-recall")  # called again: a new chance to be heard
    expect(officer.locator("#missed")).to_be_hidden()
    expect(admin.locator("#missed-calls")).to_be_hidden()
    officer.click("#btn-done")


def test_only_a_registered_speakers_call_missed_is_shown(hub, mqtt, new_page, login):
    ticket = ask(mqtt, "take_ticket", service="B")["data"]["ticket"]
    assert ask(mqtt, "call_next", counter=2)["data"]["ticket"] == ticket
    admin = new_page(1280, 900)
    login(admin, hub.base, "admin", "/admin")
    expect(admin.locator("#counters tr[data-counter='2'] .ticket")).to_have_text(ticket)
    not_heard(mqtt, ticket, 2, device="stranger")  # a device the office does not know
    not_heard(mqtt, ticket, 2, event_type="call_played")  # played after all
    not_heard(mqtt, "A-999", 2)  # not the ticket at that counter
    not_heard(mqtt, ticket, 3)
    not_heard(mqtt, "<b>X</b>", 2)
    mqtt.publish(T.device_event(SPEAKER), b"not json")
    not_heard(mqtt, ticket, 2)  # the one real report, last
    expect(admin.locator("#missed-calls p")).to_have_count(1)
    expect(admin.locator("#missed-calls")).to_contain_text(f"{ticket} (Loket 2)")
    assert [(m["ticket"], m["counter"]) for m in hub.state()["missed"]] == [(ticket, 2)]
    ask(mqtt, "done", counter=2)
    expect(admin.locator("#missed-calls")).to_be_hidden()


def test_with_a_speaker_registered_the_tv_keeps_quiet_and_asks_for_no_tap(hub, new_page):
    tv = new_page(1280, 720)
    tv.goto(f"{hub.base}/tv")
    expect(tv.locator("#services .svc")).to_have_count(5)
    assert hub.state()["tv_voice"] is False
    expect(tv.locator("#sound-blocked")).to_be_hidden()


# ---------------------------------------------------------------------------------------------
# who speaks: [web] tv_voice
# ---------------------------------------------------------------------------------------------


def speaker_plays(tmp_path, web: dict[str, Any]) -> tuple[bool, list[str]]:
    """A call in an office with a speaker node: whether the TV speaks, and the speakers' `play`
    messages the call made (the hub's own objects, its speakers part running)."""
    cfg = parse_config({"web": web, "devices": [{"id": SPEAKER, "role": "speaker"}]})
    core = HubCore(cfg, EventStore(tmp_path / "antrian.db"))
    topics: list[str] = []
    tv: list[bool] = []

    async def main() -> None:
        service = HubService(core)
        await service.start_extensions()
        try:
            tv.append(WebApp(core, service).public_state()["tv_voice"])
            for command, fields in (("take_ticket", {"service": "A"}), ("call_next", {"counter": 1})):
                topics.extend(m.topic for m in core.handle(Origin(), command, json.dumps(fields).encode()))
        finally:
            await service.stop_extensions()

    in_a_thread(main)
    return tv[0], [t for t in topics if t.endswith("/play")]


@pytest.mark.parametrize(
    ("web", "tv_speaks", "speaker_speaks"),
    [({}, False, True), ({"tv_voice": False}, False, True), ({"tv_voice": True}, True, False)],
    ids=["default", "speakers", "tv"],
)
def test_either_the_tv_or_the_speakers_say_a_call_never_both(tmp_path, web, tv_speaks, speaker_speaks):
    tv, plays = speaker_plays(tmp_path, web)
    assert tv is tv_speaks
    assert plays == ([T.device_play(SPEAKER)] if speaker_speaks else [])

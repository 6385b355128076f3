"""The firmware uses only the topics the MQTT contract gives its role, and spells none itself.

The contract here is the export the devices side is built against, `devices/contract.json`
(`tests/test_contract.py` keeps it current). What the firmware did is read from the broker's
own log: every subscription, publish and last will of the device's client, as the broker saw
them, while the device does its work against the real hub.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from harness import DEVICES, kiosk_config, one_ticket_through_every_role

from antrian.contract import DEVICE_ROLES
from antrian.provision.topics import ROLE_READS, device_topics
from tests.kit import Mosquitto
from tests.kit.office import SLUG
from tests.kit.traffic import LOG_EVERYTHING, read_traffic

CONTRACT = json.loads((DEVICES / "contract.json").read_text(encoding="utf-8"))


def fill(name: str, device_id: str, **values: str) -> str:
    topic = CONTRACT["topics"][name].replace("{office}", SLUG).replace("{id}", device_id)
    for key, value in values.items():
        topic = topic.replace("{" + key + "}", value)
    return topic


def contract_topics(role: str, device_id: str, counter: int | None) -> tuple[set[str], set[str]]:
    """(what a device of `role` may publish, what it may subscribe to), from the contract alone.

    It publishes about itself: availability, info, and a request for each command its role
    may run. It reads what the hub addresses to it (answers to any command, display, play,
    set), whether the hub is up, and the state of its own counter when it is bound to one.
    """
    publish = {fill("device_availability", device_id), fill("device_info", device_id)}
    publish |= {fill("device_request", device_id, command=c) for c in CONTRACT["roles"][role]}
    subscribe = {fill("device_response", device_id, command="+"), fill("hub_state", device_id)}
    subscribe |= {fill(name, device_id) for name in ("device_display", "device_play", "device_set")}
    if role in CONTRACT["counter_bound_roles"] and counter is not None:
        subscribe.add(fill("counter_state", device_id, counter=str(counter)))
    return publish, subscribe


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    """The test's broker, logging every subscription and publish of every client."""
    b = Mosquitto(extra_conf=LOG_EVERYTHING)
    b.start()
    yield b
    b.close()


def test_the_kiosk_call_pad_and_board_use_only_the_topics_the_contract_gives_their_role(
    broker, hub, watcher, firmware
):
    kiosk, pad, board = one_ticket_through_every_role(broker, watcher, firmware, {"type": "max7219"})

    traffic = read_traffic(broker.log())
    for fw in (kiosk, pad, board):
        cfg = fw.cfg
        may_publish, may_subscribe = contract_topics(
            cfg["role"], cfg["id"], cfg.get("pad", {}).get("counter")
        )
        written, subscribed = traffic.written(cfg["id"]), traffic.subscribed[cfg["id"]]
        assert written <= may_publish, f"{cfg['id']} wrote outside its role: {written - may_publish}"
        assert subscribed <= may_subscribe, f"{cfg['id']} read outside its role: {subscribed - may_subscribe}"
        # what every device does: born and willed on its availability, asks and hears the hub
        assert traffic.wills[cfg["id"]] == {fill("device_availability", cfg["id"])}
        assert fill("device_response", cfg["id"], command="+") in subscribed
        assert fill("hub_state", cfg["id"]) in subscribed
    assert fill("device_request", "kiosk-1", command="take_ticket") in traffic.published["kiosk-1"]
    assert fill("device_request", "pad-1", command="call_next") in traffic.published["pad-1"]
    assert fill("counter_state", "pad-1", counter="1") in traffic.subscribed["pad-1"]
    assert fill("device_display", "board-1") in traffic.subscribed["board-1"]


def test_a_config_without_topics_stops_the_board_with_words_that_say_why(firmware, broker):
    cfg = kiosk_config(broker)
    del cfg["topics"]
    fw = firmware(cfg)
    assert fw.proc is not None
    assert fw.proc.wait(10) != 0
    fw.wait(lambda e: e["ev"] == "stdout" and "antrian devices add" in e["msg"])  # its traceback


@pytest.mark.parametrize("role", sorted(ROLE_READS))
def test_provisioning_gives_every_role_only_topics_of_the_contract(role):
    publish, subscribe = contract_topics(role, "dev-1", 7)
    requests = fill("device_request", "dev-1", command="+")  # the board names each command
    for name, topic in device_topics(SLUG, "dev-1", role).items():
        concrete = topic.replace("{command}", "+").replace("{counter}", "7")
        assert concrete in publish | subscribe | {requests}, (name, topic)


def test_every_device_role_of_the_contract_says_what_it_reads():
    assert set(ROLE_READS) == set(DEVICE_ROLES)

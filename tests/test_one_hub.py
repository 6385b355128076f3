"""One hub per office: a second hub started by mistake refuses to start, a restart never does.

Real hub processes (`antrian run`) on a real Mosquitto. Two hubs with one client id used to
take each other's broker session over in a loop, with no warning; a second hub on the same
database would also have written the same event log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from antrian.contract import Topics
from antrian.lock import EXIT_ANOTHER_HUB, AnotherHub, HubLock
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.hubs import is_online
from tests.kit.office import ALL_DAY, office, to_toml

T = Topics("kantor")
CONFIG = to_toml(office(office=ALL_DAY))


def online(probe: Probe, timeout: float = 20.0, start: int = 0) -> dict:
    raw = probe.wait_for(T.hub_state, is_online, timeout, start)
    return json.loads(raw)


def retained_state(broker: Mosquitto) -> dict:
    fresh = Probe(broker)
    try:
        fresh.subscribe(T.hub_state)
        return json.loads(fresh.wait_for(T.hub_state))
    finally:
        fresh.close()


def take_ticket(probe: Probe, txn: str) -> dict:
    return probe.request(
        T.hub_request("take_ticket"),
        T.hub_response("take_ticket"),
        {"service": "A", "transaction": txn},
        timeout=5,
    )


@pytest.fixture
def probe(broker):
    p = Probe(broker)
    p.subscribe(T.hub_state)
    p.subscribe(T.hub_response("take_ticket"))
    yield p
    p.close()


@pytest.fixture
def first(broker, tmp_path, probe):
    hub = HubProcess(broker, CONFIG, tmp_path / "first")
    hub.start()
    state = online(probe)
    yield hub, state["instance"]
    hub.stop()


def power_cut(hub: HubProcess, probe: Probe, instance: str) -> None:
    """Kill the hub and leave its `online` retained, as a power cut of its PC does.

    With kill -9 on one machine the kernel closes the socket and the broker fires the will at
    once; after a power cut the connection stays half-open and the broker keeps the dead hub's
    `online` for keepalive x 1.5 (22.5 s). The harder case is the one recreated here.
    """
    hub.kill()
    probe.publish(T.hub_state, {"state": "online", "instance": instance}, retain=True)


def exits_refusing(hub: HubProcess, timeout: float = 20.0) -> str:
    assert hub.proc is not None
    code = hub.proc.wait(timeout)
    log = hub.log()
    assert code == EXIT_ANOTHER_HUB, log[-3000:]
    assert "Hub tidak dijalankan: hub lain" in log
    assert "Hub not started: another hub" in log
    assert log.index("Hub tidak dijalankan") < log.index("Hub not started")  # Indonesian first
    return log


def test_the_birth_names_an_instance_that_is_new_on_every_start(broker, tmp_path, probe):
    hub = HubProcess(broker, CONFIG, tmp_path / "hub")
    hub.start()
    one = online(probe)
    hub.stop()
    mark = len(probe.messages)
    hub.start()
    two = online(probe, start=mark)
    hub.stop()
    assert one["instance"] != two["instance"]
    assert len(one["instance"]) >= 16


def test_a_second_hub_on_the_same_database_refuses_and_the_first_keeps_serving(
    broker, tmp_path, probe, first
):
    hub, instance = first
    second = HubProcess(broker, f'database = "{hub.database}"\n' + CONFIG, tmp_path / "second")
    second.start()
    log = exits_refusing(second, timeout=15)
    assert str(hub.database) + ".lock" in log
    assert hub.proc is not None
    assert str(hub.proc.pid) in log  # names the hub that holds the lock
    # it never reached the broker: the first hub's session was not touched
    assert "already connected" not in broker.log()
    assert take_ticket(probe, "after-second")["status"] == "ok"
    assert retained_state(broker) == {"state": "online", "instance": instance}


def test_a_second_hub_of_the_office_elsewhere_refuses_and_the_first_keeps_serving(
    broker, tmp_path, probe, first
):
    """Another machine (its own database), same office and client id: the usual mistake."""
    _, instance = first
    second = HubProcess(broker, CONFIG, tmp_path / "elsewhere")
    second.start()
    exits_refusing(second)
    assert take_ticket(probe, "after-elsewhere")["status"] == "ok"
    assert retained_state(broker) == {"state": "online", "instance": instance}
    # and it stays so: no fight going on in the background
    mark = len(probe.messages)
    time.sleep(2.0)
    assert [p for t, p, _ in probe.messages[mark:] if t == T.hub_state] == []


def test_a_second_hub_with_another_client_id_is_refused_when_the_first_answers(
    broker, tmp_path, probe, first
):
    _, instance = first
    text = CONFIG + f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\nclient_id = "other-pc"\n'
    second = HubProcess(broker, text, tmp_path / "other")
    second.start()
    exits_refusing(second)
    assert take_ticket(probe, "after-other")["status"] == "ok"
    assert retained_state(broker) == {"state": "online", "instance": instance}


def test_a_hub_killed_with_sigkill_restarts_and_serves_at_once(broker, tmp_path, probe, first):
    hub, instance = first
    assert take_ticket(probe, "before-crash")["data"]["ticket"] == "A-001"
    power_cut(hub, probe, instance)
    mark = len(probe.messages)
    hub.start()
    again = online(probe, start=mark)
    assert again["instance"] != instance
    assert "signs of a live hub" not in hub.log()  # recognised its own predecessor: no wait
    assert take_ticket(probe, "after-crash")["data"]["ticket"] == "A-002"


def test_a_hub_whose_predecessor_crashed_on_another_machine_starts_after_a_grace(
    broker, tmp_path, probe, first
):
    hub, instance = first
    power_cut(hub, probe, instance)
    mark = len(probe.messages)
    replacement = HubProcess(broker, CONFIG, tmp_path / "new-pc")
    replacement.start()
    try:
        again = online(probe, timeout=30, start=mark)
        assert again["instance"] != instance
        assert f"instance {instance} is gone" in replacement.log()
        assert take_ticket(probe, "new-pc")["status"] == "ok"
    finally:
        replacement.stop()


def test_the_database_lock_is_exclusive_and_names_its_holder(tmp_path: Path):
    db = tmp_path / "antrian.db"
    with HubLock(db):
        with pytest.raises(AnotherHub) as refused:
            HubLock(db).acquire()
        assert refused.value.exit_code == EXIT_ANOTHER_HUB
        assert "hub lain" in refused.value.indonesian
        assert "another hub" in refused.value.english
        assert str(db) + ".lock" in str(refused.value)
    with HubLock(db):  # released: the next one may take it
        pass

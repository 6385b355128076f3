"""Home Assistant: MQTT discovery, per entity (works on every release from 2023 on).

Each entity's config goes retained to `homeassistant/{component}/{node_id}/{object_id}/config`
with a `unique_id`, a `device` (the hub; each counter as its own device `via_device` the hub),
`origin`, and availability on `{base}/hub/state`. Entities: per service a waiting sensor (the
wait estimate in its attributes), a "full for today" binary sensor (a ticket taken now would
not be reached before closing) and a take-ticket button; per counter a serving sensor, a
call-next button, an event entity and a status select. Each board (kiosk, call pad, LED board,
speaker) is a device of its own `via_device` the hub, with diagnostic entities from what it says
about itself: connectivity (its `availability`), and from its `info` the WiFi signal, uptime,
free heap, MQTT connections, reset cause and firmware; a kiosk also its printer's state.
Anything no longer configured is cleared with an empty retained payload.

Discovery goes out on every connect and whenever Home Assistant says it came online (its
birth on `homeassistant/status`), as Home Assistant asks of integrations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, Final

from antrian import __version__
from antrian.bus import Connected, MessageIn
from antrian.config import Config
from antrian.contract import HA_DISCOVERY_PREFIX, HA_STATUS_TOPIC, Outgoing, Topics, dumps
from antrian.device_info import PRINTER_STATES
from antrian.extension import Extension
from antrian.store import StorageError

log = logging.getLogger("antrian.homeassistant")

#: Where the store remembers which discovery topics it published (to clear the ones now gone).
PUBLISHED_META: Final = "discovery_topics"

ORIGIN: Final = {"name": "antrian", "sw": __version__}
#: The roles played by a board of its own (ESP32 firmware, the speaker node), each its own HA
#: device with diagnostic entities, and the model it is shown as.
BOARD_MODELS: Final = {
    "kiosk": "kios tiket",
    "call_pad": "pad panggil",
    "led_board": "papan LED",
    "speaker": "pengeras suara",
}


def _node(cfg: Config) -> str:
    return f"antrian_{cfg.office.slug}".replace("-", "_")


def entities(cfg: Config) -> dict[str, dict[str, Any]]:
    """Discovery topic -> config payload, for everything the configuration declares."""
    tp = Topics(cfg.office.slug)
    node = _node(cfg)
    hub_dev = {
        "identifiers": [node],
        "name": f"Antrean {cfg.office.name}",
        "manufacturer": "antrian",
        "model": "hub",
        "sw_version": __version__,
    }
    availability = [{"topic": tp.hub_state, "value_template": "{{ value_json.state }}"}]
    out: dict[str, dict[str, Any]] = {}

    def add(
        component: str,
        object_id: str,
        body: dict[str, Any],
        device: dict[str, Any],
        available: list[dict[str, str]] | None = availability,
    ) -> None:
        body.update(unique_id=f"{node}_{object_id}", object_id=f"{node}_{object_id}", device=device)
        body.update(origin=ORIGIN)
        if available is not None:
            body.update(availability=available)
        out[f"{HA_DISCOVERY_PREFIX}/{component}/{node}/{object_id}/config"] = body

    for s in cfg.services:
        letter = s.letter
        add(
            "sensor",
            f"service_{letter.lower()}_waiting",
            {
                "name": f"Menunggu {letter} ({s.name})",
                "state_topic": tp.service_state(letter),
                "value_template": "{{ value_json.waiting }}",
                "unit_of_measurement": "orang",
                "state_class": "measurement",
                "json_attributes_topic": tp.service_state(letter),
                "icon": "mdi:account-multiple",
            },
            hub_dev,
        )
        add(
            "binary_sensor",
            f"service_{letter.lower()}_closed_today",
            {
                "name": f"{letter} penuh untuk hari ini",
                "state_topic": tp.service_state(letter),
                "value_template": "{{ 'ON' if value_json.closed_today else 'OFF' }}",
                "icon": "mdi:calendar-remove",
            },
            hub_dev,
        )
        add(
            "button",
            f"service_{letter.lower()}_take",
            {
                "name": f"Ambil tiket {letter}",
                "command_topic": tp.hub_request("take_ticket"),
                "payload_press": dumps({"service": letter, "actor": "homeassistant"}).decode(),
                "icon": "mdi:ticket",
            },
            hub_dev,
        )
    for c in cfg.counters:
        n = c.number
        dev = {
            "identifiers": [f"{node}_counter_{n}"],
            "name": c.label,
            "via_device": node,
            "manufacturer": "antrian",
            "model": "loket",
        }
        add(
            "sensor",
            f"counter_{n}_serving",
            {
                "name": "Sedang dilayani",
                "state_topic": tp.counter_state(n),
                "value_template": "{{ value_json.serving or '-' }}",
                "json_attributes_topic": tp.counter_state(n),
                "icon": "mdi:counter",
            },
            dev,
        )
        add(
            "button",
            f"counter_{n}_call_next",
            {
                "name": "Panggil berikutnya",
                "command_topic": tp.hub_request("call_next"),
                "payload_press": dumps({"counter": n, "actor": "homeassistant"}).decode(),
                "icon": "mdi:bullhorn",
            },
            dev,
        )
        add(
            "event",
            f"counter_{n}_event",
            {
                "name": "Panggilan",
                "state_topic": tp.counter_event(n),
                "event_types": ["called", "recalled", "skipped", "done"],
            },
            dev,
        )
        add(
            "select",
            f"counter_{n}_status",
            {
                "name": "Status loket",
                "state_topic": tp.counter_state(n),
                "value_template": "{{ value_json.status }}",
                "options": ["open", "break", "closed"],
                "command_topic": tp.hub_request("counter_status"),
                "command_template": '{"counter": '
                + str(n)
                + ', "status": "{{ value }}", "actor": "homeassistant"}',
            },
            dev,
        )
    for d in cfg.devices:
        if d.role in BOARD_MODELS:
            for component, object_id, body, available in _board_entities(tp, d.id, d.role):
                dev = {
                    "identifiers": [f"{node}_device_{d.id}"],
                    "name": d.id,
                    "via_device": node,
                    "manufacturer": "antrian",
                    "model": BOARD_MODELS[d.role],
                }
                add(component, f"device_{d.id}_{object_id}", body, dev, available)
    return out


#: A board's diagnostic sensors, by the `info` field each shows (also its object id): its name
#: and HA keys. The uptime is as of the board's last `info` (sent on every connect).
INFO_SENSORS: Final[tuple[tuple[str, str, dict[str, str]], ...]] = (
    (
        "rssi",
        "Sinyal WiFi",
        {"device_class": "signal_strength", "unit_of_measurement": "dBm", "state_class": "measurement"},
    ),
    ("uptime_s", "Waktu nyala", {"device_class": "duration", "unit_of_measurement": "s"}),
    (
        "free_heap",
        "Memori bebas",
        {"device_class": "data_size", "unit_of_measurement": "B", "state_class": "measurement"},
    ),
    ("mqtt_connects", "Koneksi MQTT", {"state_class": "total_increasing", "icon": "mdi:lan-connect"}),
    ("reset_cause", "Sebab mulai", {"icon": "mdi:restart"}),
    ("firmware", "Firmware", {"icon": "mdi:chip"}),
)


def _board_entities(
    tp: Topics, device_id: str, role: str
) -> list[tuple[str, str, dict[str, Any], list[dict[str, str]] | None]]:
    """(component, object id, config, availability) of one board's entities.

    Connectivity is the board's own `availability` (on while it is connected, off once its
    last will came), so it is always available itself; the rest reads its retained `info`,
    unavailable while the board is offline. The firmware is a sensor: a device's `sw_version`
    cannot follow a payload. A field the board does not send reads "None": unknown in HA.
    """
    state = tp.device_availability(device_id)
    online = [{"topic": state, "payload_available": "online", "payload_not_available": "offline"}]
    out: list[tuple[str, str, dict[str, Any], list[dict[str, str]] | None]] = [
        (
            "binary_sensor",
            "connectivity",
            {
                "name": "Terhubung",
                "state_topic": state,
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
            },
            None,
        )
    ]
    for key, name, keys in INFO_SENSORS:
        body = {"name": name, "state_topic": tp.device_info(device_id), "entity_category": "diagnostic"}
        body["value_template"] = "{{ value_json.get('" + key + "') }}"
        out.append(("sensor", key, {**body, **keys}, online))
    if role == "kiosk":
        printer = {"name": "Printer", "state_topic": tp.device_info(device_id), "icon": "mdi:printer-pos"}
        printer.update(value_template="{{ value_json.get('printer') }}", device_class="enum")
        out.append(("sensor", "printer", {**printer, "options": list(PRINTER_STATES)}, online))
    return out


def messages(cfg: Config, previous: set[str] | None = None) -> list[Outgoing]:
    """Discovery messages; topics in `previous` but no longer configured are cleared."""
    ents = entities(cfg)
    out = [Outgoing(topic, dumps(body), retain=True) for topic, body in ents.items()]
    for gone in sorted((previous or set()) - set(ents)):
        out.append(Outgoing(gone, b"", retain=True))
    return out


class HomeAssistant(Extension):
    name = "homeassistant"

    async def start(self) -> None:
        self.bus.on(Connected, self, lambda e: self.discovery())
        self.bus.on(MessageIn, self, self.on_message)

    def on_message(self, msg: MessageIn) -> Iterable[Outgoing]:
        if msg.topic == HA_STATUS_TOPIC and msg.payload.strip() == b"online":
            log.info("Home Assistant came online: publishing discovery again")
            return self.discovery()
        return ()

    def discovery(self) -> list[Outgoing]:
        """Discovery for what is configured; clear what was published before and is gone."""
        store = self.core.store
        try:
            previous = set(json.loads(store.meta(PUBLISHED_META) or "[]"))
        except (StorageError, ValueError) as exc:  # a damaged page must not stop the queue
            log.error("discovery: earlier topics unreadable (%s); none cleared", exc)
            previous = set()
        out = messages(self.cfg, previous)
        try:
            store.set_meta(PUBLISHED_META, json.dumps(sorted(entities(self.cfg))))
        except StorageError as exc:
            log.error("discovery: topics not remembered (%s)", exc)
        return out

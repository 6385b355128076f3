"""Home Assistant: MQTT discovery, per entity (every release from 2023 on) or per device.

Each entity's config goes retained to `homeassistant/{component}/{node_id}/{object_id}/config`
with a `unique_id`, `object_id` and `default_entity_id` (newer releases want the latter, 2024.3
takes both), a `device` (the hub; each counter and each board as its own device `via_device`
the hub), `origin`, and availability on `{base}/hub/state`. With `[homeassistant] discovery =
"device"` the same entities go as the components (`cmps`) of one config per device on
`homeassistant/device/{device}/config` (Home Assistant 2024.11+). Switching clears the other
form's retained configs, and anything no longer configured is cleared with an empty retained
payload, before the new configs go out: Home Assistant refuses a `unique_id` it already has.

Entities: per service the waiting counts, the wait estimate, today's issued / served / skipped
tickets, the tickets its daily quota still allows (only for a service with a quota), "full for
today", an open/paused switch and the take-ticket buttons; for the office whether it is open
(its `office/state`, the reason and holiday as attributes) and when it opens next; per counter what
it serves, how long that ticket waited, today's served count, the call buttons (next, recall,
skip, done), its calls as events and its status as a select; for the hub its connection,
version and working day (diagnostic) and an event entity with the outcome of every command Home
Assistant sent, so a refusal (`counter_busy`) is seen, not lost. Each board (kiosk, call pad,
LED board, speaker) is a device of its own with diagnostic entities from what it says about
itself: connectivity, and from its `info` the WiFi signal, uptime, free heap, MQTT connections,
reset cause and firmware; a kiosk also its printer's state. Names and select options are in
the office's language (the `ha.` part of the catalogue); the commands stay the hub's.

Every command is sent at QoS 1 and carries a `transaction` made when Home Assistant renders
the press (`ha-{entity}-{{ now().timestamp() }}`): a QoS 1 redelivery is the same message, so
the hub answers it as the first and acts once. The service switch cannot be templated before Home
Assistant 2024.8; its two payloads set a state, so a repeat changes nothing either.

Discovery goes out on every connect and whenever Home Assistant says it came online (its
birth on `homeassistant/status`), as Home Assistant asks of integrations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, Final

from antrian import __version__
from antrian.bus import Answered, Connected, MessageIn
from antrian.config import Config
from antrian.contract import HA_DISCOVERY_PREFIX, HA_STATUS_TOPIC, Outgoing, Topics, decode_payload, dumps
from antrian.device_info import PRINTER_STATES
from antrian.extension import Extension
from antrian.i18n import t
from antrian.store import StorageError

log = logging.getLogger("antrian.homeassistant")

#: Where the store remembers which discovery topics it published (to clear the ones now gone).
PUBLISHED_META: Final = "discovery_topics"

ORIGIN: Final = {"name": "antrian", "sw": __version__}
#: The roles played by a board of its own (ESP32 firmware, the speaker node), each its own HA
#: device with diagnostic entities.
BOARD_ROLES: Final = ("kiosk", "call_pad", "led_board", "speaker")
#: The `actor` of every command Home Assistant sends: how the hub tells its outcome apart.
ACTOR: Final = "homeassistant"
#: A fresh id per press, rendered by Home Assistant; a redelivery repeats it (see above). The
#: hub keeps transactions per sender, not per command: the entity's id keeps two buttons
#: pressed in the same instant apart.
TRANSACTION: Final = "ha-{entity}-{{{{ now().timestamp() }}}}"
#: The counter statuses the select offers, in the order shown.
COUNTER_STATUSES: Final = ("open", "break", "closed")
#: The counter buttons: command, object id suffix, icon.
COUNTER_BUTTONS: Final = (
    ("call_next", "call_next", "mdi:bullhorn"),
    ("recall", "recall", "mdi:replay"),
    ("skip", "skip", "mdi:skip-next"),
    ("done", "done", "mdi:check"),
)

Entity = tuple[str, str, dict[str, Any]]  # component, object id, config without device/origin


def node_id(cfg: Config) -> str:
    return f"antrian_{cfg.office.slug}".replace("-", "_")


def _command(entity: str, fields: dict[str, Any]) -> str:
    """A command_template: the fields, the actor and a transaction rendered per press."""
    body = dumps({**fields, "actor": ACTOR}).decode()
    return body[:-1] + ',"transaction":"' + TRANSACTION.format(entity=entity) + '"}'


def _minutes(name: str, topic: str, field: str) -> dict[str, Any]:
    """A wait in minutes: a duration HA shows as time and keeps statistics of."""
    body = {"name": name, "state_topic": topic, "value_template": "{{ value_json." + field + " }}"}
    return {**body, "device_class": "duration", "unit_of_measurement": "min", "state_class": "measurement"}


def devices(cfg: Config) -> list[tuple[str, dict[str, Any], list[Entity]]]:
    """Every Home Assistant device of the office with its entities (configs not yet completed
    with `unique_id`, device and origin: `entities` and `device_configs` do that), in groups
    that each make one device discovery message. The hub's entities come in one group per
    service: 26 services in one message would pass the broker's packet limit."""
    tp = Topics(cfg.office.slug)
    node = node_id(cfg)
    lang = cfg.office.language
    url = cfg.office.public_url.rstrip("/")
    area = t("ha.area", lang)
    hub_dev = {
        "identifiers": [node],
        "name": t("ha.hub", lang, office=cfg.office.name),
        "manufacturer": "antrian",
        "model": t("ha.model_hub", lang),
        "sw_version": __version__,
        "configuration_url": f"{url}/admin",
        "suggested_area": area,
    }
    out: list[tuple[str, dict[str, Any], list[Entity]]] = []
    for s in cfg.services:
        x, st = s.letter, tp.service_state(s.letter)
        o = f"service_{s.letter.lower()}"

        def count(
            key: str, field: str, state_class: str, icon: str, x: str = x, st: str = st
        ) -> dict[str, Any]:
            return {
                "name": t(key, lang, letter=x),
                "state_topic": st,
                "value_template": "{{ value_json." + field + " }}",
                "unit_of_measurement": t("ha.people", lang),
                "state_class": state_class,
                "icon": icon,
            }

        waiting = count("ha.waiting", "waiting", "measurement", "mdi:account-multiple")
        service: list[Entity] = [
            ("sensor", f"{o}_waiting", {**waiting, "json_attributes_topic": st}),
            (
                "sensor",
                f"{o}_waiting_priority",
                count("ha.waiting_priority", "waiting_priority", "measurement", "mdi:human-cane"),
            ),
            (
                "sensor",
                f"{o}_estimated_wait",
                _minutes(t("ha.estimated_wait", lang, letter=x), st, "estimated_wait_min"),
            ),
            ("sensor", f"{o}_issued", count("ha.issued", "issued", "total_increasing", "mdi:ticket")),
            ("sensor", f"{o}_served", count("ha.served", "served", "total_increasing", "mdi:account-check")),
            (
                "sensor",
                f"{o}_skipped",
                count("ha.skipped", "skipped", "total_increasing", "mdi:account-question"),
            ),
            (
                "binary_sensor",
                f"{o}_closed_today",
                {
                    "name": t("ha.closed_today", lang, letter=x),
                    "state_topic": st,
                    "value_template": "{{ 'ON' if value_json.closed_today else 'OFF' }}",
                    "icon": "mdi:calendar-remove",
                },
            ),
            (
                "switch",
                f"{o}_open",
                {
                    "name": t("ha.service_open", lang, letter=x),
                    "state_topic": st,
                    "value_template": "{{ value_json.status }}",
                    "state_on": "open",
                    "state_off": "paused",
                    "command_topic": tp.hub_request("service_status"),
                    "payload_on": dumps({"service": x, "status": "open", "actor": ACTOR}).decode(),
                    "payload_off": dumps({"service": x, "status": "paused", "actor": ACTOR}).decode(),
                    "icon": "mdi:store-clock",
                },
            ),
            (
                "button",
                f"{o}_take",
                {
                    "name": t("ha.take", lang, letter=x),
                    "command_topic": tp.hub_request("take_ticket"),
                    "command_template": _command(f"{o}_take", {"service": x}),
                    "icon": "mdi:ticket",
                },
            ),
            (
                "button",
                f"{o}_take_priority",
                {
                    "name": t("ha.take_priority", lang, letter=x),
                    "command_topic": tp.hub_request("take_ticket"),
                    "command_template": _command(f"{o}_take_priority", {"service": x, "priority": True}),
                    "icon": "mdi:ticket-account",
                },
            ),
        ]
        if s.quota is not None:  # a service without a quota has nothing to count down
            left = count("ha.quota_left", "quota_left", "measurement", "mdi:ticket-confirmation-outline")
            service.insert(
                6, ("sensor", f"{o}_quota_left", {**left, "unit_of_measurement": t("ha.tickets", lang)})
            )
        out.append((f"{node}_{o}", hub_dev, service))
    diagnostic = {"entity_category": "diagnostic"}
    hub: list[Entity] = [
        (
            "binary_sensor",
            "hub_connectivity",
            {
                "name": t("ha.hub_connected", lang),
                "state_topic": tp.hub_state,
                "value_template": "{{ value_json.state }}",
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "availability": None,
                **diagnostic,
            },
        ),
        (
            "sensor",
            "hub_version",
            {
                "name": t("ha.hub_version", lang),
                "state_topic": tp.hub_info,
                "value_template": "{{ value_json.version }}",
                "icon": "mdi:tag",
                **diagnostic,
            },
        ),
        (
            "sensor",
            "hub_day",
            {
                "name": t("ha.day", lang),
                "state_topic": tp.hub_info,
                "value_template": "{{ value_json.day }}",
                "device_class": "date",
                **diagnostic,
            },
        ),
        (
            "binary_sensor",
            "office_open",
            {
                "name": t("ha.office_open", lang),
                "state_topic": tp.office_state,
                "value_template": "{{ 'ON' if value_json.open else 'OFF' }}",
                "json_attributes_topic": tp.office_state,
                "device_class": "opening",
                "icon": "mdi:office-building",
            },
        ),
        (
            "sensor",
            "office_opens_at",
            {
                "name": t("ha.opens_at", lang),
                "state_topic": tp.office_state,
                "value_template": "{{ value_json.opens_at }}",
                "device_class": "timestamp",
                "icon": "mdi:clock-start",
            },
        ),
        (
            "event",
            "hub_command_result",
            {
                "name": t("ha.result", lang),
                "state_topic": tp.hub_ha_result,
                "event_types": ["ok", "refused"],
                "icon": "mdi:message-alert",
            },
        ),
    ]
    out.insert(0, (node, hub_dev, hub))
    status_label = {s: t(f"ha.status_{s}", lang) for s in COUNTER_STATUSES}
    for c in cfg.counters:
        n, cs = c.number, tp.counter_state(c.number)
        dev = {
            "identifiers": [f"{node}_counter_{n}"],
            "name": c.label,
            "via_device": node,
            "manufacturer": "antrian",
            "model": t("ha.model_counter", lang),
            "sw_version": __version__,
            "configuration_url": f"{url}/admin",
            "suggested_area": area,
        }
        to_label = "".join(
            f"{{% elif value_json.status == '{s}' %}}{label}" for s, label in status_label.items()
        )
        to_status = "".join(f"{{% elif value == '{label}' %}}{s}" for s, label in status_label.items())
        ents: list[Entity] = [
            (
                "sensor",
                f"counter_{n}_serving",
                {
                    "name": t("ha.serving", lang),
                    "state_topic": cs,
                    "value_template": "{{ value_json.serving }}",
                    "json_attributes_topic": cs,
                    "icon": "mdi:counter",
                },
            ),
            (
                "sensor",
                f"counter_{n}_serving_waited",
                _minutes(t("ha.serving_waited", lang), cs, "serving_waited_min"),
            ),
            (
                "sensor",
                f"counter_{n}_served",
                {
                    "name": t("ha.served_counter", lang),
                    "state_topic": cs,
                    "value_template": "{{ value_json.served }}",
                    "unit_of_measurement": t("ha.people", lang),
                    "state_class": "total_increasing",
                    "icon": "mdi:account-check",
                },
            ),
        ]
        for command, suffix, icon in COUNTER_BUTTONS:
            body = {
                "name": t(f"ha.{suffix}", lang),
                "command_topic": tp.hub_request(command),
                "command_template": _command(f"counter_{n}_{suffix}", {"counter": n}),
                "icon": icon,
            }
            ents.append(("button", f"counter_{n}_{suffix}", body))
        ents += [
            (
                "event",
                f"counter_{n}_event",
                {
                    "name": t("ha.calls", lang),
                    "state_topic": tp.counter_event(n),
                    "event_types": ["called", "recalled", "skipped", "done"],
                },
            ),
            (
                "select",
                f"counter_{n}_status",
                {
                    "name": t("ha.status", lang),
                    "state_topic": cs,
                    "value_template": (
                        "{% if false %}" + to_label + "{% else %}{{ value_json.status }}{% endif %}"
                    ),
                    "options": list(status_label.values()),
                    "command_topic": tp.hub_request("counter_status"),
                    "command_template": _command(
                        f"counter_{n}_status", {"counter": n, "status": "{{ STATUS }}"}
                    ).replace(
                        "{{ STATUS }}", "{% if false %}" + to_status + "{% else %}{{ value }}{% endif %}"
                    ),
                    "icon": "mdi:store",
                },
            ),
        ]
        out.append((f"{node}_counter_{n}", dev, ents))
    for d in cfg.devices:
        if d.role in BOARD_ROLES:
            dev = {
                "identifiers": [f"{node}_device_{d.id}"],
                "name": d.id,
                "via_device": node,
                "manufacturer": "antrian",
                "model": t(f"ha.model_{d.role}", lang),
                "suggested_area": area,
            }
            out.append((f"{node}_device_{d.id}", dev, _board_entities(tp, d.id, d.role, lang)))
    return out


def _complete(cfg: Config, component: str, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An entity's config with what every entity has: ids, QoS, availability on the hub."""
    tp = Topics(cfg.office.slug)
    node = node_id(cfg)
    full = {**body, "unique_id": f"{node}_{object_id}", "object_id": f"{node}_{object_id}"}
    full["default_entity_id"] = f"{component}.{node}_{object_id}"
    if "command_topic" in body or "state_topic" in body:
        full["qos"] = 1
    hub_up = [{"topic": tp.hub_state, "value_template": "{{ value_json.state }}"}]
    available = full.pop("availability", hub_up)  # None: always available (a connectivity)
    if available is not None:
        full["availability"] = available
    return full


def entities(cfg: Config) -> dict[str, dict[str, Any]]:
    """Per-entity discovery: topic -> config payload, for everything the configuration declares."""
    node = node_id(cfg)
    out: dict[str, dict[str, Any]] = {}
    for _, dev, ents in devices(cfg):
        for component, object_id, body in ents:
            full = _complete(cfg, component, object_id, body)
            full.update(device=dev, origin=ORIGIN)
            out[f"{HA_DISCOVERY_PREFIX}/{component}/{node}/{object_id}/config"] = full
    return out


def device_configs(cfg: Config) -> dict[str, dict[str, Any]]:
    """Device discovery (HA 2024.11+): topic -> a config per device (the hub's: one per
    service), its entities as `cmps`."""
    out: dict[str, dict[str, Any]] = {}
    for group, dev, ents in devices(cfg):
        cmps = {
            object_id: {"platform": component, **_complete(cfg, component, object_id, body)}
            for component, object_id, body in ents
        }
        out[f"{HA_DISCOVERY_PREFIX}/device/{group}/config"] = {
            "device": dev,
            "origin": ORIGIN,
            "cmps": cmps,
        }
    return out


def configs(cfg: Config) -> dict[str, dict[str, Any]]:
    """The discovery configs of the form the office chose."""
    return device_configs(cfg) if cfg.homeassistant.discovery == "device" else entities(cfg)


#: A board's diagnostic sensors, by the `info` field each shows (also its object id, and its
#: name's key `ha.board_{field}`): its HA keys. The uptime is as of the board's last `info`
#: (sent on every connect).
INFO_SENSORS: Final[tuple[tuple[str, dict[str, str]], ...]] = (
    ("rssi", {"device_class": "signal_strength", "unit_of_measurement": "dBm", "state_class": "measurement"}),
    ("uptime_s", {"device_class": "duration", "unit_of_measurement": "s"}),
    ("free_heap", {"device_class": "data_size", "unit_of_measurement": "B", "state_class": "measurement"}),
    ("mqtt_connects", {"state_class": "total_increasing", "icon": "mdi:lan-connect"}),
    ("reset_cause", {"icon": "mdi:restart"}),
    ("firmware", {"icon": "mdi:chip"}),
)


def _board_entities(tp: Topics, device_id: str, role: str, lang: str) -> list[Entity]:
    """One board's entities, their availability the board's own.

    Connectivity is the board's own `availability` (on while it is connected, off once its
    last will came), so it is always available itself; the rest reads its retained `info`,
    unavailable while the board is offline. The firmware is a sensor: a device's `sw_version`
    cannot follow a payload. A field the board does not send reads "None": unknown in HA.
    """
    state = tp.device_availability(device_id)
    online = [{"topic": state, "payload_available": "online", "payload_not_available": "offline"}]
    out: list[Entity] = [
        (
            "binary_sensor",
            f"device_{device_id}_connectivity",
            {
                "name": t("ha.board_connectivity", lang),
                "state_topic": state,
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "availability": None,
            },
        )
    ]
    for key, keys in INFO_SENSORS:
        body = {"name": t(f"ha.board_{key}", lang), "state_topic": tp.device_info(device_id)}
        body.update(entity_category="diagnostic", value_template="{{ value_json.get('" + key + "') }}")
        out.append(("sensor", f"device_{device_id}_{key}", {**body, **keys, "availability": online}))
    if role == "kiosk":
        printer = {"name": t("ha.board_printer", lang), "state_topic": tp.device_info(device_id)}
        printer.update(icon="mdi:printer-pos", value_template="{{ value_json.get('printer') }}")
        printer.update(device_class="enum")
        kiosk: dict[str, Any] = {**printer, "options": list(PRINTER_STATES), "availability": online}
        out.append(("sensor", f"device_{device_id}_printer", kiosk))
    return out


def messages(cfg: Config, previous: set[str] | None = None) -> list[Outgoing]:
    """Discovery messages: first the clearing of topics in `previous` no longer configured (or
    of the other discovery form), then the configs (HA takes a `unique_id` only once)."""
    ents = configs(cfg)
    out = [Outgoing(gone, b"", retain=True) for gone in sorted((previous or set()) - set(ents))]
    out += [Outgoing(topic, dumps(body), retain=True) for topic, body in ents.items()]
    return out


def outcome(command: str, raw: bytes, answer: bytes) -> dict[str, Any] | None:
    """The `ha_result` event of one request, if Home Assistant sent it: ok or refused, the
    command, and for a refusal the hub's code and its words (in the office language)."""
    try:
        request, reply = decode_payload(raw), decode_payload(answer)
    except ValueError:
        return None
    if request.get("actor") != ACTOR:
        return None
    event: dict[str, Any] = {
        "event_type": "ok" if reply.get("status") == "ok" else "refused",
        "command": command,
    }
    if event["event_type"] == "refused":
        data = reply.get("data")
        event.update(code=data.get("code") if isinstance(data, dict) else None, message=reply.get("error"))
    for key in ("service", "counter", "transaction"):
        if key in request:
            event[key] = request[key]
    return event


class HomeAssistant(Extension):
    name = "homeassistant"

    async def start(self) -> None:
        self.bus.on(Connected, self, lambda e: self.discovery())
        self.bus.on(MessageIn, self, self.on_message)
        self.bus.on(Answered, self, self.on_answered)

    def on_message(self, msg: MessageIn) -> Iterable[Outgoing]:
        if msg.topic == HA_STATUS_TOPIC and msg.payload.strip() == b"online":
            log.info("Home Assistant came online: publishing discovery again")
            return self.discovery()
        return ()

    def on_answered(self, answered: Answered) -> Iterable[Outgoing]:
        """Each of Home Assistant's commands and its outcome as an event HA shows and automates."""
        out = []
        for (command, raw), answer in zip(answered.requests, answered.responses, strict=True):
            event = outcome(command, raw, answer.payload)
            if event is not None:
                out.append(Outgoing(self.topics.hub_ha_result, dumps(event)))
        return out

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
            store.set_meta(PUBLISHED_META, json.dumps(sorted(configs(self.cfg))))
        except StorageError as exc:
            log.error("discovery: topics not remembered (%s)", exc)
        return out

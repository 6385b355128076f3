"""The MQTT contract in one place: topics, request schemas, roles, events and error codes.

`mqtt_topics.md` at the project root documents the same contract for people; this module is
the single source for code (hub, simulated devices, tests), so a topic string is never typed
twice. The fixed points come from the shared contract: `{base}` is `antrian/{office}`, the hub
lives under `{base}/hub/...`, each device owns `{base}/device/{id}/...`, queue state is retained
under `{base}/service/...` and `{base}/counter/...`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal, get_args, overload

# The payload types, re-exported: the contract is read from this module.
from antrian.payloads import CentralEvent as CentralEvent
from antrian.payloads import CentralEvents as CentralEvents
from antrian.payloads import CentralHead as CentralHead
from antrian.payloads import CommandResult as CommandResult
from antrian.payloads import CounterEvent as CounterEvent
from antrian.payloads import CounterInfo as CounterInfo
from antrian.payloads import CounterState as CounterState
from antrian.payloads import D, describe_shapes
from antrian.payloads import DeviceDisplay as DeviceDisplay
from antrian.payloads import DeviceInfo as DeviceInfo
from antrian.payloads import DeviceSet as DeviceSet
from antrian.payloads import ErrorData as ErrorData
from antrian.payloads import EstimateFields as EstimateFields
from antrian.payloads import HubEvent as HubEvent
from antrian.payloads import HubInfo as HubInfo
from antrian.payloads import HubState as HubState
from antrian.payloads import OfficeState as OfficeState
from antrian.payloads import Play as Play
from antrian.payloads import ResendAsk as ResendAsk
from antrian.payloads import Response as Response
from antrian.payloads import ServiceInfo as ServiceInfo
from antrian.payloads import ServiceState as ServiceState
from antrian.payloads import SpeakerEvent as SpeakerEvent
from antrian.payloads import SyncData as SyncData
from antrian.payloads import TicketView as TicketView
from antrian.payloads import TransferPosition as TransferPosition

#: Largest payload the hub accepts or a device may send (contract: 1 KiB).
MAX_PAYLOAD_BYTES: Final = 1024
#: Deepest nesting of arrays/objects accepted. Requests are flat objects; a deeper payload is
#: refused before `json.loads` sees it, because 1,000 `[` (which fit in 1 KiB) exhaust the
#: parser's recursion limit.
MAX_PAYLOAD_DEPTH: Final = 32
#: Largest MQTT packet (topic, payload and headers) on the office broker: `max_packet_size` of
#: the mosquitto.conf `antrian devices` writes, and what the hub never exceeds itself. The
#: broker disconnects a sender of anything bigger before reading it, so a 100 MB payload
#: never reaches the hub. The hub's largest retained message, `hub/info` of an office with 26
#: services and 99 counters, is ~24 KiB; discovery configs are under 1 KiB each.
MAX_PACKET_BYTES: Final = 64 * 1024

#: MQTT 5 message expiry for an announcement on a speaker's `play` topic, and the age after
#: which a speaker drops an announcement it receives late (the payload carries `expires_at`
#: too, for MQTT 3.1.1 brokers and clients).
PLAY_EXPIRY_S: Final = 30

HA_DISCOVERY_PREFIX: Final = "homeassistant"
HA_STATUS_TOPIC: Final = "homeassistant/status"

#: Highest ticket number of a service in one day: four digits on a ticket and a board, and
#: every number up to it can be spoken (`antrian.announce.number_words`).
MAX_TICKET_NUMBER: Final = 9999

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_TICKET_CODE = re.compile(r"^([A-Z])-(\d{3,4})$")


#: The characters of a code a citizen types or scans (a booking's, a phone ticket's check-in
#: code): no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, which are misread on a screen, on paper and by
#: ear. 23**6 is about 148 million codes. One alphabet, so one kiosk field takes both.
CODE_ALPHABET: Final = "ACDEFHJKMNPQRTUVWXY3479"
CODE_LENGTH: Final = 6


def normalise_code(text: str) -> str:
    """A typed or scanned code as stored: upper case, without spaces or dashes; "" when it
    cannot be one (wrong length, a character never used)."""
    raw = "".join(c for c in text.upper()[:32] if c.isalnum())
    if len(raw) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return ""
    return raw


def is_slug(text: str) -> bool:
    """An office slug or device id: lower-case letters, digits, `-` and `_`, at most 32."""
    return bool(_SLUG.match(text))


def parse_ticket_code(code: str) -> tuple[str, int] | None:
    """`"A-012"` -> `("A", 12)`; None for anything that is not a ticket code."""
    m = _TICKET_CODE.match(code)
    return (m.group(1), int(m.group(2))) if m else None


def ticket_code(letter: str, number: int) -> str:
    """The printed form of a ticket: service letter, dash, at least three digits."""
    return f"{letter}-{number:03d}"


@dataclass(frozen=True)
class Outgoing:
    """One message to publish: what the core and every extension hand to the transport."""

    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 1


@dataclass(frozen=True)
class Topics:
    """Every topic of one office. Build it once from the office slug."""

    office: str

    @property
    def base(self) -> str:
        return f"antrian/{self.office}"

    # -- the hub -------------------------------------------------------------------------
    @property
    def hub_state(self) -> str:
        return f"{self.base}/hub/state"

    @property
    def hub_info(self) -> str:
        return f"{self.base}/hub/info"

    @property
    def hub_event(self) -> str:
        return f"{self.base}/hub/event"

    @property
    def hub_ha_result(self) -> str:
        """The outcome of each command Home Assistant sent (its `event` entity)."""
        return f"{self.base}/hub/ha_result"

    def hub_request(self, command: str) -> str:
        return f"{self.base}/hub/request/{command}"

    def hub_response(self, command: str) -> str:
        return f"{self.base}/hub/response/{command}"

    @property
    def hub_request_filter(self) -> str:
        return f"{self.base}/hub/request/+"

    # -- the office ----------------------------------------------------------------------
    @property
    def office_state(self) -> str:
        """Retained: open or not, why, and when it opens (`OfficeState`)."""
        return f"{self.base}/office/state"

    # -- the regency link (bridged to the regency's central broker) ------------------------
    @property
    def central_events(self) -> str:
        """Not retained: the committed events of one commit, with their log positions (`CentralEvents`)."""
        return f"{self.base}/central/events"

    @property
    def central_head(self) -> str:
        """Retained: the office's last committed position (`CentralHead`)."""
        return f"{self.base}/central/head"

    @property
    def central_resend(self) -> str:
        """From the centre, not retained: a range of positions to publish again (`ResendAsk`)."""
        return f"{self.base}/central/resend"

    # -- queue state ---------------------------------------------------------------------
    def service_state(self, letter: str) -> str:
        return f"{self.base}/service/{letter}/state"

    def counter_state(self, counter: int) -> str:
        return f"{self.base}/counter/{counter}/state"

    def counter_event(self, counter: int) -> str:
        return f"{self.base}/counter/{counter}/event"

    # -- devices -------------------------------------------------------------------------
    def device(self, device_id: str) -> str:
        return f"{self.base}/device/{device_id}"

    def device_availability(self, device_id: str) -> str:
        return f"{self.base}/device/{device_id}/availability"

    def device_request(self, device_id: str, command: str) -> str:
        return f"{self.base}/device/{device_id}/request/{command}"

    def device_response(self, device_id: str, command: str) -> str:
        return f"{self.base}/device/{device_id}/response/{command}"

    def device_display(self, device_id: str) -> str:
        return f"{self.base}/device/{device_id}/display"

    def device_play(self, device_id: str) -> str:
        return f"{self.base}/device/{device_id}/play"

    def device_set(self, device_id: str) -> str:
        return f"{self.base}/device/{device_id}/set"

    def device_event(self, device_id: str) -> str:
        """Not retained, published by a speaker: each call played or given up (`SpeakerEvent`)."""
        return f"{self.base}/device/{device_id}/event"

    def device_info(self, device_id: str) -> str:
        """Retained, published by a device on connect: firmware, model, ip (optional)."""
        return f"{self.base}/device/{device_id}/info"

    @property
    def device_request_filter(self) -> str:
        return f"{self.base}/device/+/request/+"

    @property
    def device_availability_filter(self) -> str:
        return f"{self.base}/device/+/availability"

    @property
    def device_info_filter(self) -> str:
        return f"{self.base}/device/+/info"

    @property
    def device_event_filter(self) -> str:
        return f"{self.base}/device/+/event"

    def parse_hub_request(self, topic: str) -> str | None:
        """Command name of a `hub/request/{command}` topic, else None."""
        prefix = f"{self.base}/hub/request/"
        if topic.startswith(prefix):
            rest = topic[len(prefix) :]
            return rest if rest and "/" not in rest else None
        return None

    def parse_device_topic(self, topic: str) -> tuple[str, str, str] | None:
        """`{base}/device/{id}/{kind}[/{command}]` -> (id, kind, command or "")."""
        prefix = f"{self.base}/device/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) == 2:
            return parts[0], parts[1], ""
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        return None


# ---------------------------------------------------------------------------------------------
# Request schemas
# ---------------------------------------------------------------------------------------------


class ContractError(ValueError):
    """A payload that breaks the contract. The message is shown to the sender as is.

    `code` is the machine-readable error code of the response: `invalid_payload` when the
    bytes are not a JSON object within the bounds, `invalid_request` when the object does not
    match the command's schema.
    """

    def __init__(self, message: str, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Field:
    """One field of a request: its JSON type, whether it must be there, and its bounds."""

    type: type
    required: bool = True
    choices: tuple[str, ...] | None = None
    max_len: int = 64
    minimum: int | None = None
    maximum: int | None = None


Schema = Mapping[str, Field]

_TRANSACTION = Field(str, required=False, max_len=64)
_ACTOR = Field(str, required=False, max_len=32)
_REASON = Field(str, required=False, max_len=200)
_COUNTER = Field(int, minimum=1, maximum=99)
_SERVICE = Field(str, max_len=1)
_TICKET = Field(str, max_len=8)

#: Fields every request may carry: the idempotency key, who acts (an officer or admin id; a
#: device's id is taken from its topic instead), why (logged in the audit log).
COMMON_FIELDS: Final[Schema] = {
    "transaction": _TRANSACTION,
    "actor": _ACTOR,
    "reason": _REASON,
    "sender": Field(str, required=False, max_len=32),
    # How long ago the press behind this request was made (a device sets it on every copy it
    # sends): the hub refuses a ticket or a call for someone who is likely gone.
    "age_ms": Field(int, required=False, minimum=0, maximum=86_400_000),
}

#: A `take_ticket` or `call_next` whose `age_ms` is over this is refused (`stale_press`).
STALE_PRESS_MS: Final = 120_000
STALE_COMMANDS: Final = frozenset({"take_ticket", "call_next"})

#: Every command the hub understands and the fields it takes besides COMMON_FIELDS.
COMMAND_SCHEMAS: Final[Mapping[str, Schema]] = {
    "take_ticket": {"service": _SERVICE, "priority": Field(bool, required=False)},
    "call_next": {"counter": _COUNTER},
    "recall": {"counter": _COUNTER},
    "skip": {"counter": _COUNTER},
    "done": {"counter": _COUNTER},
    "transfer": {
        "counter": _COUNTER,
        "service": _SERVICE,
        # where it lands in the new service: the back (default), its original issue time, the front
        "position": Field(str, required=False, choices=get_args(TransferPosition)),
    },
    "call_ticket": {"counter": _COUNTER, "ticket": _TICKET},
    "counter_status": {
        "counter": _COUNTER,
        "status": Field(str, choices=("open", "break", "closed")),
        "until": Field(str, required=False, max_len=5),
    },
    "service_status": {"service": _SERVICE, "status": Field(str, choices=("open", "paused"))},
    "reinsert": {"ticket": _TICKET},
    # a booking (reservasi) becomes a ticket: its code, as printed or in its QR; or a phone
    # ticket's holder is in the office: the code the phone shows, or (an officer) its number
    "check_in": {
        "booking": Field(str, required=False, max_len=16),
        "ticket": Field(str, required=False, max_len=8),
    },
    "set_priority": {"ticket": _TICKET, "priority": Field(bool)},
    "close_day": {"issued_before": Field(str, required=False, max_len=5)},
    "ticket_status": {"token": Field(str, max_len=64)},
    "sync": {},
}

#: Commands that change nothing: answered without touching the event log.
READ_ONLY_COMMANDS: Final = frozenset({"ticket_status", "sync"})

#: The `data` of an ok response to each command (an error response's is `ErrorData`).
RESPONSE_DATA: Final[Mapping[str, type[Any]]] = {
    **dict.fromkeys(COMMAND_SCHEMAS, CommandResult),
    "take_ticket": TicketView,
    "check_in": TicketView,
    "ticket_status": TicketView,
    "sync": SyncData,
}

# ---------------------------------------------------------------------------------------------
# Who may ask what
# ---------------------------------------------------------------------------------------------

#: Roles of devices (their own broker account and topic subtree each).
DEVICE_ROLES: Final = ("kiosk", "call_pad", "led_board", "speaker", "screen")
#: Roles of people logged in to the web pages.
STAFF_ROLES: Final = ("admin", "officer")

_COUNTER_COMMANDS: Final = frozenset(
    {"call_next", "recall", "skip", "done", "transfer", "call_ticket", "counter_status"}
)
#: An officer also puts back a citizen who missed the call and came back (`reinsert`): they are
#: the one who sees them at the counter. Each is logged with their name and reason.
_OFFICER: Final = _COUNTER_COMMANDS | {"set_priority", "reinsert", "check_in"}

#: Every command each role may run: devices over MQTT (a call pad acts on its own counter
#: only), staff through the web pages. `hub/request` clients (Home Assistant, scripts) are
#: the office's own and trusted with every command; the broker ACL decides who they are.
ROLE_COMMANDS: Final[Mapping[str, frozenset[str]]] = {
    "kiosk": frozenset({"take_ticket", "check_in", "ticket_status", "sync"}),
    "call_pad": _COUNTER_COMMANDS | {"sync"},
    "led_board": frozenset({"sync"}),
    "speaker": frozenset({"sync"}),
    "screen": frozenset({"ticket_status", "sync"}),
    "officer": _OFFICER,
    "admin": _OFFICER | {"service_status"},
}
#: Device roles bound to one counter: whatever their payload says, they act on their own.
COUNTER_BOUND_ROLES: Final = frozenset({"call_pad", "led_board"})

# ---------------------------------------------------------------------------------------------
# Events (`hub/event`, and the audit log) and error codes
# ---------------------------------------------------------------------------------------------

#: Every event type and the fields of its `data`, as stored in the log and sent on
#: `hub/event`. `rejected`, `log_inconsistent` and `storage_damaged` are sent, never stored.
EVENT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "day_started": ("previous_day", "expired"),
    "ticket_issued": ("ticket", "service", "number", "priority", "token", "order"),
    "phone_ticket": ("ticket", "check_in_code"),
    "ticket_called": ("ticket", "counter", "mode", "as_priority"),
    "ticket_recalled": ("ticket", "counter", "recalls"),
    "ticket_skipped": ("ticket", "counter", "recalls"),
    "ticket_done": ("ticket", "counter"),
    "ticket_transferred": ("ticket", "counter", "from", "to", "order", "position"),
    "ticket_reinserted": ("ticket",),
    "booking_checked_in": ("ticket", "booking", "slot_start", "slot_end", "rule"),
    "ticket_checked_in": ("ticket", "by"),
    "ticket_not_checked_in": ("ticket", "counter"),
    "priority_changed": ("ticket", "priority"),
    "counter_status_changed": ("counter", "status", "until"),
    "service_status_changed": ("service", "status"),
    "tickets_expired": ("tickets",),
    "rejected": ("command", "device", "code", "error"),
    "log_inconsistent": ("count", "problems", "hint"),
    "storage_damaged": ("count", "problems", "hint"),
}
#: The events that are a call of a ticket to a counter: spoken, flashed, shown on the TV.
CALL_EVENTS: Final = ("ticket_called", "ticket_recalled")
#: The events that are never stored in the log (notices about requests and about the log).
NOTICE_EVENTS: Final = frozenset({"rejected", "log_inconsistent", "storage_damaged"})


class ErrorCode(StrEnum):
    """`data.code` of an error response: stable, for programs (the text is for people).

    Each is also the key of its message in `antrian.i18n` (Indonesian and English).
    """

    INVALID_PAYLOAD = "invalid_payload"
    INVALID_REQUEST = "invalid_request"
    UNKNOWN_DEVICE = "unknown_device"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_SERVICE = "unknown_service"
    SERVICE_NOT_OFFERED = "service_not_offered"
    SERVICE_PAUSED = "service_paused"
    QUOTA_REACHED = "quota_reached"
    PRIORITY_SHARE_REACHED = "priority_share_reached"
    NOT_SERVED_TODAY = "not_served_today"
    UNKNOWN_COUNTER = "unknown_counter"
    COUNTER_RETIRED = "counter_retired"
    COUNTER_NOT_OPEN = "counter_not_open"
    COUNTER_BUSY = "counter_busy"
    COUNTER_NOT_SERVING = "counter_not_serving"
    NOTHING_SERVING = "nothing_serving"
    RECALL_LIMIT = "recall_limit"
    UNKNOWN_TICKET = "unknown_ticket"
    TICKET_NOT_WAITING = "ticket_not_waiting"
    TICKET_NOT_SKIPPED = "ticket_not_skipped"
    PHONE_TICKET_ACTIVE = "phone_ticket_active"
    PHONE_SHARE_REACHED = "phone_share_reached"
    NOT_PHONE_TICKET = "not_phone_ticket"
    ALREADY_CHECKED_IN = "already_checked_in"
    CHECK_IN_MISSED = "check_in_missed"
    CHECK_IN_NEEDS_CODE = "check_in_needs_code"
    SAME_SERVICE = "same_service"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 - an error code, not a secret
    STORAGE_FULL = "storage_full"
    STORAGE_DAMAGED = "storage_damaged"
    STORAGE_FAILED = "storage_failed"
    INTERNAL_ERROR = "internal_error"
    STALE_PRESS = "stale_press"
    OFFICE_CLOSED = "office_closed"
    BOOKING_UNKNOWN = "booking_unknown"
    BOOKING_USED = "booking_used"


def topic_templates() -> dict[str, str]:
    """Every topic as a template (`{office}`, `{id}`, `{command}`, `{letter}`, `{counter}`).

    What the firmware, the broker ACL writer and outside clients build their topics from;
    exported with the rest of the contract by `antrian contract`.
    """
    t = Topics("{office}")
    return {
        "hub_state": t.hub_state,
        "hub_info": t.hub_info,
        "hub_event": t.hub_event,
        "hub_request": t.hub_request("{command}"),
        "hub_response": t.hub_response("{command}"),
        "office_state": t.office_state,
        "service_state": t.service_state("{letter}"),
        "counter_state": t.counter_state("{counter}"),  # type: ignore[arg-type]
        "counter_event": t.counter_event("{counter}"),  # type: ignore[arg-type]
        "device_availability": t.device_availability("{id}"),
        "device_info": t.device_info("{id}"),
        "device_request": t.device_request("{id}", "{command}"),
        "device_response": t.device_response("{id}", "{command}"),
        "device_display": t.device_display("{id}"),
        "device_play": t.device_play("{id}"),
        "device_set": t.device_set("{id}"),
        "device_event": t.device_event("{id}"),
        "central_events": t.central_events,
        "central_head": t.central_head,
        "central_resend": t.central_resend,
        "ha_discovery": f"{HA_DISCOVERY_PREFIX}/{{component}}/{{node}}/{{object}}/config",
        "ha_status": HA_STATUS_TOPIC,
    }


#: The payload type of every topic (named as in `topic_templates`) that carries a JSON object.
TOPIC_PAYLOADS: Final[Mapping[str, type[Any]]] = {
    "hub_state": HubState,
    "hub_info": HubInfo,
    "hub_event": HubEvent,
    "hub_response": Response,
    "office_state": OfficeState,
    "service_state": ServiceState,
    "counter_state": CounterState,
    "counter_event": CounterEvent,
    "device_info": DeviceInfo,
    "device_response": Response,
    "device_display": DeviceDisplay,
    "device_play": Play,
    "device_set": DeviceSet,
    "device_event": SpeakerEvent,
    "central_events": CentralEvents,
    "central_head": CentralHead,
    "central_resend": ResendAsk,
}


def describe() -> dict[str, Any]:
    """The whole contract as plain JSON data (`antrian contract`; `devices/contract.json`)."""

    def field(f: Field) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": {str: "string", int: "integer", bool: "boolean"}[f.type],
            "required": f.required,
        }
        if f.type is str:
            out["max_length"] = f.max_len
        if f.choices:
            out["enum"] = list(f.choices)
        if f.minimum is not None:
            out["minimum"] = f.minimum
        if f.maximum is not None:
            out["maximum"] = f.maximum
        return out

    return {
        "max_payload_bytes": MAX_PAYLOAD_BYTES,
        "max_payload_depth": MAX_PAYLOAD_DEPTH,
        "max_packet_bytes": MAX_PACKET_BYTES,
        "topics": topic_templates(),
        "common_fields": {k: field(f) for k, f in COMMON_FIELDS.items()},
        "commands": {c: {k: field(f) for k, f in schema.items()} for c, schema in COMMAND_SCHEMAS.items()},
        "read_only_commands": sorted(READ_ONLY_COMMANDS),
        "roles": {role: sorted(cmds) for role, cmds in ROLE_COMMANDS.items()},
        "counter_bound_roles": sorted(COUNTER_BOUND_ROLES),
        "events": {k: list(v) for k, v in EVENT_FIELDS.items()},
        "error_codes": [c.value for c in ErrorCode],
        "payloads": {name: p.__name__ for name, p in TOPIC_PAYLOADS.items()},
        "response_data": {c: p.__name__ for c, p in RESPONSE_DATA.items()},
        "error_data": ErrorData.__name__,
        "shapes": describe_shapes([*TOPIC_PAYLOADS.values(), *RESPONSE_DATA.values(), ErrorData]),
    }


def decode_payload(raw: bytes) -> dict[str, Any]:
    """Bytes off the wire -> a JSON object, or ContractError saying why not."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ContractError(
            f"payload too large: {len(raw)} bytes, limit {MAX_PAYLOAD_BYTES}", "invalid_payload"
        )
    if not raw.strip():
        return {}
    depth = json_depth(raw)
    if depth > MAX_PAYLOAD_DEPTH:
        raise ContractError(
            f"payload nested too deep: depth {depth}, limit {MAX_PAYLOAD_DEPTH}", "invalid_payload"
        )
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"malformed JSON: {exc}", "invalid_payload") from None
    if not isinstance(value, dict):
        raise ContractError("payload must be a JSON object", "invalid_payload")
    return value


def json_depth(raw: bytes) -> int:
    """The deepest nesting of `[`/`{` in JSON text, brackets inside strings not counted.

    Cheap on the usual request: with fewer brackets than the limit the nesting cannot exceed
    it, so only a suspicious payload is scanned byte by byte.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_PAYLOAD_DEPTH:
        return min(raw.count(b"[") + raw.count(b"{"), MAX_PAYLOAD_DEPTH)
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def validate_request(command: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check a request against its schema; returns only the known fields.

    Unknown fields are an error too: a typo such as `"servis"` must not silently fall back to
    a default.
    """
    schema = COMMAND_SCHEMAS.get(command)
    if schema is None:
        raise ContractError(f"unknown command: {command[:40]!r}")
    fields = {**COMMON_FIELDS, **schema}
    for key in payload:
        if key not in fields:
            raise ContractError(f"unknown field: {str(key)[:40]!r}")
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in payload or payload[name] is None:
            if spec.required:
                raise ContractError(f"missing field: {name!r}")
            continue
        value = payload[name]
        # bool is a subclass of int: a counter of `true` is a wrong type, not counter 1.
        if type(value) is not spec.type:
            raise ContractError(f"field {name!r} must be {spec.type.__name__}")
        if isinstance(value, str):
            if not value or len(value) > spec.max_len:
                raise ContractError(f"field {name!r} must be 1..{spec.max_len} characters")
            if spec.choices is not None and value not in spec.choices:
                raise ContractError(f"field {name!r} must be one of {', '.join(spec.choices)}")
        if isinstance(value, int) and not isinstance(value, bool):
            if spec.minimum is not None and value < spec.minimum:
                raise ContractError(f"field {name!r} must be >= {spec.minimum}")
            if spec.maximum is not None and value > spec.maximum:
                raise ContractError(f"field {name!r} must be <= {spec.maximum}")
        out[name] = value
    return out


@overload
def response(
    status: Literal["error"],
    *,
    data: ErrorData,
    error: str,
    transaction: Any = None,  # noqa: ANN401 - echoed as the sender chose it
) -> Response[ErrorData]: ...


@overload
def response(
    status: Literal["ok"],
    *,
    data: D,
    transaction: Any = None,  # noqa: ANN401
) -> Response[D]: ...


def response(
    status: Literal["ok", "error"],
    *,
    data: D,
    error: str | None = None,
    transaction: Any = None,
) -> Response[D]:
    """The response envelope shared by `hub/response/*` and `device/{id}/response/*`.

    `data` is the caller's own new dict, taken as it is (not copied): an error's is `ErrorData`,
    an ok one's the command's (`RESPONSE_DATA`).
    """
    body: Response[D] = {"status": status, "data": data}
    if error is not None:
        body["error"] = error
    if transaction is not None:
        body["transaction"] = transaction
    return body


def dumps(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the one encoding on every topic."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

"""The JSON the hub publishes and answers, as types: retained state, events, responses.

Each payload of the MQTT contract is a `TypedDict`, not a class that validates or converts: the
hub keeps building its payloads as plain dict literals (nothing slower than before on the hot
path of a request), and strict mypy checks every key and every value where one is built. A key
added to a payload without its type, or a type without the key, is a type error.

`antrian.contract` re-exports them; `antrian contract` describes their fields
(`devices/contract.json`, what the firmware and outside clients read); tests/test_contract.py
checks that what a running hub publishes carries exactly these keys and that mqtt_topics.md
documents every one of them.

No `from __future__ import annotations` here: Python 3.11 reads `NotRequired` only from an
evaluated annotation, and `__optional_keys__` (what the export and the tests go by) would be
empty.
"""

import types
from collections.abc import Iterable, Mapping
from typing import (
    Any,
    Final,
    Generic,
    Literal,
    NotRequired,
    Required,
    TypedDict,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

#: Where a transferred ticket lands in its new service (`transfer` request `position`, and the
#: `ticket_transferred` event's): after everyone waiting (`back`, the default), at its original
#: issue time (`order`), or before everyone waiting (`front`).
TransferPosition = Literal["back", "order", "front"]

# ---------------------------------------------------------------------------------------------
# The hub
# ---------------------------------------------------------------------------------------------


class HubState(TypedDict):
    """`hub/state` (retained): the hub's birth and last will."""

    state: str  # "online" | "offline"
    #: Random per start of the hub process: how a starting hub tells its predecessor from another.
    instance: str


class ServiceInfo(TypedDict):
    """One configured service, in `hub/info`."""

    letter: str
    name: str
    minutes: float
    quota: int | None
    completion: str | None


class CounterInfo(TypedDict):
    """One configured counter (loket), in `hub/info`."""

    counter: int
    name: str
    services: list[str]


class HubInfo(TypedDict):
    """`hub/info` (retained): the office as configured, and its working day."""

    version: str
    office: str
    name: str
    timezone: str
    day: str | None
    opening: str
    closing: str
    public_url: str
    services: list[ServiceInfo]
    counters: list[CounterInfo]


class HubEvent(TypedDict):
    """`hub/event`: one domain event (as in the audit log), or a notice such as `rejected`.

    `data` has the fields `antrian.contract.EVENT_FIELDS` names for its `type`. A `rejected`
    event has no `actor` (the request was not accepted, so no one acted); `reason` is there
    where the request gave one.
    """

    type: str
    at: str
    actor: NotRequired[str]
    data: dict[str, Any]
    reason: NotRequired[str]


class OfficeState(TypedDict):
    """`office/state` (retained): is the office open, why not, when it opens (`antrian.schedule`).

    Republished when it changes: at the kiosks' first ticket, opening, closing, and the day's
    change. `reason` is "open", "before_opening", "after_closing", "closed_day" or "holiday";
    `opens_at` the next opening (null while open), `closes_at` today's closing while open, else
    the next open day's; `tickets` whether kiosks issue tickets now (from `tickets_from`,
    `[office] tickets_before_opening_minutes` before opening, until closing); `text` the line a
    display shows, in the office language."""

    open: bool
    reason: Literal["open", "before_opening", "after_closing", "closed_day", "holiday"]
    holiday: str | None
    opens_at: str | None
    closes_at: str | None
    tickets: bool
    tickets_from: str | None
    special: str | None
    text: str
    day: str


# ---------------------------------------------------------------------------------------------
# Queue state
# ---------------------------------------------------------------------------------------------


class EstimateFields(TypedDict):
    """The wait estimate, the same fields in a service's state and on a ticket.

    All None when no counter will serve the service today; `served_today` is "yes", "maybe"
    or "no" otherwise.
    """

    estimated_wait_min: int | None
    estimated_call_at: str | None
    estimated_call_from: str | None
    estimated_call_to: str | None
    served_today: str | None


class ServiceState(EstimateFields):
    """`service/{letter}/state` (retained): the queue of one service, estimate for a new ticket."""

    service: str
    name: str
    status: str  # "open" | "paused"
    waiting: int
    waiting_priority: int
    issued: int
    #: Today's tickets of this service served to the end, and skipped (not there when called).
    served: int
    skipped: int
    quota: int | None
    #: Tickets the daily quota still allows today (0: none left); null without a quota.
    quota_left: int | None
    last_issued: str | None
    last_called: str | None
    mean_minutes: float
    closed_today: bool
    late_tickets: str  # "warn" | "refuse"
    day: str | None


class CounterState(TypedDict):
    """`counter/{n}/state` (retained): one counter, as a call pad and a dashboard see it."""

    counter: int
    name: str
    status: str  # "open" | "break" | "closed"
    status_text: str | None
    until: str | None
    serving: str | None
    #: Minutes the ticket being served waited before its call (null when none is served).
    serving_waited_min: int | None
    services: list[str]
    waiting: int
    served: int
    call_seq: int
    day: str | None


class CounterEvent(TypedDict):
    """`counter/{n}/event`: a call, recall, skip or finish at one counter (an HA `event`)."""

    event_type: str  # "called" | "recalled" | "skipped" | "done"
    ticket: str
    at: str


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------


class UpdateOutcome(TypedDict, total=False):
    """`info.update`: the last over-the-air update of a board."""

    version: str
    state: Literal["fetching", "restarting", "failed"]
    #: hash, size, name, manifest, http, network, timeout, short, message; rolled_back
    error: str


class DeviceInfo(TypedDict):
    """`device/{id}/info` (retained): what a device says about itself on connect."""

    firmware: str
    model: str
    role: NotRequired[str]
    #: the firmware bundle the board runs (`antrian.provision.firmware`), null if unknown
    build: NotRequired[str | None]
    #: the MicroPython release under it, e.g. "1.29.0"
    micropython: NotRequired[str]
    #: how the last over-the-air update went: `state` fetching, restarting or failed (with
    #: `error`), or `error` rolled_back when the loader took a version out; null if none
    update: NotRequired[UpdateOutcome | None]
    #: why the board last started: power_on, hard, watchdog, deep_sleep, soft, unknown
    reset_cause: NotRequired[str]
    uptime_s: NotRequired[int]
    #: WiFi signal in dBm, null while the WLAN is down
    rssi: NotRequired[int | None]
    free_heap: NotRequired[int]
    #: MQTT connections since boot (1 on a steady link)
    mqtt_connects: NotRequired[int]
    #: a kiosk's printer: ok, silent (no answer to its status query), paper_end; null before
    #: its first answer (the kiosk publishes `info` again on every change)
    printer: NotRequired[str | None]


class DeviceDisplay(TypedDict):
    """`device/{id}/display` (retained): what the LED board above a counter shows."""

    counter: int
    name: str
    serving: str | None
    status: str
    until: str | None
    lines: list[str]
    notice: str | None
    call_seq: int
    day: str | None
    expires_at: str | None
    #: true while a speaker could not announce the ticket shown: the board keeps flashing it
    #: (`antrian.extensions.boards` sets it; `views.display` leaves it to the boards)
    flash: NotRequired[bool]


class Play(TypedDict):
    """`device/{id}/play`: one announcement for a speaker, the clips to join in order."""

    id: str
    ticket: str
    counter: int
    text: str
    clips: list[str]
    issued_at: str
    expires_at: str


class SpeakerEvent(TypedDict):
    """`device/{id}/event` (not retained): what a speaker did with a call, so that no call is
    lost unseen. `call_played` when the call's first word went out (`delay_s` after the hub
    committed it; `shortened` when said without the chime or once; `joined` calls in the same
    announcement; `replaces`: other calls of the same ticket and counter - recalls made before
    it was heard - it was said for);
    `call_missed` when the speaker gave it up (`reason`: `expired` - arrived too late,
    `late` - could not start before `expires_at` even shortened, `superseded` - the counter
    called another ticket before it was played)."""

    event_type: Literal["call_played", "call_missed"]
    id: str
    ticket: str | None
    counter: int | None
    at: str
    reason: NotRequired[Literal["expired", "late", "superseded"]]
    delay_s: NotRequired[float]
    shortened: NotRequired[bool]
    joined: NotRequired[int]
    replaces: NotRequired[list[str]]


class UpdateOrder(TypedDict):
    """`set.update`: fetch this firmware from the hub's web server (`host`, default the
    broker's, and `port`) under `path`; `sha256` is the manifest's, the only hash that comes
    over the authenticated channel."""

    version: str
    sha256: str
    port: int
    path: str
    host: NotRequired[str]


class DeviceSet(TypedDict, total=False):
    """`device/{id}/set`: one setting of a device per message."""

    brightness: int
    volume: int
    reboot: bool
    update: UpdateOrder


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class TicketView(EstimateFields):
    """A ticket as printed and as the status page shows it: the `data` of `take_ticket` and
    `ticket_status`. No personal data."""

    ticket: str
    service: str
    service_name: str
    priority: bool
    state: str
    counter: int | None
    ahead: int
    get_ready: bool
    issued_at: str
    token: str
    status_url: str
    completion: str | None
    office: str
    day: str
    #: the foot of the printed ticket, from `[office]`; None where the office has none
    complaint_contact: str | None
    survey_url: str | None
    #: a ticket taken from a phone (`antrian.join`): whether its holder has checked in, and
    #: while not, the code a kiosk takes for it
    remote: NotRequired[bool]
    checked_in: NotRequired[bool]
    check_in_code: NotRequired[str]
    #: the answer to `check_in`: "booking" (a new ticket) or "remote" (a phone ticket's holder)
    check_in: NotRequired[str]


class SyncData(TypedDict):
    """The `data` of `sync`: the working day, and a counter-bound device's counter."""

    day: str | None
    counter: NotRequired[CounterState]


class CommandResult(TypedDict, total=False):
    """The `data` of every other command: what it did, and the counter it acted on.

    `counter`, `serving`, `status` and `waiting` are there for a command on a counter,
    `ticket` (the last one touched) where it touched one, `message` when `call_next` found
    nobody waiting.
    """

    counter: int
    serving: str | None
    status: str
    waiting: int
    message: str
    ticket: str
    events: Required[list[str]]


class ErrorData(TypedDict):
    """The `data` of an error response: the code, stable for programs (`ErrorCode`).

    An `office_closed` refusal says why and when the office opens again: `reason` (as in
    `OfficeState`), `holiday` (its name, or null) and `opens_at` (ISO 8601, or null when no
    opening is scheduled within about two months)."""

    code: str
    reason: NotRequired[str]
    holiday: NotRequired[str | None]
    opens_at: NotRequired[str | None]


D = TypeVar("D", bound=Mapping[str, object])


class Response(TypedDict, Generic[D]):
    """The envelope of every `hub/response/*` and `device/{id}/response/*`."""

    status: Literal["ok", "error"]
    data: D
    #: Why not, in the office language: on an error only.
    error: NotRequired[str]
    #: The request's `transaction`, as the sender chose it.
    transaction: NotRequired[str | int]


# ---------------------------------------------------------------------------------------------
# The description `antrian contract` exports
# ---------------------------------------------------------------------------------------------

_JSON_TYPES: Final[Mapping[object, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


# ---------------------------------------------------------------------------------------------
# The regency link (`antrian.regency`; docs/regency.md)
# ---------------------------------------------------------------------------------------------


class CentralEvent(TypedDict):
    """One committed event as the regency receives it: the log's own row, projected.

    `seq` is the office log's `events.seq` (one more per event, never reused). `data` is the
    event's data less what is personal (`antrian.regency.outward.PRIVATE_FIELDS`)."""

    seq: int
    day: str
    at: str
    type: str
    actor: str
    reason: str | None
    data: dict[str, Any]


class CentralEvents(TypedDict):
    """`central/events`: the events of one commit (or a resent range), in `seq` order."""

    office: str
    events: list[CentralEvent]
    #: The office's last committed `seq` when this was sent.
    head: int
    #: True when this answers a `central/resend` ask.
    resent: bool


class CentralHead(TypedDict):
    """`central/head` (retained): the office's last committed `seq`, so a lost tail shows."""

    office: str
    seq: int
    at: str


#: `central/resend` (from the centre): publish the events `from`..`to` (inclusive) again.
#: Functional form: `from` is a Python keyword.
ResendAsk = TypedDict("ResendAsk", {"from": int, "to": int})


def _json_type(tp: Any) -> dict[str, Any]:  # noqa: ANN401 - any annotation
    """A field's JSON type: `type` (a name, or a list of names for a union) and, for an array,
    its `items`; an object of a known shape names it (`shape`)."""
    if is_typeddict(tp):
        return {"type": "object", "shape": tp.__name__}
    origin = get_origin(tp)
    if origin is list:
        return {"type": "array", "items": _json_type(get_args(tp)[0])}
    if origin is Literal:
        return {"type": "string", "enum": list(get_args(tp))}
    if origin in (Union, types.UnionType):
        parts = [_json_type(arg) for arg in get_args(tp)]
        merged: dict[str, Any] = {k: v for part in parts for k, v in part.items() if k != "type"}
        return {"type": [part["type"] for part in parts], **merged}
    if tp in _JSON_TYPES:
        return {"type": _JSON_TYPES[tp]}
    return {"type": "object"}  # dict[str, Any], and the envelope's `data` (per command)


def describe_shapes(payloads: Iterable[type[Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every field of each payload type and of the types nested in it, by type name: its JSON
    type and whether it is always there. Each shape once, however often it is used."""
    shapes: dict[str, dict[str, dict[str, Any]]] = {}
    todo = list(payloads)
    while todo:
        payload = todo.pop(0)
        if payload.__name__ in shapes:
            continue
        hints = get_type_hints(payload)
        required: frozenset[str] = payload.__required_keys__
        shapes[payload.__name__] = {
            name: {**_json_type(tp), "required": name in required} for name, tp in hints.items()
        }
        todo += [tp for hint in hints.values() for tp in _nested(hint)]
    return shapes


def _nested(tp: Any) -> list[type[Any]]:  # noqa: ANN401 - any annotation
    """The payload types inside an annotation (`list[ServiceInfo]`, `CounterState | None`)."""
    if is_typeddict(tp):
        return [tp]
    return [inner for arg in get_args(tp) for inner in _nested(arg)]

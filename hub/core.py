"""One request, from raw bytes to the messages that answer it: the hub without its transport.

`HubCore.handle` takes a request as it came off the wire (who sent it, which command, the raw
payload) and returns the messages to publish. The order of work is the promise the hub makes:

1. decode and validate (a bad payload -> an error response and a `rejected` event, nothing else);
2. check the sender: an unknown device gets an error; a call pad is bound to its own counter,
   whatever its payload says; a kiosk may only issue the services it offers;
3. a repeated `transaction` from the same sender gets the first response again;
4. the queue rules decide the events;
5. the events and the response are committed to the log (fsync) ...
6. ... and only then is anything published.

A request is answered alone: whatever goes wrong while handling it (a payload nested too deep,
a bug) is that request's error response (`internal_error`), never its batch's. A batch commits
exactly the requests answered `ok`, and after every batch the state in memory equals the
replay of the log (a failed request's partial work is undone by replaying).

The transport (`antrian.service`) only moves bytes; the web side calls `handle` too.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from antrian import eta, schedule, views
from antrian.bus import Committed, Committing, Connected, EventBus, Ticked
from antrian.config import Config, DeviceConfig
from antrian.contract import (
    COMMAND_SCHEMAS,
    COUNTER_BOUND_ROLES,
    READ_ONLY_COMMANDS,
    ROLE_COMMANDS,
    STALE_COMMANDS,
    STALE_PRESS_MS,
    CommandResult,
    ContractError,
    CounterEvent,
    ErrorData,
    HubEvent,
    Response,
    SyncData,
    TicketView,
    Topics,
    decode_payload,
    dumps,
    normalise_code,
    response,
    validate_request,
)
from antrian.contract import Outgoing as Outgoing  # re-exported: the message type of `handle`
from antrian.i18n import t
from antrian.queue import (
    DomainError,
    Event,
    QueueState,
    local_day,
    replay,
    self_service,
    working_day_bounds,
)
from antrian.retained import RetainedCache
from antrian.store import EventStore, StorageError

log = logging.getLogger("antrian.hub")


#: Error responses are remembered (in memory only) for this many transactions.
_ERROR_CACHE_SIZE: Final = 2048

#: Set (to 1) where a log that does not replay must stop the hub at once: the test suite. In
#: production an event that cannot apply is reported and skipped, and the hub serves on.
STRICT_REPLAY_ENV: Final = "ANTRIAN_STRICT_REPLAY"


@dataclass(frozen=True)
class _Accepted:
    """A request the rules accepted: its events are applied in memory, not yet committed."""

    command: str
    events: list[Event]
    sender: str
    day: str
    txn: Any
    topic: str
    body: Response[Any]


@dataclass(frozen=True)
class _Again:
    """A repeat, in the same batch, of an accepted request: it gets the first one's answer as
    it finally is (with its estimate, or its refusal if the commit fails)."""

    topic: str
    first: _Accepted


@dataclass(frozen=True)
class Origin:
    """Who sent a request: a device (its id from the topic) or a client of `hub/request`."""

    device: str | None = None

    @property
    def is_device(self) -> bool:
        return self.device is not None


def _no_bookings(args: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The office takes no bookings: no code is known."""
    raise DomainError("booking_unknown", booking=str(args.get("booking", ""))[:12])


def utc_now() -> datetime:
    return datetime.now(UTC)


class HubCore:
    """The queue, its log and its published picture, for one office."""

    def __init__(
        self,
        cfg: Config,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        token_factory: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        strict: bool | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.token_factory = token_factory
        self.strict = os.environ.get(STRICT_REPLAY_ENV) == "1" if strict is None else strict
        self.topics = Topics(cfg.office.slug)
        self.lang = cfg.office.language
        self.state = QueueState(cfg)
        self.retained = RetainedCache()
        #: Where the parts around the core (`antrian.extensions`) hear what happened.
        self.bus = EventBus()
        self._errors: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
        #: Turns a `check_in`'s booking code into its service and slot (the booking part,
        #: `antrian.booking`, sets it when it runs); without it every code is unknown.
        self.resolve_booking: Callable[[dict[str, Any], datetime], dict[str, Any]] = _no_bookings
        #: What start-up found wrong with the log (published as `hub/event`s on connect).
        self.damage = store.integrity_problems()
        if self.damage:
            log.error(
                "DATABASE DAMAGED (%s): %s. The queue keeps running from what can be read;"
                " run 'antrian log verify' and restore a backup.",
                store.path,
                "; ".join(self.damage[:5]),
            )
        self.inconsistencies: list[str] = []
        #: Wait estimates, learned from earlier days of the log (`antrian.eta`).
        self.estimator = eta.Estimator(cfg, store.events_between)
        self.rebuild()

    # ------------------------------------------------------------------------------------------
    # start-up
    # ------------------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Today's state from the log: replay the events of the last working day only.

        An event that cannot apply (a log this hub's rules did not write) stops a strict hub;
        otherwise it is skipped, logged loudly and kept in `inconsistencies`, so a damaged log
        never keeps the office from serving.
        """
        day = self.store.last_day()
        events = self.store.events_between(day, day) if day is not None else iter(())
        state, problems = replay(self.cfg, events, strict=self.strict)
        for problem in problems[:20]:
            log.error("EVENT LOG INCONSISTENT, event skipped: %s", problem)
        self.inconsistencies = problems
        state.estimator = self.estimator
        self.state = state

    def notices(self) -> list[Outgoing]:
        """`hub/event`s that tell staff of a damaged or inconsistent log (sent on connect)."""
        at = self.clock().astimezone(self.cfg.office.tz).isoformat(timespec="seconds")
        out = []
        for kind, problems in (("storage_damaged", self.damage), ("log_inconsistent", self.inconsistencies)):
            if problems:
                event: HubEvent = {
                    "type": kind,
                    "at": at,
                    "actor": "system",
                    "data": {"count": len(problems), "problems": problems[:10], "hint": "antrian log verify"},
                }
                out.append(Outgoing(self.topics.hub_event, dumps(event)))
        return out

    # ------------------------------------------------------------------------------------------
    # requests
    # ------------------------------------------------------------------------------------------

    def _response_topic(self, origin: Origin, command: str) -> str:
        if origin.device is not None:
            return self.topics.device_response(origin.device, command)
        return self.topics.hub_response(command)

    def _error(self, key: str, **params: Any) -> tuple[str, str]:  # noqa: ANN401
        return key, t(key, self.lang, **params)

    def handle(self, origin: Origin, command: str, raw: bytes) -> list[Outgoing]:
        """Answer one request: its response, then its effects. Never raises on bad input."""
        responses, effects = self.handle_batch([(origin, command, raw)])
        return responses + effects()

    def handle_batch(
        self, requests: Sequence[tuple[Origin, str, bytes]]
    ) -> tuple[list[Outgoing], Callable[[], list[Outgoing]]]:
        """Answer requests that arrived together, with one durable commit for all of them.

        Returns the responses (in request order, to publish at once) and a function that
        computes the effects (events, retained state, displays, announcements). The transport
        publishes the responses first and the effects right after: a caller waits for its
        answer, not for the dashboard's. One fsync per batch instead of one per request is what
        lets the hub keep up when many requests arrive at once.
        """
        now = self.clock()
        outputs: list[Outgoing | _Accepted | _Again] = []
        accepted: list[_Accepted] = []
        in_batch: dict[tuple[str, str, str], _Accepted] = {}
        for origin, command, raw in requests:
            try:
                item = self._decide_one(origin, command, raw, now, in_batch)
            except Exception as exc:  # any failure is this request's answer, not the batch's
                item = self._failed(origin, command, raw, now, exc)
                self._restore(accepted)
            outputs.extend(item)
            accepted.extend(a for a in item if isinstance(a, _Accepted))

        self._estimate_tickets(accepted, now)
        events = [e for a in accepted for e in a.events]
        if accepted:
            try:
                self.store.append(
                    events,
                    transactions=[
                        (a.sender, a.day, a.txn, a.command, a.body) for a in accepted if a.txn is not None
                    ],
                    writes=self.bus.committing(Committing(tuple(events), self.state, now)),
                )
            except StorageError as exc:
                # Nothing was committed: forget what was applied in memory, refuse visibly.
                log.error("event log not writable, %d request(s) refused: %s", len(accepted), exc)
                self._restore([])
                key, text = self._error(exc.code, detail=str(exc))
                refused = {
                    id(a): dumps(response("error", error=text, transaction=a.txn, data={"code": key}))
                    for a in accepted
                }
                return [
                    Outgoing(o.topic, refused[id(o.first if isinstance(o, _Again) else o)])
                    if isinstance(o, _Accepted | _Again)
                    else o
                    for o in outputs
                ], list
        responses = [
            Outgoing(o.topic, dumps(o.body))
            if isinstance(o, _Accepted)
            else Outgoing(o.topic, dumps(o.first.body))
            if isinstance(o, _Again)
            else o
            for o in outputs
        ]
        if not events:
            return responses, list
        return responses, lambda: self._effects(events, now)

    def _failed(
        self, origin: Origin, command: str, raw: bytes, now: datetime, exc: Exception
    ) -> list[Outgoing | _Accepted | _Again]:
        """The error answer of a request whose handling raised (storage, or a bug)."""
        if isinstance(exc, StorageError):
            log.error("storage error on %s: %s", command[:40], exc)
            key, text = self._error(exc.code, detail=str(exc))
        else:
            log.exception("internal error handling %s from %s", command[:40], origin.device or "client")
            key, text = self._error("internal_error")
        try:
            txn = decode_payload(raw).get("transaction")
        except ContractError:
            txn = None
        return [*self._reject(origin, command, self._response_topic(origin, command), txn, key, text, now)]

    def _estimate_tickets(self, accepted: Sequence[_Accepted], now: datetime) -> None:
        """Position and estimated call time of the tickets this batch issued, from one forecast.

        One forward run of the calling rule costs about as much as everything else a request
        does; run once for the batch (the state no longer changes) rather than per ticket, it
        keeps a burst of presses as cheap as one. An estimate that fails leaves the ticket
        issued without one: the number matters more than the forecast.
        """
        for a in accepted:
            if a.command not in ("take_ticket", "check_in"):
                continue
            data = a.body["data"]
            try:
                data.update(views.ticket_view(self.state, self.state.tickets[data["ticket"]], now))
            except Exception:
                log.exception("no wait estimate for %s; issued without one", data.get("ticket"))

    def _restore(self, accepted: Sequence[_Accepted]) -> None:
        """Undo whatever a failed request did in memory: the log, then this batch's accepted."""
        self.rebuild()
        for a in accepted:
            for e in a.events:
                self.state.apply(e)

    def _decide_one(
        self,
        origin: Origin,
        command: str,
        raw: bytes,
        now: datetime,
        in_batch: dict[tuple[str, str, str], _Accepted],
    ) -> list[Outgoing | _Accepted | _Again]:
        """Check one request and, if accepted, apply its events in memory (not yet committed)."""
        resp_topic = self._response_topic(origin, command)
        txn: Any = None
        try:
            payload = decode_payload(raw)
            txn = payload.get("transaction")
            device = self._device_for(origin, command, payload)
            args = validate_request(command, payload)
        except ContractError as exc:
            key, text = exc.code, str(exc)
            if key == "invalid_payload":
                text = t(key, self.lang, detail=text)
            return [*self._reject(origin, command, resp_topic, txn, key, text, now)]
        except DomainError as exc:
            return [
                *self._reject(
                    origin, command, resp_topic, txn, exc.key, t(exc.key, self.lang, **exc.params), now
                )
            ]

        sender = origin.device or args.get("sender") or "_client"
        txn = args.get("transaction")
        day = max(self.state.day, local_day(now, self.cfg))
        if txn is not None:
            key3 = (day, sender, txn)
            first = in_batch.get(key3)
            if first is not None:  # answered with the first one, once the batch is done
                return [_Again(resp_topic, first)]
            earlier = self._errors.get(key3) or self.store.transaction_response(sender, day, txn)
            if earlier is not None:
                return [Outgoing(resp_topic, dumps(earlier))]

        if command in READ_ONLY_COMMANDS:
            return [self._read_only(command, args, resp_topic, txn, now, device)]

        actor = self._actor(origin, args)
        try:
            # after the transaction check: a resend of a press the hub already took gets its
            # answer, however old it is by now
            if command in STALE_COMMANDS and args.get("age_ms", 0) > STALE_PRESS_MS:
                raise DomainError("stale_press", seconds=args["age_ms"] // 1000)
            if command == "check_in":
                args = self._check_in_args(args, actor, now)
            if command == "take_ticket" or (command == "check_in" and "ticket" not in args):
                # a kiosk outside office hours; a ticket that will not be reached today, if refused
                schedule.check_admission(self.cfg, actor, now)
                eta.check_admission(self.state, args["service"], actor, now)
            events = self.state.decide(command, args, actor, now, token=self.token_factory())
        except DomainError as exc:
            out = self._reject(
                origin,
                command,
                resp_topic,
                txn,
                exc.key,
                t(exc.key, self.lang, **exc.params),
                now,
                details=exc.details,
            )
            if txn is not None:
                self._remember_error((day, sender, txn), out[0])
            return [*out]
        for e in events:
            self.state.apply(e)
        body = response("ok", data=self._result(command, events, now), transaction=txn)
        accepted = _Accepted(command, events, sender, day, txn, resp_topic, body)
        if txn is not None:
            in_batch[(day, sender, txn)] = accepted
        return [accepted]

    def _device_for(self, origin: Origin, command: str, payload: dict[str, Any]) -> DeviceConfig | None:
        """Check a device's right to `command`; binds call pads to their counter."""
        if origin.device is None:
            return None
        dev = self.cfg.device(origin.device)
        if dev is None:
            raise DomainError("unknown_device", device=origin.device)
        if command not in ROLE_COMMANDS.get(dev.role, frozenset()):
            raise DomainError("not_allowed", device=dev.id, role=dev.role, command=command[:40])
        if dev.role in COUNTER_BOUND_ROLES and "counter" in _fields(command):
            payload["counter"] = dev.counter
        if dev.role == "kiosk" and command == "take_ticket":
            svc = payload.get("service")
            if isinstance(svc, str) and len(svc) == 1 and svc not in dev.services:
                if self.cfg.service(svc) is None:
                    raise DomainError("unknown_service", service=svc)
                raise DomainError("service_not_offered", service=svc)
        return dev

    def _check_in_args(self, args: dict[str, Any], actor: str, now: datetime) -> dict[str, Any]:
        """`check_in`'s arguments completed: a phone ticket's code becomes its ticket; a booking
        code, its service and slot (from the booking part). An officer checks a phone ticket in
        by its number; a kiosk only by the code the phone shows."""
        booking, ticket = args.get("booking"), args.get("ticket")
        if (booking is None) == (ticket is None):
            raise DomainError(
                "invalid_request", detail="check_in takes booking (a code) or ticket, one of them"
            )
        if ticket is not None:
            if self_service(actor):
                raise DomainError("check_in_needs_code")
            return {**args, "by": "officer"}
        code = normalise_code(str(booking))
        today = self.state.day == local_day(now, self.cfg)
        held = self.state.remote_codes.get(code) if code and today else None
        if held is not None:
            return {k: v for k, v in args.items() if k != "booking"} | {"ticket": held, "by": "code"}
        # the booking's part knows the code: its service and slot join the arguments
        return self.resolve_booking(args, now)

    def _actor(self, origin: Origin, args: dict[str, Any]) -> str:
        if origin.device is not None:
            return f"device:{origin.device}"
        who = args.get("actor") or "admin"
        return who if ":" in who or who == "system" else f"admin:{who}"

    def _remember_error(self, key: tuple[str, str, str], out: Outgoing) -> None:
        self._errors[key] = json.loads(out.payload)
        while len(self._errors) > _ERROR_CACHE_SIZE:
            self._errors.popitem(last=False)

    def _reject(
        self,
        origin: Origin,
        command: str,
        resp_topic: str,
        txn: Any,  # noqa: ANN401
        key: str,
        text: str,
        now: datetime,
        *,
        details: Mapping[str, Any] | None = None,
    ) -> list[Outgoing]:
        """Error response plus a `rejected` event. The state is untouched."""
        if not isinstance(txn, str | int) or isinstance(txn, bool):
            txn = None
        data: ErrorData = {"code": key, **details} if details else {"code": key}  # type: ignore[typeddict-item]
        body = response("error", error=text, data=data, transaction=txn)
        event: HubEvent = {
            "type": "rejected",
            "at": now.astimezone(self.cfg.office.tz).isoformat(timespec="seconds"),
            "data": {"command": command[:40], "device": origin.device, "code": key, "error": text},
        }
        log.info("rejected %s from %s: %s", command[:40], origin.device or "client", text)
        return [Outgoing(resp_topic, dumps(body)), Outgoing(self.topics.hub_event, dumps(event))]

    def _read_only(
        self,
        command: str,
        args: dict[str, Any],
        resp_topic: str,
        txn: Any,  # noqa: ANN401
        now: datetime,
        device: DeviceConfig | None,
    ) -> Outgoing:
        if command == "ticket_status":
            code = self.state.by_token.get(args["token"])
            if code is None:
                key, text = self._error("unknown_token")
                body: Response[Any] = response("error", error=text, data={"code": key}, transaction=txn)
            else:
                view = views.ticket_view(self.state, self.state.tickets[code], now)
                body = response("ok", data=view, transaction=txn)
        else:  # sync: a device asks for its picture again
            data: SyncData = {"day": self.state.day or None}
            if device is not None and device.counter is not None:
                data["counter"] = views.counter_state(self.state, device.counter)
            body = response("ok", data=data, transaction=txn)
        return Outgoing(resp_topic, dumps(body))

    # ------------------------------------------------------------------------------------------
    # results and effects
    # ------------------------------------------------------------------------------------------

    def _result(self, command: str, events: list[Event], now: datetime) -> TicketView | CommandResult:
        """The `data` of an ok response."""
        state = self.state
        if command in ("take_ticket", "check_in"):
            issued = next(e for e in events if e.type in ("ticket_issued", "ticket_checked_in"))
            # position and estimate: filled in by `_estimate_tickets`, once for the batch
            view = views.ticket_view(state, state.tickets[issued.data["ticket"]], now, estimate=False)
            if command == "check_in":
                view["check_in"] = "remote" if issued.type == "ticket_checked_in" else "booking"
            return view
        data: CommandResult = {"events": [e.type for e in events]}
        if "counter" in _fields(command):
            counter = next((e.data["counter"] for e in events if "counter" in e.data), None)
            if counter is not None:
                cs = views.counter_state(state, counter)
                data.update(
                    {
                        "counter": counter,
                        "serving": cs["serving"],
                        "status": cs["status"],
                        "waiting": cs["waiting"],
                    }
                )
        called = [e for e in events if e.type == "ticket_called"]
        if command == "call_next" and not called:
            data["message"] = t("queue_empty", self.lang)
        touched = [e.data["ticket"] for e in events if "ticket" in e.data]
        if touched:
            data["ticket"] = touched[-1]
        return data

    def _effects(self, events: Iterable[Event], now: datetime) -> list[Outgoing]:
        """Everything the events change for the outside world, after they are committed."""
        tz = self.cfg.office.tz
        out = [Outgoing(self.topics.hub_event, dumps(e.to_json(tz))) for e in events]
        for e in events:
            if e.type in ("ticket_called", "ticket_recalled", "ticket_skipped", "ticket_done"):
                kind = e.type.removeprefix("ticket_")
                at = e.at.astimezone(tz).isoformat(timespec="seconds")
                message: CounterEvent = {"event_type": kind, "ticket": e.data["ticket"], "at": at}
                out.append(Outgoing(self.topics.counter_event(e.data["counter"]), dumps(message)))
        if any(e.type == "day_started" for e in events):
            out += self.retained.changed(self.topics.hub_info, views.hub_info(self.state))
        out += self.state_messages(now)
        return out + self.bus.emit(Committed(tuple(events), now))

    def state_messages(self, now: datetime, *, force: bool = False) -> list[Outgoing]:
        """Retained service and counter state that differs from what was published."""
        out: list[Outgoing] = []
        tp = self.topics
        for letter in self.state.services:
            out += self.retained.changed(
                tp.service_state(letter), views.service_state(self.state, letter, now), force=force
            )
        for number in self.state.counters:
            out += self.retained.changed(
                tp.counter_state(number), views.counter_state(self.state, number), force=force
            )
        return out

    def retained_all(self) -> list[Outgoing]:
        """The core's retained messages, all published again (the broker may be a new one)."""
        now = self.clock()
        out = self.retained.changed(self.topics.hub_info, views.hub_info(self.state), force=True)
        return out + self.office_messages(now, force=True) + self.state_messages(now, force=True)

    def office_messages(self, now: datetime, *, force: bool = False) -> list[Outgoing]:
        """`office/state` when it differs from what was published: at opening, closing, the
        day's change (the tick asks every few seconds; an unchanged state costs nothing)."""
        return self.retained.changed(self.topics.office_state, views.office_state(self.cfg, now), force=force)

    def connected(self, *, reconnect: bool) -> list[Outgoing]:
        """Everything to publish when the hub is (again) on the broker: its retained state,
        any notice about its log, and what each extension republishes."""
        return self.retained_all() + self.notices() + self.bus.emit(Connected(reconnect))

    # ------------------------------------------------------------------------------------------
    # time
    # ------------------------------------------------------------------------------------------

    def tick(self) -> list[Outgoing]:
        """Called every few seconds: the day rollover and the expiry at closing time."""
        now = self.clock()
        state = self.state
        today = local_day(now, self.cfg)
        if state.day and today > state.day:
            return self._system("close_day", {})
        if state.day:
            _, closing = working_day_bounds(state.day, self.cfg)
            left = any(
                tk.state in ("waiting", "called") and tk.issued_at < closing for tk in state.tickets.values()
            )
            if now >= closing and left:
                return self._system("close_day", {"issued_before": closing.strftime("%H:%M")})
        # estimates move with time even when nothing happens; the office opens and closes
        return self.office_messages(now) + self.state_messages(now) + self.bus.emit(Ticked(now))

    def _system(self, command: str, fields: dict[str, Any]) -> list[Outgoing]:
        """A command the hub gives itself (closing time, a new day); no one waits for a response."""
        payload = dumps({**fields, "actor": "system", "reason": "jam layanan berakhir"})
        _, effects = self.handle_batch([(Origin(), command, payload)])
        return effects()


def _fields(command: str) -> frozenset[str]:
    """The fields a command takes (to ask: does it act on a counter?)."""
    return _FIELDS.get(command, frozenset())


_FIELDS: Final = {name: frozenset(schema) for name, schema in COMMAND_SCHEMAS.items()}

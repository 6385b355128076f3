"""The hub on MQTT (aiomqtt): connect, announce, answer requests, reconnect by itself.

The loop is the idiomatic aiomqtt one (`antrian.mqtt.reconnecting`): `async with Client(...)`,
subscribe, `async for message`, and on `MqttError` wait (at most 2 s) and connect again. On
every (re)connect the hub publishes its birth (`hub/state` online; the last will says
offline) and all its retained state again, because the broker may be a fresh one that lost
everything.

Publishing never waits for a PUBACK inside the request path: each message goes out as its own
task, in order, so one slow acknowledgement never delays the next request.

One hub per office: the birth carries an `instance` id, random per process start. Before its
first birth the hub reads the retained `hub/state`; when it names an instance other than this
database's previous one, the hub watches for a sign of life (see `_check_alone`) and refuses
to start while that other hub serves, instead of fighting it for the client id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Final

import aiomqtt

from antrian import mqtt
from antrian.bus import Answered, MessageIn
from antrian.contract import (
    HA_STATUS_TOPIC,
    MAX_PACKET_BYTES,
    MAX_PAYLOAD_BYTES,
    ContractError,
    HubState,
    decode_payload,
    dumps,
)
from antrian.core import HubCore, Origin, Outgoing
from antrian.device_info import PRINTER_TROUBLE, read_info
from antrian.extension import Extension
from antrian.i18n import t
from antrian.lock import AnotherHub
from antrian.store import StorageError

log = logging.getLogger("antrian.mqtt")

TICK_SECONDS: Final = 10.0
#: At most this many requests share one commit (bounded latency for the first of them).
MAX_BATCH: Final = 64
#: How long a starting hub watches for another live hub of its office before it serves. A live
#: one shows itself well within it: it answers a `sync` at once, or (same client id) it is back
#: on the broker, taking its session over again, after its first reconnect delay (0.2 s).
STARTUP_GRACE_S: Final = 3.0
#: Where this database remembers the instance that last served from it (a hub killed with -9
#: leaves its `online` retained; its successor on this database recognises it).
INSTANCE_META: Final = "hub_instance"
#: Devices not in the configuration that the hub keeps track of (shown on the admin page with a
#: warning mark); more are ignored, so a flood of made-up ids cannot fill its memory.
MAX_UNKNOWN_DEVICES: Final = 64


class HubService:
    """Runs `HubCore` on a broker until `stop` is set."""

    def __init__(
        self,
        core: HubCore,
        *,
        reconnect_max_s: float = mqtt.MAX_RETRY_S,
        extensions: Iterable[type[Extension]] | None = None,
    ) -> None:
        self.core = core
        self.cfg = core.cfg
        self.topics = core.topics
        self.reconnect_max_s = reconnect_max_s
        self.client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self.devices_seen: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.instance = secrets.token_hex(8)
        self.previous_instance: str | None = None
        with contextlib.suppress(StorageError):
            self.previous_instance = core.store.meta(INSTANCE_META)
        self.startup_grace_s = STARTUP_GRACE_S
        self._alone = False  # set once the start-up check found no other live hub
        if extensions is None:
            from antrian.extensions import BUILTIN

            extensions = BUILTIN
        #: The parts around the core this hub runs (boards, speakers, Home Assistant, pages...).
        self.extensions: list[Extension] = [cls(self) for cls in extensions if cls.enabled(self.cfg)]
        self._started: list[Extension] = []

    def extension(self, name: str) -> Extension | None:
        """The running part called `name` (`Extension.name`), if this office runs it."""
        return next((e for e in self.extensions if e.name == name), None)

    async def start_extensions(self) -> None:
        """Start every extension, in order (also for tests that drive the core directly)."""
        for ext in self.extensions:
            if ext not in self._started:
                await ext.start()
                self._started.append(ext)
                log.debug("extension %s started", ext.name)

    async def stop_extensions(self) -> None:
        """Stop the started extensions in reverse order; one that fails does not stop the rest."""
        while self._started:
            ext = self._started.pop()
            try:
                await ext.stop()
            except Exception:
                log.exception("extension %s did not stop cleanly", ext.name)

    # ------------------------------------------------------------------------------------------

    def _client(self) -> aiomqtt.Client:
        will = aiomqtt.Will(self.topics.hub_state, self._state("offline"), qos=1, retain=True)
        return mqtt.client(self.cfg.mqtt, will=will, max_inflight_messages=200)

    def publish(self, messages: Iterable[Outgoing]) -> None:
        """Queue messages for publishing, in order, without waiting for acknowledgements."""
        client = self.client
        if client is None:
            return  # offline: retained state is republished in full on reconnect
        for m in messages:
            if _packet_size(m.topic, m.payload) > MAX_PACKET_BYTES:
                # the broker would drop the hub's connection for it (max_packet_size): lose
                # this one message (the event log keeps what it said), not the connection
                log.error(
                    "not published: %d bytes on %s exceed the broker's packet limit (%d)",
                    len(m.payload),
                    m.topic,
                    MAX_PACKET_BYTES,
                )
                continue
            task = asyncio.get_running_loop().create_task(
                self._publish_one(client, m.topic, m.payload, m.qos, m.retain)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _publish_one(
        client: aiomqtt.Client, topic: str, payload: bytes, qos: int, retain: bool
    ) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            await client.publish(topic, payload, qos=qos, retain=retain, timeout=10)

    # ------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` is set; reconnect with backoff whenever the broker goes away."""
        stop = stop or asyncio.Event()
        await self.start_extensions()
        try:
            await mqtt.reconnecting(
                self._client,
                lambda c: self._serve(c, stop),
                name=f"hub ({self.cfg.mqtt.host}:{self.cfg.mqtt.port})",
                stop=stop,
                on_down=self._down,
                max_retry_s=self.reconnect_max_s,
            )
        finally:
            await self.stop_extensions()

    def _down(self) -> None:
        self.client = None
        self.connected.clear()

    def _state(self, state: str) -> bytes:
        payload: HubState = {"state": state, "instance": self.instance}
        return dumps(payload)

    async def _serve(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        tp = self.topics
        if not self._alone:
            await self._check_alone(client)
            self._alone = True
        for topic in (
            tp.hub_request_filter,
            tp.device_request_filter,
            tp.device_availability_filter,
            tp.device_info_filter,
            tp.device_event_filter,
            HA_STATUS_TOPIC,
            # the regency's asks to publish events again (`antrian.regency`), when it is on
            *((tp.central_resend,) if self.cfg.regency.enabled else ()),
        ):
            await client.subscribe(topic, qos=1)
        self.client = client
        self.connections += 1
        await client.publish(tp.hub_state, self._state("online"), qos=1, retain=True)
        if self.connections == 1:
            with contextlib.suppress(StorageError):
                self.core.store.set_meta(INSTANCE_META, self.instance)
        # the retained state, a damaged or inconsistent log, and every extension's republish
        self.publish(self.core.connected(reconnect=self.connections > 1))
        self.connected.set()
        log.info("connected to %s:%s as %s", self.cfg.mqtt.host, self.cfg.mqtt.port, self.cfg.mqtt.client_id)
        ticker = asyncio.create_task(self._tick(stop))
        stopper = asyncio.create_task(stop.wait())
        consumer = asyncio.create_task(self._consume(client))
        try:
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if consumer.done():
                consumer.result()  # the connection was lost: raises MqttError
                return
            # leaving on purpose: say goodbye (the will is only for crashes)
            await client.publish(tp.hub_state, self._state("offline"), qos=1, retain=True)
            await self.drain()
        finally:
            for task in (ticker, stopper, consumer):
                task.cancel()

    async def _check_alone(self, client: aiomqtt.Client) -> None:
        """Raise AnotherHub while another hub of this office is alive on the broker.

        The retained `hub/state` says who spoke last. Nothing retained (a fresh broker), or the
        instance this database served last (a restart, even after kill -9: its stale `online`
        or the will its stale session fired) means no one else: start at once. Any other
        instance, or none named (an older hub), gets `STARTUP_GRACE_S` to show it is alive:
        it answers a `sync` request; or, with the same client id (the usual mistake), our
        login has just taken its session over and fired its will, so it comes back and takes
        the session over in turn, which drops this connection while the broker is still up.
        A hub that stays silent is gone (it crashed or stopped elsewhere): start.
        """
        tp = self.topics
        retained = await _retained(client, tp.hub_state)
        if retained is None:
            return
        other = _hub_state(retained)[1]
        if other is not None and other == self.previous_instance:
            return
        m = self.cfg.mqtt
        refusal = AnotherHub.on_broker(self.cfg.office.slug, other, f"{m.host}:{m.port}")
        ping, answers = f"hub-check-{self.instance}", tp.hub_response("sync")
        log.info(
            "hub/state names instance %s: waiting %.1fs for signs of a live hub", other, self.startup_grace_s
        )
        try:
            await client.subscribe(tp.hub_state, qos=1)
            await client.subscribe(answers, qos=1)
            await client.publish(tp.hub_request("sync"), dumps({"transaction": ping}), qos=1)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.startup_grace_s
            while (left := deadline - loop.time()) > 0:
                try:
                    message = await asyncio.wait_for(anext(client.messages), left)
                except TimeoutError:
                    break
                payload = _payload(message.payload)
                if str(message.topic) == answers:
                    if (_json_or_none(payload) or {}).get("transaction") == ping:
                        raise refusal  # it answered
                elif not message.retain:  # a live hub/state: someone is (re)born or gone
                    state, instance = _hub_state(payload)
                    if state == "online" and instance != self.instance:
                        raise refusal
            await client.unsubscribe(tp.hub_state)
            await client.unsubscribe(answers)
            while len(client.messages):  # leftovers of the check, not requests
                await anext(client.messages)
        except aiomqtt.MqttError:
            if await _reachable(m.host, m.port):
                raise refusal from None  # the broker is up: our session was taken back
            raise  # the broker went away: an outage, retried as usual
        log.info("no other hub answered: instance %s is gone; serving", other)

    async def _consume(self, client: aiomqtt.Client) -> None:
        """Take messages in batches: whatever arrived together is committed together."""
        messages = client.messages
        async for first in messages:
            batch = [first]
            while len(messages) and len(batch) < MAX_BATCH:
                batch.append(await anext(messages))
            effects = self.dispatch_batch(
                [(str(m.topic), _payload(m.payload), bool(m.retain)) for m in batch]
            )
            if effects is not None:
                # Let the responses reach the socket before the effects are computed: a few
                # loop turns (publish task, then the socket writer), not a timer.
                for _ in range(3):
                    await asyncio.sleep(0)
                self._publish_effects(effects)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until queued publishes are acknowledged (clean shutdown, tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(TICK_SECONDS)
            self.publish(self.core.tick())

    # ------------------------------------------------------------------------------------------

    def dispatch(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """Route one inbound message and publish everything it causes."""
        effects = self.dispatch_batch([(topic, payload, retained)])
        if effects is not None:
            self._publish_effects(effects)

    def _publish_effects(self, effects: Callable[[], list[Outgoing]]) -> None:
        try:
            self.publish(effects())
        except Exception:  # the hub must outlive any bug; state is committed already
            log.exception("error publishing effects")

    def dispatch_batch(self, messages: list[tuple[str, bytes, bool]]) -> Callable[[], list[Outgoing]] | None:
        """Route inbound messages: answer requests (responses published now), note devices.

        Returns the function computing the requests' effects, for the caller to publish after
        the responses. Never raises: a bad message is answered, not fatal.
        """
        tp = self.topics
        requests: list[tuple[Origin, str, bytes]] = []
        for topic, payload, retained in messages:
            if len(payload) > MAX_PAYLOAD_BYTES and "/request/" not in topic:
                # a request gets its `invalid_payload` answer from the core; anything else
                # that big (an `info` of 100 MB) is dropped unread, never parsed or kept
                log.warning("ignored %d bytes on %s (limit %d)", len(payload), topic[:120], MAX_PAYLOAD_BYTES)
                continue
            try:
                command = tp.parse_hub_request(topic)
                parsed = None if command is not None else tp.parse_device_topic(topic)
                if retained and (command is not None or (parsed and parsed[1] == "request")):
                    # Commands are never retained: a retained one would replay on every reconnect.
                    log.warning("ignored a retained request on %s", topic)
                elif command is not None:
                    requests.append((Origin(), command, payload))
                elif parsed is not None:
                    device, kind, command = parsed
                    if kind == "request" and command:
                        requests.append((Origin(device), command, payload))
                    elif kind == "availability":
                        self._seen(device, availability=payload.decode("utf-8", "replace")[:16])
                    elif kind == "info":
                        self._info(device, payload)
                    self.publish(self.core.bus.emit(MessageIn(topic, payload, retained)))
                else:
                    self.publish(self.core.bus.emit(MessageIn(topic, payload, retained)))
            except Exception:  # the hub must outlive any bug a payload can trigger
                log.exception("error handling %s", topic)
        if not requests:
            return None
        try:
            responses, effects = self.core.handle_batch(requests)
        except Exception:
            log.exception("error handling %d request(s)", len(requests))
            return None
        self.publish(responses)
        # each request on hub/request gets one answer on hub/response, in request order
        asked = tuple((command, raw) for origin, command, raw in requests if origin.device is None)
        answers = tuple(r for r in responses if r.topic.startswith(tp.hub_response("")))
        if asked and len(asked) == len(answers):
            self.publish(self.core.bus.emit(Answered(asked, answers)))
        return effects

    def _seen(self, device: str, **fields: Any) -> None:  # noqa: ANN401
        if device not in self.devices_seen and self.cfg.device(device) is None:
            unknown = sum(1 for d in self.devices_seen if self.cfg.device(d) is None)
            if unknown >= MAX_UNKNOWN_DEVICES:
                return
        entry = self.devices_seen.setdefault(device, {"availability": None, "info": None})
        entry.update(fields)
        entry["last_seen"] = datetime.now(self.cfg.office.tz).isoformat(timespec="seconds")

    def _info(self, device: str, payload: bytes) -> None:
        """A device's `info`: kept checked (`antrian.device_info`), with when it came; a
        kiosk's printer that stops answering or runs out of paper is logged loudly."""
        health = read_info(_json_or_none(payload))
        before = (self.devices_seen.get(device) or {}).get("info")
        self._seen(device, info=health, info_at=time.monotonic())
        dev = self.cfg.device(device)
        if dev is None or dev.role != "kiosk":
            return
        old, new = before["printer"] if before else None, health["printer"]
        lang = self.cfg.office.language
        if new != old and new in PRINTER_TROUBLE:
            log.warning("%s", t(f"devices.printer_{new}", lang, device=device))
        elif new == "ok" and old in PRINTER_TROUBLE:
            log.warning("%s", t("devices.printer_ok", lang, device=device))


def _payload(raw: Any) -> bytes:  # noqa: ANN401
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    if raw is None:
        return b""
    return str(raw).encode()


async def _retained(client: aiomqtt.Client, topic: str) -> bytes | None:
    """The retained message of `topic`, or None: subscribe, then unsubscribe as a barrier.

    Mosquitto queues a subscription's retained message before it handles the next packet, so
    once the UNSUBACK is in, the message (if any) is in the client's queue. Nothing else is
    subscribed yet on this connection, so the queue holds only that topic.
    """
    await client.subscribe(topic, qos=1)
    await client.unsubscribe(topic)
    found = None
    while len(client.messages):
        message = await anext(client.messages)
        if str(message.topic) == topic:
            found = _payload(message.payload)
    return found


def _packet_size(topic: str, payload: bytes) -> int:
    """Bytes of a QoS 1 PUBLISH: header (at most 5), topic with its length, packet id, payload."""
    return 5 + 2 + len(topic.encode("utf-8")) + 2 + len(payload)


def _hub_state(raw: bytes) -> tuple[str | None, str | None]:
    """(`state`, `instance`) of a `hub/state` payload; None for what it does not say."""
    value = _json_or_none(raw) or {}
    state, instance = value.get("state"), value.get("instance")
    return (state if isinstance(state, str) else None, instance if isinstance(instance, str) else None)


async def _reachable(host: str, port: int) -> bool:
    """True when the broker accepts TCP connections (it is up; someone else took our session)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _json_or_none(raw: bytes) -> dict[str, Any] | None:
    """A JSON object within the contract's limits (size, depth), or None: what devices and other
    hubs tell about themselves is read, never trusted to be well formed."""
    if not raw.strip():
        return None
    try:
        return decode_payload(raw)
    except ContractError:
        return None

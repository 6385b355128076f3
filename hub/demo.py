"""`antrian demo`: the hub and a room of simulated devices through a believable morning.

With nothing configured it uses a broker at localhost:1883 if one answers, otherwise it starts
an embedded broker (amqtt) in this process. Then it runs the real hub (real event log in a
temporary file) and simulated devices that speak the same MQTT contract as the ESP32 firmware:
a kiosk, a call pad and an LED board per counter, and a speaker. What happens is printed in
Bahasa Indonesia (or English with `--lang en`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import random
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

import aiomqtt

from antrian.config import Config, CounterConfig, DeviceConfig, MqttConfig, OfficeConfig, parse_config
from antrian.contract import Topics, dumps
from antrian.i18n import t
from antrian.mqtt import NODELAY
from antrian.net import free_port, port_open


class Say:
    """Prints demo lines in the chosen language with the office clock in front."""

    def __init__(self, lang: str, cfg: Config) -> None:
        self.lang = lang
        self.cfg = cfg

    def __call__(self, key: str, **params: Any) -> None:  # noqa: ANN401
        clock = datetime.now(self.cfg.office.tz).strftime("%H.%M.%S")
        print(f"{clock}  {self.text(key, **params)}", flush=True)

    def text(self, key: str, **params: Any) -> str:  # noqa: ANN401
        """One demo line (the `demo.` part of the catalogue in `antrian.i18n`)."""
        return t(f"demo.{key}", self.lang, **params)


@contextlib.asynccontextmanager
async def broker_for_demo(spec: str | None, say: Say) -> AsyncIterator[tuple[str, int]]:
    """The broker to use, always said: the one `--broker` names when it answers (else an
    embedded amqtt in its place); without `--broker` an embedded amqtt on a free port, never a
    broker that happens to answer on :1883 (it may be an office's own)."""
    if spec:
        host, _, p = spec.rpartition(":")
        host, port = host or "127.0.0.1", int(p)
        if port_open(host, port):
            say("broker_found", addr=f"{host}:{port}")
            yield host, port
            return
    try:
        from amqtt.broker import Broker  # optional (`[demo]`): production runs Mosquitto
    except ImportError:
        addr = spec or "127.0.0.1:1883"
        raise SystemExit(say.text("no_broker", addr=addr)) from None

    if spec:
        bind_port = port if host in ("127.0.0.1", "localhost") else free_port()
        say("broker_embedded", addr=f"{host}:{port}", bind=f"127.0.0.1:{bind_port}")
    else:
        bind_port = free_port()
        print(t("cli.demo_own_broker", say.lang, bind=f"127.0.0.1:{bind_port}"), flush=True)
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{bind_port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    await broker.start()
    try:
        yield "127.0.0.1", bind_port
    finally:
        with contextlib.suppress(Exception):
            await broker.shutdown()


class SimDevice:
    """One simulated device: its own MQTT connection, availability, requests with transactions."""

    _boot = itertools.count(1)

    def __init__(self, device_id: str, topics: Topics, host: str, port: int) -> None:
        self.id = device_id
        self.tp = topics
        self.host, self.port = host, port
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.seq = itertools.count(1)
        self.boot = next(self._boot)
        self.client: aiomqtt.Client | None = None
        self.inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def run(self, subscriptions: list[str], ready: asyncio.Event) -> None:
        """Connect, follow `subscriptions` and answer requests; like a board, connect again
        when the broker drops the link (the embedded broker may, on a busy PC)."""
        will = aiomqtt.Will(self.tp.device_availability(self.id), b"offline", qos=1, retain=True)
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, identifier=f"sim-{self.id}", will=will, socket_options=NODELAY
                ) as client:
                    self.client = client
                    await client.subscribe(self.tp.device(self.id) + "/response/+", qos=1)
                    for s in subscriptions:
                        await client.subscribe(s, qos=1)
                    await client.publish(self.tp.device_availability(self.id), b"online", qos=1, retain=True)
                    await client.publish(
                        self.tp.device_info(self.id),
                        dumps({"firmware": "sim-0.1", "model": "simulasi"}),
                        qos=1,
                        retain=True,
                    )
                    ready.set()
                    async for m in client.messages:
                        # amqtt may also send retained messages of other clients' subscriptions, such
                        # as plain-text availability: read only JSON objects.
                        try:
                            body = json.loads(m.payload) if isinstance(m.payload, bytes) and m.payload else {}
                        except ValueError:
                            continue
                        if not isinstance(body, dict):
                            continue
                        fut = self.pending.pop(str(body.get("transaction")), None)
                        if fut is not None and not fut.done():
                            fut.set_result(body)
                        elif "/response/" not in str(m.topic):
                            await self.inbox.put((str(m.topic), body))
            except aiomqtt.MqttError:
                self.client = None
                await asyncio.sleep(0.2)

    async def request(self, command: str, **fields: Any) -> dict[str, Any]:  # noqa: ANN401
        """Ask the hub; unanswered, the same request goes again with the same transaction, as
        a board resends it (the hub answers a resend with its first answer, nothing twice)."""
        txn = f"{self.id}-{self.boot}-{next(self.seq)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[txn] = fut
        body = dumps({**fields, "transaction": txn})
        for wait in (5, 2, 2, 2, 2):
            if self.client is not None:
                with contextlib.suppress(aiomqtt.MqttError):
                    await self.client.publish(self.tp.device_request(self.id, command), body, qos=1)
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(fut), wait)
        self.pending.pop(txn, None)
        raise TimeoutError(f"{self.id}: {command} unanswered")


async def _watch_boards(board: SimDevice, counter: int, say: Say) -> None:
    shown: tuple[list[str], int] | None = None
    while True:
        topic, body = await board.inbox.get()
        if topic != board.tp.device_display(board.id):
            continue
        now = (body.get("lines") or [], body.get("call_seq", 0))
        if now[0] and now != shown:
            say("board", counter=counter, lines=" | ".join(now[0]))
        shown = now


#: The clip cache shipped with the project (espeak-ng voice), used by the demo's speaker node.
TTS_CACHE = Path(__file__).resolve().parents[1] / "tts_cache"


class _TellingSink:
    """Wraps the speaker node's sink to print each announcement as it is played."""

    def __init__(self, inner: Any, say: Say) -> None:  # noqa: ANN401
        self.inner = inner
        self.rate = inner.rate
        self.say = say

    async def play(self, label: str, frames: Any) -> Any:  # noqa: ANN401
        record = await self.inner.play(label, frames)
        where = record.path.name if record.path is not None else "aplay"
        self.say("speaker", call=label, secs=record.frames / self.rate, file=where)
        return record


async def _speaker_node(
    cfg: Config, device_id: str, say: Say, out: Path, sound: bool, ready: asyncio.Event
) -> None:
    """The real speaker node (antrian.voice), writing WAV files, or to ALSA with `--sound`;
    `ready` once it follows its `play` topic (calls are not retained: one sent before would be
    lost to it)."""
    from antrian.speaker import AplaySink, SpeakerConfig, SpeakerNode, WavFileSink

    inner: Any = AplaySink() if sound else WavFileSink(out)
    say("speaker_start", cache=TTS_CACHE, out="ALSA (aplay)" if sound else out)
    node = SpeakerNode(
        SpeakerConfig(
            device_id,
            TTS_CACHE,
            office=cfg.office.slug,
            host=cfg.mqtt.host,
            port=cfg.mqtt.port,
            hub_url=cfg.office.public_url,
        ),
        _TellingSink(inner, say),
    )
    run = asyncio.create_task(node.run())
    try:
        await node.connected.wait()
        ready.set()
        await run
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)


async def scenario(
    cfg: Config,
    host: str,
    port: int,
    seconds: float,
    say: Say,
    rng: random.Random,
    audio_out: Path,
    sound: bool = False,
) -> dict[str, int]:
    """Citizens arrive, officers call, one service pauses for a while."""
    tp = Topics(cfg.office.slug)
    devs = {d.id: SimDevice(d.id, tp, host, port) for d in cfg.devices if d.role != "speaker"}
    speakers_ready = {d.id: asyncio.Event() for d in cfg.devices if d.role == "speaker"}
    speaking = {
        d: asyncio.create_task(_speaker_node(cfg, d, say, audio_out, sound, ready))
        for d, ready in speakers_ready.items()
    }
    tasks: list[asyncio.Task[None]] = list(speaking.values())
    for d in cfg.devices:
        if d.role == "speaker":
            continue
        subs = [tp.device_display(d.id)] if d.role == "led_board" else []
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(devs[d.id].run(subs, ready)))
        # a bound to give up, generous: the embedded broker on a busy PC can take seconds
        await asyncio.wait_for(ready.wait(), 30)
    for speaker_id, heard in speakers_ready.items():  # the first call is heard, even on a busy PC
        waiter = asyncio.create_task(heard.wait())
        # a speaker that cannot start (no voice clips) does not hold up the demo
        await asyncio.wait({waiter, speaking[speaker_id]}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    for d in cfg.devices:
        if d.role == "led_board" and d.counter is not None:
            tasks.append(asyncio.create_task(_watch_boards(devs[d.id], d.counter, say)))
    kiosk = next(devs[d.id] for d in cfg.devices if d.role == "kiosk")
    pads = [(d.counter, devs[d.id]) for d in cfg.devices if d.role == "call_pad"]
    letters = [s.letter for s in cfg.services]
    weights = [5, 4, 2, 3, 1][: len(letters)] + [1] * max(0, len(letters) - 5)
    stats = {"issued": 0, "served": 0}
    serving: dict[int, str | None] = {}
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    step = 0
    paused = False
    try:
        while loop.time() < end:
            step += 1
            if step == 12 and "A" in letters:
                say("pause")
                await kiosk.request("take_ticket", service="A")  # warm path; may be refused
                await _admin(tp, host, port, "service_status", service="A", status="paused")
                paused = True
            if step == 20 and paused:
                say("resume")
                await _admin(tp, host, port, "service_status", service="A", status="open")
                paused = False
            for _ in range(rng.choice((1, 1, 2))):
                letter = rng.choices(letters, weights)[0]
                r = await kiosk.request("take_ticket", service=letter, priority=rng.random() < 0.15)
                if r["status"] == "ok":
                    d = r["data"]
                    stats["issued"] += 1
                    wait = (
                        say.text("unknown")
                        if d["estimated_wait_min"] is None
                        else say.text("minutes", n=d["estimated_wait_min"])
                    )
                    say(
                        "ticket",
                        ticket=d["ticket"],
                        prio=" PRIORITAS" if d["priority"] else "",
                        service=d["service_name"],
                        ahead=d["ahead"],
                        wait=wait,
                    )
                else:
                    say("refused", error=r.get("error"))
            counter, pad = rng.choice(pads)
            assert counter is not None
            current = serving.get(counter)
            if current and rng.random() < 0.15:
                await pad.request("recall")
                say("recall", counter=counter, ticket=current)
            elif current and rng.random() < 0.08:
                await pad.request("skip")
                say("skip", counter=counter, ticket=current)
                serving[counter] = None
            else:
                r = await pad.request("call_next")
                if current:
                    stats["served"] += 1
                ticket = r["data"].get("serving")
                serving[counter] = ticket
                say("call", counter=counter, ticket=ticket) if ticket else say("empty", counter=counter)
            await asyncio.sleep(rng.uniform(0.6, 1.4))
    finally:
        await asyncio.sleep(0.5)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return stats


async def _admin(tp: Topics, host: str, port: int, command: str, **fields: Any) -> None:  # noqa: ANN401
    async with aiomqtt.Client(host, port, socket_options=NODELAY) as c:
        await c.subscribe(tp.hub_response(command), qos=1)
        await c.publish(
            tp.hub_request(command),
            dumps({**fields, "actor": "admin:demo", "reason": "demo", "transaction": f"demo-{rng_id()}"}),
            qos=1,
        )
        async for _ in c.messages:
            break


def rng_id() -> str:
    return f"{random.getrandbits(32):08x}"


def demo_devices(counters: Sequence[CounterConfig], letters: Sequence[str]) -> tuple[DeviceConfig, ...]:
    """The simulated devices of `antrian demo`: a kiosk, a pad and a board per counter, a speaker."""
    devs = [DeviceConfig("kiosk-1", "kiosk", tuple(letters))]
    for c in counters:
        devs.append(DeviceConfig(f"pad-{c.number}", "call_pad", counter=c.number))
        devs.append(DeviceConfig(f"board-{c.number}", "led_board", counter=c.number))
    devs.append(DeviceConfig("speaker-1", "speaker"))
    return tuple(devs)


#: The demo's office serves at any hour, on any day: someone trying it at night or on a
#: Sunday should see tickets issued and called, not "Kantor tutup". A real office's hours
#: are `[office.hours]` (`antrian holidays` lists them).
DEMO_HOURS: Final = (time(0, 0), time(23, 59))


def demo_config(lang: str, db: str, host: str, port: int) -> Config:
    base = parse_config({})
    office = OfficeConfig(
        slug="demo",
        name="Kantor Kecamatan Contoh (demo)",
        language=lang,
        opening=DEMO_HOURS[0],
        closing=DEMO_HOURS[1],
        hours=(DEMO_HOURS,) * 7,
        national_holidays=False,
    )
    return replace(
        base,
        office=office,
        mqtt=MqttConfig(host=host, port=port, client_id=f"antrian-hub-demo-{rng_id()}"),
        database=db,
        tts_cache=str(TTS_CACHE),
        devices=demo_devices(base.counters, [s.letter for s in base.services]),
        # the citizen's own pages too: a ticket from a phone (known by its token: the demo
        # sends no SMS) and a booking for another day
        join=replace(base.join, enabled=True, verify="device"),
        booking=replace(base.booking, enabled=True),
    )


def _web_port(asked: int | None, usual: int, lang: str) -> int:
    """`--web-port`, refused when taken; without it the usual port, or a free one if taken."""
    if asked is None:
        return usual if not port_open("127.0.0.1", usual) else free_port()
    if port_open("127.0.0.1", asked):
        raise SystemExit(t("cli.demo_web_port_taken", lang, port=asked))
    return asked


async def _demo(args: argparse.Namespace) -> int:
    from antrian.core import HubCore
    from antrian.service import HubService
    from antrian.store import EventStore

    lang = args.lang
    tmp = tempfile.TemporaryDirectory(prefix="antrian-demo-")
    db = args.db or str(Path(tmp.name) / "antrian.db")
    say = Say(lang, demo_config(lang, db, "127.0.0.1", 1883))
    async with broker_for_demo(args.broker, say) as (host, port):
        cfg = demo_config(lang, db, host, port)
        web_port = _web_port(args.web_port, cfg.web.port, lang)
        cfg = replace(cfg, web=replace(cfg.web, port=web_port))  # the pages, live in the demo
        say.cfg = cfg
        store = EventStore(cfg.database)
        core = HubCore(cfg, store)
        from antrian.web.server import demo_accounts, demo_kiosk_key

        logins = demo_accounts(core)
        kiosk_key = demo_kiosk_key(core)
        service = HubService(core)
        stop = asyncio.Event()
        hub_task = asyncio.create_task(service.run(stop))
        await asyncio.wait_for(service.connected.wait(), 10)
        base = f"http://127.0.0.1:{web_port}"
        print(
            f"Web: {base}/tv  {base}/kiosk?key={kiosk_key}  {base}/officer  {base}/admin",
            f"HP: {base}/ambil  {base}/reservasi",
            *logins,
            sep="\n",
        )
        say("start", n=len(cfg.counters), services=", ".join(s.letter for s in cfg.services))
        audio_out = Path(args.audio_dir) if args.audio_dir else Path(tmp.name) / "suara"
        stats = await scenario(
            cfg, host, port, args.seconds, say, random.Random(7), audio_out, sound=args.sound
        )
        st = service.core.state
        _survey(service, say, random.Random(11))
        say(
            "summary",
            issued=stats["issued"],
            served=sum(c.served for c in st.counters.values()),
            waiting=sum(s.waiting for s in st.services.values()),
        )
        if args.keep_running:
            with contextlib.suppress(asyncio.CancelledError):
                await hub_task
        stop.set()
        await hub_task
        store.close()
    tmp.cleanup()
    return 0


def _survey(service: Any, say: Say, rng: random.Random) -> None:  # noqa: ANN401
    """Some citizens answer the satisfaction survey at the exit tablet, as its page does (the
    survey part's `answer`), so the admin's results and the monthly PDF have a day to show."""
    from antrian.queue import DONE
    from antrian.survey.extension import Survey
    from antrian.survey.ikm import KEYS

    part = service.extension("survey")
    if not isinstance(part, Survey):
        return
    done = sorted((t for t in service.core.state.tickets.values() if t.state == DONE), key=lambda t: t.code)
    for ticket in done:
        if rng.random() < 0.7:  # not everyone stops at the tablet
            scores = {k: rng.choices((2, 3, 4), (1, 4, 5))[0] for k in KEYS}
            part.answer(ticket, scores, {}, say.lang)
    day = date.fromisoformat(service.core.state.day) if service.core.state.day else None
    if day is None:
        return
    r = part.summary(day, day)
    if r.responses:
        ikm = f"{r.ikm:.2f}"
        say(
            "survey",
            n=r.responses,
            ikm=ikm.replace(".", ",") if say.lang == "id" else ikm,
            grade=r.grade,
            label=r.label,
        )


def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_demo(args))
    except KeyboardInterrupt:
        return 130

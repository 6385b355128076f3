"""The channels a notification leaves by: SMS through gammu-smsd, WhatsApp and others through apprise.

The outbox's worker (`antrian.notify.extension`) knows a channel only by this interface:

- ``await channel.send(to, text, key) -> Sent``: hand one message over. `to` is E.164
  (``+628...``), `key` the outbox message's id. ``Sent.ref`` is the channel's own id of the
  message, which its delivery reports carry. Sending again with the same key (the hub stopped
  before it wrote down the answer) does not send a second time where the channel can tell:
  `idempotent` says whether it can.
- `ChannelDown`: the channel cannot take the message now (modem or gammu-smsd gone, no
  internet, the provider failing); the worker tries again later.
- `Rejected`: this message can never leave by this channel (not a number, too long); not
  retried.
- ``await channel.status() -> ChannelStatus``: for the admin page.
- ``await channel.deliveries() -> list[Delivery]``: the states that changed since the last
  call: "sent" (left the hub's machine), "delivered" (the phone has it), "failed".

`SmsChannel` writes into gammu-smsd's outbox folder (`antrian.notify.gammu`) and needs no
internet: an office's USB GSM modem and a prepaid SIM card are enough. `AppriseChannel` sends
through apprise to one of its services (WhatsApp Cloud API, Telegram, ...) from a URL template
with ``{to}`` in place of the number; numbers never reach a log in clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Final, Literal, Protocol
from urllib.parse import quote

from antrian.notify import gammu
from antrian.notify.text import sms_parts

log = logging.getLogger("antrian.notify.channels")

DeliveryState = Literal["sent", "delivered", "failed"]
#: An E.164 number: "+", a country code, at most fifteen digits in all.
E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class Sent:
    """A message the channel took: `ref` is the channel's id of it (delivery reports carry it)."""

    ref: str


class ChannelDown(Exception):
    """The channel cannot take a message now (modem, gammu-smsd or internet gone): try later."""


class Rejected(Exception):
    """This message can never leave by this channel (bad number, too long): do not retry."""


@dataclass(frozen=True)
class ChannelStatus:
    """What the admin page shows of a channel."""

    name: str
    up: bool
    signal_percent: int | None
    #: Messages taken but not yet gone (in gammu-smsd's outbox; apprise calls under way).
    pending: int
    sent: int
    failed: int
    last_error: str | None


@dataclass(frozen=True)
class Delivery:
    """A message's new state: "sent", "delivered" or "failed", and when the channel saw it."""

    ref: str
    state: DeliveryState
    at: datetime


class Channel(Protocol):
    """What the outbox's worker sends through (see the module's notes)."""

    name: str

    async def send(self, to: str, text: str, key: str) -> Sent: ...

    async def status(self) -> ChannelStatus: ...

    async def deliveries(self) -> list[Delivery]: ...


def _check_number(to: str) -> None:
    if not E164.fullmatch(to):
        raise Rejected("nomor bukan format E.164 / not an E.164 number")


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# ----------------------------------------------------------------------------------------------
# SMS through gammu-smsd
# ----------------------------------------------------------------------------------------------


@dataclass
class _Watched:
    """A message of ours whose state is followed until it is final or its report is too late."""

    to: str
    ref: str
    state: str = "pending"  # last state reported: pending, sent, delivered, failed
    sent_at: float | None = None


@dataclass
class _Inbox:
    seen: set[str] = field(default_factory=set)
    mtime_ns: int = -1


class SmsChannel:
    """SMS through gammu-smsd's files backend (`antrian.notify.gammu`).

    `send` writes the message into gammu-smsd's outbox (atomically, and only once per key: a
    file of the same key in the outbox or the sent folder is answered with its ref). It works
    while gammu-smsd is stopped: the file waits, and goes when gammu-smsd runs again. A file of
    the key that only sits in the error folder was not transmitted, so a new `send` writes a new
    attempt. A message is "sent" once gammu-smsd moved it to the sent folder, "failed" once it
    moved it to the error folder. With ``deliveryreport = sms`` in the smsdrc (the default of
    `gammu.write_smsdrc`), the network's delivery reports make it "delivered" or "failed";
    a report names only the number, so it is matched to the latest message to that number sent
    before it came, within gammu's DeliveryReportDelay. Gammu's dummy phone, which the tests
    run on, produces no reports of itself: the tests put one on it as the network would.

    `status` asks `gammu-smsd-monitor` (gammu-smsd's shared memory): no answer means gammu-smsd
    is not running, which is also what follows an unplugged modem (gammu-smsd stops when it can
    no longer open the device). Its sent and failed counts are gammu-smsd's since it started
    (parts sent, attempts failed).

    After a restart, `deliveries` first reports the messages of the last `adopt` that reached
    the sent or error folder, since their state may not have been taken before the stop.
    """

    name: str = "sms"
    idempotent: ClassVar[bool] = True

    def __init__(
        self,
        smsdrc: str | Path,
        *,
        max_segments: int = 4,
        monitor: str = "gammu-smsd-monitor",
        adopt: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = gammu.SmsdConfig.read(Path(smsdrc))
        self.max_segments = max_segments
        self.monitor = monitor
        self.adopt = adopt
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        #: note (from the key) -> file name, over the outbox, sent and error folders
        self._names: dict[str, str] | None = None
        self._watched: dict[str, _Watched] = {}
        self._inbox = _Inbox()
        self._last_error: str | None = None

    # -- send ----------------------------------------------------------------------------------

    async def send(self, to: str, text: str, key: str) -> Sent:
        _check_number(to)
        if not text:
            raise Rejected("pesan kosong / empty message")
        encoding, segments = sms_parts(text)
        if segments > self.max_segments:
            raise Rejected(
                f"pesan terlalu panjang: {segments} SMS ({encoding}) / message too long: "
                f"{segments} SMS, at most {self.max_segments}"
            )
        return await asyncio.to_thread(self._send, to, text, key)

    def _send(self, to: str, text: str, key: str) -> Sent:
        cfg = self.config
        with self._lock:
            try:
                names = self._index()
                note = gammu.key_note(key)
                name = names.get(note)
                if name is not None and ((cfg.outbox / name).exists() or (cfg.sent / name).exists()):
                    parsed = gammu.parse_out_name(name)
                    assert parsed is not None
                    self._watch(parsed)
                    return Sent(parsed.ref)
                name = gammu.out_name(to, key, self.clock(), report=cfg.delivery_reports)
                gammu.write_atomically(cfg.outbox, name, gammu.encode_text(text))
            except OSError as exc:
                self._last_error = (
                    f"outbox gammu-smsd tidak bisa ditulis / cannot write the outbox: {exc.strerror}"
                )
                raise ChannelDown(self._last_error) from exc
            parsed = gammu.parse_out_name(name)
            assert parsed is not None
            names[note] = name
            self._watch(parsed)
            self._last_error = None
        log.debug("sms %s queued for gammu-smsd as %s", key, parsed.ref)
        return Sent(parsed.ref)

    def _index(self) -> dict[str, str]:
        """The hub's files by note, read from the three folders once; kept by `_send` after."""
        if self._names is None:
            found: list[tuple[str, gammu.OutName, Path]] = []
            for folder in (self.config.error, self.config.sent, self.config.outbox):
                with contextlib.suppress(FileNotFoundError):
                    for entry in os.scandir(folder):
                        parsed = gammu.parse_out_name(entry.name)
                        if parsed is not None:
                            found.append((parsed.stamp, parsed, folder))
            found.sort(key=lambda item: item[0])
            names: dict[str, str] = {}
            horizon = (self.clock() - self.adopt).timestamp()
            for _, parsed, folder in found:
                names[parsed.note] = parsed.name
                if folder == self.config.outbox:
                    self._watch(parsed)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        if (folder / parsed.name).stat().st_mtime >= horizon:
                            self._watch(parsed)
            self._names = names
        return self._names

    async def withdraw(self, key: str) -> bool:
        """Take back a message gammu-smsd has not picked up yet; True if it was taken back.

        For a message that no longer helps (the "almost" of a ticket called while the modem was
        down): a file still in the outbox is deleted, so it never leaves. One gammu-smsd is
        already sending, or has sent, stays as it is. gammu-smsd reads the file before it sends
        and moves it after, a few seconds later with a real modem: a message taken back in that
        window still leaves, although the answer is True.
        """
        return await asyncio.to_thread(self._withdraw, key)

    def _withdraw(self, key: str) -> bool:
        with self._lock:
            name = self._index().get(gammu.key_note(key))
            if name is None:
                return False
            try:
                (self.config.outbox / name).unlink()
            except FileNotFoundError:
                return False
            self._watched.pop(name, None)
        log.debug("sms %s taken back from gammu-smsd's outbox", key)
        return True

    def _watch(self, parsed: gammu.OutName) -> None:
        self._watched.setdefault(parsed.name, _Watched(parsed.to, parsed.ref))

    # -- deliveries ----------------------------------------------------------------------------

    async def deliveries(self) -> list[Delivery]:
        return await asyncio.to_thread(self._deliveries)

    def _deliveries(self) -> list[Delivery]:
        cfg = self.config
        out: list[Delivery] = []
        with self._lock:
            self._index()
            for name, w in self._watched.items():
                if w.state != "pending":
                    continue
                for folder, state in ((cfg.sent, "sent"), (cfg.error, "failed")):
                    try:
                        moved = (folder / name).stat().st_mtime
                    except FileNotFoundError:
                        continue
                    w.state, w.sent_at = state, moved
                    out.append(Delivery(w.ref, "sent" if state == "sent" else "failed", _utc(moved)))
                    break
            if cfg.delivery_reports:
                out += self._reports()
            self._forget()
        return out

    def _reports(self) -> list[Delivery]:
        """Delivery reports that came into the inbox since the last look."""
        inbox = self.config.inbox
        try:
            mtime_ns = inbox.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        first = self._inbox.mtime_ns < 0
        if mtime_ns == self._inbox.mtime_ns:
            return []
        self._inbox.mtime_ns = mtime_ns
        horizon = (self.clock() - self.adopt).timestamp()
        out: list[Delivery] = []
        for entry in sorted(os.scandir(inbox), key=lambda e: e.name):
            if entry.name in self._inbox.seen:
                continue
            self._inbox.seen.add(entry.name)
            try:
                came = entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if first and came < horizon:
                continue
            report = gammu.read_status_report(Path(entry.path))
            if report is None:
                continue
            w = self._match(report.number, came)
            if w is None or w.state in ("failed", report.state):
                continue  # unknown message, or nothing new (the other parts of a long one)
            w.state = report.state
            out.append(Delivery(w.ref, "delivered" if report.state == "delivered" else "failed", _utc(came)))
        return out

    def _match(self, number: str, came: float) -> _Watched | None:
        """The latest message to `number` sent before a report that came at `came`."""
        slack = 2.0  # the sent file's time and the report's are read off one clock, a move apart
        best: _Watched | None = None
        for w in self._watched.values():
            if w.sent_at is None or not gammu.same_number(w.to, number):
                continue
            fits = w.sent_at <= came + slack and came - w.sent_at <= self.config.report_delay
            if fits and (best is None or (best.sent_at or 0) < w.sent_at):
                best = w
        return best

    def _forget(self) -> None:
        """Stop following messages whose state can no longer change."""
        now = self.clock().timestamp()
        wait = self.config.report_delay if self.config.delivery_reports else 0
        done = [
            name
            for name, w in self._watched.items()
            if w.state == "failed" or (w.sent_at is not None and now - w.sent_at > wait)
        ]
        for name in done:
            del self._watched[name]

    # -- status --------------------------------------------------------------------------------

    async def status(self) -> ChannelStatus:
        pending = await asyncio.to_thread(self._pending)
        st, error = await self._monitor()
        if st is None:
            return ChannelStatus(self.name, False, None, pending, 0, 0, error or self._last_error)
        signal = st.signal_percent if 0 <= st.signal_percent <= 100 else None
        return ChannelStatus(self.name, True, signal, pending, st.sent, st.failed, self._last_error)

    def _pending(self) -> int:
        try:
            return sum(1 for e in os.scandir(self.config.outbox) if e.name.upper().startswith("OUT"))
        except FileNotFoundError:
            return 0

    async def _monitor(self) -> tuple[gammu.MonitorStatus | None, str | None]:
        """gammu-smsd's own status, or why there is none."""
        argv = [self.monitor, "-c", str(self.config.smsdrc), "-n", "1", "-d", "0", "-C"]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except OSError as exc:
            return None, f"{self.monitor} tidak bisa dijalankan / cannot run: {exc.strerror}"
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            return None, "gammu-smsd-monitor tidak menjawab / did not answer"
        st = gammu.parse_monitor_csv(out.decode("utf-8", errors="replace")) if proc.returncode == 0 else None
        if st is None:
            return None, "gammu-smsd tidak berjalan / gammu-smsd is not running"
        if not st.imei:
            return None, "modem belum terhubung / gammu-smsd has not reached the modem"
        return st, None


# ----------------------------------------------------------------------------------------------
# apprise: WhatsApp (Cloud API), Telegram and the rest, over the internet
# ----------------------------------------------------------------------------------------------

#: A run of digits long enough to be a phone number, as apprise may write one: "+62...",
#: "62..." or URL-quoted "%2B62...".
_NUMBER_IN_TEXT = re.compile(r"(?<![0-9])(\+|%2[Bb])?([0-9]{9,15})(?![0-9])")
#: Loggers that can write a number: apprise's (its services log their targets and payloads)
#: and urllib3's (the request line, with a number put into the URL's path or query).
REDACTED_LOGGERS: Final = ("apprise", "urllib3.connectionpool")


def redact_numbers(text: str) -> str:
    """`text` with every phone-number-like run of digits masked but for its last three."""
    return _NUMBER_IN_TEXT.sub(lambda m: (m[1] or "") + "*" * (len(m[2]) - 3) + m[2][-3:], text)


class NumberRedactor(logging.Filter):
    """Masks numbers in the records of the logger it is put on, before any handler sees them
    (the message with its arguments, and an exception's text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_numbers(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_numbers(record.exc_text)
        return True


_REDACTOR = NumberRedactor()


def install_redaction() -> None:
    """Put the number filter on apprise's and urllib3's loggers (once)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


class AppriseChannel:
    """Messages through apprise, from a URL template with ``{to}`` where the number goes.

    Examples: ``whatsapp://TOKEN@PHONE_NUMBER_ID/{to}`` (WhatsApp Cloud API; the first message
    to a citizen must use an approved template: ``whatsapp://TEMPLATE:TOKEN@PHONE_NUMBER_ID/{to}
    ?lang=id&:1=body``), ``json://host/path?:to={to}`` (a JSON POST with the number in its
    ``to`` field). The number is URL-quoted into the template.

    apprise answers only success or failure: a failure is `ChannelDown`, since no internet and a
    provider's outage look alike from here (the worker gives up after its own limit). Nothing
    says whether a message reached the phone, so `deliveries` reports "sent" only. A provider
    offers no idempotency key either: a second `send` of a key is answered from memory within
    one run of the hub, and `idempotent` is False so the worker does not resend after a stop.
    """

    name: str = "apprise"
    idempotent: ClassVar[bool] = False

    def __init__(self, url_template: str, *, timeout: float = 25.0) -> None:
        if "{to}" not in url_template:
            raise ValueError("URL apprise harus memuat {to} / the apprise URL must contain {to}")
        install_redaction()
        import apprise  # the [notify] extra; imported here so that SMS alone needs no apprise

        probe = apprise.Apprise()
        if not probe.add(self._url_for(url_template, "+628000000000")):
            scheme = url_template.split(":", 1)[0]
            raise ValueError(
                f"apprise tidak mengenali URL / apprise does not accept the URL ({scheme}://...)"
            )
        self.url_template = url_template
        self.timeout = timeout
        self._apprise = apprise
        self._refs: dict[str, str] = {}
        self._new: list[Delivery] = []
        self._pending = 0
        self._sent = 0
        self._failed = 0
        self._up = True
        self._last_error: str | None = None

    @staticmethod
    def _url_for(template: str, to: str) -> str:
        return template.replace("{to}", quote(to, safe=""))

    async def send(self, to: str, text: str, key: str) -> Sent:
        _check_number(to)
        if not text:
            raise Rejected("pesan kosong / empty message")
        if key in self._refs:
            return Sent(self._refs[key])
        ap = self._apprise.Apprise()
        ap.add(self._url_for(self.url_template, to))
        self._pending += 1
        try:
            ok = bool(await asyncio.wait_for(ap.async_notify(body=text, title=""), self.timeout))
        except TimeoutError as exc:
            raise self._down(f"tidak ada jawaban dalam {self.timeout:.0f} detik / no answer in time") from exc
        except Exception as exc:  # apprise's services raise what their libraries raise
            raise self._down(f"{type(exc).__name__}: {redact_numbers(str(exc))[:200]}") from exc
        finally:
            self._pending -= 1
        if not ok:
            raise self._down("layanan menolak atau tidak terjangkau / the service failed or is out of reach")
        ref = f"apprise-{key}"
        self._refs[key] = ref
        self._sent += 1
        self._up, self._last_error = True, None
        self._new.append(Delivery(ref, "sent", datetime.now(UTC)))
        return Sent(ref)

    def _down(self, why: str) -> ChannelDown:
        self._failed += 1
        self._up, self._last_error = False, why
        return ChannelDown(why)

    async def status(self) -> ChannelStatus:
        """Up until a send fails, and again after one succeeds (apprise has nothing to ask)."""
        return ChannelStatus(
            self.name, self._up, None, self._pending, self._sent, self._failed, self._last_error
        )

    async def deliveries(self) -> list[Delivery]:
        out, self._new = self._new, []
        return out

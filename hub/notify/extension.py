"""The notifications part: the citizen who gave a number is told by SMS or WhatsApp.

What it sends, each at most once per ticket (`antrian.notify.outbox`):
- `almost`: the ticket reaches "Bersiaplah" (`[office] get_ready_ahead` tickets or
  `get_ready_minutes` minutes before its call, the same rule as the status page);
- `called`: the ticket is called to a counter;
- `paused`: its service is paused while it waits;
- `not_served`: it expires at closing, unserved;
- `day_before`, `hour_before`: a booking's reminders (`antrian.booking.reminders`), queued when
  the booking is made, each due at its own time, and checked by the booking part when due.

How: before each commit (`antrian.bus.Committing`) it looks at the events and at the state they
make, and adds the messages they cause to the same SQLite transaction. A worker task sends
what is due through the channels (`antrian.notify.channels`), retries with backoff while the
modem or the internet is down, and drops, with the reason logged, a message that would no
longer help (the "almost" of a ticket already called). After closing (plus
`[notify] keep_after_closing_minutes`) the day's numbers are deleted and their key destroyed.

Numbers are never published on MQTT and never logged in clear (`antrian.notify.phone.mask`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from antrian import views
from antrian.bus import Committed, Committing, StoreWrite, Ticked
from antrian.config import Config, NotifyConfig
from antrian.extension import Extension
from antrian.i18n import t
from antrian.notify.channels import Channel, ChannelDown, Rejected
from antrian.notify.outbox import REMINDERS, Contact, Message, Outbox
from antrian.notify.phone import PhoneError, mask, normalise
from antrian.notify.vault import DayVault
from antrian.queue import QueueState, local_day, working_day_bounds

if TYPE_CHECKING:
    from aiohttp import web

    from antrian.service import HubService

log = logging.getLogger("antrian.notify")

#: Seconds between tries while a channel is down: doubling from the first, up to the last.
BACKOFF: Final = (5.0, 300.0)
#: How long one send may take before it counts as a failure of the channel.
SEND_TIMEOUT: Final = 30.0
#: A "dipanggil" message older than this is not sent: the citizen has missed the moment.
CALLED_TOO_LATE: Final = timedelta(minutes=15)
#: How often delivery reports are asked for.
DELIVERY_POLL: Final = 10.0


def build_channels(cfg: NotifyConfig) -> dict[str, Channel]:
    """The channels the configuration sets, by name (`sms`, `whatsapp`)."""
    from antrian.notify.channels import AppriseChannel, SmsChannel

    channels: dict[str, Channel] = {}
    if cfg.sms_smsdrc:
        channels["sms"] = SmsChannel(cfg.sms_smsdrc)
    if cfg.apprise_url:
        channels["whatsapp"] = AppriseChannel(cfg.apprise_url)
    return channels


@dataclass(frozen=True)
class Refusal:
    """Why a number was not taken: the catalogue key (also the answer's `code`) and its text."""

    code: str
    text: str
    status: int = 400


class Notifications(Extension):
    """Opt-in by phone number, the outbox, and the worker that empties it."""

    name: ClassVar[str] = "notify"
    outbox: Outbox
    vault: DayVault

    def __init__(
        self,
        hub: HubService,
        *,
        channels: Mapping[str, Channel] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(hub)
        self.ncfg = self.cfg.notify
        self.channels: dict[str, Channel] = dict(channels) if channels is not None else {}
        self._built = channels is not None
        self.clock = clock or self.core.clock
        #: Today's contacts (ticket -> contact) and what was queued for them, kept in memory so
        #: that the check before each commit reads no database.
        self._day = ""
        self._contacts: dict[str, Contact] = {}
        self._queued: set[tuple[str, str]] = set()
        self._proposed: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_poll = 0.0
        self._forget_minute = -1
        #: Seconds from queueing to the channel's acceptance, of the messages sent so far.
        self.latencies: list[float] = []
        #: Why a booking's reminder would no longer help, or None (set by the booking part).
        self.reminder_late: Callable[[Message, datetime], str | None] | None = None

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.notify.enabled

    # ------------------------------------------------------------------------------------------
    # start / stop
    # ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.outbox = Outbox(self.core.store.db)
        self.vault = DayVault(_key_folder(self.cfg))
        if not self._built:
            self.channels = build_channels(self.ncfg)
        self._load(self.core.state.day)
        self._recover(self.clock())
        self.bus.on_committing(self, self._on_committing)
        self.bus.on(Committed, self, self._on_committed)
        self.bus.on(Ticked, self, self._on_tick)
        self._task = asyncio.create_task(self._run(), name="notify-worker")
        log.info("notifikasi aktif / notifications on: %s", ", ".join(self.channels) or "-")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await super().stop()

    def _load(self, day: str) -> None:
        self._day = day
        self._contacts = {c.ticket: c for c in self.outbox.contacts(day)} if day else {}
        self._queued = self.outbox.queued_kinds(day) if day else set()

    def _recover(self, now: datetime) -> None:
        """Messages a stopped hub left mid-send: sent again only where that cannot duplicate."""
        for msg in self.outbox.interrupted():
            if getattr(self.channels.get(msg.channel), "idempotent", False):
                self.outbox.retry(msg, now, "hub stopped while sending")
            else:
                self.outbox.finish(
                    msg, "unknown", "hub stopped while sending; not sent again (it may have left)", now
                )
                log.warning(
                    "message %d (%s %s) may or may not have left: not sent again",
                    msg.id,
                    msg.shown,
                    msg.kind,
                )

    # ------------------------------------------------------------------------------------------
    # opt-in
    # ------------------------------------------------------------------------------------------

    def subscribe(
        self, token: str, phone: str, channel: str | None, lang: str, consent: bool
    ) -> dict[str, Any] | Refusal:
        """Take a number for the ticket with `token` (from its QR or the kiosk's answer)."""
        lang = lang if lang in ("id", "en") else "id"
        state = self.core.state
        ticket = next((tk for tk in state.tickets.values() if tk.token == token), None) if token else None
        if ticket is None:
            return self._refuse("notify_unknown_ticket", lang, status=404)
        if ticket.state != "waiting":
            return self._refuse("notify_ticket_closed", lang, status=409)
        checked = self.check_number(phone, channel, consent, lang)
        if isinstance(checked, Refusal):
            return checked
        e164, channel = checked
        day = state.day
        if self._day != day:
            self._load(day)
        changes = self.outbox.changes(day, ticket.code)
        if changes >= self.ncfg.changes_per_ticket:
            return self._refuse("notify_changes", lang, status=429, n=changes)
        tag = self.vault.tag(day, e164)
        others = self.outbox.tickets_of_tag(day, tag) - {ticket.code}
        if len(others) >= self.ncfg.tickets_per_number:
            return self._refuse("notify_too_many", lang, status=429, n=len(others))
        contact = Contact(day, ticket.code, self.vault.seal(day, e164), channel, lang)
        now = self.clock()
        self._contacts[ticket.code] = contact
        writes = self._ready_writes(state, now, only=ticket.code)
        self.outbox.save_contact(contact, tag, now, writes)
        self._queued |= self._proposed
        log.info("ticket %s: number %s given for %s", ticket.code, mask(e164), channel)
        self._wake.set()
        return {"ticket": ticket.code, "phone": mask(e164), "channel": channel}

    def check_number(
        self, phone: str, channel: str | None, consent: bool, lang: str
    ) -> tuple[str, str] | Refusal:
        """The number in E.164 and the channel (the first one when none is named), or why not."""
        if not consent:
            return self._refuse("notify_consent_needed", lang)
        if channel is None:
            channel = next(iter(self.channels), None)
        if channel not in self.channels:
            return self._refuse("notify_channel_unknown", lang, channel=str(channel)[:20])
        try:
            return normalise(phone), channel
        except PhoneError as exc:
            return self._refuse(exc.key, lang)

    def reminder_refused(self, day: str, number: tuple[str, str], lang: str, ref: str = "") -> Refusal | None:
        """Why a number may not be reminded of one more booking of `day` (besides `ref`): a number
        may hold at most `[notify] tickets_per_number` bookings a day (it is not a way to page
        someone)."""
        held = self.outbox.bookings_of_tag(day, self.vault.tag(day, number[0]), but=ref)
        if held >= self.ncfg.tickets_per_number:
            return self._refuse("reminder_too_many", lang, status=429, n=held)
        return None

    def reminder_writes(
        self,
        ref: str,
        day: str,
        number: tuple[str, str],
        lang: str,
        messages: list[tuple[str, datetime, str]],
        now: datetime,
    ) -> list[StoreWrite]:
        """The writes that keep a booking's number, sealed under the booking's `day` (whose key
        is made now and destroyed after that day's closing), and queue its reminders (kind, due,
        text): for the booking's own transaction, or to give or change the number later."""
        e164, channel = number
        contact = Contact(day, ref, self.vault.seal(day, e164), channel, lang)
        writes = [Outbox.contact_write(contact, self.vault.tag(day, e164), now)]
        writes += [Outbox.rearm(day, ref, kind, channel, text, due) for kind, due, text in messages]
        self._wake.set()
        return writes

    def withdraw(self, ref: str, day: str, reason: str) -> int:
        """Drop a booking's pending reminders and delete its number (cancelled, or the number
        removed)."""
        dropped = self.outbox.withdraw(day, ref, reason, self.clock())
        if dropped:
            log.info("%d reminder(s) of a booking of %s dropped: %s", dropped, day, reason)
        return dropped

    def subscription(self, token: str) -> dict[str, Any] | None:
        """What the status page shows of a ticket's subscription: the masked number, no more."""
        ticket = next((tk for tk in self.core.state.tickets.values() if tk.token == token), None)
        contact = self._contacts.get(ticket.code) if ticket is not None else None
        if contact is None:
            return None
        number = self.vault.open(contact.day, contact.sealed)
        return {"ticket": contact.ticket, "phone": mask(number or ""), "channel": contact.channel}

    def _refuse(self, key: str, lang: str, *, status: int = 400, **params: Any) -> Refusal:  # noqa: ANN401
        return Refusal(key, t(key, lang, **params), status)

    # ------------------------------------------------------------------------------------------
    # what events cause
    # ------------------------------------------------------------------------------------------

    def _on_committing(self, c: Committing) -> list[StoreWrite]:
        """The messages this batch's events cause, to commit with them."""
        state = c.state
        if state.day != self._day:
            self._load(state.day)
        self._proposed = set()
        if not self._contacts:
            return []
        writes: list[StoreWrite] = []
        for e in c.events:
            if e.type == "ticket_called":
                writes += self._message(
                    e.data["ticket"], "called", c.now, counter=self._counter(e.data["counter"])
                )
            elif e.type == "service_status_changed" and e.data.get("status") == "paused":
                svc = self.cfg.service(e.data["service"])
                for code in self._contacts:
                    tk = state.tickets.get(code)
                    if tk is not None and tk.state == "waiting" and tk.service == e.data["service"]:
                        writes += self._message(
                            code, "paused", c.now, service=svc.name if svc else tk.service
                        )
            elif e.type == "tickets_expired":
                for code in e.data.get("tickets", ()):
                    writes += self._message(code, "not_served", c.now)
        writes += self._ready_writes(state, c.now)
        return writes

    def _ready_writes(self, state: QueueState, now: datetime, *, only: str | None = None) -> list[StoreWrite]:
        """ "Almost your turn" for the waiting contacts that reached "Bersiaplah"."""
        writes: list[StoreWrite] = []
        for code in [only] if only else list(self._contacts):
            if (code, "almost") in self._queued or (code, "almost") in self._proposed:
                continue
            tk = state.tickets.get(code)
            if tk is None or tk.state != "waiting":
                continue
            view = views.ticket_view(state, tk, now)
            if not view["get_ready"]:
                continue
            at = view["estimated_call_at"]
            if tk.remote and not tk.checked_in:
                # taken from a phone, holder not yet in: the one thing to do now is come and
                # check in, or the turn is passed over (`antrian.join`)
                writes += self._message(
                    code,
                    "almost",
                    now,
                    key="notify.almost_check_in",
                    ahead=view["ahead"],
                    checkin=tk.check_in_code or "",
                )
            elif at:  # already the office's time, to five minutes ("09.55")
                writes += self._message(
                    code, "almost", now, key="notify.almost", ahead=view["ahead"], time=at
                )
            else:
                writes += self._message(code, "almost", now, key="notify.almost_now", ahead=view["ahead"])
        return writes

    def _message(
        self,
        code: str,
        kind: str,
        now: datetime,
        *,
        key: str | None = None,
        **params: Any,  # noqa: ANN401
    ) -> list[StoreWrite]:
        contact = self._contacts.get(code)
        if contact is None or (code, kind) in self._queued or (code, kind) in self._proposed:
            return []
        self._proposed.add((code, kind))
        text = t(key or f"notify.{kind}", contact.lang, ticket=code, **params)
        return [Outbox.queue(contact.day, code, kind, contact.channel, text, now)]

    def _counter(self, number: int) -> str:
        cc = self.cfg.counter(number)
        return cc.label if cc is not None else f"Loket {number}"

    def _on_committed(self, c: Committed) -> None:
        if self._proposed:
            self._queued |= self._proposed
            self._proposed = set()
            self._wake.set()

    def _on_tick(self, tick: Ticked) -> None:
        """Time alone can make a ticket "almost" due; and after closing the numbers go."""
        state = self.core.state
        if state.day == self._day and self._contacts:
            self._proposed = set()
            writes = self._ready_writes(state, tick.now)
            if writes:
                self.outbox.save_writes(writes)
                self._queued |= self._proposed
                self._wake.set()
            self._proposed = set()
        due = self.outbox.next_due()
        if due is not None and due <= tick.now:  # a reminder queued ahead whose time has come
            self._wake.set()
        minute = int(tick.now.timestamp() // 60)
        if minute != self._forget_minute:  # a look at the keys and the rows, once a minute
            self._forget_minute = minute
            self.forget_old(tick.now)

    # ------------------------------------------------------------------------------------------
    # the end of the day
    # ------------------------------------------------------------------------------------------

    def forget_old(self, now: datetime) -> list[str]:
        """Delete the numbers (and destroy the key) of every day that is over."""
        today = local_day(now, self.cfg)
        keep = timedelta(minutes=self.ncfg.keep_after_closing_minutes)
        over = []
        for day in sorted(set(self.outbox.contact_days()) | set(self.vault.days())):
            _, closing = working_day_bounds(day, self.cfg)
            if day < today or now >= closing + keep:
                count = self.outbox.forget_day(day)
                self.vault.destroy(day)
                over.append(day)
                log.info("numbers of %s deleted (%d) and their key destroyed", day, count)
                if day == self._day:
                    self._contacts = {}
        return over

    # ------------------------------------------------------------------------------------------
    # the worker
    # ------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
                await self._take_back_late()
                await self._poll_deliveries()
            except Exception:  # the worker must outlive any one message's bug
                log.exception("notification worker")
            wait = 5.0
            nxt = self.outbox.next_due()
            if nxt is not None:
                wait = max(0.05, min(wait, (nxt - self.clock()).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def send_due(self) -> int:
        """Send every message that is due; how many left."""
        sent = 0
        for msg in self.outbox.due(self.clock()):
            sent += await self._send(msg)
        return sent

    async def _send(self, msg: Message) -> int:
        now = self.clock()
        reason = self._too_late(msg, now)
        if reason is not None:
            withdraw = getattr(self.channels.get(msg.channel), "withdraw", None)
            if msg.attempts and withdraw is not None:
                # a send a crash interrupted may have left it with the channel: take it back
                await withdraw(f"m{msg.id}")
            self.outbox.finish(msg, "dropped", reason, now)
            log.info("message %d (%s %s) dropped: %s", msg.id, msg.shown, msg.kind, reason)
            return 0
        contact = self.outbox.contact(msg.day, msg.ticket)
        number = self.vault.open(msg.day, contact.sealed) if contact is not None else None
        if number is None:
            self.outbox.finish(msg, "dropped", "the number was deleted with its day", now)
            log.warning("message %d (%s %s) not sent: its number was deleted", msg.id, msg.shown, msg.kind)
            return 0
        channel = self.channels.get(msg.channel)
        if channel is None:
            self.outbox.finish(msg, "failed", f"channel {msg.channel} is not configured", now)
            log.error(
                "message %d (%s %s) not sent: channel %s is not configured",
                msg.id,
                msg.shown,
                msg.kind,
                msg.channel,
            )
            return 0
        if not self.outbox.sending(msg):
            return 0
        try:
            result = await asyncio.wait_for(channel.send(number, msg.text, f"m{msg.id}"), SEND_TIMEOUT)
        except Rejected as exc:
            self.outbox.finish(msg, "failed", str(exc) or "rejected", self.clock())
            log.error("message %d to %s refused by %s: %s", msg.id, mask(number), msg.channel, exc)
            return 0
        except (ChannelDown, TimeoutError, OSError) as exc:
            delay = min(BACKOFF[0] * 2 ** max(0, msg.attempts), BACKOFF[1])
            self.outbox.retry(msg, self.clock() + timedelta(seconds=delay), str(exc) or type(exc).__name__)
            log.warning(
                "%s down, message %d to %s retried in %.0f s: %s",
                msg.channel,
                msg.id,
                mask(number),
                delay,
                exc,
            )
            return 0
        done = self.clock()
        self.outbox.sent(msg, result.ref, done)
        self.latencies.append((done - msg.created).total_seconds())
        log.info(
            "message %d (%s %s) sent to %s by %s", msg.id, msg.shown, msg.kind, mask(number), msg.channel
        )
        return 1

    async def _take_back_late(self) -> None:
        """A message a channel still holds (SMS waiting in gammu-smsd's outbox while the modem
        is away) is taken back once it no longer helps, so it never arrives late."""
        now = self.clock()
        yesterday = (date.fromisoformat(local_day(now, self.cfg)) - timedelta(days=1)).isoformat()
        for msg in self.outbox.handed_over(since=yesterday):
            withdraw = getattr(self.channels.get(msg.channel), "withdraw", None)
            reason = self._too_late(msg, now) if withdraw is not None else None
            if reason is None or withdraw is None:
                continue
            if await withdraw(f"m{msg.id}"):
                self.outbox.finish(msg, "dropped", f"{reason}; taken back before it left", now)
                log.info("message %d (%s %s) taken back: %s", msg.id, msg.shown, msg.kind, reason)

    def _too_late(self, msg: Message, now: datetime) -> str | None:
        """Why a message would no longer help, or None. A booking's reminder has its own
        limits (the booking part's `reminder_late`), not `give_up_minutes`: the day-before one
        still helps hours late, while a hub that was off comes back or the modem is away."""
        if msg.kind in REMINDERS:
            return self.reminder_late(msg, now) if self.reminder_late else "bookings are off"
        if now - msg.created > timedelta(minutes=self.ncfg.give_up_minutes):
            return f"could not leave for {self.ncfg.give_up_minutes} min"
        if msg.kind in ("not_served", "test"):
            return None
        state = self.core.state
        tk = state.tickets.get(msg.ticket) if state.day == msg.day else None
        if tk is None:
            return "the day is over"
        if msg.kind == "almost" and tk.state != "waiting":
            return f"the ticket is already {tk.state}"
        if msg.kind == "paused" and tk.state != "waiting":
            return f"the ticket is already {tk.state}"
        if msg.kind == "called" and (tk.state != "called" or now - msg.created > CALLED_TOO_LATE):
            return "the call is over"
        return None

    async def _poll_deliveries(self) -> None:
        if time.monotonic() - self._last_poll < DELIVERY_POLL:
            return
        self._last_poll = time.monotonic()
        for name, channel in self.channels.items():
            try:
                reports = await channel.deliveries()
            except Exception as exc:
                log.debug("no delivery reports from %s: %s", name, exc)
                continue
            for report in reports:
                if report.state in ("delivered", "failed"):
                    self.outbox.delivered(name, report.ref, report.state, report.at)

    def web_routes(self) -> list[web.RouteDef]:
        from antrian.notify.web import routes

        return routes(self)

    # ------------------------------------------------------------------------------------------
    # for people
    # ------------------------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """Channels, messages and monthly counts, as the admin page and `antrian notify status`
        show them (never a number)."""
        return {
            "channels": await channel_statuses(self.channels),
            "today": self.outbox.counts(self.core.state.day),
            "recent": self.outbox.recent(),
            "monthly": self.outbox.monthly(),
        }


async def channel_statuses(channels: Mapping[str, Channel]) -> list[dict[str, Any]]:
    """Each channel's state as people see it (admin page, `antrian notify status`); a channel
    that cannot say within 10 s is shown down, with why."""
    out: list[dict[str, Any]] = []
    for name, channel in channels.items():
        try:
            st = await asyncio.wait_for(channel.status(), 10)
        except Exception as exc:
            out.append({"name": name, "up": False, "last_error": str(exc)[:200]})
            continue
        fields = ("up", "signal_percent", "pending", "sent", "failed", "last_error")
        out.append({"name": name, **{f: getattr(st, f, None) for f in fields}})
    return out


def _key_folder(cfg: Config) -> Path:
    """The day keys live beside the database, never inside it (and never in its backups)."""
    if cfg.database == ":memory:":
        return Path(tempfile.mkdtemp(prefix="antrian-keys-"))
    db = Path(cfg.database)
    return db.with_name(db.name + ".keys")

"""The part that lets a citizen take a ticket from their own phone (`[join] enabled`).

Why a part and not a page of the web part: it has its own rules about who a phone is and how
many tickets phones may take, and an office that does not want it runs without a trace of it.
The ticket itself is the core's: `take_ticket` by the actor `phone:<holder>`, so it has the
kiosk's numbering, status page, notifications and audit log, and the queue decides (in the
same commit) one active ticket per phone and the `[join] share` (`antrian.queue`).

Who a phone is (`holder`):
- `verify = "otp"`: the number, proven by a code sent through the notifications part; the
  holder is the number's keyed tag of the day (`antrian.notify.vault`), unlinkable once the
  day's key is destroyed at closing. The number then also gets the ticket's messages
  ("Bersiaplah", "dipanggil") without typing it again.
- `verify = "device"` (an office with no SMS/WhatsApp channel, LAN only): a random token the
  page keeps on the phone as a cookie; the holder is its hash. Weaker (a second browser is a
  second phone), which is why the share and the rate limits stay in force whatever the mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

from antrian import views
from antrian.config import Config
from antrian.contract import dumps
from antrian.core import Origin
from antrian.extension import Extension
from antrian.i18n import t
from antrian.join.codes import CodeBook, CodeError
from antrian.notify.extension import Notifications, Refusal
from antrian.notify.phone import PhoneError, mask, normalise
from antrian.queue import local_day

if TYPE_CHECKING:
    from aiohttp import web

    from antrian.service import HubService

log = logging.getLogger("antrian.join")

#: How long sending one code may take before the page is told it did not leave.
SEND_TIMEOUT: Final = 20.0
#: A phone's own token (the cookie of `verify = "device"`): 32 random bytes, URL-safe.
TOKEN_BYTES: Final = 32


def new_device_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def device_holder(token: str) -> str:
    """The actor of a phone known by its own token: only a hash of it is ever stored."""
    return "phone:d" + hashlib.sha256(token.encode()).hexdigest()[:20]


class PhoneJoin(Extension):
    """`/ambil`: services and estimates, codes by SMS/WhatsApp, and the ticket."""

    name: ClassVar[str] = "join"
    codes: CodeBook

    def __init__(self, hub: HubService, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(hub)
        self.clock = clock or self.core.clock
        self.jcfg = self.cfg.join

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.join.enabled

    async def start(self) -> None:
        self.codes = CodeBook(self.jcfg.code_minutes, self.jcfg.codes_per_number)
        log.info("ambil antrean dari HP aktif / joining from phones on: %s", self.verify_mode())

    def web_routes(self) -> list[web.RouteDef]:
        from antrian.join.web import routes

        return routes(self)

    # ------------------------------------------------------------------------------------------
    # what the page offers
    # ------------------------------------------------------------------------------------------

    @property
    def notify(self) -> Notifications | None:
        part = self.hub.extension("notify")
        return part if isinstance(part, Notifications) else None

    def verify_mode(self) -> str:
        """ "otp" or "device": `[join] verify`, where "auto" is "otp" when a channel exists."""
        if self.jcfg.verify != "auto":
            return self.jcfg.verify
        notify = self.notify
        return "otp" if notify is not None and notify.channels else "device"

    def services(self) -> list[str]:
        chosen = self.jcfg.services
        return [s.letter for s in self.cfg.services if not chosen or s.letter in chosen]

    def offer(self, lang: str) -> dict[str, Any]:
        """Services with their queue and the estimate for a ticket taken now, the office's
        state, and how this office knows a phone."""
        now = self.clock()
        state = self.core.state
        out = []
        for letter in self.services():
            if letter not in state.services:
                continue
            s = views.service_state(state, letter, now)
            out.append(
                {
                    "letter": letter,
                    "name": s["name"],
                    "status": s["status"],
                    "waiting": s["waiting"] if state.day == local_day(now, self.cfg) else 0,
                    "estimated_wait_min": s["estimated_wait_min"],
                    "estimated_call_at": s["estimated_call_at"],
                    "served_today": s["served_today"],
                    "quota_left": s["quota_left"],
                }
            )
        notify = self.notify
        mode = self.verify_mode()
        return {
            "office": self.cfg.office.name,
            "office_state": views.office_state(self.cfg, now),
            "services": out,
            "verify": mode,
            "channels": list(notify.channels) if notify is not None and mode == "otp" else [],
        }

    # ------------------------------------------------------------------------------------------
    # codes
    # ------------------------------------------------------------------------------------------

    async def send_code(self, phone: object, channel: object, lang: str) -> dict[str, Any] | Refusal:
        """Send a code to the number, now. Why not through the outbox: a code helps for
        minutes and only while the citizen looks at the page, so the page says at once when it
        could not leave instead of a retry that arrives after the code has expired."""
        notify = self.notify
        if self.verify_mode() != "otp" or notify is None or not notify.channels:
            return self._refuse("join.no_codes", lang, 409)
        try:
            e164 = normalise(phone if isinstance(phone, str) else "")
        except PhoneError as exc:
            return Refusal(exc.key, t(exc.key, lang), 400)
        name = (
            channel
            if isinstance(channel, str) and channel in notify.channels
            else next(iter(notify.channels))
        )
        now = self.clock()
        day = local_day(now, self.cfg)
        tag = notify.vault.tag(day, e164)
        try:
            code = self.codes.issue(day, tag, e164, name, now)
        except CodeError as exc:
            return self._refuse(exc.key, lang, 429, **exc.params)
        text = t(
            "join.code_text", lang, code=code, office=self.cfg.office.name, minutes=self.jcfg.code_minutes
        )
        try:
            await asyncio.wait_for(
                notify.channels[name].send(e164, text, f"otp-{secrets.token_hex(6)}"), SEND_TIMEOUT
            )
        except Exception as exc:  # the citizen is told now; nothing waits to leave later
            self.codes.forget(tag)
            log.warning("code to %s not sent by %s: %s", mask(e164), name, exc)
            return self._refuse("join.code_not_sent", lang, 503)
        log.info("code sent to %s by %s", mask(e164), name)
        return {"phone": mask(e164), "channel": name, "minutes": self.jcfg.code_minutes}

    # ------------------------------------------------------------------------------------------
    # the ticket
    # ------------------------------------------------------------------------------------------

    def take(
        self,
        service: object,
        lang: str,
        *,
        phone: object = None,
        code: object = None,
        device_token: str | None = None,
        transaction: str | None = None,
    ) -> dict[str, Any] | Refusal:
        """Take a ticket for the phone: after its code (otp) or by its token (device). The
        core answers (and refuses: one per phone, the share, hours, a paused service)."""
        if not isinstance(service, str) or service not in self.services():
            return self._refuse("join.bad_service", lang, 400)
        mode = self.verify_mode()
        now = self.clock()
        e164 = channel = tag = None
        if mode == "otp":
            notify = self.notify
            try:
                number = normalise(phone if isinstance(phone, str) else "")
            except PhoneError as exc:
                return Refusal(exc.key, t(exc.key, lang), 400)
            if notify is None:
                return self._refuse("join.no_codes", lang, 409)
            tag = notify.vault.tag(local_day(now, self.cfg), number)
            try:
                entry = self.codes.take(tag, code if isinstance(code, str) else "", now)
            except CodeError as exc:
                return self._refuse(exc.key, lang, 403, **exc.params)
            holder = "phone:p" + tag[:20]
            e164, channel = entry.e164, entry.channel
        elif device_token:
            holder = device_holder(device_token)
        else:
            return self._refuse("join.no_device", lang, 403)
        fields: dict[str, Any] = {"service": service, "actor": holder, "sender": holder}
        if transaction:
            fields["transaction"] = transaction[:64]
        out = self.core.handle(Origin(), "take_ticket", dumps(fields))
        self.publish(out)
        body: dict[str, Any] = json.loads(out[0].payload)
        if body.get("status") != "ok":
            from antrian.web.officer import in_language  # the pages' part, loaded with them

            # the core speaks the office's language; the citizen reads the page's
            body = in_language(self.core.state, "take_ticket", fields, body, lang, now)
            data = body.get("data") or {}
            return Refusal(str(data.get("code", "error")), str(body.get("error", "")), 409)
        ticket: dict[str, Any] = body["data"]
        if tag is not None:
            self.codes.used(tag)
        log.info("ticket %s taken from a phone (%s)", ticket["ticket"], mode)
        if e164 is not None and channel is not None and self.notify is not None:
            # the number just proven gets the ticket's messages, as if given on its page
            sub = self.notify.subscribe(ticket["token"], e164, channel, lang, True)
            ticket["notify"] = None if isinstance(sub, Refusal) else sub
        return ticket

    def _refuse(self, key: str, lang: str, status: int, **params: Any) -> Refusal:  # noqa: ANN401
        return Refusal(key.removeprefix("join."), t(key, lang, **params), status)

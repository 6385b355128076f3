"""The web server inside the hub's process: pages, server-sent events, actions, reports.

`start(core, service)` is called by `antrian run` (and by the demo). Every change goes through
`HubCore.handle` and its messages through `HubService.publish`, exactly like a request over
MQTT: the web is one more client of the same rules, never a second source of truth.

Live updates use server-sent events: the browser's EventSource reconnects by itself after the
hub restarts or the Wi-Fi drops, which is what a TV stick in a waiting room needs. A change
(a `Committed` on the hub's bus) is drawn once for all the pages that show it and each page
gets the whole picture again: small, and never out of step (`antrian.web.streams`). Each call is
also sent to the waiting-room pages as its own `call` event, so none is lost in a picture.
A call a speaker node could not play in time (its `device/{id}/event` `call_missed`, kept by
the speakers part) is shown to the officer of that counter and to the admin, and flashed again
on the TV (`missed`).

The pages share the hub's event loop with its MQTT requests, and anybody on the office Wi-Fi
can reach them, so every input is bounded: request size and time (`[web] request_timeout`),
open streams (total and per address), tickets a minute from the kiosk page (per client and in
total), failed logins (a growing delay, then a lock-out), and nothing slow runs on the loop
(password checks in a thread, QR codes in a worker process).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from antrian import views
from antrian.bus import Committed, MessageIn
from antrian.config import OfficeConfig
from antrian.contract import CALL_EVENTS, CODE_ALPHABET, CODE_LENGTH, ROLE_COMMANDS, dumps, normalise_code
from antrian.core import HubCore, Origin
from antrian.device_info import DeviceHealth, read_info
from antrian.device_info import hints as device_hints
from antrian.extensions.speakers import MissedCall, Speakers
from antrian.extensions.updates import FirmwareUpdates
from antrian.i18n import t
from antrian.printer import PrinterError, print_ticket
from antrian.queue import DomainError, Event, local_day
from antrian.service import HubService
from antrian.web import officer as desk
from antrian.web import pages, stats
from antrian.web.accounts import Accounts, User, verify_password
from antrian.web.limits import LoginThrottle, RateLimit, client_address, retry_after, wait_all
from antrian.web.monitor import TopicMonitor
from antrian.web.qr import svg as qr_svg
from antrian.web.streams import Refused, Stream, Streams, sse
from antrian.web.text import texts

log = logging.getLogger("antrian.web")

STATIC: Final = Path(__file__).with_name("static")
SESSION_COOKIE: Final = "antrian_session"
ANON_COOKIE: Final = "antrian_anon"
#: The kiosk tablet's key (`antrian users kiosk NAME`), kept by the tablet's browser: the kiosk
#: page and its tickets are for the office's own tablets, not for any phone on the Wi-Fi.
KIOSK_COOKIE: Final = "antrian_kiosk"
KIOSK_COOKIE_DAYS: Final = 400  # what browsers keep a cookie at most

#: `set_priority` is the staff's correction of a ticket wrongly taken (or not taken) as
#: priority: officers see the ticket in hand, so they may do it too, always with a reason.
REASON_REQUIRED: Final = frozenset({"set_priority"})
#: The running text of the TV (pengumuman): where it is kept (the store's `meta` table, so it
#: outlives a restart) and how long it may be. It is plain text: the TV writes it as text,
#: never as HTML, and line breaks become spaces (it is one scrolling line).
RUNNING_TEXT_META: Final = "web.running_text"
RUNNING_TEXT_MAX: Final = 200
TZ_LABELS: Final = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

#: The QR worker: one URL a line in (JSON), its SVG a line out (JSON).
_QR_WORKER: Final = (
    "import json, sys\n"
    "from antrian.web.qr import svg\n"
    "for line in sys.stdin:\n"
    "    print(json.dumps(svg(json.loads(line))), flush=True)\n"
)


class QrDrawer:
    """QR codes drawn in a worker process: ~5-15 ms of Python each, which on the event loop
    (or in a thread, holding the interpreter lock) would delay the MQTT requests behind it.

    A plain child process (`python -c`), not multiprocessing: nothing of the hub's own start-up
    is run again in it. It is started when the kiosk page is opened (`warm`), so the first
    ticket does not wait for it; if it cannot run, the code is drawn in a thread instead.
    """

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def _worker(self) -> asyncio.subprocess.Process:
        if self.proc is None or self.proc.returncode is not None:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _QR_WORKER,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        return self.proc

    def warm(self) -> None:
        """Start the worker now, in the background (the kiosk page was opened)."""
        if self.proc is None and not self.lock.locked():
            asyncio.get_running_loop().create_task(self._warm())

    async def _warm(self) -> None:
        async with self.lock:
            with contextlib.suppress(OSError):
                await self._worker()

    async def svg(self, text: str) -> str:
        # shielded: a kiosk that hangs up must not leave its answer in the pipe for the next
        return await asyncio.shield(self._draw(text))

    async def _draw(self, text: str) -> str:
        try:
            async with self.lock:
                proc = await self._worker()
                assert proc.stdin is not None
                assert proc.stdout is not None
                proc.stdin.write(json.dumps(text).encode() + b"\n")
                await proc.stdin.drain()
                async with asyncio.timeout(10):
                    line = await proc.stdout.readline()
            drawn: str = json.loads(line)
            return drawn
        except (OSError, ValueError, TimeoutError) as exc:
            log.warning("QR worker process unavailable (%r): drawing in a thread", exc)
            await self.close()
            return await asyncio.get_running_loop().run_in_executor(None, qr_svg, text)

    async def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()


class WebApp:
    """The pages of one hub: state, accounts, topic monitor, open streams and the limits."""

    def __init__(self, core: HubCore, service: HubService) -> None:
        self.core = core
        self.service = service
        self.cfg = core.cfg
        web_cfg = core.cfg.web
        self.accounts = Accounts(core.store.db)
        self.monitor = TopicMonitor(core.cfg)
        self.streams = Streams(
            self._render,
            max_total=web_cfg.max_streams,
            max_per_client=web_cfg.max_streams_per_client,
            version=lambda: self.core.state.version,
        )
        self.tickets_per_client = RateLimit(web_cfg.tickets_per_minute_per_client)
        self.tickets_total = RateLimit(web_cfg.tickets_per_minute)
        self.logins = LoginThrottle(
            web_cfg.login_max_failures, 60.0 * web_cfg.login_lockout_minutes, web_cfg.login_delay
        )
        self.qr = QrDrawer()
        self.audio = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.running_text = core.store.meta(RUNNING_TEXT_META) or ""
        #: The calls not heard the TV has flashed (`_on_message`).
        self._unheard_shown: dict[int, MissedCall] = {}
        core.bus.on(Committed, self, self._on_committed)
        core.bus.on(MessageIn, self, self._on_message)
        self.monitor.listeners.append(self.streams.mqtt)

    @property
    def tv_voice(self) -> bool:
        """Whether the TV speaks the calls: `[web] tv_voice`, or by default only when no speaker
        node is registered (a TV and a speaker saying the same call a second apart are heard
        as neither)."""
        setting = self.cfg.web.tv_voice
        if setting is not None:
            return setting
        return not any(d.role == "speaker" for d in self.cfg.devices)

    # ------------------------------------------------------------------------------------------
    # change notification
    # ------------------------------------------------------------------------------------------

    def _on_committed(self, committed: Committed) -> None:
        """Draw the change for every page; hand each call itself to the waiting-room pages."""
        calls = [sse("call", self.call_view(e)) for e in committed.events if e.type in CALL_EVENTS]

        def show() -> None:
            for frame in calls:
                self.streams.call(frame)
            self.streams.changed()

        if self.loop is not None:  # the streams live on the pages' loop
            self.loop.call_soon_threadsafe(show)

    def call_view(self, e: Event) -> dict[str, Any]:
        """One call or recall as the TV shows and says it."""
        number = e.data["counter"]
        cc = self.cfg.counter(number)
        return {
            "ticket": e.data["ticket"],
            "counter": number,
            "counter_name": cc.label if cc else f"Loket {number}",
            "recall": e.type == "ticket_recalled",
            "at": e.at.astimezone(self.cfg.office.tz).isoformat(timespec="seconds"),
        }

    def _on_message(self, msg: MessageIn) -> None:
        """A device's `info` or `availability`: the admin page's devices table is drawn again.
        A device's `event`: what a speaker could not play (`call_missed`), or played after
        all. The speakers part reads and keeps it (`Speakers.unheard`); the pages show what it
        keeps, and the TV flashes a call that was newly not heard."""
        parsed = self.service.topics.parse_device_topic(msg.topic)
        if parsed is not None and parsed[1] in ("info", "availability") and not parsed[2]:
            if self.loop is not None:  # the devices table: a printer out of paper shows at once
                self.loop.call_soon_threadsafe(self.streams.changed)
            return
        if parsed is None or parsed[1] != "event" or parsed[2] or msg.retained:
            return

        def show() -> None:
            unheard = self._unheard()
            for counter, missed in unheard.items():
                if self._unheard_shown.get(counter) is not missed:
                    self.streams.call(sse("missed", self.missed_view(missed)))
            self._unheard_shown = unheard
            self.streams.changed()

        if self.loop is not None:  # after the speakers part has read it, on the pages' loop
            self.loop.call_soon_threadsafe(show)

    def _unheard(self) -> dict[int, MissedCall]:
        """Counter -> the call it is still serving that a speaker could not play."""
        speakers = self.service.extension("speakers")
        if not isinstance(speakers, Speakers) or not hasattr(speakers, "unheard"):  # not started
            return {}
        return {n: m for n, m in speakers.unheard.items() if speakers.unheard_ticket(n) == m["ticket"]}

    def missed_view(self, missed: MissedCall) -> dict[str, Any]:
        """A call not heard as the pages show it: "Panggilan tidak terdengar: A-012 (Loket 1)"."""
        cc = self.cfg.counter(missed["counter"])
        return {
            "ticket": missed["ticket"],
            "counter": missed["counter"],
            "counter_name": cc.label if cc else f"Loket {missed['counter']}",
            "device": missed["device"],
            "reason": missed["reason"],
            "at": missed["at"],
        }

    def missed_now(self) -> list[dict[str, Any]]:
        """The calls not heard still to act on (the ticket is still at that counter), newest
        first."""
        views_ = [self.missed_view(m) for m in self._unheard().values()]
        return sorted(views_, key=lambda v: str(v["at"]), reverse=True)

    # ------------------------------------------------------------------------------------------
    # pictures
    # ------------------------------------------------------------------------------------------

    def _render(self, kind: str, key: str) -> bytes:
        """One picture for `Streams` (drawn once per change, shared by every page showing it)."""
        if kind == "public":
            return sse("state", self.public_state())
        if kind == "admin":
            return sse("state", self.admin_state())
        if kind == "officer":
            return sse("state", self.officer_state())
        if kind == "api":
            return json.dumps(self.public_state(), ensure_ascii=False).encode()
        return sse("state", self.ticket_state(key) or {"gone": True})

    def public_state(self) -> dict[str, Any]:
        """What anybody in the waiting room may see: numbers, counters, waits. No tokens."""
        core, st = self.core, self.core.state
        now = core.clock()
        recent = []
        for code, number, at in st.recent_calls:  # newest first, a recall again each time
            cc = self.cfg.counter(number)
            local = at.astimezone(self.cfg.office.tz)
            ticket = st.tickets.get(code)
            recent.append(
                {
                    "ticket": code,
                    "counter": number,
                    "counter_name": cc.label if cc else f"Loket {number}",
                    "at": local.isoformat(timespec="seconds"),
                    "recalls": ticket.recalls if ticket else 0,
                }
            )
        return {
            "office": self.cfg.office.name,
            "timezone": self.cfg.office.timezone,
            "tz_label": TZ_LABELS.get(self.cfg.office.timezone, ""),
            "now": now.isoformat(timespec="seconds"),
            "day": st.day or None,
            "hub_online": self.service.connected.is_set(),
            # open or not, and when it opens: the TV's notice, the kiosk page's buttons
            "office_state": views.office_state(self.cfg, now),
            "services": [views.service_state(st, letter, now) for letter in st.services],
            "counters": [views.counter_state(st, n) for n in st.counters],
            "recent": recent,
            "audio": self.audio,
            "tv_voice": self.tv_voice,
            "running_text": self.running_text,
            "missed": self.missed_now(),
        }

    def ticket_state(self, token: str) -> dict[str, Any] | None:
        st = self.core.state
        code = st.by_token.get(token)
        if code is None:
            return None
        view: dict[str, Any] = {**views.ticket_view(st, st.tickets[code], self.core.clock())}
        view.pop("token", None)
        view.pop("status_url", None)
        if view["counter"] is not None:
            cc = self.cfg.counter(view["counter"])
            view["counter_name"] = cc.label if cc else f"Loket {view['counter']}"
        view["tz_label"] = TZ_LABELS.get(self.cfg.office.timezone, "")
        return view

    def devices(self) -> list[dict[str, Any]]:
        """Configured devices and any others seen on the broker, with their last state."""
        seen = self.service.devices_seen
        out = []
        updates = self.service.extension("updates")
        ota = {r["device"]: r for r in updates.status()} if isinstance(updates, FirmwareUpdates) else {}
        known = [d.id for d in self.cfg.devices]
        ids = known + sorted(set(seen) - set(known))
        for dev_id in ids:
            dev = self.cfg.device(dev_id)
            s = seen.get(dev_id, {})
            health: DeviceHealth = s.get("info") or read_info(None)
            online = s.get("availability") == "online"
            uptime = health["uptime_s"]
            if uptime is not None and online:
                # `info` comes on connect: the board has run since, as long as it is online
                uptime += int(time.monotonic() - s.get("info_at", time.monotonic()))
            out.append(
                {
                    "id": dev_id,
                    "role": dev.role if dev else "?",
                    "counter": dev.counter if dev else None,
                    "availability": s.get("availability"),
                    "last_seen": s.get("last_seen"),
                    "registered": dev is not None,
                    **health,
                    "uptime_s": uptime,
                    "hints": device_hints(health),
                    "ota": ota.get(dev_id),  # a MicroPython board: its build, the one offered
                }
            )
        return out

    def officer_state(self) -> dict[str, Any]:
        """The officer page: the waiting room's picture, and each counter's desk (the ticket in
        hand, the waiting list in calling order) and the missed tickets (`antrian.web.officer`)."""
        return {**self.public_state(), **desk.officer_view(self.core.state, self.core.clock())}

    def admin_state(self) -> dict[str, Any]:
        st = self.core.state
        waiting = sorted(
            (t for t in st.tickets.values() if t.state == "waiting"),
            key=lambda t: (t.service, not t.priority, t.order),
        )
        skipped = [t for t in st.tickets.values() if t.state == "skipped"]
        return {
            **self.public_state(),
            "waiting": [
                {"ticket": t.code, "service": t.service, "priority": t.priority} for t in waiting[:200]
            ],
            "skipped": [{"ticket": t.code, "service": t.service} for t in skipped[-50:]],
            "devices": self.devices(),
            "monitor_connected": self.monitor.connected,
        }

    # ------------------------------------------------------------------------------------------
    # acting
    # ------------------------------------------------------------------------------------------

    def act(self, command: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Run a command through the hub's core and publish its effects; the response envelope."""
        out = self.core.handle(Origin(), command, dumps(fields))
        self.service.publish(out)
        body: dict[str, Any] = json.loads(out[0].payload)
        return body

    # ------------------------------------------------------------------------------------------
    # requests: helpers
    # ------------------------------------------------------------------------------------------

    def lang(self, request: web.Request) -> str:
        q = request.rel_url.query.get("lang")
        if q in ("id", "en"):
            return q
        return "en" if self.cfg.office.language == "en" else "id"

    def csrf(self, request: web.Request) -> str:
        return self.accounts.csrf_token(str(request["binding"]))

    def csrf_ok(self, request: web.Request, token: str | None) -> bool:
        token = request.headers.get("X-CSRF-Token") or token
        return self.accounts.csrf_ok(request.get("binding"), token)

    def page(
        self,
        request: web.Request,
        page: str,
        title_key: str,
        body: str,
        boot: dict[str, Any] | None = None,
        status: int = 200,
    ) -> web.Response:
        lang = self.lang(request)
        user: User | None = request.get("user")
        html = pages.shell(
            lang=lang,
            title=f"{texts(lang)[title_key]} · {self.cfg.office.name}",
            page=page,
            body=body,
            csrf=self.csrf(request),
            boot=boot,
            user=user.actor if user else None,
        )
        return web.Response(
            text=html, content_type="text/html", status=status, headers={"Cache-Control": "no-store"}
        )

    def need_user(self, request: web.Request, roles: tuple[str, ...]) -> User:
        """The logged-in user with one of `roles`; otherwise redirect to login or 403."""
        user: User | None = request.get("user")
        if user is None:
            target = quote(request.rel_url.path_qs, safe="")
            raise web.HTTPFound(f"/login?lang={self.lang(request)}&next={target}")
        if user.role not in roles:
            raise web.HTTPForbidden(text=texts(self.lang(request))["forbidden"])
        return user

    def secure_cookies(self, request: web.Request) -> bool:
        """Whether this answer's cookies are Secure (sent back over HTTPS only): always with
        `[web] secure_cookies`, else when this request came over HTTPS. The office's LAN pages
        on plain http keep working while the internet side behind a proxy gets Secure ones."""
        return self.cfg.web.secure_cookies or bool(request.get("https"))

    def public_base(self, request: web.Request) -> str:
        """Where phones reach the hub: the configured public URL, else the address used here."""
        if self.cfg.office.public_url != OfficeConfig().public_url:
            return self.cfg.office.public_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    # ------------------------------------------------------------------------------------------
    # streams
    # ------------------------------------------------------------------------------------------

    async def stream(
        self, request: web.Request, kind: str, key: str = "", first: Callable[[], list[bytes]] | None = None
    ) -> web.StreamResponse:
        """A live page following (`kind`, `key`), if there is room for it."""
        address = request["address"]
        try:
            self.streams.admit(address)
        except Refused as exc:
            log.info("live page refused (%s) for %s", exc.key, address)
            return web.Response(
                text=texts(self.lang(request))[exc.key],
                status=exc.status,
                headers={"Retry-After": "30", "Cache-Control": "no-store"},
            )
        frames = (first() if first else []) + [self.streams.frame(kind, key)]
        stream = Stream(kind, key, address, wants_mqtt=kind == "admin")
        return await self.streams.serve(request, stream, frames)


K_WEB: Final = web.AppKey("antrian_web", WebApp)


# ---------------------------------------------------------------------------------------------
# middleware
# ---------------------------------------------------------------------------------------------


@web.middleware
async def identify(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Who is asking: the session's user, or an anonymous browser (for its CSRF token), and
    from which address (the per-client limits)."""
    app: WebApp = request.app[K_WEB]
    request["address"] = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), app.cfg.web.trusted_proxies
    )
    # reached over HTTPS: directly, or through a trusted reverse proxy that says so (the
    # phone page behind Caddy or nginx, docs/ambil-dari-hp.md); its cookies are then Secure
    request["https"] = request.secure or (
        request.remote in app.cfg.web.trusted_proxies
        and request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"
    )
    anon = request.cookies.get(ANON_COOKIE)
    new_anon = None
    if not anon or len(anon) > 64:
        anon = new_anon = secrets.token_urlsafe(18)
    session = request.cookies.get(SESSION_COOKIE)
    user = app.accounts.session_user(session)
    request["user"] = user
    request["binding"] = f"s:{session}" if user else f"a:{anon}"
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type == "text/plain" and "/api/" not in request.path:
            body = (
                f'<main class="card narrow"><h1>{exc.status}</h1>'
                f'<p class="error">{escape(exc.text or "")}</p></main>'
            )
            return app.page(request, "error", "status", body, status=exc.status)
        raise
    if new_anon and not resp.prepared:
        resp.set_cookie(
            ANON_COOKIE,
            new_anon,
            httponly=True,
            samesite="Strict",
            path="/",
            secure=app.secure_cookies(request),
        )
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    return resp


# ---------------------------------------------------------------------------------------------
# handlers
# ---------------------------------------------------------------------------------------------

routes = web.RouteTableDef()


def _app(request: web.Request) -> WebApp:
    return request.app[K_WEB]


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    app = _app(request)
    lang = app.lang(request)
    links = [
        ("/tv", "now_serving"),
        ("/kiosk", "kiosk_title"),
        ("/officer", "officer_title"),
        ("/admin", "admin_title"),
        ("/survey", "survey_title"),  # the survey part's pages (antrian.survey)
        ("/admin/reports", "report_title"),  # the reports part (antrian.reports)
        ("/admin/survey", "survey_admin_title"),
    ]
    t = texts(lang)
    items = "".join(f'<li><a href="{u}?lang={lang}">{escape(t[k])}</a></li>' for u, k in links)
    return app.page(
        request,
        "index",
        "status",
        f'<main class="card narrow"><h1>{escape(app.cfg.office.name)}</h1>'
        f'<ul class="links">{items}</ul></main>',
    )


@routes.get("/tv")
async def tv(request: web.Request) -> web.Response:
    return _app(request).page(request, "tv", "now_serving", '<div id="app"></div>')


def _notice(
    app: WebApp, request: web.Request, title_key: str, lines: list[tuple[str, str, str]], status: int
) -> web.Response:
    """A page that only says why not: its title, then `lines` of (class, id, text key)."""
    t = texts(app.lang(request))
    paragraphs = "".join(
        f'<p class="{cls}"' + (f' id="{id_}"' if id_ else "") + f">{escape(t[key])}</p>"
        for cls, id_, key in lines
    )
    return app.page(
        request,
        "error",
        title_key,
        f'<main class="card narrow"><h1>{escape(t[title_key])}</h1>{paragraphs}</main>',
        status=status,
    )


def _kiosk_refused(app: WebApp, request: web.Request) -> web.Response:
    lines = [("error", "kiosk-locked", "kiosk_locked"), ("fine", "", "kiosk_locked_hint")]
    return _notice(app, request, "kiosk_title", lines, 403)


@routes.get("/kiosk")
async def kiosk(request: web.Request) -> web.Response:
    """The tablet kiosk, only on a tablet holding its key. The key comes once in the address
    (`?key=`, from `antrian users kiosk NAME`), is kept as a cookie and taken out of the
    address at once, so it is not left on the screen or in the history."""
    app = _app(request)
    key = request.rel_url.query.get("key")
    if key is not None:
        if app.accounts.kiosk_name(key) is None:
            log.warning("kiosk page: a wrong or old kiosk key from %s", request["address"])
            return _kiosk_refused(app, request)
        resp = web.Response(status=303, headers={"Location": f"/kiosk?lang={app.lang(request)}"})
        resp.set_cookie(
            KIOSK_COOKIE,
            key,
            httponly=True,
            samesite="Strict",
            path="/",
            max_age=KIOSK_COOKIE_DAYS * 86400,
            secure=app.secure_cookies(request),
        )
        return resp
    if app.accounts.kiosk_name(request.cookies.get(KIOSK_COOKIE)) is None:
        return _kiosk_refused(app, request)
    app.qr.warm()
    # the code's characters: the keypad of "Punya kode reservasi?" has these only
    boot = {"code": {"alphabet": CODE_ALPHABET, "length": CODE_LENGTH, "max": CHECK_IN_CODE_MAX}}
    return app.page(request, "kiosk", "kiosk_title", '<div id="app"></div>', boot)


@routes.get("/t/{token}")
async def status_page(request: web.Request) -> web.Response:
    app = _app(request)
    token = request.match_info["token"]
    if app.ticket_state(token) is None:
        return _notice(app, request, "status_title", [("error", "token-unknown", "token_unknown")], 404)
    return app.page(request, "status", "status_title", '<div id="app"></div>', {"token": token})


@routes.get("/officer")
async def officer(request: web.Request) -> web.Response:
    app = _app(request)
    user = app.need_user(request, ("officer", "admin"))
    # the counters this account may run (empty: every one); the server checks every action
    return app.page(
        request, "officer", "officer_title", '<div id="app"></div>', {"counters": list(user.counters)}
    )


@routes.get("/events/officer")
async def events_officer(request: web.Request) -> web.StreamResponse:
    app = _app(request)
    app.need_user(request, ("officer", "admin"))
    return await app.stream(request, "officer")


@routes.get("/help")
async def help_page(request: web.Request) -> web.Response:
    """The officers' guide (`docs/officer-guide.md`), drawn as a page of the hub."""
    app = _app(request)
    t = texts(app.lang(request))
    try:
        body = desk.render_markdown(desk.GUIDE.read_text(encoding="utf-8"))
    except OSError:
        body = f'<p class="error">{escape(t["help_missing"])}</p>'
    return app.page(request, "help", "help_title", f'<main class="card guide" id="guide">{body}</main>')


@routes.get("/help/img/{name:[A-Za-z0-9_-]{1,40}\\.png}")
async def help_image(request: web.Request) -> web.StreamResponse:
    """A screenshot of the guide; only the PNG files of `docs/img/` (the name is checked)."""
    path = desk.IMAGES / request.match_info["name"]
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "max-age=3600"})


@routes.get("/admin")
async def admin(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    return app.page(
        request,
        "admin",
        "admin_title",
        '<div id="app"></div>',
        {"today": app.core.state.day or local_day(app.core.clock(), app.cfg)},
    )


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    app = _app(request)
    lang = app.lang(request)
    nxt = request.rel_url.query.get("next", "/admin")
    return app.page(request, "login", "login_title", pages.login_body(lang, app.csrf(request), nxt, None))


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def _read(app: WebApp, request: web.Request, parse: Callable[[], Awaitable[Any]]) -> Any:  # noqa: ANN401
    """A request body, parsed; a client that sends it too slowly gets 408 (`request_timeout`).

    The size is bounded by the application (`client_max_size`); the time is bounded here.
    """
    try:
        return await asyncio.wait_for(parse(), app.cfg.web.request_timeout)
    except TimeoutError:
        raise web.HTTPRequestTimeout(text=texts(app.lang(request))["too_slow"]) from None


async def _checked_form(app: WebApp, request: web.Request) -> Any:  # noqa: ANN401
    """A posted form whose CSRF field (or header) is right; 403 otherwise."""
    form = await _read(app, request, request.post)
    if not app.csrf_ok(request, str(form.get("csrf", ""))):
        raise web.HTTPForbidden(text=texts(app.lang(request))["csrf_failed"])
    return form


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    """Log in, throttled per account and per address (see `LoginThrottle`).

    An attempt that comes too early is refused before the password is looked at; a check,
    once started, finishes and is counted even if the client hangs up (shield), so closing
    the connection early gains a guesser nothing.
    """
    app = _app(request)
    form = await _checked_form(app, request)
    name, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:256]
    nxt = _safe_next(str(form.get("next", "/")))
    lang = app.lang(request)
    address = request["address"]
    keys = (f"user:{name.lower()}", f"ip:{address}")
    wait, locked = app.logins.wait(keys)
    user = None
    if wait == 0:
        app.logins.begin(keys)  # at once: a parallel attempt now waits for this one
        user = await asyncio.shield(_check_login(app, name, password, keys, address))
        wait, locked = app.logins.wait(keys)
        wait = wait if locked else 0.0  # this attempt was checked: it failed, unless now locked
    if user is None:
        t = texts(lang)
        status, headers = 401, {}
        message = t["login_failed"]
        if wait > 0:
            status, headers = 429, {"Retry-After": str(retry_after(wait))}
            message = (
                t["login_locked"].format(minutes=retry_after(wait / 60))
                if locked
                else t["login_wait"].format(seconds=retry_after(wait))
            )
        resp = app.page(
            request,
            "login",
            "login_title",
            pages.login_body(lang, app.csrf(request), nxt, message),
            status=status,
        )
        resp.headers.update(headers)
        return resp
    token = app.accounts.open_session(user)
    found = web.HTTPFound(nxt)
    found.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=12 * 3600,
        secure=app.secure_cookies(request),
    )
    raise found


async def _check_login(
    app: WebApp, name: str, password: str, keys: tuple[str, ...], address: str
) -> User | None:
    """Check a password and count the outcome (the caller has called `begin(keys)`)."""
    throttle = app.logins
    try:
        role, stored = app.accounts.lookup(name)
        # ~50 ms of scrypt: off the event loop, which also answers the queue's MQTT requests
        ok = await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
    finally:
        throttle.end(keys)
    if ok and role:
        throttle.succeeded(keys)
        return User(name, role)
    log.warning("failed login for %r from %s", name, address)
    minutes = app.cfg.web.login_lockout_minutes
    for key in throttle.failed(keys):
        log.warning(
            "login locked for %d minutes after %d failures: %s (from %s)",
            minutes,
            throttle.max_failures,
            key,
            address,
        )
        app.accounts.record_lockout(key, address, throttle.max_failures, minutes)
    return None


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    app = _app(request)
    await _checked_form(app, request)
    app.accounts.close_session(request.cookies.get(SESSION_COOKIE))
    resp = web.HTTPFound("/login")
    resp.del_cookie(SESSION_COOKIE, path="/", secure=app.secure_cookies(request))
    raise resp


@routes.get("/events/public")
async def events_public(request: web.Request) -> web.StreamResponse:
    return await _app(request).stream(request, "public")


@routes.get("/events/ticket/{token}")
async def events_ticket(request: web.Request) -> web.StreamResponse:
    return await _app(request).stream(request, "ticket", request.match_info["token"][:64])


@routes.get("/events/admin")
async def events_admin(request: web.Request) -> web.StreamResponse:
    app = _app(request)
    app.need_user(request, ("admin",))
    return await app.stream(request, "admin", first=lambda: [sse("monitor", app.monitor.snapshot())])


@routes.get("/api/state")
async def api_state(request: web.Request) -> web.Response:
    """The waiting-room picture as JSON: the one drawn for the live pages (not redrawn per call)."""
    return web.Response(body=_app(request).streams.frame("api", ""), content_type="application/json")


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await _read(_app(request), request, request.json)
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="JSON body expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


def _csrf_refused(app: WebApp, request: web.Request) -> web.Response:
    return web.json_response(
        {"status": "error", "error": texts(app.lang(request))["csrf_failed"], "data": {"code": "csrf"}},
        status=403,
    )


def _kiosk_gate(app: WebApp, request: web.Request, what: str) -> str | web.Response:
    """The name of the kiosk tablet a POST of the kiosk page comes from, or its refusal: only a
    tablet holding a kiosk key (`KIOSK_COOKIE`), CSRF-protected, and rate-limited per address
    and per browser (a script on one phone or PC) and in total (a script that changes both):
    `[web] tickets_per_minute*`. A ticket and a check-in share the one allowance, so guessing
    codes at a tablet is no faster than taking tickets. `what` names the request in the log."""
    tablet = app.accounts.kiosk_name(request.cookies.get(KIOSK_COOKIE))
    if tablet is None:
        return web.json_response(
            {
                "status": "error",
                "error": texts(app.lang(request))["kiosk_locked"],
                "data": {"code": "kiosk_key"},
            },
            status=403,
        )
    if not app.csrf_ok(request, None):
        return _csrf_refused(app, request)
    wait = wait_all(
        [
            (app.tickets_per_client, f"ip:{request['address']}"),
            (app.tickets_per_client, request["binding"]),
            (app.tickets_total, "kiosk"),
        ]
    )
    if wait > 0:
        seconds = retry_after(wait)
        log.warning(
            "kiosk page: %s refused to %s, rate limit (retry in %d s)", what, request["address"], seconds
        )
        return web.json_response(
            {
                "status": "error",
                "data": {"code": "rate_limited", "retry_after": seconds},
                "error": texts(app.lang(request))["too_many_tickets"].format(seconds=seconds),
            },
            status=429,
            headers={"Retry-After": str(seconds)},
        )
    return tablet


async def _kiosk_ticket(app: WebApp, request: web.Request, data: dict[str, Any], *, printed: bool) -> None:
    """A ticket as the kiosk page shows it: its status link only as a QR code (the token is
    not sent on), printed on the hub's printer when `printed` and the office has one."""
    url = f"{app.public_base(request)}/t/{data['token']}"
    data["status_url"] = url
    qr = asyncio.ensure_future(app.qr.svg(url))
    if printed and app.cfg.printer.device is not None:
        data["printed"], data["print_error"] = await _print(app, dict(data))
    data["qr"] = await qr
    data.pop("token", None)


@routes.post("/api/ticket")
async def api_ticket(request: web.Request) -> web.Response:
    """The kiosk page takes a ticket: only a tablet holding a kiosk key, anonymous otherwise
    (a citizen at the tablet), CSRF-protected and rate-limited (`_kiosk_gate`)."""
    app = _app(request)
    tablet = _kiosk_gate(app, request, "ticket")
    if isinstance(tablet, web.Response):
        return tablet
    body = await _json_body(request)
    fields: dict[str, Any] = {
        "service": body.get("service"),
        "priority": body.get("priority", False),
        "actor": f"kiosk:{tablet}",  # the audit log says which tablet
        "sender": f"web:{request['binding'][2:20]}",
    }
    if isinstance(body.get("transaction"), str):
        fields["transaction"] = body["transaction"][:64]
    result = app.act("take_ticket", fields)
    if result.get("status") == "ok":
        await _kiosk_ticket(app, request, result["data"], printed=True)
    return web.json_response(result)


#: The longest code the kiosk page may send: six characters typed with spaces or dashes, or
#: what a scanner reads off the booking's QR code. Anything longer is no code.
CHECK_IN_CODE_MAX: Final = 32


@routes.post("/api/check-in")
async def api_check_in(request: web.Request) -> web.Response:
    """The kiosk page's "Punya kode reservasi?": `{code, transaction?}` becomes the citizen's
    number through the hub's `check_in`, as the ESP32 kiosk's scanner does. A booking's code
    gives a new ticket at its slot, printed like a ticket taken here; a code the hub answers
    with `check_in: "remote"` (a ticket taken earlier from a phone) needs no new slip. The
    same gate as a ticket (`_kiosk_gate`); what is no code is refused before the hub is asked,
    and the hub's refusals (unknown, used, another day) come in the page's language."""
    app = _app(request)
    tablet = _kiosk_gate(app, request, "check-in")
    if isinstance(tablet, web.Response):
        return tablet
    body = await _json_body(request)
    typed = body.get("code")
    code = normalise_code(typed) if isinstance(typed, str) and len(typed) <= CHECK_IN_CODE_MAX else ""
    if not code:
        return web.json_response(
            {
                "status": "error",
                "error": texts(app.lang(request))["kiosk_code_not_a_code"],
                "data": {"code": "not_a_code"},
            },
            status=400,
        )
    fields: dict[str, Any] = {
        "booking": code,
        "actor": f"kiosk:{tablet}",
        "sender": f"web:{request['binding'][2:20]}",
    }
    if isinstance(body.get("transaction"), str):
        fields["transaction"] = body["transaction"][:64]
    result = app.act("check_in", fields)
    if result.get("status") == "ok":
        data = result["data"]
        await _kiosk_ticket(app, request, data, printed=data.get("check_in") != "remote")
    elif app.lang(request) != app.cfg.office.language:
        result = _check_in_refusal_in(app, fields, result, app.lang(request))
    return web.json_response(result)


def _check_in_refusal_in(
    app: WebApp, fields: dict[str, Any], result: dict[str, Any], lang: str
) -> dict[str, Any]:
    """A refused check-in said in the page's language; the core answers in the office's. The
    code is asked again, reading only (the booking part's `resolve` reads its table, the
    rules' `decide` is pure): the refusal it raises now, with its parameters, is said in
    `lang`. Anything else (the office's hours, a full quota) is left as the core said it."""
    code = (result.get("data") or {}).get("code")
    now = app.core.clock()
    try:
        args = app.core.resolve_booking(dict(fields), now)
        app.core.state.decide("check_in", args, str(fields["actor"]), now)
    except DomainError as exc:
        if exc.key == code:
            return {**result, "error": t(exc.key, lang, **exc.params)}
    return result


async def _print(app: WebApp, ticket: dict[str, Any]) -> tuple[bool, str | None]:
    """Print on the hub's printer; the ticket is issued either way (it is on screen with its QR)."""
    try:
        lang = app.cfg.office.language  # the office's, as an ESP32 kiosk of the office prints
        await asyncio.get_running_loop().run_in_executor(None, print_ticket, app.cfg.printer, ticket, lang)
    except PrinterError as exc:
        log.error("ticket %s not printed: %s", ticket.get("ticket"), exc)
        return False, str(exc)
    return True, None


@routes.post("/api/action")
async def api_action(request: web.Request) -> web.Response:
    """An officer or admin action: checked for login, CSRF and role, then run by the core."""
    app = _app(request)
    user: User | None = request.get("user")
    if user is None:
        return web.json_response(
            {"status": "error", "error": "login required", "data": {"code": "login"}}, status=401
        )
    if not app.csrf_ok(request, None):
        return _csrf_refused(app, request)
    body = await _json_body(request)
    command = body.pop("command", None)
    allowed = ROLE_COMMANDS.get(user.role, frozenset())
    if command not in allowed:
        return web.json_response(
            {"status": "error", "error": texts(app.lang(request))["forbidden"], "data": {"code": "role"}},
            status=403,
        )
    if command in REASON_REQUIRED and not str(body.get("reason") or "").strip():
        return web.json_response(
            {
                "status": "error",
                "error": texts(app.lang(request))["reason_required"],
                "data": {"code": "reason"},
            },
            status=400,
        )
    refused = desk.refusal(app.core.state, user, str(command), body)
    if refused is not None:
        key, params = refused
        return web.json_response(
            {
                "status": "error",
                "error": texts(app.lang(request))[key].format(**params),
                "data": {"code": key},
            },
            status=403,
        )
    body.pop("actor", None)
    body.pop("sender", None)
    body["actor"] = user.actor
    fields = dict(body)
    result = app.act(str(command), body)
    if app.lang(request) != app.cfg.office.language:  # the core speaks the office's language
        result = desk.in_language(
            app.core.state, str(command), fields, result, app.lang(request), app.core.clock()
        )
    return web.json_response(result)


@routes.post("/api/running-text")
async def api_running_text(request: web.Request) -> web.Response:
    """The admin sets the TV's running text (pengumuman); an empty text clears it.

    Kept in the store, so a restarted hub shows it again. Bounded (`RUNNING_TEXT_MAX`
    characters, one line) and plain text: it reaches every TV in the room, so no markup of an
    admin's (or of a stolen session's) is ever drawn as HTML.
    """
    app = _app(request)
    user: User | None = request.get("user")
    t = texts(app.lang(request))
    if user is None:
        return web.json_response(
            {"status": "error", "error": "login required", "data": {"code": "login"}}, status=401
        )
    if not app.csrf_ok(request, None):
        return _csrf_refused(app, request)
    if user.role != "admin":
        return web.json_response(
            {"status": "error", "error": t["forbidden"], "data": {"code": "role"}}, status=403
        )
    body = await _json_body(request)
    raw = body.get("text", "")
    if not isinstance(raw, str):
        raise web.HTTPBadRequest(text="text: a string expected")
    text = " ".join("".join(c if c.isprintable() else " " for c in raw).split())
    if len(text) > RUNNING_TEXT_MAX:
        return web.json_response(
            {
                "status": "error",
                "error": t["running_text_too_long"].format(max=RUNNING_TEXT_MAX),
                "data": {"code": "too_long", "max": RUNNING_TEXT_MAX},
            },
            status=400,
        )
    app.core.store.set_meta(RUNNING_TEXT_META, text)
    app.running_text = text
    log.info("running text %s by %s", f"set ({len(text)} characters)" if text else "cleared", user.actor)
    app.streams.changed()
    return web.json_response({"status": "ok", "data": {"text": text}})


def _period(request: web.Request, app: WebApp) -> tuple[str, str]:
    # the office's day, not the machine's: a hub on UTC is still "yesterday" until 07.00 WIB
    today = app.core.state.day or local_day(app.core.clock(), app.cfg)
    q = request.rel_url.query
    try:
        first = date.fromisoformat(q.get("from", today))
        last = date.fromisoformat(q.get("to", q.get("from", today)))
    except ValueError:
        raise web.HTTPBadRequest(text="from/to: YYYY-MM-DD") from None
    if last < first or last - first > timedelta(days=366):
        raise web.HTTPBadRequest(text="period: at most a year, from <= to")
    return first.isoformat(), last.isoformat()


@routes.get("/admin/stats")
async def admin_stats(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    t = texts(app.lang(request))
    day, _ = _period(request, app)
    s = stats.daily_stats((e for _, e in app.core.store.events_between(day, day)), app.cfg)
    hours = {f"{h:02d}": float(n) for h, n in s["per_hour"].items()} or {"-": 0.0}
    waits = {k: float(v) for k, v in s["wait_minutes"].items()} or {"-": 0.0}
    issued = " · ".join(f"{k}: {v}" for k, v in s["issued"].items())
    html = (
        f'<div class="stats" data-day="{day}"><p class="totals">{escape(t["issued"])} {issued} — '
        f'{escape(t["served"])} <b id="stat-done">{s["done"]}</b>, {escape(t["skipped"])} '
        f'<b id="stat-skipped">{s["skipped"]}</b></p>'
        f"<h3>{escape(t['tickets_per_hour'])}</h3>"
        f"{stats.bar_chart(hours, title=t['tickets_per_hour'])}"
        f"<h3>{escape(t['wait_per_service'])}</h3>"
        f"{stats.bar_chart(waits, title=t['wait_per_service'], unit=' min')}"
        f"<h3>{escape(t['no_show_share'])}</h3>"
        f"{stats.share_chart(s['no_show_share'], title=t['no_show_share'])}</div>"
    )
    return web.Response(text=html, content_type="text/html")


@routes.get("/admin/devices")
async def admin_devices(request: web.Request) -> web.Response:
    """The devices table of the admin page as JSON (what each device says about itself)."""
    app = _app(request)
    app.need_user(request, ("admin",))
    return web.json_response({"devices": app.devices()})


@routes.get("/admin/audit")
async def admin_audit(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    first, last = _period(request, app)
    rows = stats.audit_rows(app.core.store.events_between(first, last), app.cfg)
    rows = sorted(rows + _lockout_rows(app, first, last), key=lambda r: (r["day"], r["at"]), reverse=True)
    return web.json_response({"rows": rows[:500]})


def _lockout_rows(app: WebApp, first: str, last: str) -> list[dict[str, Any]]:
    """Login lock-outs of the period, as rows of the audit log (they are not queue events)."""
    tz = app.cfg.office.tz
    since = datetime.combine(date.fromisoformat(first), datetime.min.time(), tz)
    until = datetime.combine(date.fromisoformat(last) + timedelta(days=1), datetime.min.time(), tz)
    rows = []
    for r in app.accounts.lockouts(since, until):
        at = datetime.fromisoformat(str(r["at"])).astimezone(tz)
        rows.append(
            {
                "seq": None,
                "day": at.date().isoformat(),
                "at": at.strftime("%H:%M:%S"),
                "type": r["type"],
                "actor": r["subject"],
                "reason": "",
                "notable": True,
                "data": {"address": r["address"], "failures": r["failures"], "minutes": r["minutes"]},
            }
        )
    return rows


@routes.get("/admin/export.csv")
async def admin_export(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    first, last = _period(request, app)
    text = stats.export_csv(app.core.store.events_between(first, last), app.cfg)
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="antrian-{first}-{last}.csv"'},
    )


# ---------------------------------------------------------------------------------------------
# start / stop
# ---------------------------------------------------------------------------------------------


def build_app(webapp: WebApp) -> web.Application:
    """The aiohttp application: pages, streams, actions, static files and (if present) audio."""
    app = web.Application(middlewares=[identify], client_max_size=64 * 1024)
    app[K_WEB] = webapp
    app.add_routes(routes)
    for part in webapp.service.extensions:  # pages of the other parts (notifications, ...)
        app.add_routes(part.web_routes())
    app.router.add_static("/static", STATIC)
    try:
        from antrian.voice.http import audio_routes
    except ModuleNotFoundError as exc:
        if exc.name not in ("antrian.voice", "antrian.voice.http"):
            raise
    else:
        cfg = webapp.cfg
        cache = Path(cfg.tts_cache)
        if cache.is_dir():
            names = {c.number: c.spoken_name for c in cfg.counters if c.spoken_name}
            app.add_routes(audio_routes(cache, cfg.wording, names))
            webapp.audio = True
    return app


async def start(
    core: HubCore, service: HubService, *, port: int | None = None
) -> Callable[[], Awaitable[None]]:
    """Serve the pages on `[web] host:port` beside the hub; returns the coroutine that stops it."""
    webapp = WebApp(core, service)
    webapp.loop = asyncio.get_running_loop()
    web_cfg = core.cfg.web
    _room_for_streams(web_cfg.max_streams)
    # keepalive_timeout also runs from the moment a connection opens: a client that has not
    # finished its request headers by then (slowloris) is closed. handler_cancellation: a
    # page that goes away frees its stream (and its place under the caps) at once.
    runner = web.AppRunner(
        build_app(webapp),
        access_log=None,
        shutdown_timeout=2.0,
        keepalive_timeout=web_cfg.request_timeout,
        handler_cancellation=True,
        max_line_size=8190,
        max_field_size=8190,
        max_headers=64,
    )
    await runner.setup()
    site = web.TCPSite(runner, web_cfg.host, web_cfg.port if port is None else port)
    await site.start()
    stop_monitor = asyncio.Event()
    monitor_task = asyncio.create_task(webapp.monitor.run(stop_monitor))
    rounds = asyncio.create_task(webapp.streams.run())
    log.info("web pages at http://%s:%s/", web_cfg.host, web_cfg.port)
    # Everything alive now (modules, configuration, today's queue) lives as long as the hub:
    # moved out of the collector's sight, a full collection no longer scans it and pauses the
    # loop for tens of milliseconds (~40k objects), with a thousand pages open or not. What is
    # garbage already is collected first, so that nothing unreachable is kept for good. And the
    # young generation is collected every 20,000 allocations instead of every 700: a round of
    # pictures for a thousand pages allocates that much in passing, and each early collection
    # promoted what was still in hand, for a later, longer full collection (bench_web.py: p99
    # with 1,000 status pages 39 ms instead of 40-89 ms, no page 21-25 ms).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)

    async def stop() -> None:
        webapp.streams.close_all()
        stop_monitor.set()
        for task in (monitor_task, rounds):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await runner.cleanup()
        await webapp.qr.close()
        core.bus.remove(webapp)

    return stop


def _room_for_streams(max_streams: int) -> None:
    """Raise the open-file limit to fit `max_streams` pages (each is a socket), where allowed.

    Service managers often start processes with a soft limit of 1,024 files; past it the
    hub could not even open its database or reach the broker.
    """
    try:
        import resource
    except ImportError:  # not on Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max_streams + 256
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < want:
        log.warning(
            "open-file limit %d is below [web] max_streams + 256 = %d: raise it "
            "(LimitNOFILE= in the systemd unit) or lower max_streams",
            new,
            want,
        )


DEMO_ACCOUNTS: Final = (("admin", "admin", "demo-admin"), ("petugas", "officer", "demo-petugas"))


def demo_accounts(core: HubCore) -> list[str]:
    """`antrian demo`: the demo logins, created in its database; the lines that announce them."""
    accounts = Accounts(core.store.db)
    for name, role, password in DEMO_ACCOUNTS:
        accounts.add_user(name, role, password)
    return ["     " + ", ".join(f"{role} {name} / {pw}" for name, role, pw in DEMO_ACCOUNTS)]


def demo_kiosk_key(core: HubCore) -> str:
    """`antrian demo`: a key for its kiosk tablet, so the printed kiosk address opens."""
    return Accounts(core.store.db).issue_kiosk_key("demo-tablet")

"""The web server inside the hub's process: pages, server-sent events, actions, reports.

`start(core, service)` is called by `antrian run` (and by the demo). Every change goes through
`HubCore.handle` and its messages through `HubService.publish`, exactly like a request over
MQTT: the web is one more client of the same rules, never a second source of truth.

Live updates use server-sent events: the browser's EventSource reconnects by itself after the
hub restarts or the Wi-Fi drops, which is what a TV stick in a waiting room needs. Each open
stream waits on an event set by `core.listeners` (and wakes every few seconds anyway, because
estimates move with time) and then sends the whole picture again: small, and never out of step.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web

from hub import views
from hub.config import OfficeConfig
from hub.contract import dumps
from hub.core import HubCore, Origin
from hub.printer import PrinterError, print_ticket
from hub.queue import Event
from hub.service import HubService
from hub.web import pages, stats
from hub.web.accounts import Accounts, User, verify_password
from hub.web.monitor import TopicMonitor
from hub.web.qr import svg as qr_svg
from hub.web.text import texts

log = logging.getLogger("antrian.web")

STATIC: Final = Path(__file__).with_name("static")
SESSION_COOKIE: Final = "antrian_session"
ANON_COOKIE: Final = "antrian_anon"
#: Streams send the picture again at least this often (estimates change with time).
REFRESH_S: Final = 10.0

OFFICER_COMMANDS: Final = frozenset({"call_next", "recall", "skip", "done", "transfer",
                                     "counter_status", "call_ticket"})  # fmt: skip
ADMIN_COMMANDS: Final = OFFICER_COMMANDS | {"service_status", "reinsert", "set_priority"}
TZ_LABELS: Final = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                    "Asia/Jayapura": "WIT"}  # fmt: skip

class Feed:
    """One open event stream: woken on every change; admin streams also get MQTT messages."""

    def __init__(self, wants_mqtt: bool = False) -> None:
        self.wake = asyncio.Event()
        self.wants_mqtt = wants_mqtt
        self.mqtt: list[dict[str, Any]] = []


class WebApp:
    """The pages of one hub: state, accounts, topic monitor and open streams."""

    def __init__(self, core: HubCore, service: HubService) -> None:
        self.core = core
        self.service = service
        self.cfg = core.cfg
        self.accounts = Accounts(core.store.db)
        self.monitor = TopicMonitor(core.cfg)
        self.feeds: set[Feed] = set()
        self.closing = False
        self.audio = False
        self.loop: asyncio.AbstractEventLoop | None = None
        core.listeners.append(self._on_events)
        self.monitor.listeners.append(self._on_mqtt)

    # ------------------------------------------------------------------------------------------
    # change notification
    # ------------------------------------------------------------------------------------------

    def _on_events(self, events: list[Event]) -> None:
        loop = self.loop
        if loop is not None:
            loop.call_soon_threadsafe(self.wake_all)

    def wake_all(self) -> None:
        for feed in self.feeds:
            feed.wake.set()

    def _on_mqtt(self, msg: dict[str, Any]) -> None:
        for feed in self.feeds:
            if feed.wants_mqtt:
                feed.mqtt.append(msg)
                del feed.mqtt[:-200]
                feed.wake.set()

    # ------------------------------------------------------------------------------------------
    # pictures
    # ------------------------------------------------------------------------------------------

    def public_state(self) -> dict[str, Any]:
        """What anybody in the waiting room may see: numbers, counters, waits. No tokens."""
        core, st = self.core, self.core.state
        now = core.clock()
        recent = []
        for code, number, at in st.recent_calls[:8]:
            cc = self.cfg.counter(number)
            local = at.astimezone(self.cfg.office.tz)
            recent.append({"ticket": code, "counter": number,
                           "counter_name": cc.label if cc else f"Loket {number}",
                           "at": local.isoformat(timespec="seconds")})  # fmt: skip
        return {
            "office": self.cfg.office.name,
            "timezone": self.cfg.office.timezone,
            "tz_label": TZ_LABELS.get(self.cfg.office.timezone, ""),
            "now": now.isoformat(timespec="seconds"),
            "day": st.day or None,
            "hub_online": self.service.connected.is_set(),
            "services": [views.service_state(st, letter, now) for letter in st.services],
            "counters": [views.counter_state(st, n) for n in st.counters],
            "recent": recent,
            "audio": self.audio,
        }

    def ticket_state(self, token: str) -> dict[str, Any] | None:
        st = self.core.state
        code = st.by_token.get(token)
        if code is None:
            return None
        view = views.ticket_view(st, st.tickets[code], self.core.clock())
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
        known = [d.id for d in self.cfg.devices]
        ids = known + sorted(set(seen) - set(known))
        for dev_id in ids:
            dev = self.cfg.device(dev_id)
            s = seen.get(dev_id, {})
            info = s.get("info") or {}
            out.append({"id": dev_id, "role": dev.role if dev else "?",
                        "counter": dev.counter if dev else None,
                        "availability": s.get("availability"), "last_seen": s.get("last_seen"),
                        "firmware": info.get("firmware") or info.get("version"),
                        "model": info.get("model"), "registered": dev is not None})  # fmt: skip
        return out

    def admin_state(self) -> dict[str, Any]:
        st = self.core.state
        waiting = sorted((t for t in st.tickets.values() if t.state == "waiting"),
                         key=lambda t: (t.service, not t.priority, t.order))  # fmt: skip
        skipped = [t for t in st.tickets.values() if t.state == "skipped"]
        return {
            **self.public_state(),
            "waiting": [{"ticket": t.code, "service": t.service, "priority": t.priority}
                        for t in waiting[:200]],
            "skipped": [{"ticket": t.code, "service": t.service} for t in skipped[-50:]],
            "devices": self.devices(),
            "monitor_connected": self.monitor.connected,
        }  # fmt: skip

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

    def page(self, request: web.Request, page: str, title_key: str, body: str,
             boot: dict[str, Any] | None = None, status: int = 200) -> web.Response:  # fmt: skip
        lang = self.lang(request)
        user: User | None = request.get("user")
        html = pages.shell(lang=lang, title=f"{texts(lang)[title_key]} · {self.cfg.office.name}",
                           page=page, body=body, csrf=self.csrf(request), boot=boot,
                           user=user.actor if user else None)  # fmt: skip
        return web.Response(text=html, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store"})  # fmt: skip

    def need_user(self, request: web.Request, roles: tuple[str, ...]) -> User:
        """The logged-in user with one of `roles`; otherwise redirect to login or 403."""
        user: User | None = request.get("user")
        if user is None:
            target = quote(request.rel_url.path_qs, safe="")
            raise web.HTTPFound(f"/login?lang={self.lang(request)}&next={target}")
        if user.role not in roles:
            raise web.HTTPForbidden(text=texts(self.lang(request))["forbidden"])
        return user

    def public_base(self, request: web.Request) -> str:
        """Where phones reach the hub: the configured public URL, else the address used here."""
        if self.cfg.office.public_url != OfficeConfig().public_url:
            return self.cfg.office.public_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    # ------------------------------------------------------------------------------------------
    # streams
    # ------------------------------------------------------------------------------------------

    async def stream(self, request: web.Request, render: Callable[[], dict[str, Any] | None],
                     *, wants_mqtt: bool = False,
                     first: dict[str, Any] | None = None) -> web.StreamResponse:  # fmt: skip
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})  # fmt: skip
        await resp.prepare(request)
        feed = Feed(wants_mqtt)
        self.feeds.add(feed)
        try:
            await resp.write(b"retry: 2000\n\n")
            if first is not None:
                await _send(resp, "monitor", first)
            while not self.closing:
                feed.wake.clear()
                if feed.mqtt:
                    batch, feed.mqtt = feed.mqtt, []
                    await _send(resp, "mqtt", {"messages": batch})
                await _send(resp, "state", render() or {"gone": True})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(feed.wake.wait(), REFRESH_S)
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            self.feeds.discard(feed)
        return resp


K_WEB: Final = web.AppKey("antrian_web", WebApp)


async def _send(resp: web.StreamResponse, event: str, data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    await resp.write(f"event: {event}\ndata: {text}\n\n".encode())


# ---------------------------------------------------------------------------------------------
# middleware
# ---------------------------------------------------------------------------------------------


@web.middleware
async def identify(request: web.Request,
                   handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:  # fmt: skip
    """Who is asking: the session's user, or an anonymous browser (for its CSRF token)."""
    app: WebApp = request.app[K_WEB]
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
            body = (f'<main class="card narrow"><h1>{exc.status}</h1>'
                    f'<p class="error">{escape(exc.text or "")}</p></main>')
            return app.page(request, "error", "status", body, status=exc.status)
        raise
    if new_anon and not resp.prepared:
        resp.set_cookie(ANON_COOKIE, new_anon, httponly=True, samesite="Strict", path="/")
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
    links = [("/tv", "now_serving"), ("/kiosk", "kiosk_title"), ("/officer", "officer_title"),
             ("/admin", "admin_title")]  # fmt: skip
    t = texts(lang)
    items = "".join(f'<li><a href="{u}?lang={lang}">{escape(t[k])}</a></li>' for u, k in links)
    return app.page(request, "index", "status",
                    f'<main class="card narrow"><h1>{escape(app.cfg.office.name)}</h1>'
                    f'<ul class="links">{items}</ul></main>')  # fmt: skip


@routes.get("/tv")
async def tv(request: web.Request) -> web.Response:
    return _app(request).page(request, "tv", "now_serving", '<div id="app"></div>')


@routes.get("/kiosk")
async def kiosk(request: web.Request) -> web.Response:
    return _app(request).page(request, "kiosk", "kiosk_title", '<div id="app"></div>')


@routes.get("/t/{token}")
async def status_page(request: web.Request) -> web.Response:
    app = _app(request)
    token = request.match_info["token"]
    if app.ticket_state(token) is None:
        t = texts(app.lang(request))
        return app.page(request, "error", "status_title",
                        f'<main class="card narrow"><h1>{escape(t["status_title"])}</h1>'
                        f'<p class="error" id="token-unknown">{escape(t["token_unknown"])}'
                        f"</p></main>",
                        status=404)  # fmt: skip
    return app.page(request, "status", "status_title", '<div id="app"></div>', {"token": token})


@routes.get("/officer")
async def officer(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("officer", "admin"))
    return app.page(request, "officer", "officer_title", '<div id="app"></div>')


@routes.get("/admin")
async def admin(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    return app.page(request, "admin", "admin_title", '<div id="app"></div>',
                    {"today": app.core.state.day or date.today().isoformat()})  # fmt: skip


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    app = _app(request)
    lang = app.lang(request)
    nxt = request.rel_url.query.get("next", "/admin")
    return app.page(request, "login", "login_title",
                    pages.login_body(lang, app.csrf(request), nxt, None))  # fmt: skip


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def _checked_form(app: WebApp, request: web.Request) -> Any:  # noqa: ANN401
    """A posted form whose CSRF field (or header) is right; 403 otherwise."""
    form = await request.post()
    if not app.csrf_ok(request, str(form.get("csrf", ""))):
        raise web.HTTPForbidden(text=texts(app.lang(request))["csrf_failed"])
    return form


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    app = _app(request)
    form = await _checked_form(app, request)
    name, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:256]
    role, stored = app.accounts.lookup(name)
    # ~50 ms of scrypt: off the event loop, which also answers the queue's MQTT requests
    ok = await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
    user = User(name, role) if ok and role else None
    nxt = _safe_next(str(form.get("next", "/")))
    if user is None:
        log.warning("failed login for %r from %s", name, request.remote)
        lang = app.lang(request)
        return app.page(request, "login", "login_title",
                        pages.login_body(lang, app.csrf(request), nxt, texts(lang)["login_failed"]),
                        status=401)  # fmt: skip
    token = app.accounts.open_session(user)
    resp = web.HTTPFound(nxt)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/",
                    max_age=12 * 3600)  # fmt: skip
    raise resp


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    app = _app(request)
    await _checked_form(app, request)
    app.accounts.close_session(request.cookies.get(SESSION_COOKIE))
    resp = web.HTTPFound("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


@routes.get("/events/public")
async def events_public(request: web.Request) -> web.StreamResponse:
    app = _app(request)
    return await app.stream(request, app.public_state)


@routes.get("/events/ticket/{token}")
async def events_ticket(request: web.Request) -> web.StreamResponse:
    app = _app(request)
    token = request.match_info["token"]
    return await app.stream(request, lambda: app.ticket_state(token))


@routes.get("/events/admin")
async def events_admin(request: web.Request) -> web.StreamResponse:
    app = _app(request)
    app.need_user(request, ("admin",))
    return await app.stream(request, app.admin_state, wants_mqtt=True, first=app.monitor.snapshot())


@routes.get("/api/state")
async def api_state(request: web.Request) -> web.Response:
    return web.json_response(_app(request).public_state())


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="JSON body expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


def _csrf_refused(app: WebApp, request: web.Request) -> web.Response:
    return web.json_response({"status": "error", "error": texts(app.lang(request))["csrf_failed"],
                              "data": {"code": "csrf"}}, status=403)  # fmt: skip


@routes.post("/api/ticket")
async def api_ticket(request: web.Request) -> web.Response:
    """The kiosk page takes a ticket. Anonymous (a citizen at the tablet) but CSRF-protected."""
    app = _app(request)
    if not app.csrf_ok(request, None):
        return _csrf_refused(app, request)
    body = await _json_body(request)
    fields: dict[str, Any] = {"service": body.get("service"),
                              "priority": body.get("priority", False),
                              "actor": "kiosk:web",
                              "sender": f"web:{request['binding'][2:20]}"}  # fmt: skip
    if isinstance(body.get("transaction"), str):
        fields["transaction"] = body["transaction"][:64]
    result = app.act("take_ticket", fields)
    if result.get("status") == "ok":
        data = result["data"]
        url = f"{app.public_base(request)}/t/{data['token']}"
        data["status_url"] = url
        if app.cfg.printer.device is not None:
            data["printed"], data["print_error"] = await _print(app, dict(data))
        data["qr"] = qr_svg(url)
        data.pop("token", None)
    return web.json_response(result)


async def _print(app: WebApp, ticket: dict[str, Any]) -> tuple[bool, str | None]:
    """Print on the hub's printer; the ticket is issued either way (it is on screen with its QR)."""
    try:
        await asyncio.get_running_loop().run_in_executor(None, print_ticket, app.cfg.printer, ticket)
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
        return web.json_response({"status": "error", "error": "login required",
                                  "data": {"code": "login"}}, status=401)  # fmt: skip
    if not app.csrf_ok(request, None):
        return _csrf_refused(app, request)
    body = await _json_body(request)
    command = body.pop("command", None)
    allowed = ADMIN_COMMANDS if user.role == "admin" else OFFICER_COMMANDS
    if command not in allowed:
        return web.json_response({"status": "error", "error": texts(app.lang(request))["forbidden"],
                                  "data": {"code": "role"}}, status=403)  # fmt: skip
    body.pop("actor", None)
    body.pop("sender", None)
    body["actor"] = user.actor
    return web.json_response(app.act(str(command), body))


def _period(request: web.Request, app: WebApp) -> tuple[str, str]:
    today = app.core.state.day or date.today().isoformat()
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
        f'<h3>{escape(t["tickets_per_hour"])}</h3>'
        f'{stats.bar_chart(hours, title=t["tickets_per_hour"])}'
        f'<h3>{escape(t["wait_per_service"])}</h3>'
        f'{stats.bar_chart(waits, title=t["wait_per_service"], unit=" min")}'
        f'<h3>{escape(t["no_show_share"])}</h3>'
        f'{stats.share_chart(s["no_show_share"], title=t["no_show_share"])}</div>'
    )
    return web.Response(text=html, content_type="text/html")


@routes.get("/admin/audit")
async def admin_audit(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    first, last = _period(request, app)
    rows = stats.audit_rows(app.core.store.events_between(first, last), app.cfg)
    return web.json_response({"rows": rows[:500]})


@routes.get("/admin/export.csv")
async def admin_export(request: web.Request) -> web.Response:
    app = _app(request)
    app.need_user(request, ("admin",))
    first, last = _period(request, app)
    text = stats.export_csv(app.core.store.events_between(first, last), app.cfg)
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="antrian-{first}-{last}.csv"'})  # fmt: skip


# ---------------------------------------------------------------------------------------------
# start / stop
# ---------------------------------------------------------------------------------------------


def build_app(webapp: WebApp) -> web.Application:
    """The aiohttp application: pages, streams, actions, static files and (if present) audio."""
    app = web.Application(middlewares=[identify], client_max_size=64 * 1024)
    app[K_WEB] = webapp
    app.add_routes(routes)
    app.router.add_static("/static", STATIC)
    try:
        from hub.voice.http import audio_routes
    except ModuleNotFoundError as exc:
        if exc.name not in ("hub.voice", "hub.voice.http"):
            raise
    else:
        cfg = webapp.cfg
        cache = Path(cfg.tts_cache)
        if cache.is_dir():
            names = {c.number: c.spoken_name for c in cfg.counters if c.spoken_name}
            app.add_routes(audio_routes(cache, cfg.wording, names))
            webapp.audio = True
    return app


async def start(core: HubCore, service: HubService, *,
                port: int | None = None) -> Callable[[], Awaitable[None]]:  # fmt: skip
    """Serve the pages on `[web] host:port` beside the hub; returns the coroutine that stops it."""
    webapp = WebApp(core, service)
    webapp.loop = asyncio.get_running_loop()
    runner = web.AppRunner(build_app(webapp), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, core.cfg.web.host, core.cfg.web.port if port is None else port)
    await site.start()
    stop_monitor = asyncio.Event()
    monitor_task = asyncio.create_task(webapp.monitor.run(stop_monitor))
    log.info("web pages at http://%s:%s/", core.cfg.web.host, core.cfg.web.port)

    async def stop() -> None:
        webapp.closing = True
        webapp.wake_all()
        stop_monitor.set()
        monitor_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await monitor_task
        await runner.cleanup()

    return stop




DEMO_ACCOUNTS: Final = (("admin", "admin", "demo-admin"), ("petugas", "officer", "demo-petugas"))


async def start_demo(core: HubCore, service: HubService,
                     say: Callable[[str], None]) -> Callable[[], Awaitable[None]]:  # fmt: skip
    """`antrian demo`: the pages on port 8080 (or a free one), with demo accounts, announced."""
    from hub.testing import free_port, port_open

    accounts = Accounts(core.store.db)
    for name, role, password in DEMO_ACCOUNTS:
        accounts.add_user(name, role, password)
    port = core.cfg.web.port
    if port_open("127.0.0.1", port):
        port = free_port()
    stop = await start(core, service, port=port)
    base = f"http://127.0.0.1:{port}"
    say(f"Web: {base}/tv  {base}/kiosk  {base}/officer  {base}/admin")
    say("     " + ", ".join(f"{role} {name} / {pw}" for name, role, pw in DEMO_ACCOUNTS))
    return stop

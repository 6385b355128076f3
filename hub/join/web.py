"""The phone page `/ambil` and its API (no login: a citizen at the entrance or at home).

- `GET /ambil`: the page (Indonesian; `?lang=en`), installable: `/ambil/manifest.webmanifest`
  and the service worker `/ambil/sw.js` (which keeps the page's shell for a weak signal; a
  service worker runs only over HTTPS or on the hub's own address, see docs/ambil-dari-hp.md).
  It gives the phone its own token (a cookie, for `verify = "device"`).
- `GET /api/ambil`: services, their queues and estimates, the office's state, the mode.
- `POST /api/ambil/kode` `{phone, channel?, lang?}`: sends a code (`verify = "otp"`).
- `POST /api/ambil` `{service, phone?, code?, transaction?, lang?}`: the ticket; the answer
  is the ticket's view with its status page's address and its check-in code.
- `GET /ambil/poster`: the poster for the entrance, to print (admins only).
- `GET /api/ambil/checkin/{token}`: the check-in code of a phone ticket and its QR, for the
  status page (only while the ticket waits to be checked in).

Every POST is CSRF-checked and limited per address and per browser; tickets also per service
(`[join] per_service_per_minute`), whoever asks: a script that changes address and cookie
still meets the service's limit, the share, and one ticket per verified number.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Final

from aiohttp import web

from antrian.i18n import t
from antrian.join.extension import new_device_token
from antrian.notify.extension import Refusal
from antrian.notify.web import _answer, _text
from antrian.web import pages
from antrian.web.limits import RateLimit, retry_after
from antrian.web.refusals import body_lang, client_limited, guarded_body
from antrian.web.server import K_WEB, WebApp
from antrian.web.text import texts

if TYPE_CHECKING:
    from antrian.join.extension import PhoneJoin

#: The phone's own token, for `verify = "device"`.
DEVICE_COOKIE: Final = "antrian_hp"
#: A year: the phone stays the same phone for the office's limits.
DEVICE_COOKIE_DAYS: Final = 365
#: Codes one client may ask for a minute; tickets one client may take a minute.
CODES_PER_MINUTE: Final = 3
TICKETS_PER_MINUTE: Final = 2
#: Look-ups of a check-in code a minute (the status page asks once per ticket).
LOOKUPS_PER_MINUTE: Final = 20

_SW: Final = """/* antrian: the phone page's service worker. The page is live data: it is always asked of
   the hub first; the shell (style, scripts) is kept so that a weak signal still draws it. */
const SHELL = "antrian-ambil-v1";
const FILES = ["/static/app.css", "/static/common.js", "/static/ambil.js", "/static/ambil.css"];
self.addEventListener("install", (e) => e.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES))));
self.addEventListener("activate", (e) => e.waitUntil(caches.keys().then((keys) =>
  Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))));
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || !FILES.includes(url.pathname)) return;
  e.respondWith(fetch(e.request).then((r) => {
    const copy = r.clone();
    caches.open(SHELL).then((c) => c.put(e.request, copy));
    return r;
  }).catch(() => caches.match(e.request)));
});
"""


def routes(part: PhoneJoin) -> list[web.RouteDef]:
    """The phone page's routes, bound to the running part."""
    codes = RateLimit(CODES_PER_MINUTE)
    tickets = RateLimit(TICKETS_PER_MINUTE)
    per_service = RateLimit(part.jcfg.per_service_per_minute)
    lookups = RateLimit(LOOKUPS_PER_MINUTE)

    async def page(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        lang = app.lang(request)
        html = pages.shell(
            lang=lang,
            title=f"{texts(lang)['join_title']} · {app.cfg.office.name}",
            page="ambil",
            body='<main class="card narrow" id="app"></main>',
            csrf=app.csrf(request),
            boot={"offer": part.offer(lang)},
            head=(
                '<link rel="stylesheet" href="/static/ambil.css">'
                f'<link rel="manifest" href="/ambil/manifest.webmanifest?lang={lang}">'
                '<meta name="theme-color" content="#0b5cab">'
                '<link rel="apple-touch-icon" href="/static/ambil-192.png">'
            ),
        )
        resp = web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})
        if not request.cookies.get(DEVICE_COOKIE):
            resp.set_cookie(
                DEVICE_COOKIE,
                new_device_token(),
                httponly=True,
                samesite="Lax",
                path="/",
                max_age=DEVICE_COOKIE_DAYS * 86400,
                secure=app.secure_cookies(request),
            )
        return resp

    async def manifest(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        lang = app.lang(request)
        body = {
            "name": f"{texts(lang)['join_title']} · {app.cfg.office.name}",
            "short_name": texts(lang)["join_short"],
            "lang": lang,
            "start_url": f"/ambil?lang={lang}",
            "scope": "/ambil",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0b5cab",
            "icons": [
                {"src": "/static/ambil-192.png", "sizes": "192x192", "type": "image/png"},
                {
                    "src": "/static/ambil-512.png",
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
            ],
        }
        return web.Response(
            text=json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
        )

    async def service_worker(request: web.Request) -> web.Response:
        # the page is `/ambil` itself, just above the worker's folder: allowed by this header
        headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/ambil"}
        return web.Response(text=_SW, content_type="text/javascript", headers=headers)

    async def poster(request: web.Request) -> web.Response:
        """The poster for the entrance, to print (admins only): the page's address as a QR code
        and in letters, and the three steps. `?url=` prints another address (the office's
        public one while the poster is made on the LAN); only an http(s) address is taken."""
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        lang = app.lang(request)
        words = texts(lang)
        asked = request.rel_url.query.get("url", "")[:200]
        url = asked if asked.startswith(("http://", "https://")) else f"{app.public_base(request)}/ambil"
        steps = "".join(
            f"<li>{escape(words[k])}</li>"
            for k in ("poster_step_scan", "poster_step_take", "poster_step_check_in")
        )
        body = (
            f'<main class="poster"><p class="office">{escape(app.cfg.office.name)}</p>'
            f"<h1>{escape(words['poster_title'])}</h1>"
            f'<div class="qr" id="poster-qr" data-url="{escape(url)}">{await app.qr.svg(url)}</div>'
            f'<p class="url" id="poster-url">{escape(url)}</p><ol>{steps}</ol>'
            f'<p class="fine">{escape(words["poster_kiosk"])}</p></main>'
        )
        html = pages.shell(
            lang=lang,
            title=f"{words['poster_title']} · {app.cfg.office.name}",
            page="poster",
            body=body,
            csrf=app.csrf(request),
            head='<link rel="stylesheet" href="/static/ambil.css">',
        )
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def offer(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        return _answer(part.offer(app.lang(request)))

    async def send_code(request: web.Request) -> web.Response:
        body, refused = await guarded_body(request, codes, "join.rate_limited")
        if refused is not None:
            return refused
        return _answer(
            await part.send_code(
                _text(body.get("phone"), 32), _text(body.get("channel"), 20), body_lang(request, body)
            )
        )

    async def take(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        body, refused = await guarded_body(request, tickets, "join.rate_limited")
        if refused is not None:
            return refused
        lang = body_lang(request, body)
        service = _text(body.get("service"), 1)
        wait = per_service.wait(f"svc:{service}")
        if wait > 0:
            seconds = retry_after(wait)
            return web.json_response(
                {
                    "status": "error",
                    "error": t("join.service_busy", lang, seconds=seconds),
                    "data": {"code": "rate_limited", "retry_after": seconds},
                },
                status=429,
                headers={"Retry-After": str(seconds)},
            )
        result = part.take(
            service,
            lang,
            phone=_text(body.get("phone"), 32),
            code=_text(body.get("code"), 10),
            device_token=request.cookies.get(DEVICE_COOKIE, "")[:64] or None,
            transaction=_text(body.get("transaction"), 64) or None,
        )
        if isinstance(result, Refusal):
            return _answer(result)
        per_service.take(f"svc:{service}")
        result["status_url"] = f"{app.public_base(request)}/t/{result['token']}?lang={lang}"
        return _answer(result)

    async def check_in_code(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        refused = client_limited(request, lookups, "join.rate_limited")
        if refused is not None:
            return refused
        # the ticket itself, not its whole view: the code needs no wait estimate
        state = app.core.state
        held = state.tickets.get(state.by_token.get(request.match_info["token"][:64], ""))
        code = (
            held.check_in_code
            if held is not None and not held.checked_in and held.state == "waiting"
            else None
        )
        if not code:
            return web.json_response({"status": "ok", "data": {"code": None}})
        return web.json_response({"status": "ok", "data": {"code": code, "qr": await app.qr.svg(code)}})

    return [
        web.get("/ambil", page),
        web.get("/ambil/manifest.webmanifest", manifest),
        web.get("/ambil/sw.js", service_worker),
        web.get("/ambil/poster", poster),
        web.get("/api/ambil", offer),
        web.post("/api/ambil/kode", send_code),
        web.post("/api/ambil", take),
        web.get("/api/ambil/checkin/{token}", check_in_code),
    ]

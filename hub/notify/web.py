"""The pages' side of notifications: a citizen gives a number, the admin sees the channels.

- `POST /api/notify` `{token, phone, channel?, consent, lang?}`: from the status page opened
  from the ticket's QR (ESP32 kiosk tickets too) or from the tablet kiosk right after its
  ticket. CSRF-checked like the kiosk, and rate-limited per address and browser.
- `GET /api/notify/{token}`: whether the ticket has a number (masked) and which channels exist.
- `GET /api/admin/notify`: channels (signal, queue, last error), today's messages by state,
  the latest messages (ticket and kind, never a number), the monthly counts; admins only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from antrian.notify.extension import Refusal
from antrian.web.limits import RateLimit, retry_after, wait_all
from antrian.web.server import K_WEB, WebApp, _csrf_refused, _json_body

if TYPE_CHECKING:
    from antrian.notify.extension import Notifications

#: Numbers a client may give (or try) a minute: a person mistypes; a script is slowed to a crawl.
TRIES_PER_MINUTE: Final = 6


def routes(part: Notifications) -> list[web.RouteDef]:
    """The notification routes, bound to the running part."""
    tries = RateLimit(TRIES_PER_MINUTE)

    async def give_number(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        if not app.csrf_ok(request, None):
            return _csrf_refused(app, request)
        wait = wait_all([(tries, f"ip:{request['address']}"), (tries, request["binding"])])
        if wait > 0:
            seconds = retry_after(wait)
            return web.json_response(
                {"status": "error", "error": "rate limited", "data": {"code": "rate_limited"}},
                status=429,
                headers={"Retry-After": str(seconds)},
            )
        body = await _json_body(request)
        lang = body.get("lang") if body.get("lang") in ("id", "en") else app.lang(request)
        result = part.subscribe(
            _text(body.get("token"), 64),
            _text(body.get("phone"), 64),
            _text(body.get("channel"), 20) or None,
            str(lang),
            body.get("consent") is True,
        )
        return _answer(result)

    async def number_of(request: web.Request) -> web.Response:
        sub = part.subscription(request.match_info["token"][:64])
        return web.json_response(
            {"status": "ok", "data": {"subscription": sub, "channels": list(part.channels)}}
        )

    async def admin_view(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        return web.json_response({"status": "ok", "data": await part.status()})

    return [
        web.post("/api/notify", give_number),
        web.get("/api/notify/{token}", number_of),
        web.get("/api/admin/notify", admin_view),
    ]


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _answer(result: dict[str, Any] | Refusal) -> web.Response:
    if isinstance(result, Refusal):
        return web.json_response(
            {"status": "error", "error": result.text, "data": {"code": result.code}}, status=result.status
        )
    return web.json_response({"status": "ok", "data": result})

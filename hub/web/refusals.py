"""The one answer a page's API gives a client over its rate limit, shared by the parts' pages.

A citizen's phone, the exit tablet and a script all get the same: 429, a `Retry-After`
header, `data.code = "rate_limited"` with the seconds to wait, and a sentence in the page's
language from the part's own catalogue key. The limit holds per address and per browser
(`request["binding"]`), so neither a new cookie nor a second phone on one address escapes it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from antrian.i18n import t
from antrian.web.limits import RateLimit, retry_after, wait_all
from antrian.web.server import K_WEB, WebApp, _csrf_refused, _json_body


def client_limited(request: web.Request, limit: RateLimit, text_key: str) -> web.Response | None:
    """The 429 answer when this client is over `limit`, else None (and one action counted).
    `text_key` is a catalogue message taking `{seconds}`."""
    wait = wait_all([(limit, f"ip:{request['address']}"), (limit, request["binding"])])
    if wait <= 0:
        return None
    app: WebApp = request.app[K_WEB]
    seconds = retry_after(wait)
    return web.json_response(
        {
            "status": "error",
            "error": t(text_key, app.lang(request), seconds=seconds),
            "data": {"code": "rate_limited", "retry_after": seconds},
        },
        status=429,
        headers={"Retry-After": str(seconds)},
    )


async def guarded_body(
    request: web.Request, limit: RateLimit, text_key: str
) -> tuple[dict[str, Any], web.Response | None]:
    """The JSON body of a citizen's POST that passed the CSRF check and `limit`, or the
    refusal (the parts' pages: booking, phone tickets)."""
    app: WebApp = request.app[K_WEB]
    if not app.csrf_ok(request, None):
        return {}, _csrf_refused(app, request)
    refused = client_limited(request, limit, text_key)
    if refused is not None:
        return {}, refused
    return await _json_body(request), None


def body_lang(request: web.Request, body: dict[str, Any]) -> str:
    """The language a POST asks its answer in (`lang` in its body), else the page's."""
    app: WebApp = request.app[K_WEB]
    return str(body["lang"]) if body.get("lang") in ("id", "en") else app.lang(request)

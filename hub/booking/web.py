"""The booking page and its API (no login: a citizen books from home or from the office Wi-Fi).

- `GET /reservasi`: the page (Indonesian; `?lang=en`): service, day, slot, then the code and
  its QR; a second form cancels by code.
- `GET /api/reservasi/slots`: the services, the bookable days and the places left per slot.
- `POST /api/reservasi` `{service, day: "2026-12-01", slot: "08:30", lang?, phone?, channel?,
  consent?}`: a booking; the answer has the code and its QR (an SVG, the code itself: what a
  scanner at the kiosk reads). With a phone number (and consent), its reminders by SMS or
  WhatsApp (`antrian.booking.reminders`); the slots' answer lists the channels (`reminders`).
- `GET /api/reservasi/{code}`: one booking (its state, the ticket it became).
- `POST /api/reservasi/cancel` `{code}`: cancels it.
- `POST /api/reservasi/reminder` `{code, phone, channel?, consent, lang?}`: gives or changes the
  number a booking's reminders go to, until its slot begins; `phone: ""` removes it.

Every POST is CSRF-checked; bookings are rate-limited per address and per browser, look-ups
and cancellations too (a code is six characters of 23: guessing is slowed to nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from antrian.notify.extension import Refusal
from antrian.notify.web import _answer, _text
from antrian.web.limits import RateLimit
from antrian.web.refusals import body_lang, client_limited, guarded_body
from antrian.web.server import K_WEB, WebApp

if TYPE_CHECKING:
    from antrian.booking.extension import Bookings

#: Bookings one client may make a minute (a family books two or three; a script is stopped).
BOOKINGS_PER_MINUTE: Final = 3
#: Look-ups and cancellations a client may make a minute.
LOOKUPS_PER_MINUTE: Final = 10


def reminder_of(body: dict[str, Any]) -> tuple[str, str | None, bool] | None:
    """(phone, channel, consent) from a POST's body; None without a number."""
    phone = _text(body.get("phone"), 64)
    return (
        (phone, _text(body.get("channel"), 20) or None, body.get("consent") is True)
        if phone.strip()
        else None
    )


def routes(part: Bookings) -> list[web.RouteDef]:
    """The booking routes, bound to the running part."""
    books = RateLimit(BOOKINGS_PER_MINUTE)
    lookups = RateLimit(LOOKUPS_PER_MINUTE)

    def limited(request: web.Request, limit: RateLimit) -> web.Response | None:
        return client_limited(request, limit, "web.booking_rate_limited")

    async def guarded(request: web.Request, limit: RateLimit) -> tuple[dict[str, Any], web.Response | None]:
        return await guarded_body(request, limit, "web.booking_rate_limited")

    async def page(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        return app.page(
            request,
            "reservasi",
            "booking_title",
            '<link rel="stylesheet" href="/static/reservasi.css"><main class="card narrow" id="app"></main>',
            {"offer": part.offer(app.lang(request))},
        )

    async def slots(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        return _answer(part.offer(app.lang(request)))

    async def book(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        body, refused = await guarded(request, books)
        if refused is not None:
            return refused
        lang = body_lang(request, body)
        result = part.book(
            _text(body.get("service"), 1),
            _text(body.get("day"), 10),
            _text(body.get("slot"), 5),
            lang,
            reminder_of(body),
        )
        if not isinstance(result, Refusal):
            result["qr"] = await app.qr.svg(result["code"])
        return _answer(result)

    async def lookup(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        refused = limited(request, lookups)
        if refused is not None:
            return refused
        return _answer(part.lookup(request.match_info["code"][:16], app.lang(request)))

    async def set_reminder(request: web.Request) -> web.Response:
        body, refused = await guarded(request, lookups)
        if refused is not None:
            return refused
        return _answer(
            part.set_reminder(_text(body.get("code"), 16), reminder_of(body), body_lang(request, body))
        )

    async def cancel(request: web.Request) -> web.Response:
        body, refused = await guarded(request, lookups)
        if refused is not None:
            return refused
        return _answer(part.cancel(_text(body.get("code"), 16), body_lang(request, body)))

    return [
        web.get("/reservasi", page),
        web.get("/api/reservasi/slots", slots),
        web.post("/api/reservasi/cancel", cancel),
        web.post("/api/reservasi/reminder", set_reminder),
        web.post("/api/reservasi", book),
        web.get("/api/reservasi/{code}", lookup),
    ]

"""The admin's view of the bookings (the "Reservasi" section of `/admin`) and the quota of one
service on one day.

- `GET /api/admin/booking?day=2026-12-01`: every day of the booking window: closed (a holiday,
  with its name, or a day the office does not open) or open with its number of slots, and per
  service the quota per slot that day and the places booked; the slots of `day` (if given)
  with the places booked in each. One day's slots at a time: the whole window slot by slot
  (60 days of 10-minute slots) is most of a megabyte, redrawn every half minute. Counts only:
  a code is looked up one at a time (`GET /api/reservasi/{code}`), never listed.
- `POST /api/admin/booking` `{day, service, quota}`: the quota of `service` on `day`, places
  per slot (0-50; 0 closes that service's bookings that day; null: back to `[booking] quota`).
  Bookings already made stay: a slot booked beyond the new quota keeps them, takes no new
  one, and the answer says which slots.

Admins only, POSTs CSRF-checked, every field bounded; the change is logged with its admin.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from antrian.booking.quotas import MAX_QUOTA
from antrian.booking.slots import booking_window, slots_on
from antrian.i18n import t
from antrian.notify.extension import Refusal
from antrian.notify.web import _answer
from antrian.schedule import date_text, weekday_name
from antrian.web.accounts import User
from antrian.web.server import K_WEB, WebApp, _csrf_refused, _json_body

if TYPE_CHECKING:
    from antrian.booking.extension import Bookings

log = logging.getLogger("antrian.booking")


def overview(part: Bookings, lang: str, detail: str = "") -> dict[str, Any]:
    """The booking window day by day, for the admin: quotas and places booked, no code; the
    day `detail` also slot by slot."""
    today = part.today()
    first, last = booking_window(part.cfg.booking, today)
    taken = part.store.taken(first.isoformat(), last.isoformat())
    set_by_admin = part.quotas.set_by_admin(first.isoformat(), last.isoformat())
    letters = part.services()
    days: list[dict[str, Any]] = []
    d = first
    while d <= last:
        day = d.isoformat()
        entry: dict[str, Any] = {"day": day, "label": f"{weekday_name(d, lang)}, {date_text(d, lang)}"}
        slots = slots_on(part.schedule, part.cfg.booking, d)
        if not slots:
            holiday = part.schedule.holiday(d)
            entry["closed"] = holiday or t("web.slots_office_closed", lang)
            entry["holiday"] = holiday is not None
        else:
            starts = [s.start.isoformat() for s in slots]  # once a slot, not once a service
            booked = [{x: taken.get((x, at), 0) for x in letters} for at in starts]
            entry["quota"] = {x: set_by_admin.get((day, x), part.cfg.booking.quota) for x in letters}
            entry["set_by_admin"] = sorted(x for x in letters if (day, x) in set_by_admin)
            entry["booked"] = {x: sum(b[x] for b in booked) for x in letters}
            entry["slot_count"] = len(slots)
            if day == detail:
                entry["slots"] = [
                    {"slot": s.key, "label": s.label, "booked": b} for s, b in zip(slots, booked, strict=True)
                ]
        days.append(entry)
        d += timedelta(days=1)
    return {
        "default_quota": part.cfg.booking.quota,
        "max_quota": MAX_QUOTA,
        "services": [{"letter": s.letter, "name": s.name} for s in part.cfg.services if s.letter in letters],
        "days": days,
    }


def change_quota(
    part: Bookings, day: object, service: object, quota: object, who: str, lang: str
) -> dict[str, Any] | Refusal:
    """Set one service's quota on one day of the window; refused, with why, when it cannot be."""
    if not isinstance(service, str) or service not in part.services():
        return _refuse("web.booking_bad_service", lang, 400)
    try:
        d = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
    except ValueError:
        d = None
    if d is None:
        return _refuse("web.booking_bad_day", lang, 400)
    first, last = booking_window(part.cfg.booking, part.today())
    if not first <= d <= last:
        return _refuse(
            "web.booking_out_of_window", lang, 400, first=date_text(first, lang), last=date_text(last, lang)
        )
    slots = slots_on(part.schedule, part.cfg.booking, d)
    if not slots:
        holiday = part.schedule.holiday(d)
        if holiday is not None:
            return _refuse("web.booking_holiday", lang, 409, day=date_text(d, lang), holiday=holiday)
        return _refuse("web.booking_closed_day", lang, 409, day=date_text(d, lang))
    if quota is not None and (
        isinstance(quota, bool) or not isinstance(quota, int) or not 0 <= quota <= MAX_QUOTA
    ):
        return _refuse("web.slots_bad_quota", lang, 400, max=MAX_QUOTA)
    before = part.quotas.on(d.isoformat(), service)
    part.quotas.change(d.isoformat(), service, quota, part.today().isoformat())
    now = part.quotas.on(d.isoformat(), service)
    log.info(
        "booking quota: %s set %s on %s to %d per slot (was %d)", who, service, d.isoformat(), now, before
    )
    taken = part.store.taken(d.isoformat(), d.isoformat())
    over = [
        {"slot": s.label, "booked": n}
        for s in slots
        if (n := taken.get((service, s.start.isoformat()), 0)) > now
    ]
    words = {"service": service, "day": date_text(d, lang), "quota": now}
    message = t("web.slots_closed" if now == 0 else "web.slots_saved", lang, **words)
    if over:
        kept = ", ".join(f"{o['slot']} ({o['booked']})" for o in over)
        message += " " + t("web.slots_kept", lang, slots=kept)
    return {"day": d.isoformat(), "service": service, "quota": now, "over": over, "message": message}


def _refuse(key: str, lang: str, status: int, **params: Any) -> Refusal:  # noqa: ANN401
    return Refusal(key.removeprefix("web."), t(key, lang, **params), status)


def routes(part: Bookings) -> list[web.RouteDef]:
    """The admin's booking routes, bound to the running part."""

    async def view(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        return _answer(overview(part, app.lang(request), request.rel_url.query.get("day", "")[:10]))

    async def change(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        user: User | None = request.get("user")
        if user is None or user.role != "admin":
            return web.json_response(
                {"status": "error", "error": t("web.forbidden", app.lang(request)), "data": {"code": "role"}},
                status=403,
            )
        if not app.csrf_ok(request, None):
            return _csrf_refused(app, request)
        body = await _json_body(request)
        # taken as sent, never cut short: "CC" or a day with a tail is refused, not read as another
        lang = app.lang(request)
        return _answer(
            change_quota(part, body.get("day"), body.get("service"), body.get("quota"), user.actor, lang)
        )

    return [web.get("/api/admin/booking", view), web.post("/api/admin/booking", change)]

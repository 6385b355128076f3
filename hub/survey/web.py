"""The survey's pages and API.

- `GET /survey`: the exit tablet (kiosk mode, no login): the tickets just finished, a field
  for the number, then one tap per element, thanks, and back to the start.
- `GET /api/survey/recent`: the tickets the tablet offers (finished in the last 30 minutes,
  not answered; codes and service letters only: what the TV shows anyway).
- `GET /api/survey/check?token=...` or `?ticket=A-012`: whether that ticket may answer now
  (the status page asks once the ticket is done; the tablet before the first question).
- `POST /api/survey` `{token | ticket, scores: {U1..U9: 1-4}, respondent?: {age, sex,
  education, occupation}, lang?}`: the answer. CSRF-checked and rate-limited per address
  and browser, like the kiosk's tickets and the notification numbers.
- `GET /admin/survey` and `GET /api/admin/survey?from=&to=&service=`: the results of a
  period, for admins only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from antrian.notify.extension import Refusal
from antrian.notify.web import _answer, _text
from antrian.survey.ikm import KEYS, label_of
from antrian.survey.store import RESPONDENT
from antrian.web.limits import RateLimit
from antrian.web.refusals import client_limited
from antrian.web.server import K_WEB, WebApp, _csrf_refused, _json_body

if TYPE_CHECKING:
    from antrian.survey.extension import Survey

#: Answers a client may send a minute. The exit tablet is one client: a busy exit sees a
#: few citizens a minute; a script is slowed to a crawl.
ANSWERS_PER_MINUTE: Final = 12
#: Look-ups of a ticket a minute (typing a number, the status page asking once).
CHECKS_PER_MINUTE: Final = 30
#: The longest period the admin may ask for at once.
MAX_PERIOD: Final = timedelta(days=366)


def routes(part: Survey) -> list[web.RouteDef]:
    """The survey routes, bound to the running part."""
    answers = RateLimit(ANSWERS_PER_MINUTE)
    checks = RateLimit(CHECKS_PER_MINUTE)

    def limited(request: web.Request, limit: RateLimit) -> web.Response | None:
        return client_limited(request, limit, "web.survey_rate_limited")

    async def tablet(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        return app.page(
            request,
            "survey",
            "survey_title",
            '<link rel="stylesheet" href="/static/survey.css"><div id="app"></div>'
            '<script src="/static/survey_form.js"></script>',
            _boot(part),
        )

    async def recent(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "data": {"tickets": part.recent()}})

    async def check(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        refused = limited(request, checks)
        if refused is not None:
            return refused
        q = request.rel_url.query
        ticket = part.find(token=q.get("token", "")[:64], ticket=q.get("ticket", "")[:16])
        result = part.check(ticket, app.lang(request))
        if result is not None or ticket is None:
            return _answer(result or Refusal("survey_unknown_ticket", "", 404))
        return _answer(
            {
                "ticket": ticket.code,
                "service": ticket.service,
                "service_name": part.service_name(ticket.service),
                "elements": list(KEYS),
                "respondent": {k: list(v) for k, v in RESPONDENT.items()},
            }
        )

    async def give(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        if not app.csrf_ok(request, None):
            return _csrf_refused(app, request)
        refused = limited(request, answers)
        if refused is not None:
            return refused
        body = await _json_body(request)
        lang = body.get("lang") if body.get("lang") in ("id", "en") else app.lang(request)
        ticket = part.find(token=_text(body.get("token"), 64), ticket=_text(body.get("ticket"), 16))
        return _answer(part.answer(ticket, body.get("scores"), body.get("respondent"), str(lang)))

    async def admin_page(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        return app.page(
            request,
            "survey_admin",
            "survey_admin_title",
            '<link rel="stylesheet" href="/static/survey.css"><div id="app"></div>',
            _boot(part),
        )

    async def admin_results(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        first, last = _period(request, part)
        service = request.rel_url.query.get("service", "")[:8] or None
        if service is not None and part.cfg.service(service) is None:
            raise web.HTTPBadRequest(text="service: a letter of a configured service")
        lang = app.lang(request)
        result = part.summary(first, last, service)
        title, rows = result.recap(lang)
        return web.json_response(
            {
                "status": "ok",
                "data": {
                    "from": first.isoformat(),
                    "to": last.isoformat(),
                    "service": service,
                    "responses": result.responses,
                    "nrr": result.nrr,
                    "ikm": result.ikm,
                    "grade": result.grade,
                    "label": label_of(result.grade, lang),
                    "weight": result.weight_text(lang),
                    "recap": {"title": title, "rows": rows},
                    "respondents": part.store.respondents(first, last, service),
                },
            }
        )

    return [
        web.get("/survey", tablet),
        web.get("/api/survey/recent", recent),
        web.get("/api/survey/check", check),
        web.post("/api/survey", give),
        web.get("/admin/survey", admin_page),
        web.get("/api/admin/survey", admin_results),
    ]


def _boot(part: Survey) -> dict[str, Any]:
    """What the survey's pages need besides their words: elements, categories, services."""
    return {
        "elements": list(KEYS),
        "respondent": {k: list(v) for k, v in RESPONDENT.items()},
        "services": [{"letter": s.letter, "name": s.name} for s in part.cfg.services],
        "today": part.today(),
    }


def _period(request: web.Request, part: Survey) -> tuple[date, date]:
    """`from`/`to` of the query (YYYY-MM-DD); by default this month up to today."""
    today = date.fromisoformat(part.today())
    q = request.rel_url.query
    try:
        first = date.fromisoformat(q["from"]) if q.get("from") else today.replace(day=1)
        last = date.fromisoformat(q["to"]) if q.get("to") else today
    except ValueError:
        raise web.HTTPBadRequest(text="from/to: YYYY-MM-DD") from None
    if last < first or last - first > MAX_PERIOD:
        raise web.HTTPBadRequest(text="period: at most a year, from <= to")
    return first, last

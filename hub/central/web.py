"""The regency page: every office's live state and its monthly figures, for the regency's admins.

Served by the ingest's own process (aiohttp), reading what the ingest wrote to PostgreSQL.
Accounts are the regency's (`antrian central users add NAME`), with the office's password
hashing (`antrian.web.accounts`); a session is a random token whose hash is stored, in a cookie
the page's scripts cannot read. The office list refreshes itself by a short poll of
`/api/offices` (every `POLL_S`): a regency has tens of offices and a handful of viewers, so one
small query every few seconds per viewer is cheaper than keeping streams open.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import secrets
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg
from aiohttp import web

from antrian.central.config import CentralConfig
from antrian.central.reports import REGENCY, month_figures
from antrian.i18n import t
from antrian.web.accounts import verify_password

log = logging.getLogger("antrian.central.web")

COOKIE: Final = "antrian_regency"
LANG_COOKIE: Final = "antrian_regency_lang"
SESSION_HOURS: Final = 12
POLL_S: Final = 3
#: Failed logins per address in LOCKOUT_S before that address must wait.
MAX_FAILURES: Final = 10
LOCKOUT_S: Final = 300
MAX_FORM_BYTES: Final = 4096

_CFG: Final = web.AppKey("cfg", CentralConfig)
_DB: Final = web.AppKey("db", psycopg.AsyncConnection)
_FAILURES: Final = web.AppKey("failures", dict)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang") or request.cookies.get(LANG_COOKIE) or request.app[_CFG].language
    return lang if lang in ("id", "en") else "id"


def _page(lang: str, title: str, body: str, *, script: str = "") -> web.Response:
    other = "en" if lang == "id" else "id"
    text = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
th {{ background: #eee; }} .stale {{ color: #b00; }} nav a {{ margin-right: 1rem; }}
</style></head><body>
<nav><a href="/">{t("regency.offices", lang)}</a><a href="/laporan">{t("regency.reports", lang)}</a>
<a href="?lang={other}">{t("regency.other_language", lang)}</a></nav>
<h1>{html.escape(title)}</h1>
{body}
{script}
</body></html>"""
    resp = web.Response(text=text, content_type="text/html")
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    )
    resp.set_cookie(LANG_COOKIE, lang, samesite="Strict", httponly=True)
    return resp


async def _user(request: web.Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    cur = await request.app[_DB].execute(
        "SELECT name FROM central_sessions WHERE id_hash = %s AND expires > now()", (_sha(token),)
    )
    row = await cur.fetchone()
    return str(row[0]) if row else None


def _login_form(lang: str, error: str = "") -> web.Response:
    err = f'<p class="stale" id="error">{html.escape(error)}</p>' if error else ""
    body = f"""{err}<form method="post" action="/masuk">
<p><label>{t("regency.name", lang)}
 <input name="name" autocomplete="username" maxlength="64" required></label></p>
<p><label>{t("regency.password", lang)} <input name="password" type="password" autocomplete="current-password"
 maxlength="200" required></label></p>
<p><button type="submit">{t("regency.login", lang)}</button></p></form>"""
    return _page(lang, t("regency.login_title", lang), body)


async def login_get(request: web.Request) -> web.Response:
    return _login_form(_lang(request))


async def login_post(request: web.Request) -> web.Response:
    lang = _lang(request)
    address = request.remote or "?"
    failures: dict[str, list[float]] = request.app[_FAILURES]
    now = time.monotonic()
    recent = [x for x in failures[address] if now - x < LOCKOUT_S]
    failures[address] = recent
    if len(recent) >= MAX_FAILURES:
        return _login_form(lang, t("regency.locked", lang, minutes=LOCKOUT_S // 60))
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM_BYTES, actual_size=request.content_length or 0)
    form = await request.post()
    name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:200]
    cur = await request.app[_DB].execute("SELECT password FROM central_users WHERE name = %s", (name,))
    row = await cur.fetchone()
    ok = await asyncio.to_thread(verify_password, password, str(row[0])) if row else False
    if not ok:
        recent.append(now)
        return _login_form(lang, t("regency.login_failed", lang))
    token = secrets.token_urlsafe(32)
    await request.app[_DB].execute("DELETE FROM central_sessions WHERE expires < now()")
    await request.app[_DB].execute(
        "INSERT INTO central_sessions (id_hash, name, expires) VALUES (%s, %s, now() + %s)",
        (_sha(token), name, timedelta(hours=SESSION_HOURS)),
    )
    resp = web.HTTPSeeOther("/")
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", max_age=SESSION_HOURS * 3600)
    raise resp


async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(COOKIE)
    if token:
        await request.app[_DB].execute("DELETE FROM central_sessions WHERE id_hash = %s", (_sha(token),))
    resp = web.HTTPSeeOther("/masuk")
    resp.del_cookie(COOKIE)
    raise resp


async def offices_data(db: psycopg.AsyncConnection[Any]) -> list[dict[str, Any]]:
    """Every office as the list shows it: live state, last event, and how far the link lags."""
    cur = await db.execute(
        "SELECT o.slug, o.name, o.head_seq, o.last_event_at, o.last_seen, "
        "(SELECT max(seq) FROM events e WHERE e.office = o.slug) FROM offices o ORDER BY o.name, o.slug"
    )
    offices = await cur.fetchall()
    cur = await db.execute("SELECT office, topic, payload FROM live_state")
    live: dict[str, dict[str, Any]] = defaultdict(dict)
    for office, topic, payload in await cur.fetchall():
        live[office][topic] = payload
    out = []
    now = datetime.now().astimezone()
    for slug, name, head, last_event, last_seen, stored in offices:
        state = live.get(slug, {})
        waiting = {
            topic.split("/")[1]: int(p.get("waiting", 0))
            for topic, p in sorted(state.items())
            if topic.startswith("service/") and isinstance(p, dict) and isinstance(p.get("waiting"), int)
        }
        counters = [
            {"counter": topic.split("/")[1], "status": p.get("status"), "serving": p.get("serving")}
            for topic, p in sorted(state.items())
            if topic.startswith("counter/") and isinstance(p, dict)
        ]
        offline = sorted(
            topic.split("/")[1]
            for topic, p in state.items()
            if topic.startswith("device/") and p == "offline"
        )
        hub = state.get("hub/state")
        out.append(
            {
                "slug": slug,
                "name": name or slug,
                "hub": hub.get("state") if isinstance(hub, dict) else None,
                "waiting": waiting,
                "counters": counters,
                "devices_offline": offline,
                "last_event_at": last_event.isoformat() if last_event else None,
                "head": head,
                "stored": stored,
                "behind": max((head or 0) - (stored or 0), 0),
                "seen_seconds_ago": int((now - last_seen).total_seconds()) if last_seen else None,
            }
        )
    return out


async def api_offices(request: web.Request) -> web.Response:
    if await _user(request) is None:
        raise web.HTTPUnauthorized()
    return web.json_response({"offices": await offices_data(request.app[_DB])})


_LIST_SCRIPT: Final = """<script>
const WORDS = __WORDS__;
function cell(text) { const td = document.createElement('td'); td.textContent = text; return td; }
async function refresh() {
  try {
    const r = await fetch('/api/offices', {cache: 'no-store'});
    if (r.status === 401) { location.href = '/masuk'; return; }
    const data = await r.json();
    const body = document.querySelector('#offices tbody');
    body.replaceChildren();
    for (const o of data.offices) {
      const tr = document.createElement('tr');
      tr.dataset.office = o.slug;
      tr.append(cell(o.name), cell(o.hub === 'online' ? WORDS.online : WORDS.offline),
        cell(Object.entries(o.waiting).map(([s, n]) => s + ': ' + n).join(', ') || '-'),
        cell(o.counters.map(c => c.counter + ' ' + (c.serving || c.status || '')).join(', ') || '-'),
        cell(o.devices_offline.join(', ') || '-'),
        cell(o.last_event_at ? new Date(o.last_event_at).toLocaleString() : '-'),
        cell(o.seen_seconds_ago === null ? '-' : WORDS.lag.replace('{seconds}', o.seen_seconds_ago)
             .replace('{events}', o.behind)));
      body.append(tr);
    }
    document.querySelector('#updated').textContent = new Date().toLocaleTimeString();
  } catch (e) { document.querySelector('#updated').textContent = WORDS.unreachable; }
}
refresh(); setInterval(refresh, __POLL__ * 1000);
</script>"""


async def office_list(request: web.Request) -> web.Response:
    lang = _lang(request)
    if await _user(request) is None:
        raise web.HTTPSeeOther("/masuk")
    heads = "".join(
        f"<th>{t(k, lang)}</th>"
        for k in (
            "regency.office",
            "regency.hub",
            "regency.waiting",
            "regency.counters",
            "regency.devices_offline",
            "regency.last_event",
            "regency.link",
        )
    )
    body = f"""<table id="offices"><thead><tr>{heads}</tr></thead><tbody></tbody></table>
<p>{t("regency.updated", lang)} <span id="updated">-</span></p>
<form method="post" action="/keluar"><button>{t("regency.logout", lang)}</button></form>"""
    words = {
        "online": t("regency.online", lang),
        "offline": t("regency.offline", lang),
        "lag": t("regency.lag", lang),
        "unreachable": t("regency.unreachable", lang),
    }
    script = _LIST_SCRIPT.replace("__WORDS__", json.dumps(words).replace("<", "\\u003c")).replace(
        "__POLL__", str(POLL_S)
    )
    return _page(lang, t("regency.title", lang), body, script=script)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}".replace(".", ",")


async def report(request: web.Request) -> web.Response:
    lang = _lang(request)
    if await _user(request) is None:
        raise web.HTTPSeeOther("/masuk")
    cfg = request.app[_CFG]
    month = request.query.get("bulan") or datetime.now().strftime("%Y-%m")
    office = request.query.get("kantor") or None
    if office is not None and office not in cfg.offices:
        raise web.HTTPBadRequest(text=t("regency.unknown_office", lang, office=office[:40]))

    def compute() -> dict[str, Any]:
        with psycopg.connect(cfg.dsn, autocommit=True, connect_timeout=10) as conn:
            return month_figures(conn, month, office)

    try:
        figures = await asyncio.to_thread(compute)
    except ValueError:
        raise web.HTTPBadRequest(text=t("regency.bad_month", lang, month=month[:20])) from None
    keys = ("issued", "served", "skipped", "expired", "no_show", "wait_mean", "wait_p90")
    heads = "".join(f"<th>{t('regency.col_' + k, lang)}</th>" for k in ("office", *keys))
    rows = []
    order = [s for s in cfg.offices if office in (None, s)] + ([REGENCY] if office is None else [])
    for slug in order:
        f = figures.get(slug)
        label = t("regency.whole_regency", lang) if slug == REGENCY else cfg.offices[slug]
        if f is None:
            cells = ["0"] * 4 + ["-"] * 3
        else:
            share = f.no_show_share
            cells = [
                str(f.issued),
                str(f.served),
                str(f.skipped),
                str(f.expired),
                "-" if share is None else f"{share * 100:.0f}%",
                _fmt(f.wait_mean),
                _fmt(f.wait_p90),
            ]
        rows.append(
            f'<tr data-office="{html.escape(slug or "regency")}"><td>{html.escape(label)}</td>'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    options = "".join(
        f'<option value="{html.escape(s)}"{" selected" if s == office else ""}>{html.escape(n)}</option>'
        for s, n in cfg.offices.items()
    )
    body = f"""<form method="get" action="/laporan">
<label>{t("regency.month", lang)} <input name="bulan" type="month" value="{html.escape(month[:7])}"></label>
<label>{t("regency.office", lang)} <select name="kantor">
<option value="">{t("regency.all_offices", lang)}</option>
{options}</select></label> <button>{t("regency.show", lang)}</button></form>
<table id="report"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<p>{t("regency.report_note", lang)}</p>"""
    return _page(lang, t("regency.report_title", lang, month=html.escape(month[:7])), body)


async def make_app(cfg: CentralConfig) -> web.Application:
    app = web.Application(client_max_size=MAX_FORM_BYTES)
    app[_CFG] = cfg
    app[_DB] = await psycopg.AsyncConnection.connect(cfg.dsn, autocommit=True, connect_timeout=10)
    app[_FAILURES] = defaultdict(list)

    async def close_db(app: web.Application) -> None:
        await app[_DB].close()

    app.on_cleanup.append(close_db)
    app.add_routes(
        [
            web.get("/", office_list),
            web.get("/masuk", login_get),
            web.post("/masuk", login_post),
            web.post("/keluar", logout),
            web.get("/api/offices", api_offices),
            web.get("/laporan", report),
        ]
    )
    return app


async def serve(cfg: CentralConfig) -> web.AppRunner:
    """Start the page on the configured port; the caller cleans the runner up."""
    runner = web.AppRunner(await make_app(cfg), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, cfg.web_host, cfg.web_port).start()
    log.info("regency page on http://%s:%d/", cfg.web_host, cfg.web_port)
    return runner

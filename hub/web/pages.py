"""The HTML shells of the pages. The live parts are drawn by the page scripts from JSON.

Why shells plus scripts: the same JSON that arrives over server-sent events draws the page
first and redraws it on every change, so a page shows the same thing after a reload as after an
update, and a TV reconnecting after a power cut needs no special case.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from antrian.web.text import texts


def _json_script(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script id="boot" type="application/json">{text}</script>'


def shell(
    *,
    lang: str,
    title: str,
    page: str,
    body: str,
    csrf: str = "",
    boot: dict[str, Any] | None = None,
    user: str | None = None,
    head: str = "",
) -> str:
    """A whole page: `page` names the body class and the script (`/static/{page}.js`);
    `head` is markup of the page's own for the head (a phone page's manifest)."""
    t = texts(lang)
    other = "en" if lang != "en" else "id"
    nav = ""
    if page in ("officer", "admin", "login", "index", "error", "help"):
        who = ""
        if user:
            who = (
                f'<span class="who">{escape(user)}</span><form method="post" action="/logout">'
                f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                f'<button class="link" id="logout">{escape(t["logout"])}</button>'
                f"</form>"
            )
        # the officers' guide, one tap away where they work (and back from it)
        helper = (
            f'<a href="/help?lang={lang}" id="help-link" target="_blank">{escape(t["help"])}</a>'
            if page == "officer"
            else f'<a href="/officer?lang={lang}">{escape(t["officer_title"])}</a>'
            if page == "help"
            else ""
        )
        nav = (
            f'<nav class="top"><a href="/?lang={lang}">antrian</a>{helper}'
            f'<a href="?lang={other}" class="lang">{escape(t["language"])}</a>'
            f"{who}</nav>"
        )
    boot_data = {"lang": lang, "text": t, **(boot or {})}
    scripted = page not in ("login", "index", "error", "help", "poster")
    script = f'<script src="/static/{page}.js"></script>' if scripted else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="csrf" content="{escape(csrf)}"><title>{escape(title)}</title>'
        f'<link rel="stylesheet" href="/static/app.css">{head}</head>'
        f'<body class="page-{page}">{nav}{body}'
        f'<div id="offline" class="offline" hidden>{escape(t["offline"])}</div>'
        f'{_json_script(boot_data)}<script src="/static/common.js"></script>{script}'
        f"</body></html>"
    )


def login_body(lang: str, csrf: str, next_url: str, error: str | None) -> str:
    t = texts(lang)
    err = f'<p class="error" id="login-error">{escape(error)}</p>' if error else ""
    return (
        f'<main class="card narrow"><h1>{escape(t["login_title"])}</h1>{err}'
        f'<form method="post" action="/login?lang={lang}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<label>{escape(t["username"])}<input name="username" id="username"'
        f' autocomplete="username" required></label>'
        f'<label>{escape(t["password"])}<input name="password" id="password" type="password"'
        f' autocomplete="current-password" required></label>'
        f'<button class="primary" id="login-submit">{escape(t["login"])}</button></form></main>'
    )

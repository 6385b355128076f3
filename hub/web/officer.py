"""What the officer page needs beyond the waiting room's picture, and who may act where.

The officer's page is a counter workstation (what a Qmatic workstation shows): the waiting
list of the counter's services in the order the hub will really call them (priority first,
with the anti-starvation streak: `antrian.queue.choose_next`, the one rule), the ticket in hand
with its service, priority, waiting time and transfers, and the missed tickets to put back.

An officer account may be bound to its counters (`antrian users add budi --role officer
--counters 1,2`): `refusal` is asked on every action from the pages, so a binding holds
whatever a browser sends, not only in what the page offers.

The officers' guide (`docs/officer-guide.md`, with its screenshots in `docs/img/`) is served
at `/help` as plain HTML drawn from the markdown here, so it works on the office LAN with no
internet and always says what the file in the repository says.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, Final

from antrian.config import Config
from antrian.contract import ContractError, validate_request
from antrian.i18n import t
from antrian.queue import WAITING, Counter, DomainError, QueueState, ServiceQueue, Ticket, choose_next
from antrian.web.accounts import User

#: Waiting tickets listed per counter: a phone screen shows a dozen, a long day a few hundred.
QUEUE_LIMIT: Final = 50
#: Missed tickets listed (the newest), to put one back.
SKIPPED_LIMIT: Final = 30
#: Commands that name a counter; the others name a ticket (`set_priority`, `reinsert`).
_TICKET_COMMANDS: Final = frozenset({"set_priority", "reinsert"})

DOCS: Final = Path(__file__).resolve().parents[2] / "docs"
GUIDE: Final = DOCS / "officer-guide.md"
IMAGES: Final = DOCS / "img"


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


def calling_order(state: QueueState, counter: Counter, limit: int = QUEUE_LIMIT) -> list[tuple[str, bool]]:
    """The next `limit` tickets `counter` would call, in order, (code, chosen as priority?).

    The hub's own rule run on a copy of the counter's lanes, as if nothing else happened: what
    "the real calling order" means to the officer (an older B before this A at a counter that
    serves both, a regular ticket after K priority ones). Other counters may take some first.
    """
    lanes = {
        letter: ServiceQueue(letter, svc.status, priority=list(svc.priority), regular=list(svc.regular))
        for letter in counter.services
        if (svc := state.services.get(letter)) is not None
    }
    probe = Counter(counter.number, tuple(lanes), "open", priority_streak=counter.priority_streak)
    order: list[tuple[str, bool]] = []
    while len(order) < limit:
        nxt = choose_next(lanes, probe, state.cfg.queue.priority_streak)
        if nxt is None:
            break
        code, as_priority = nxt
        svc = lanes[state.tickets[code].service]
        (svc.priority if state.tickets[code].priority else svc.regular).pop(0)
        probe.priority_streak = probe.priority_streak + 1 if as_priority else 0
        order.append(nxt)
    return order


def ticket_detail(cfg: Config, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """One ticket as the officer reads it: service, priority, how long waited, where it has been."""
    svc = cfg.service(ticket.service)
    tz = cfg.office.tz
    waited_until = ticket.called_at if ticket.state != WAITING and ticket.called_at else now
    return {
        "ticket": ticket.code,
        "service": ticket.service,
        "service_name": svc.name if svc else ticket.service,
        "priority": ticket.priority,
        "issued_at": ticket.issued_at.astimezone(tz).strftime("%H.%M"),
        "waited_min": minutes_between(ticket.issued_at, waited_until),
        "recalls": ticket.recalls,
        # a ticket from a phone: the officer sees whether its holder has come (checked in)
        "phone": ticket.remote,
        "checked_in": ticket.checked_in,
        "history": [
            {"from": a, "to": b, "at": at.astimezone(tz).strftime("%H.%M")} for a, b, at in ticket.history
        ],
    }


def officer_view(state: QueueState, now: datetime) -> dict[str, Any]:
    """Per counter: the ticket in hand and the waiting list in calling order; the missed ones."""
    cfg = state.cfg
    counters: dict[str, Any] = {}
    for number, counter in state.counters.items():
        current = state.tickets.get(counter.serving) if counter.serving else None
        queue = []
        for code, as_priority in calling_order(state, counter):
            row = ticket_detail(cfg, state.tickets[code], now)
            row["as_priority"] = as_priority
            queue.append(row)
        counters[str(number)] = {
            "current": ticket_detail(cfg, current, now) if current else None,
            "queue": queue,
            "services": list(counter.services),
        }
    skipped = [t for t in state.tickets.values() if t.state == "skipped"][-SKIPPED_LIMIT:]
    return {
        "desks": counters,
        "missed_tickets": [ticket_detail(cfg, t, now) for t in reversed(skipped)],
    }


def refusal(
    state: QueueState, user: User, command: str, body: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """Why `user` may not run `command` with `body` (a text key and its parameters), or None.

    An account bound to counters acts only on those counters, and on tickets of a service one
    of them serves (a priority correction, putting back a missed ticket). Admins and officer
    accounts without a binding run every counter.
    """
    if user.role == "admin" or not user.counters:
        return None
    if command == "check_in":
        return None  # a booking becomes a ticket like a kiosk's: any officer may do it
    if command in _TICKET_COMMANDS:
        code = str(body.get("ticket") or "")[:8].upper()
        ticket = state.tickets.get(code)
        served = {s for n in user.counters if (c := state.counters.get(n)) for s in c.services}
        if ticket is not None and ticket.service not in served:
            return "not_your_service", {"name": user.name, "ticket": code}
        return None  # an unknown ticket is the core's to refuse, with its own words
    counter = body.get("counter")
    if not user.may_run(counter):
        return "not_your_counter", {"name": user.name, "counter": str(counter)[:4]}
    return None


def in_language(
    state: QueueState, command: str, fields: dict[str, Any], result: dict[str, Any], lang: str, now: datetime
) -> dict[str, Any]:
    """A refusal of the rules said in the page's language, not only the office's.

    The core answers in the office language (`[office] language`: the same words for a call
    pad, a script and every page). A page read in the other language asks the rules again:
    `decide` is pure and the refused command changed nothing, so it raises the same refusal,
    now with its parameters, which the catalogue says in `lang`. Anything else is left as the
    core said it.
    """
    error = result.get("error")
    code = (result.get("data") or {}).get("code")
    if result.get("status") != "error" or not isinstance(error, str) or not code:
        return result
    try:
        args = validate_request(command, fields)
        state.decide(command, args, str(fields.get("actor", "")), now)
    except DomainError as exc:
        if exc.key == code:
            return {**result, "error": t(exc.key, lang, **exc.params)}
    except ContractError:
        pass
    return result


# ---------------------------------------------------------------------------------------------
# the guide, as a page
# ---------------------------------------------------------------------------------------------

_INLINE: Final = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![*\w])\*([^*]+)\*(?!\w)"), r"<i>\1</i>"),
)
_IMAGE: Final = re.compile(r"!\[([^\]]*)\]\(img/([A-Za-z0-9_.-]+\.png)\)")
_LINK: Final = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _inline(text: str) -> str:
    html = escape(text, quote=False)
    html = _IMAGE.sub(r'<img src="/help/img/\2" alt="\1" loading="lazy">', html)
    html = _LINK.sub(
        lambda m: f'<a href="{escape(m[2])}">{m[1]}</a>' if m[2].startswith(("/", "#")) else m[1], html
    )
    for pattern, repl in _INLINE:
        html = pattern.sub(repl, html)
    return html


def render_markdown(text: str) -> str:
    """The subset of markdown the guide uses, as HTML: headings, paragraphs, lists (bulleted and
    numbered), tables, code blocks, images from `img/`, code, bold and italics. Everything is
    escaped first; a link leads only to a page of the hub (the office has no internet, and the
    guide needs none)."""
    out: list[str] = []
    para: list[str] = []
    lists: list[str] = []
    numbered = False
    table: list[list[str]] = []
    code: list[str] | None = None

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()
        if lists:
            tag = "ol" if numbered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in lists) + f"</{tag}>")
            lists.clear()
        if table:
            head, *rows = table
            out.append(
                '<div class="table-wrap"><table><tr>'
                + "".join(f"<th>{_inline(c)}</th>" for c in head)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows)
                + "</table></div>"
            )
            table.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if code is not None:
            if line.startswith("```"):
                out.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        item = re.match(r"^\s*(?:([-*])|\d+\.) (.*)$", line)
        heading = re.match(r"^(#{1,3}) (.+)$", line)
        if line.startswith("```"):
            flush()
            code = []
        elif heading:
            flush()
            level = len(heading[1])
            anchor = re.sub(r"[^a-z0-9]+", "-", heading[2].lower()).strip("-")
            out.append(f'<h{level} id="{anchor}">{_inline(heading[2])}</h{level}>')
        elif line.startswith("|"):
            if para or lists:
                flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                table.append(cells)
        elif item:
            if para or table or (lists and numbered != (item[1] is None)):
                flush()
            numbered = item[1] is None
            lists.append(item[2])
        elif line.startswith("  ") and lists:
            lists[-1] += " " + line.strip()
        elif not line.strip():
            flush()
        else:
            if lists or table:
                flush()
            para.append(line.strip())
    flush()
    return "\n".join(out)

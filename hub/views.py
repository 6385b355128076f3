"""What the world sees of the queue: the JSON payloads of the retained state topics.

Pure functions of `QueueState` (and the configuration), so the MQTT service, the web pages
and the tests all read the same picture. The payload shapes are documented in mqtt_topics.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub import __version__
from hub.announce import Announcement, build
from hub.config import Config, CounterConfig
from hub.contract import PLAY_EXPIRY_S, parse_ticket_code
from hub.queue import QueueState, Ticket, end_of_day


def _iso(at: datetime, cfg: Config) -> str:
    return at.astimezone(cfg.office.tz).isoformat(timespec="seconds")


def clock_text(at: datetime, cfg: Config) -> str:
    """Time as Indonesians write it on a ticket: 09.05."""
    return at.astimezone(cfg.office.tz).strftime("%H.%M")


def hub_info(state: QueueState) -> dict[str, Any]:
    cfg = state.cfg
    return {
        "version": __version__,
        "office": cfg.office.slug,
        "name": cfg.office.name,
        "timezone": cfg.office.timezone,
        "day": state.day or None,
        "opening": cfg.office.opening.strftime("%H:%M"),
        "closing": cfg.office.closing.strftime("%H:%M"),
        "public_url": cfg.office.public_url,
        "services": [{"letter": s.letter, "name": s.name, "minutes": s.minutes,
                      "quota": s.quota, "completion": s.completion} for s in cfg.services],
        "counters": [{"counter": c.number, "name": c.label, "services": list(c.services)}
                     for c in cfg.counters],
    }  # fmt: skip


def service_state(state: QueueState, letter: str, now: datetime) -> dict[str, Any]:
    svc = state.services[letter]
    cfg_svc = state.cfg.service(letter)
    return {
        "service": letter,
        "name": cfg_svc.name if cfg_svc else letter,
        "status": svc.status,
        "waiting": svc.waiting,
        "waiting_priority": len(svc.priority),
        "issued": svc.issued,
        "quota": cfg_svc.quota if cfg_svc else None,
        "last_issued": f"{letter}-{svc.last_issued:03d}" if svc.last_issued else None,
        "last_called": svc.last_called,
        "mean_minutes": round(svc.mean_minutes, 1),
        "estimated_wait_min": state.estimate_minutes(letter, svc.waiting, now),
        "day": state.day or None,
    }


def counter_waiting(state: QueueState, number: int) -> int:
    """How many tickets wait for the services this counter serves."""
    return sum(state.services[s].waiting for s in state.counters[number].services)


def counter_state(state: QueueState, number: int) -> dict[str, Any]:
    c = state.counters[number]
    cfg_c = state.cfg.counter(number)
    return {
        "counter": number,
        "name": cfg_c.label if cfg_c else f"Loket {number}",
        "status": c.status,
        "until": c.until,
        "serving": c.serving,
        "services": list(c.services),
        "waiting": counter_waiting(state, number),
        "served": c.served,
        "call_seq": c.call_seq,
        "day": state.day or None,
    }


def display(state: QueueState, number: int) -> dict[str, Any]:
    """What the LED board above a counter shows. Retained; stale after the day ends."""
    c = state.counters[number]
    cfg_c = state.cfg.counter(number)
    name = cfg_c.label if cfg_c else f"Loket {number}"
    if c.status == "break":
        lines = ["ISTIRAHAT", f"s.d. {c.until}" if c.until else name.upper()]
    elif c.status == "closed":
        lines = ["TUTUP", name.upper()]
    else:
        lines = [c.serving or "---", name.upper()]
    day = state.day or None
    return {
        "counter": number,
        "name": name,
        "serving": c.serving,
        "status": c.status,
        "until": c.until,
        "lines": lines,
        "notice": None,
        "call_seq": c.call_seq,
        "day": day,
        "expires_at": _iso(end_of_day(state.day, state.cfg), state.cfg) if state.day else None,
    }


def announcement_for(cfg: Config, code: str, counter: int) -> Announcement:
    parsed = parse_ticket_code(code)
    if parsed is None:
        raise ValueError(f"not a ticket code: {code}")
    cc: CounterConfig | None = cfg.counter(counter)
    return build(parsed[0], parsed[1], counter,
                 counter_name=cc.spoken_name if cc else None, wording=cfg.wording)  # fmt: skip


def play(cfg: Config, call_id: str, code: str, counter: int, now: datetime) -> dict[str, Any]:
    """The speaker's `play` payload for one call or recall."""
    ann = announcement_for(cfg, code, counter)
    return {
        "id": call_id,
        "ticket": code,
        "counter": counter,
        "text": ann.text,
        "clips": list(ann.clips),
        "issued_at": _iso(now, cfg),
        "expires_at": _iso(now + timedelta(seconds=PLAY_EXPIRY_S), cfg),
    }


def ticket_view(state: QueueState, t: Ticket, now: datetime) -> dict[str, Any]:
    """Everything a printed ticket or the citizen status page needs. No personal data."""
    cfg = state.cfg
    svc_cfg = cfg.service(t.service)
    ahead = state.ahead_of(t) if t.state == "waiting" else 0
    wait = state.estimate_minutes(t.service, ahead, now) if t.state == "waiting" else None
    return {
        "ticket": t.code,
        "service": t.service,
        "service_name": svc_cfg.name if svc_cfg else t.service,
        "priority": t.priority,
        "state": t.state,
        "counter": t.counter,
        "ahead": ahead,
        "estimated_wait_min": wait,
        "estimated_call_at": clock_text(now + timedelta(minutes=wait), cfg) if wait is not None
        else None,
        "issued_at": _iso(t.issued_at, cfg),
        "token": t.token,
        "status_url": f"{cfg.office.public_url}/t/{t.token}",
        "completion": svc_cfg.completion if svc_cfg else None,
        "office": cfg.office.name,
        "day": state.day,
    }

"""What the world sees of the queue: the JSON payloads of the retained state topics.

Pure functions of `QueueState` (and the configuration), so the MQTT service, the web pages
and the tests all read the same picture. Each returns its payload's type
(`antrian.payloads`), so mypy checks every key; mqtt_topics.md documents them for people.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Final

from antrian import __version__
from antrian.announce import Announcement, build
from antrian.config import Config, CounterConfig
from antrian.contract import (
    PLAY_EXPIRY_S,
    CounterState,
    DeviceDisplay,
    EstimateFields,
    HubInfo,
    OfficeState,
    Play,
    ServiceState,
    TicketView,
    parse_ticket_code,
)
from antrian.eta import DISPLAY_LAG, Estimate, estimator_of
from antrian.i18n import t
from antrian.queue import DONE, SKIPPED, QueueState, Ticket, end_of_day
from antrian.schedule import iso, schedule_of


def _iso(at: datetime, cfg: Config) -> str:
    return at.astimezone(cfg.office.tz).isoformat(timespec="seconds")


def clock_text(at: datetime, cfg: Config) -> str:
    """Time as Indonesians write it on a ticket: 09.05."""
    return at.astimezone(cfg.office.tz).strftime("%H.%M")


def hub_info(state: QueueState) -> HubInfo:
    """`hub/info`: the office as configured, and its working day with that day's own hours."""
    cfg = state.cfg
    opening, closing = cfg.office.opening, cfg.office.closing
    if state.day:
        hours = schedule_of(cfg).plan_on(date.fromisoformat(state.day))
        opening, closing = hours.opening.time(), hours.closing.time()
    return {
        "version": __version__,
        "office": cfg.office.slug,
        "name": cfg.office.name,
        "timezone": cfg.office.timezone,
        "day": state.day or None,
        "opening": opening.strftime("%H:%M"),
        "closing": closing.strftime("%H:%M"),
        "public_url": cfg.office.public_url,
        "services": [
            {
                "letter": s.letter,
                "name": s.name,
                "minutes": s.minutes,
                "quota": s.quota,
                "completion": s.completion,
            }
            for s in cfg.services
        ],
        "counters": [
            {"counter": c.number, "name": c.label, "services": list(c.services)} for c in cfg.counters
        ],
    }


def office_state(cfg: Config, now: datetime) -> OfficeState:
    """`office/state`: open or not at `now`, why, and when it opens next (`antrian.schedule`)."""
    schedule = schedule_of(cfg)
    status = schedule.status(now)
    hours = schedule.hours_on(status.day)
    return {
        "open": status.open,
        "reason": status.reason,
        "holiday": status.holiday,
        "opens_at": iso(status.opens_at),
        "closes_at": iso(status.closes_at),
        "tickets": schedule.kiosk_refusal(now) is None,
        "tickets_from": iso(status.tickets_from),
        "special": hours.special if hours is not None else None,
        "text": status.text(cfg.office.language),
        "day": status.day.isoformat(),
    }


def _round_clock(at: datetime, up: bool | None = None) -> datetime:
    """To five minutes: down, up, or (None) the nearest."""
    step = 300
    ts = at.timestamp()
    q = math.floor(ts / step) if up is False else math.ceil(ts / step) if up else round(ts / step)
    return datetime.fromtimestamp(q * step, at.tzinfo)


def no_estimate(served_today: str | None = None) -> EstimateFields:
    """The estimate fields where there is no estimate ("belum dapat diperkirakan")."""
    return {
        "estimated_wait_min": None,
        "estimated_call_at": None,
        "estimated_call_from": None,
        "estimated_call_to": None,
        "served_today": served_today,
    }


#: `no_estimate()` made once: a ticket's view only reads it (every take_ticket builds one).
_NO_ESTIMATE: Final = no_estimate()


def estimate_fields(estimate: Estimate, now: datetime, cfg: Config) -> EstimateFields:
    """The published form of an estimate: minutes, clock times to five minutes, the window.

    `estimated_call_from`/`_to` are set only where the window is wider than ten minutes
    (narrower, one time says it: "sekitar pukul 09.40"). `served_today` ("yes", "maybe",
    "no"; null with the rest when no counter will serve the service today) is what the cut-off
    and the warning "kemungkinan tidak terlayani hari ini" go by.
    """
    at, low, high = estimate.at, estimate.low, estimate.high
    if at is None or low is None or high is None:
        return no_estimate(estimate.served_today)
    low, high = _round_clock(low, up=False), _round_clock(high, up=True)
    wide = high - low > timedelta(minutes=10)
    return {
        "estimated_wait_min": max(round((at - now).total_seconds() / 60), 0),
        "estimated_call_at": clock_text(_round_clock(at), cfg),
        "estimated_call_from": clock_text(low, cfg) if wide else None,
        "estimated_call_to": clock_text(high, cfg) if wide else None,
        "served_today": estimate.served_today,
    }


def service_state(state: QueueState, letter: str, now: datetime) -> ServiceState:
    """A service's retained state; the estimate is for a ticket taken now.

    `quota_left` is said by the hub rather than worked out by each reader: the kiosks, the TV
    and Home Assistant then agree on when "Kuota hari ini habis" starts (null: no quota)."""
    svc = state.services[letter]
    cfg_svc = state.cfg.service(letter)
    forecast = estimator_of(state).forecast(state, now, max_age=DISPLAY_LAG)
    estimate = estimate_fields(forecast.new_ticket(letter), now, state.cfg)
    quota = cfg_svc.quota if cfg_svc else None
    return {
        "service": letter,
        "name": cfg_svc.name if cfg_svc else letter,
        "status": svc.status,
        "waiting": svc.waiting,
        "waiting_priority": len(svc.priority),
        "issued": svc.issued,
        "served": sum(1 for t in state.tickets.values() if t.service == letter and t.state == DONE),
        "skipped": sum(1 for t in state.tickets.values() if t.service == letter and t.state == SKIPPED),
        "quota": quota,
        "quota_left": None if quota is None else max(quota - svc.issued, 0),
        "last_issued": f"{letter}-{svc.last_issued:03d}" if svc.last_issued else None,
        "last_called": svc.last_called,
        "mean_minutes": round(forecast.minutes.get(letter, svc.mean_minutes), 1),
        **estimate,
        "closed_today": estimate["served_today"] == "no",
        "late_tickets": state.cfg.office.late_tickets,
        "day": state.day or None,
    }


def counter_waiting(state: QueueState, number: int) -> int:
    """How many tickets wait for the services this counter serves."""
    return sum(state.services[s].waiting for s in state.counters[number].services)


def counter_state(state: QueueState, number: int) -> CounterState:
    c = state.counters[number]
    cfg_c = state.cfg.counter(number)
    return {
        "counter": number,
        "name": cfg_c.label if cfg_c else f"Loket {number}",
        "status": c.status,
        "status_text": board_status(state.cfg, c.status),
        "until": c.until,
        "serving": c.serving,
        "serving_waited_min": serving_waited_min(state, c.serving),
        "services": list(c.services),
        "waiting": counter_waiting(state, number),
        "served": c.served,
        "call_seq": c.call_seq,
        "day": state.day or None,
    }


def serving_waited_min(state: QueueState, code: str | None) -> int | None:
    """How long the citizen being served waited, from the ticket to the call (whole minutes).

    Fixed once called, so a retained state never goes stale; a figure staff and Home Assistant
    watch to see whether the queue is kept within the office's service standard."""
    ticket = state.tickets.get(code) if code else None
    if ticket is None or ticket.called_at is None:
        return None
    return max(round((ticket.called_at - ticket.issued_at).total_seconds() / 60), 0)


def board_status(cfg: Config, status: str) -> str | None:
    """The word a board or a call pad shows for a counter that is not open (the catalogue's,
    in the office language): the same on the LED board and on the pad."""
    return None if status == "open" else t(f"board.{status}", cfg.office.language)


def display(state: QueueState, number: int) -> DeviceDisplay:
    """What the LED board above a counter shows. Retained; stale after the day ends."""
    c = state.counters[number]
    cfg_c = state.cfg.counter(number)
    name = cfg_c.label if cfg_c else f"Loket {number}"
    lang = state.cfg.office.language
    if c.status == "break":
        until = t("board.until", lang, until=c.until) if c.until else name.upper()
        lines = [t("board.break", lang), until]
    elif c.status == "closed":
        lines = [t("board.closed", lang), name.upper()]
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
    return build(
        parsed[0], parsed[1], counter, counter_name=cc.spoken_name if cc else None, wording=cfg.wording
    )


def play(cfg: Config, call_id: str, code: str, counter: int, now: datetime) -> Play:
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


def ticket_view(state: QueueState, t: Ticket, now: datetime, *, estimate: bool = True) -> TicketView:
    """Everything a printed ticket or the citizen status page needs. No personal data.

    `estimate=False` leaves the position and the estimate out (None/0): the hub fills them in
    once per batch of requests, from one forecast, instead of once per ticket.

    `ahead` is the number of waiting tickets the hub's rules will call before this one, of any
    service (a shared counter calls an older B before this A). `get_ready` ("Bersiaplah")
    fires at `[office] get_ready_ahead` tickets or `get_ready_minutes` minutes.
    """
    cfg = state.cfg
    svc_cfg = cfg.service(t.service)
    call = None
    if t.state == "waiting" and estimate:
        call = estimator_of(state).forecast(state, now).ticket(t.code)
    fields = estimate_fields(call, now, cfg) if call is not None else _NO_ESTIMATE
    ahead = call.position if call is not None else 0
    wait = fields["estimated_wait_min"]
    ready = wait is not None and (ahead <= cfg.office.get_ready_ahead or wait <= cfg.office.get_ready_minutes)
    view: TicketView = {
        "ticket": t.code,
        "service": t.service,
        "service_name": svc_cfg.name if svc_cfg else t.service,
        "priority": t.priority,
        "state": t.state,
        "counter": t.counter,
        "ahead": ahead,
        "estimated_wait_min": fields["estimated_wait_min"],
        "estimated_call_at": fields["estimated_call_at"],
        "estimated_call_from": fields["estimated_call_from"],
        "estimated_call_to": fields["estimated_call_to"],
        "served_today": fields["served_today"],
        "get_ready": ready,
        "issued_at": _iso(t.issued_at, cfg),
        "token": t.token,
        "status_url": f"{cfg.office.public_url}/t/{t.token}",
        "completion": svc_cfg.completion if svc_cfg else None,
        "office": cfg.office.name,
        "day": state.day,
        "complaint_contact": cfg.office.complaint_contact or None,
        "survey_url": cfg.office.survey_url or None,
    }
    if t.remote:
        view["remote"], view["checked_in"] = True, t.checked_in
        if not t.checked_in and t.check_in_code:
            view["check_in_code"] = t.check_in_code
    return view

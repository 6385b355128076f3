"""The queue of one office for one working day: pure, no I/O, the rules from domain.md.

Event sourcing, in two steps that never touch a disk or a socket:

* `QueueState.decide(command, args, actor, now)` checks a command against the current state and
  returns the events it causes (or raises DomainError). It changes nothing.
* `QueueState.apply(event)` changes the state. It is the only mutator, so a state rebuilt by
  applying the stored events is the live state, exactly: same next numbers, same order, same
  tickets being served.

The hub stores the events (durably) between the two steps. Every event carries its time, its
actor and, where one applies, a reason: the event list is also the audit log.

Ordering: each waiting ticket has an `order` key (the sequence of its issue, or the place its
transfer gave it: the back of the queue, its original issue time, or the front).
A counter calls the lowest-order priority ticket first, but after `priority_streak` priority
calls in a row it takes the lowest-order regular ticket, so regular tickets never starve.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import itertools
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

from antrian.config import Config
from antrian.contract import CODE_ALPHABET, CODE_LENGTH, MAX_TICKET_NUMBER, HubEvent, ticket_code

if TYPE_CHECKING:
    from antrian.eta import Estimator

WAITING: Final = "waiting"
CALLED: Final = "called"
DONE: Final = "done"
SKIPPED: Final = "skipped"
EXPIRED: Final = "expired"


#: Status of a service or counter that today's log mentions but the configuration no longer
#: has (changed mid-day): it is kept so the day replays, shown as closed, and takes no calls.
RETIRED: Final = "closed"

_VERSIONS: Final = itertools.count(1)


class ReplayError(Exception):
    """A stored event that cannot be applied to the state (a log the rules did not write)."""


class DomainError(Exception):
    """A command the rules refuse. `key` is an i18n message key, `params` fill it in."""

    def __init__(self, key: str, *, details: Mapping[str, Any] | None = None, **params: Any) -> None:  # noqa: ANN401
        super().__init__(key)
        self.key = key
        self.params = params
        #: Fields for programs, added to the error response's `data` beside `code`.
        self.details: Mapping[str, Any] = details or {}


@dataclass(frozen=True)
class Event:
    """One change. `actor` is `kind:id` (`device:pad-1`, `officer:budi`, `admin:ani`, `system`)."""

    type: str
    at: datetime
    day: str
    actor: str
    data: Mapping[str, Any]
    reason: str | None = None

    def to_json(self, tz: tzinfo | None = None) -> HubEvent:
        """The event as `hub/event` carries it (and the audit log shows it)."""
        at = self.at.astimezone(tz) if tz is not None else self.at
        body: HubEvent = {
            "type": self.type,
            "at": at.isoformat(timespec="seconds"),
            "actor": self.actor,
            "data": dict(self.data),
        }
        if self.reason:
            body["reason"] = self.reason
        return body


@dataclass
class Ticket:
    code: str
    letter: str
    number: int
    service: str
    priority: bool
    token: str
    issued_at: datetime
    order: int
    state: str = WAITING
    counter: int | None = None
    called_at: datetime | None = None
    finished_at: datetime | None = None
    recalls: int = 0
    transfers: int = 0
    #: The `order` of its issue: a transfer "by original time" puts it back there, among the
    #: tickets of its new service taken before and after it.
    issued_order: int = 0
    #: Its transfers, oldest first: (from, to, when). The officer who receives a transferred
    #: citizen sees where they have been, without asking them to tell it again.
    history: list[tuple[str, str, datetime]] = field(default_factory=list)
    #: Taken from a phone (`antrian.join`): it waits like any ticket, but is called only once
    #: its holder is in the office: checked in at a kiosk with `check_in_code`, or by an
    #: officer. One still not checked in when its turn comes is passed over as a no-show.
    remote: bool = False
    checked_in: bool = True
    check_in_code: str | None = None


@dataclass
class Counter:
    number: int
    services: tuple[str, ...]
    status: str = "open"
    until: str | None = None
    serving: str | None = None
    priority_streak: int = 0
    call_seq: int = 0
    served: int = 0
    #: When the current status began, and today's breaks (start, end or None while on it): read
    #: models for the wait estimate, which must know when a break without `until` began and
    #: whether a counter has had its lunch yet.
    since: datetime | None = None
    breaks: list[tuple[datetime, datetime | None]] = field(default_factory=list)


@dataclass
class ServiceQueue:
    """Waiting tickets of one service, split by priority, each list sorted by `order`."""

    letter: str
    status: str = "open"
    last_issued: int = 0
    issued: int = 0
    priority_issued: int = 0
    #: Tickets taken from a phone today (`[join] share` bounds them).
    remote_issued: int = 0
    last_called: str | None = None
    mean_minutes: float = 10.0
    priority: list[tuple[int, str]] = field(default_factory=list)
    regular: list[tuple[int, str]] = field(default_factory=list)

    def add(self, ticket: Ticket) -> None:
        bisect.insort(self.priority if ticket.priority else self.regular, (ticket.order, ticket.code))

    def remove(self, ticket: Ticket) -> None:
        lane = self.priority if ticket.priority else self.regular
        i = bisect.bisect_left(lane, (ticket.order, ticket.code))
        if i < len(lane) and lane[i] == (ticket.order, ticket.code):
            del lane[i]

    @property
    def waiting(self) -> int:
        return len(self.priority) + len(self.regular)


def choose_next(
    services: Mapping[str, ServiceQueue], counter: Counter, streak_limit: int
) -> tuple[str, bool] | None:
    """The calling rule: (ticket, chosen as priority?) that `counter` calls next, or None.

    The oldest priority ticket among the counter's open services, unless the counter has made
    `streak_limit` priority calls in a row and a regular ticket waits: then the oldest regular
    one. A function of the lanes alone, so the wait estimate's forward run (`antrian.eta`) calls
    the very rule the hub calls by, on its own copy of the lanes.
    """
    best_p: tuple[int, str] | None = None
    best_r: tuple[int, str] | None = None
    for letter in counter.services:
        svc = services[letter]
        if svc.status != "open":
            continue
        if svc.priority and (best_p is None or svc.priority[0] < best_p):
            best_p = svc.priority[0]
        if svc.regular and (best_r is None or svc.regular[0] < best_r):
            best_r = svc.regular[0]
    if best_p is not None and (best_r is None or counter.priority_streak < streak_limit):
        return best_p[1], True
    if best_r is not None:
        return best_r[1], False
    return None


def local_day(now: datetime, cfg: Config) -> str:
    """The working day of an instant, in the office's time zone."""
    return now.astimezone(cfg.office.tz).date().isoformat()


#: Events after which today's record of the office is as it was (for a regular ticket): the
#: wait estimate goes on from its last forward run instead of starting again
#: (`antrian.eta.Estimator.forecast`). Whether a phone ticket's holder has checked in is no
#: part of the estimate: it counts the ticket in its place either way.
_RECORD_UNCHANGED: Final = frozenset({"ticket_issued", "phone_ticket", "ticket_checked_in"})


class QueueState:
    """Today's queue. Build with `QueueState(cfg)`; rebuild with `apply` over stored events."""

    def __init__(self, cfg: Config, day: str = "") -> None:
        self.cfg = cfg
        self.day = day
        self.order_seq = 0
        self.tickets: dict[str, Ticket] = {}
        self.by_token: dict[str, str] = {}
        self.services: dict[str, ServiceQueue] = {
            s.letter: ServiceQueue(s.letter, s.status, mean_minutes=s.minutes) for s in cfg.services
        }
        self.counters: dict[int, Counter] = {
            c.number: Counter(c.number, c.services, c.status) for c in cfg.counters
        }
        self.recent_calls: list[tuple[str, int, datetime]] = []
        #: Booking codes checked in today -> the ticket each became (`check_in`): a code
        #: becomes one ticket, once, also across a restart.
        self.bookings: dict[str, str] = {}
        #: Check-in codes of today's phone tickets -> the ticket, and each phone's (the actor
        #: `phone:<holder>`) latest ticket: one active ticket per phone, also across a restart.
        self.remote_codes: dict[str, str] = {}
        self.holders: dict[str, str] = {}
        #: Services and counters today's log mentions that the configuration no longer has.
        self.retired: set[str | int] = set()
        #: Changes with every applied event, unique across all states: read models computed
        #: from the state (the wait estimate) are cached under it.
        self.version = next(_VERSIONS)
        #: The `version` at the last event that can change today's record of the office (all but
        #: a regular ticket joining the queue): what the wait estimate reads of today is cached
        #: under it, so a rush of tickets does not read the whole day again for each one.
        self.record_version = self.version
        #: The wait estimator (`antrian.eta.Estimator`) the hub attaches, with earlier days' history.
        self.estimator: Estimator | None = None

    # ------------------------------------------------------------------------------------------
    # decide: command -> events (pure)
    # ------------------------------------------------------------------------------------------

    def decide(
        self,
        command: str,
        args: Mapping[str, Any],
        actor: str,
        now: datetime,
        *,
        token: str | None = None,
    ) -> list[Event]:
        """The events `command` causes, or DomainError. The state is left untouched.

        A command on a new local day first starts that day (numbers reset, yesterday's
        unserved tickets expire). The day never goes backwards: a wall clock that jumps back
        keeps today's numbering.
        """
        events: list[Event] = []
        day = max(self.day, local_day(now, self.cfg))
        reason = args.get("reason")
        if day != self.day:
            leftovers = [t.code for t in self.tickets.values() if t.state in (WAITING, CALLED)]
            events.append(
                Event(
                    "day_started",
                    now,
                    day,
                    "system",
                    {"previous_day": self.day or None, "expired": leftovers},
                )
            )
            state = QueueState(self.cfg, day)
        else:
            state = self

        def ev(type_: str, data: dict[str, Any]) -> Event:
            return Event(type_, now, day, actor, data, reason)

        handler = getattr(state, f"_decide_{command}", None)
        if handler is None:
            raise DomainError("invalid_request", detail=f"unknown command {command}")
        if command == "take_ticket":
            events += state._decide_take_ticket(args, ev, token or secrets.token_urlsafe(16), actor)
        elif command == "check_in":
            events += state._decide_check_in(args, ev, token or secrets.token_urlsafe(16), actor, now)
        else:
            events += handler(args, ev)
        return events

    # Each `_decide_*` gets the validated arguments and `ev`, the event factory for this call.

    def _decide_take_ticket(
        self,
        args: Mapping[str, Any],
        ev: Any,  # noqa: ANN401
        token: str,
        actor: str,
    ) -> list[Event]:
        svc_cfg = self.cfg.service(args["service"])
        if svc_cfg is None:
            raise DomainError("unknown_service", service=args["service"])
        svc = self.services[svc_cfg.letter]
        if svc.status != "open":
            raise DomainError("service_paused", service=svc.letter)
        if svc_cfg.quota is not None and svc.issued >= svc_cfg.quota:
            raise DomainError("quota_reached", service=svc.letter, quota=svc_cfg.quota)
        number = svc.last_issued + 1
        if number > MAX_TICKET_NUMBER:  # every number issued must be printable and speakable
            raise DomainError("quota_reached", service=svc.letter, quota=MAX_TICKET_NUMBER)
        priority = bool(args.get("priority", False))
        if priority and self_service(actor) and not self._priority_allowed(svc):
            raise DomainError("priority_share_reached", service=svc.letter)
        data: dict[str, Any] = {
            "ticket": ticket_code(svc.letter, number),
            "service": svc.letter,
            "number": number,
            "priority": priority,
            "token": token,
            "order": self.order_seq + 1,
        }
        if not is_phone(actor):
            return [ev("ticket_issued", data)]
        self._admit_phone(svc, actor)
        # priority is the officer's to grant, at the counter, on seeing the citizen
        data["priority"] = False
        code = self._check_in_code(token)
        return [
            ev("ticket_issued", data),
            ev("phone_ticket", {"ticket": data["ticket"], "check_in_code": code}),
        ]

    def _admit_phone(self, svc: ServiceQueue, holder: str) -> None:
        """One active ticket per phone, and phone tickets at most `[join] share` of the day's."""
        held = self.holders.get(holder)
        if held is not None and self.tickets[held].state in (WAITING, CALLED):
            raise DomainError("phone_ticket_active", ticket=held)
        join = self.cfg.join
        # counting the new ticket itself: the share is never passed, not even by one
        if svc.remote_issued + 1 > max(join.free, join.share * (svc.issued + 1)):
            raise DomainError("phone_share_reached", service=svc.letter)

    def _check_in_code(self, token: str) -> str:
        """The check-in code of a phone ticket: drawn from its (random) token, so that `decide`
        stays a function of its inputs, and unlike any other of today's."""
        digest = hashlib.sha256(token.encode()).digest()
        while True:
            n = int.from_bytes(digest[:8], "big")
            code = "".join(
                CODE_ALPHABET[(n // len(CODE_ALPHABET) ** k) % len(CODE_ALPHABET)] for k in range(CODE_LENGTH)
            )
            if code not in self.remote_codes:
                return code
            digest = hashlib.sha256(digest).digest()

    def _decide_phone_check_in(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        """The holder of a phone ticket is in the office: from now on it may be called."""
        t = self._ticket(str(args["ticket"]))
        if not t.remote:
            raise DomainError("not_phone_ticket", ticket=t.code)
        if t.state == SKIPPED and not t.checked_in:
            raise DomainError("check_in_missed", ticket=t.code)
        if t.checked_in:
            raise DomainError("already_checked_in", ticket=t.code)
        if t.state != WAITING:
            raise DomainError("ticket_not_waiting", ticket=t.code, state=t.state)
        return [ev("ticket_checked_in", {"ticket": t.code, "by": str(args.get("by", "code"))})]

    def _decide_check_in(
        self,
        args: Mapping[str, Any],
        ev: Any,  # noqa: ANN401
        token: str,
        actor: str,
        now: datetime,
    ) -> list[Event]:
        """A booking becomes a ticket of its service, placed by the booking rule.

        `args` carries the booking as its part resolved it (`booking`, `service`, `slot_start`,
        `slot_end` as ISO instants, `grace_minutes`). Arrived by the slot's end plus the grace,
        the ticket takes its place at the slot's start: ahead of every ticket issued since then
        (`rule` "slot"); later, it joins the back like any ticket (`rule` "late"). The place is
        decided here and stored in the event, so a replay puts the ticket in the same place.
        """
        if "ticket" in args:  # a phone ticket's holder, not a booking
            return self._decide_phone_check_in(args, ev)
        code = str(args["booking"])
        if code in self.bookings:
            raise DomainError("booking_used", booking=code, ticket=self.bookings[code])
        issued = self._decide_take_ticket(args, ev, token, actor)
        start = datetime.fromisoformat(str(args["slot_start"]))
        end = datetime.fromisoformat(str(args["slot_end"]))
        late = now > end + timedelta(minutes=int(args.get("grace_minutes", 0)))
        order = None if late else self.slot_order(start)
        if order is not None:
            issued = [replace(issued[0], data={**issued[0].data, "order": order})]
        rule = "late" if late else "slot"
        ticket = issued[0].data["ticket"]
        return [
            *issued,
            ev(
                "booking_checked_in",
                {
                    "ticket": ticket,
                    "booking": code,
                    "slot_start": start.isoformat(),
                    "slot_end": end.isoformat(),
                    "rule": rule,
                },
            ),
        ]

    def slot_order(self, start: datetime) -> float | None:
        """The place of a booked ticket whose slot starts at `start`: just before the first
        ticket issued since then (booked ones aside), or None when none was (then it joins
        the back, behind those taken before its slot). The wait estimate places the bookings
        still to come by the same rule."""
        booked = set(self.bookings.values())
        since = [
            t.issued_order for t in self.tickets.values() if t.issued_at >= start and t.code not in booked
        ]
        return min(since) - 0.5 if since else None

    def _priority_allowed(self, svc: ServiceQueue) -> bool:
        """May a self-service press take one more priority ticket of `svc` today?"""
        q = self.cfg.queue
        return svc.priority_issued < max(q.priority_free, q.priority_share * (svc.issued + 1))

    def _counter(self, number: int, *, must_be_open: bool = True) -> Counter:
        counter = self.counters.get(number)
        if counter is None:
            raise DomainError("unknown_counter", counter=number)
        if must_be_open and number in self.retired:
            raise DomainError("counter_retired", counter=number)
        if must_be_open and counter.status != "open":
            raise DomainError("counter_not_open", counter=number, status=counter.status)
        return counter

    def _serving(self, counter: Counter) -> Ticket:
        if counter.serving is None:
            raise DomainError("nothing_serving", counter=counter.number)
        return self.tickets[counter.serving]

    def _finish_current(self, counter: Counter, ev: Any) -> list[Event]:  # noqa: ANN401
        """Calling the next ticket means the one at the counter is done."""
        if counter.serving is None:
            return []
        return [ev("ticket_done", {"ticket": counter.serving, "counter": counter.number})]

    def next_for(self, counter: Counter) -> tuple[str, bool] | None:
        """(ticket, chosen as priority?) that `counter` would call next, or None."""
        return choose_next(self.services, counter, self.cfg.queue.priority_streak)

    def _decide_call_next(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"])
        events = self._finish_current(counter, ev)
        nxt = self.next_for(counter)
        lanes: dict[str, ServiceQueue] | None = None
        while nxt is not None and not self.tickets[nxt[0]].checked_in:
            # a phone ticket whose holder never checked in: passed over as a no-show (an
            # officer puts it back with `reinsert` should they come), and the next one called
            t = self.tickets[nxt[0]]
            if lanes is None:
                lanes = {
                    k: replace(v, priority=list(v.priority), regular=list(v.regular))
                    for k, v in self.services.items()
                }
            lanes[t.service].remove(t)
            events.append(ev("ticket_not_checked_in", {"ticket": t.code, "counter": counter.number}))
            nxt = choose_next(lanes, counter, self.cfg.queue.priority_streak)
        if nxt is not None:
            events.append(
                ev(
                    "ticket_called",
                    {"ticket": nxt[0], "counter": counter.number, "mode": "next", "as_priority": nxt[1]},
                )
            )
        return events

    def _decide_call_ticket(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"])
        ticket = self._ticket(args["ticket"])
        if ticket.state != WAITING:
            raise DomainError("ticket_not_waiting", ticket=ticket.code, state=ticket.state)
        if ticket.service not in counter.services:
            # a call out of order changes who is next, never what a counter does: a citizen
            # sent to a counter that does not serve their service is sent away again. A ticket
            # that belongs elsewhere is transferred to that service first.
            raise DomainError(
                "counter_not_serving", ticket=ticket.code, counter=counter.number, service=ticket.service
            )
        events = self._finish_current(counter, ev)
        events.append(
            ev(
                "ticket_called",
                {
                    "ticket": ticket.code,
                    "counter": counter.number,
                    "mode": "out_of_order",
                    "as_priority": False,
                },
            )
        )
        return events

    def _decide_recall(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"])
        ticket = self._serving(counter)
        if ticket.recalls >= self.cfg.queue.max_recalls:
            raise DomainError("recall_limit", ticket=ticket.code, recalls=ticket.recalls)
        return [
            ev(
                "ticket_recalled",
                {"ticket": ticket.code, "counter": counter.number, "recalls": ticket.recalls + 1},
            )
        ]

    def _decide_skip(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"], must_be_open=False)
        ticket = self._serving(counter)
        return [
            ev(
                "ticket_skipped",
                {"ticket": ticket.code, "counter": counter.number, "recalls": ticket.recalls},
            )
        ]

    def _decide_done(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"], must_be_open=False)
        ticket = self._serving(counter)
        return [ev("ticket_done", {"ticket": ticket.code, "counter": counter.number})]

    def _decide_transfer(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"], must_be_open=False)
        ticket = self._serving(counter)
        target = args["service"]
        if target not in self.services or target in self.retired:
            raise DomainError("unknown_service", service=target)
        if target == ticket.service:
            raise DomainError("same_service", ticket=ticket.code, service=target)
        position = args.get("position") or "back"
        return [
            ev(
                "ticket_transferred",
                {
                    "ticket": ticket.code,
                    "counter": counter.number,
                    "from": ticket.service,
                    "to": target,
                    "order": self._transfer_order(ticket, position),
                    "position": position,
                },
            )
        ]

    def _transfer_order(self, ticket: Ticket, position: str) -> int:
        """The `order` a transferred ticket takes, by where the officer lands it.

        `back` (the default): after everyone waiting now, as a new arrival. `order`: its
        original issue time, so the citizen who already waited keeps their turn among the
        tickets of the new service (intake done, now collection). `front`: before every
        waiting ticket of every service, so whichever counter serves the new service calls it
        next (a citizen sent on to finish one step). Decided here and stored in the event, so
        a replay puts the ticket in the same place.
        """
        if position == "order":
            return ticket.issued_order or ticket.order
        if position == "front":
            waiting = [
                lane[0][0] for svc in self.services.values() for lane in (svc.priority, svc.regular) if lane
            ]
            return min(waiting, default=self.order_seq + 1) - 1
        if position != "back":
            raise DomainError("invalid_request", detail="position: front, order or back")
        return self.order_seq + 1

    def _decide_reinsert(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        ticket = self._ticket(args["ticket"])
        if ticket.state != SKIPPED:
            raise DomainError("ticket_not_skipped", ticket=ticket.code, state=ticket.state)
        return [ev("ticket_reinserted", {"ticket": ticket.code})]

    def _decide_set_priority(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        ticket = self._ticket(args["ticket"])
        if ticket.state != WAITING:
            raise DomainError("ticket_not_waiting", ticket=ticket.code, state=ticket.state)
        return [ev("priority_changed", {"ticket": ticket.code, "priority": args["priority"]})]

    def _decide_counter_status(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        counter = self._counter(args["counter"], must_be_open=False)
        if counter.number in self.retired:
            raise DomainError("counter_retired", counter=counter.number)
        status = args["status"]
        if status != "open" and counter.serving is not None:
            raise DomainError("counter_busy", counter=counter.number, ticket=counter.serving)
        until = args.get("until") if status == "break" else None
        return [ev("counter_status_changed", {"counter": counter.number, "status": status, "until": until})]

    def _decide_service_status(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        if args["service"] not in self.services or args["service"] in self.retired:
            raise DomainError("unknown_service", service=args["service"])
        return [ev("service_status_changed", {"service": args["service"], "status": args["status"]})]

    def _decide_close_day(self, args: Mapping[str, Any], ev: Any) -> list[Event]:  # noqa: ANN401
        """Expire unserved tickets; with `issued_before` ("16:00") only those taken before it.

        At closing time the hub expires what was waiting then; a ticket taken after hours
        (an office that serves late) is not swept away seconds later by the same rule.
        """
        cutoff: datetime | None = None
        if args.get("issued_before"):
            try:
                hh, mm = str(args["issued_before"]).replace(".", ":").split(":")
                at = time(int(hh), int(mm))
            except ValueError:
                raise DomainError("invalid_request", detail="issued_before must be HH:MM") from None
            cutoff = datetime.combine(date.fromisoformat(self.day), at, self.cfg.office.tz)
        left = sorted(
            t.code
            for t in self.tickets.values()
            if t.state in (WAITING, CALLED) and (cutoff is None or t.issued_at < cutoff)
        )
        return [ev("tickets_expired", {"tickets": left})] if left else []

    def _ticket(self, code: str) -> Ticket:
        ticket = self.tickets.get(code)
        if ticket is None:
            raise DomainError("unknown_ticket", ticket=code)
        return ticket

    # ------------------------------------------------------------------------------------------
    # apply: event -> new state (the only mutator)
    # ------------------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Apply one event. Events come from `decide` or from the log, never from outside.

        Raises ReplayError, before changing anything, for an event that does not fit the state
        (a ticket the day never issued): each `_apply_*` looks up everything it needs first.
        A service or counter the configuration no longer has is kept as a retired entry.
        """
        handler = getattr(self, f"_apply_{event.type}", None)
        if handler is None:
            raise ReplayError(f"unknown event type {event.type!r}")
        self.version = next(_VERSIONS)
        if event.type not in _RECORD_UNCHANGED or event.data.get("priority"):
            # what today's record of the office (hub.eta.day_record) reads has changed: a
            # regular ticket joining the queue (from a phone too, and its check-in) leaves it
            self.record_version = self.version
        try:
            handler(event)
        except ReplayError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReplayError(f"{event.type}: malformed data ({exc!r})") from exc

    def _ticket_of(self, e: Event) -> Ticket:
        code = e.data["ticket"]
        t = self.tickets.get(code)
        if t is None:
            raise ReplayError(f"{e.type} of {code}, which was never issued on {e.day}")
        return t

    def _service_of(self, letter: str) -> ServiceQueue:
        """The queue of `letter`, or a retired one if the configuration dropped the service."""
        svc = self.services.get(letter)
        if svc is None:
            if not isinstance(letter, str) or not letter:
                raise ReplayError(f"not a service: {letter!r}")
            svc = self.services[letter] = ServiceQueue(letter, RETIRED)
            self.retired.add(letter)
        return svc

    def _counter_of(self, number: int) -> Counter:
        """Counter `number`, or a retired one if the configuration dropped it."""
        counter = self.counters.get(number)
        if counter is None:
            if not isinstance(number, int):
                raise ReplayError(f"not a counter: {number!r}")
            counter = self.counters[number] = Counter(number, (), RETIRED)
            self.retired.add(number)
        return counter

    def _apply_day_started(self, e: Event) -> None:
        estimator = self.estimator  # a read model fed by earlier days outlives the day
        self.__init__(self.cfg, e.day)  # type: ignore[misc]
        self.estimator = estimator

    def _apply_ticket_issued(self, e: Event) -> None:
        d = e.data
        t = Ticket(
            d["ticket"], d["service"], d["number"], d["service"], d["priority"], d["token"], e.at, d["order"]
        )
        if t.code in self.tickets:
            raise ReplayError(f"ticket_issued of {t.code} twice on {e.day}")
        t.issued_order = t.order
        svc = self._service_of(t.service)
        self.tickets[t.code] = t
        self.by_token[t.token] = t.code
        self.order_seq = max(self.order_seq, t.order)
        svc.last_issued = max(svc.last_issued, t.number)
        svc.issued += 1
        svc.priority_issued += t.priority
        svc.add(t)

    def _apply_phone_ticket(self, e: Event) -> None:
        t = self._ticket_of(e)
        code = str(e.data["check_in_code"])
        if t.remote or code in self.remote_codes or t.state != WAITING:
            raise ReplayError(f"phone_ticket of {t.code} twice, or its code {code} twice, on {e.day}")
        t.remote, t.checked_in, t.check_in_code = True, False, code
        self.remote_codes[code] = t.code
        self.holders[e.actor] = t.code
        self._service_of(t.service).remote_issued += 1

    def _apply_ticket_checked_in(self, e: Event) -> None:
        t = self._ticket_of(e)
        if not t.remote or t.state != WAITING:
            raise ReplayError(f"ticket_checked_in of {t.code}, which is {t.state}")
        t.checked_in = True

    def _apply_ticket_not_checked_in(self, e: Event) -> None:
        t = self._ticket_of(e)
        if t.state != WAITING or t.checked_in:
            raise ReplayError(f"ticket_not_checked_in of {t.code}, which is {t.state}")
        self.services[t.service].remove(t)
        t.state, t.finished_at = SKIPPED, e.at

    def _apply_booking_checked_in(self, e: Event) -> None:
        t = self._ticket_of(e)
        booking = str(e.data["booking"])
        if booking in self.bookings:
            raise ReplayError(f"booking {booking} checked in twice on {e.day}")
        self.bookings[booking] = t.code

    def _apply_ticket_called(self, e: Event) -> None:
        t = self._ticket_of(e)
        counter = self._counter_of(e.data["counter"])
        if t.state != WAITING:
            raise ReplayError(f"ticket_called of {t.code}, which is {t.state}")
        self.services[t.service].remove(t)
        t.state, t.counter, t.called_at, t.recalls = CALLED, counter.number, e.at, 0
        t.checked_in = True  # called by number: the officer has the citizen in front of them
        counter.serving = t.code
        counter.call_seq += 1
        if e.data["mode"] == "next":
            counter.priority_streak = counter.priority_streak + 1 if e.data["as_priority"] else 0
        self.services[t.service].last_called = t.code
        self.recent_calls = [(t.code, counter.number, e.at), *self.recent_calls[:9]]

    def _apply_ticket_recalled(self, e: Event) -> None:
        t = self._ticket_of(e)
        counter = self._counter_of(e.data["counter"])
        t.recalls = e.data["recalls"]
        counter.call_seq += 1
        self.recent_calls = [(t.code, e.data["counter"], e.at), *self.recent_calls[:9]]

    def _release(self, t: Ticket, state: str, at: datetime) -> None:
        if t.counter is not None and self._counter_of(t.counter).serving == t.code:
            self.counters[t.counter].serving = None
        t.state, t.finished_at = state, at

    def _apply_ticket_done(self, e: Event) -> None:
        t = self._ticket_of(e)
        counter = self._counter_of(e.data["counter"])
        self._release(t, DONE, e.at)
        counter.served += 1
        if t.called_at is not None:
            svc = self.services[t.service]
            default = self.cfg.service(t.service)
            cap = 4 * (default.minutes if default else svc.mean_minutes)
            minutes = min(max((e.at - t.called_at).total_seconds() / 60, 0.5), cap)
            a = self.cfg.queue.ewma_alpha
            svc.mean_minutes = a * minutes + (1 - a) * svc.mean_minutes

    def _apply_ticket_skipped(self, e: Event) -> None:
        self._release(self._ticket_of(e), SKIPPED, e.at)

    def _apply_ticket_transferred(self, e: Event) -> None:
        t = self._ticket_of(e)
        target = self._service_of(e.data["to"])
        order = int(e.data["order"])
        self._release(t, WAITING, e.at)
        t.finished_at, t.counter, t.called_at = None, None, None
        t.history.append((t.service, target.letter, e.at))
        t.service, t.order, t.recalls = target.letter, order, 0
        t.transfers += 1
        self.order_seq = max(self.order_seq, t.order)
        target.add(t)

    def _apply_ticket_reinserted(self, e: Event) -> None:
        # The ticket keeps its original place: whoever missed the call is next among those
        # who came after them, not sent to the back of the queue.
        t = self._ticket_of(e)
        if t.state != SKIPPED:
            raise ReplayError(f"ticket_reinserted of {t.code}, which is {t.state}")
        t.state, t.finished_at, t.counter, t.called_at, t.recalls = WAITING, None, None, None, 0
        t.checked_in = True  # put back by the officer who sees them
        self.services[t.service].add(t)

    def _apply_priority_changed(self, e: Event) -> None:
        t = self._ticket_of(e)
        svc = self.services[t.service]
        if t.state == WAITING:
            svc.remove(t)
        t.priority = bool(e.data["priority"])
        if t.state == WAITING:
            svc.add(t)

    def _apply_counter_status_changed(self, e: Event) -> None:
        c = self._counter_of(e.data["counter"])
        if c.number in self.retired:
            return  # a retired counter stays closed whatever was said of it
        status = e.data["status"]
        if c.status == "break" and status != "break" and c.breaks:
            c.breaks[-1] = (c.breaks[-1][0], e.at)
        if status == "break" and c.status != "break":
            c.breaks.append((e.at, None))
        if status != c.status:
            c.since = e.at
        c.status, c.until = status, e.data.get("until")

    def _apply_service_status_changed(self, e: Event) -> None:
        svc = self._service_of(e.data["service"])
        if svc.letter not in self.retired:
            svc.status = e.data["status"]

    def _apply_tickets_expired(self, e: Event) -> None:
        missing = [code for code in e.data["tickets"] if code not in self.tickets]
        if missing:
            raise ReplayError(f"tickets_expired of {', '.join(missing)}, never issued on {e.day}")
        for code in e.data["tickets"]:
            t = self.tickets[code]
            if t.state == WAITING:
                self.services[t.service].remove(t)
            self._release(t, EXPIRED, e.at)

    # ------------------------------------------------------------------------------------------
    # read models
    # ------------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A plain comparable picture of the whole state (for tests and `antrian queue`)."""
        return copy.deepcopy(
            {
                "day": self.day,
                "order_seq": self.order_seq,
                "tickets": {c: t.__dict__ for c, t in sorted(self.tickets.items())},
                "services": {k: v.__dict__ for k, v in sorted(self.services.items())},
                "counters": {k: v.__dict__ for k, v in sorted(self.counters.items())},
                "recent_calls": self.recent_calls,
            }
        )


def replay(
    cfg: Config, events: Iterable[tuple[int, Event]], *, strict: bool = False
) -> tuple[QueueState, list[str]]:
    """A day's state from its stored events (sequence number, event), and what did not apply.

    Strict replay raises the first ReplayError; otherwise each event that cannot apply is
    skipped and described (`#seq what`), so one bad event never keeps an office from serving.
    """
    state = QueueState(cfg)
    problems: list[str] = []
    for seq, event in events:
        try:
            state.apply(event)
        except ReplayError as exc:
            if strict:
                raise ReplayError(f"#{seq} {exc}") from exc
            problems.append(f"#{seq} {exc}")
    return state, problems


def self_service(actor: str) -> bool:
    """Was this pressed by a citizen (a kiosk device, the kiosk page, a phone) rather than by staff?"""
    return actor.startswith(("device:", "kiosk:", "phone:"))


def is_phone(actor: str) -> bool:
    """Was this ticket taken from a citizen's own phone (`antrian.join`)? The actor is
    `phone:<holder>`, the holder a keyed hash of the number or of the phone's token."""
    return actor.startswith("phone:")


def working_day_bounds(day: str, cfg: Config) -> tuple[datetime, datetime]:
    """Opening and closing instants of a day in the office's time zone: its own hours
    (`antrian.schedule`), or on a closed day, where staff still serve, the hours it is planned by."""
    from antrian.schedule import schedule_of  # the schedule reads the queue's rules

    hours = schedule_of(cfg).plan_on(date.fromisoformat(day))
    return hours.opening, hours.closing


def end_of_day(day: str, cfg: Config) -> datetime:
    """The last instant of a local day (retained displays and ticket tokens expire there)."""
    d = date.fromisoformat(day)
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), cfg.office.tz) - timedelta(seconds=1)

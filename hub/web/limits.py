"""Bounds on what one client can make the web side do: tickets a minute, login attempts.

Why in memory and not in the database: they bound a script hammering the hub now, they are
not history; a restart starts them afresh (a lock-out itself is recorded by `Accounts`). Their
keys (addresses, cookies, user names) come from the clients, so every table here is bounded:
past `max_keys` the least recently used entry is forgotten, which at worst gives one client
a fresh allowance while the other keys (its address, the kiosk's total) still hold.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

V = TypeVar("V")

#: Entries kept per table: far more clients than an office has, small enough to be harmless.
MAX_KEYS: Final = 10_000


class _Recent(Generic[V]):
    """A dict that forgets its least recently used keys beyond `max_keys`."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self.items: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.max_keys:
            self.items.popitem(last=False)

    def pop(self, key: str) -> None:
        self.items.pop(key, None)

    def __len__(self) -> int:
        return len(self.items)


class RateLimit:
    """Token buckets: `per_minute` actions a minute for each key, at most `per_minute` at once.

    A burst (a queue at the tablet when the office opens) is served at once; a script that
    keeps going gets one action every 60/`per_minute` seconds.
    """

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: _Recent[tuple[float, float]] = _Recent(max_keys)

    def _tokens(self, key: str, now: float) -> float:
        known = self._buckets.get(key)
        if known is None:
            return self.capacity
        tokens, at = known
        return min(self.capacity, tokens + (now - at) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until `key` may act (0: now). Takes nothing."""
        tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, key: str) -> None:
        """Spend one action of `key` (after `wait` said 0)."""
        now = self.clock()
        self._buckets.put(key, (self._tokens(key, now) - 1, now))


def wait_all(limits: Iterable[tuple[RateLimit, str]]) -> float:
    """Seconds until every (limit, key) allows an action; when 0, that action is spent."""
    pairs = list(limits)
    wait = max((limit.wait(key) for limit, key in pairs), default=0.0)
    if wait == 0:
        for limit, key in pairs:
            limit.take(key)
    return wait


def retry_after(seconds: float) -> int:
    """A `Retry-After` value: whole seconds, at least 1."""
    return max(1, math.ceil(seconds))


@dataclass
class _Failures:
    count: int
    last: float
    not_before: float
    locked_until: float


class LoginThrottle:
    """Failed logins per key (`user:<name>`, `ip:<address>`): a growing delay, then a lock-out.

    The first failure costs nothing (a typo); from the second on, the next attempt must wait
    `delay_s`, then twice that, and so on; after `max_failures` failures in a row the key is
    locked for `lockout_s`. An attempt that comes too early is refused without checking the
    password, so a guesser learns nothing from it. Failures are forgotten after `lockout_s`
    without one, and a key's failures end with a successful login.
    """

    def __init__(
        self,
        max_failures: int,
        lockout_s: float,
        delay_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.delay_s = delay_s
        self.clock = clock
        self._keys: _Recent[_Failures] = _Recent(max_keys)
        self._busy: set[str] = set()

    def _current(self, key: str, now: float) -> _Failures | None:
        f = self._keys.get(key)
        if f is not None and f.locked_until <= now and now - f.last > self.lockout_s:
            self._keys.pop(key)
            return None
        return f

    def wait(self, keys: Iterable[str]) -> tuple[float, bool]:
        """(seconds before the next attempt may be checked, whether a lock-out is the reason)."""
        now = self.clock()
        wait, locked = 0.0, False
        for key in keys:
            if key in self._busy:  # one check at a time: parallel guesses wait their turn
                wait = max(wait, 1.0)
            f = self._current(key, now)
            if f is None:
                continue
            if f.locked_until > now:
                wait, locked = max(wait, f.locked_until - now), True
            elif f.not_before > now:
                wait = max(wait, f.not_before - now)
        return wait, locked

    def failed(self, keys: Iterable[str]) -> list[str]:
        """Count a failure for each key; the keys that are locked by this one."""
        now = self.clock()
        locked = []
        for key in keys:
            f = self._current(key, now)
            if f is None or 0 < f.locked_until <= now:  # the first, or the first after a lock-out
                f = _Failures(0, now, 0.0, 0.0)
            f.count += 1
            f.last = now
            if f.count >= self.max_failures:
                f.locked_until = now + self.lockout_s
                locked.append(key)
            elif f.count >= 2:
                f.not_before = now + min(self.delay_s * 2 ** (f.count - 2), self.lockout_s)
            self._keys.put(key, f)
        return locked

    def begin(self, keys: Iterable[str]) -> None:
        """A check of these keys is under way (`wait` holds the others back until `end`)."""
        self._busy.update(keys)

    def end(self, keys: Iterable[str]) -> None:
        self._busy.difference_update(keys)

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._keys.pop(key)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The client's address: the peer's, or the one a trusted reverse proxy says it forwarded.

    Only the last `X-Forwarded-For` entry is used: that is the one the proxy itself added; any
    earlier ones came from the client and prove nothing.
    """
    peer = peer or "?"
    if forwarded_for and peer in trusted_proxies:
        last = forwarded_for.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            return peer
    return peer

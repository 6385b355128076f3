"""One-time codes that show a phone number is the citizen's own (`[join] verify = "otp"`).

Kept in memory only: a code is worth minutes, and a hub restarted in between costs the
citizen one more request, never a ticket. Neither the code nor the number is ever logged or
stored; the code itself is kept only as its hash. Every table is bounded: numbers asked for
today (`codes_per_number` each), codes waiting (`MAX_PENDING`), tries per code (`MAX_TRIES`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

#: Digits of a code: what an SMS shows and a thumb types; 10**6 against five tries a code.
DIGITS: Final = 6
#: Wrong tries before a code is void (another must be asked for, which counts for the day).
MAX_TRIES: Final = 5
#: Codes waiting at once: a morning's rush is a few hundred; past this the oldest is forgotten.
MAX_PENDING: Final = 5000


@dataclass
class Pending:
    """A code sent and not yet used: to whom (for the ticket's notifications) and until when."""

    digest: bytes
    expires: datetime
    e164: str
    channel: str
    tries: int = 0


class CodeError(Exception):
    """Why a code was not sent or not taken: `key` is the catalogue message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


class CodeBook:
    """Codes by the number's tag of the day (`antrian.notify.vault.DayVault.tag`)."""

    def __init__(self, minutes: int, per_number: int) -> None:
        self.lifetime = timedelta(minutes=minutes)
        self.per_number = per_number
        self._pending: OrderedDict[str, Pending] = OrderedDict()
        self._sent: dict[str, int] = {}
        self._day = ""

    def issue(self, day: str, tag: str, e164: str, channel: str, now: datetime) -> str:
        """A new code for the number (the one before it no longer counts), or CodeError."""
        if day != self._day:
            self._day, self._sent = day, {}
        if self._sent.get(tag, 0) >= self.per_number:
            raise CodeError("join.code_limit", n=self.per_number)
        if len(self._sent) >= MAX_PENDING * 4 and tag not in self._sent:
            raise CodeError("join.busy")
        code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        self._sent[tag] = self._sent.get(tag, 0) + 1
        self._pending.pop(tag, None)
        self._pending[tag] = Pending(_digest(code), now + self.lifetime, e164, channel)
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)
        return code

    def take(self, tag: str, code: str, now: datetime) -> Pending:
        """The pending entry the right code unlocks, or CodeError. The entry stays until `used`:
        a ticket the queue then refuses (one already held, the share) costs no new code."""
        entry = self._pending.get(tag)
        if entry is None or entry.expires < now:
            self._pending.pop(tag, None)
            raise CodeError("join.code_expired")
        entry.tries += 1
        if not hmac.compare_digest(entry.digest, _digest(code.strip()[: DIGITS + 4])):
            if entry.tries >= MAX_TRIES:
                self._pending.pop(tag, None)
                raise CodeError("join.code_void", n=MAX_TRIES)
            raise CodeError("join.code_wrong", left=MAX_TRIES - entry.tries)
        entry.tries -= 1  # a right code is no wrong try
        return entry

    def used(self, tag: str) -> None:
        """The code took its ticket: it can never take another."""
        self._pending.pop(tag, None)

    def forget(self, tag: str) -> None:
        """Drop a number's code (the sending failed: the citizen may ask again at once)."""
        self._pending.pop(tag, None)
        if self._sent.get(tag):
            self._sent[tag] -= 1

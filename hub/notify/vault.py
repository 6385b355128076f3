"""Phone numbers under a key of the day, destroyed at the day's end (UU PDP 27/2022).

A number is needed for one ticket, on one working day. It is stored only sealed (AES-GCM)
under that day's key, which lives in its own small file beside the database, never in it.
Deleting the rows at the end of the day is not enough on its own: SQLite's free pages, its
WAL and any copy of the database made during the day (a backup) would still hold them. When
the day's key file is destroyed, every sealed number of that day, in every copy, is noise.

`tag` gives each number a keyed fingerprint (HMAC) for the per-number limits: the same number
matches itself within the day, and nothing links it once the key is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_DAY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NONCE: Final = 12


def _aead(key: bytes) -> AESGCM:
    """AES-GCM from `cryptography` (the `[notify]` extra), imported where numbers are sealed."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


class DayVault:
    """The keys of the days that still have numbers, one file each (`<day>.key`, mode 0600)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._keys: dict[str, bytes] = {}

    def _path(self, day: str) -> Path:
        if not _DAY.match(day):
            raise ValueError(f"not a day: {day!r}")
        return self.folder / f"{day}.key"

    def _key(self, day: str, *, create: bool) -> bytes | None:
        key = self._keys.get(day)
        if key is not None:
            return key
        path = self._path(day)
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
            key = secrets.token_bytes(32)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, key)
                os.fsync(fd)  # a number sealed under a key lost in a power cut is lost too
            finally:
                os.close(fd)
            os.replace(tmp, path)
        if len(key) != 32:
            return None
        self._keys[day] = key
        return key

    def seal(self, day: str, phone: str) -> bytes:
        key = self._key(day, create=True)
        assert key is not None
        nonce = secrets.token_bytes(_NONCE)
        return nonce + _aead(key).encrypt(nonce, phone.encode(), day.encode())

    def open(self, day: str, sealed: bytes) -> str | None:
        """The number, or None once the day's key is gone (or the bytes are not ours)."""
        key = self._key(day, create=False)
        if key is None or len(sealed) <= _NONCE:
            return None
        from cryptography.exceptions import InvalidTag

        try:
            return _aead(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], day.encode()).decode()
        except InvalidTag:
            return None

    def tag(self, day: str, phone: str) -> str:
        key = self._key(day, create=True)
        assert key is not None
        return hmac.new(key, b"tag:" + phone.encode(), hashlib.sha256).hexdigest()[:32]

    def days(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.key") if _DAY.match(p.stem))

    def destroy(self, day: str) -> None:
        """Overwrite and delete the day's key: its numbers can no longer be read, anywhere."""
        self._keys.pop(day, None)
        path = self._path(day)
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            with path.open("r+b") as f:
                f.write(b"\0" * size)
                f.flush()
                os.fsync(f.fileno())
            path.unlink()

"""Officer and admin accounts, login sessions and CSRF tokens, in the hub's SQLite file.

Why here and not in the event log: accounts are not queue events, and a password hash must never
end up in an export. The tables live beside the events (`web_users`, `web_sessions`) so one
backup of the database file carries everything. Login lock-outs (see `antrian.web.limits`) are
kept the same way, in `web_login_audit`, and shown in the admin's audit log.

Passwords are hashed with scrypt from the standard library (no extra dependency on an office
box). Session cookies are random; only their SHA-256 is stored, so a copied database does not
log anybody in. CSRF tokens are an HMAC of the cookie that identifies the browser (the session,
or before login an anonymous cookie) with a secret kept in the database: a page from another
site cannot know it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from antrian import migrations

ROLES: Final = ("admin", "officer")
SESSION_HOURS: Final = 12
#: scrypt cost: 16 MiB of memory and ~50 ms per check on a small office PC.
_SCRYPT_N: Final = 2**14
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1

#: The tables (`web_users`, `web_sessions`, `web_meta`, `web_login_audit`) are made by the
#: schema steps of `antrian.migrations`: a change to them is a new step there.

#: At most this many counters bound to one officer account (an office has a handful).
MAX_BOUND_COUNTERS: Final = 20
#: Lock-out records kept (the oldest go first): a bound on what a guesser can make us write.
LOGIN_AUDIT_ROWS: Final = 5000
#: What a user or kiosk tablet name may be (`_valid_name`), as a refusal says it.
NAME_RULE: Final = "name: 1-24 letters, digits, '.', '_' or '-'"
#: Where a kiosk tablet's key hash is kept in `web_meta` (`antrian users kiosk NAME`).
KIOSK_META: Final = "kiosk_key:"


class AccountError(ValueError):
    """A user name, role or password that cannot be accepted."""


@dataclass(frozen=True)
class User:
    """Who is logged in: the name goes into the audit log as `role:name`.

    `counters`: the counters an officer account is bound to (`users add --counters 1,2`);
    empty for an admin, and for an officer account made without it (every counter, as
    before accounts could be bound).
    """

    name: str
    role: str
    counters: tuple[int, ...] = ()

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"[:32]

    def may_run(self, counter: object) -> bool:
        """May this account act on `counter`? The server asks on every officer action."""
        return self.role == "admin" or not self.counters or counter in self.counters


def parse_counters(text: str) -> tuple[int, ...]:
    """`"1,2"` -> (1, 2): the counters of an officer account, each 1-99, at most
    `MAX_BOUND_COUNTERS`, sorted, no repeats; "" -> () (every counter)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > MAX_BOUND_COUNTERS:
        raise AccountError(f"counters: at most {MAX_BOUND_COUNTERS}")
    numbers: set[int] = set()
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 99:
            raise AccountError(f"counters: {part[:8]!r} is not a counter number 1-99")
        numbers.add(int(part))
    return tuple(sorted(numbers))


def _counters_text(counters: tuple[int, ...]) -> str:
    return ",".join(str(n) for n in counters)


def hash_password(password: str) -> str:
    """A self-describing scrypt hash: `scrypt$n$r$p$salt$hash` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; constant time for a given hash."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(want)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def _valid_name(name: str) -> bool:
    return 1 <= len(name) <= 24 and all(c.isalnum() or c in "._-" for c in name)


def _now() -> datetime:
    return datetime.now(UTC)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Accounts:
    """Users, sessions and the CSRF secret over one SQLite connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        migrations.upgrade(self.db)
        self._dummy_hash = hash_password(secrets.token_hex(8))
        row = self.db.execute("SELECT value FROM web_meta WHERE key='csrf_secret'").fetchone()
        if row is None:
            secret = secrets.token_hex(32)
            self.db.execute("INSERT OR IGNORE INTO web_meta VALUES ('csrf_secret', ?)", (secret,))
            row = self.db.execute("SELECT value FROM web_meta WHERE key='csrf_secret'").fetchone()
        self._secret = bytes.fromhex(str(row[0]))

    # users ------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, counters: tuple[int, ...] = ()) -> None:
        """Create or replace a user (replacing is how a password is reset, or the counters
        of an officer changed); its sessions end, so a new binding holds at once."""
        if not _valid_name(name):
            raise AccountError(NAME_RULE)
        if role not in ROLES:
            raise AccountError(f"role: one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise AccountError("password: at least 8 characters")
        if counters and role != "officer":
            raise AccountError("counters: only an officer account is bound to counters")
        counters = parse_counters(_counters_text(counters))
        self.db.execute(
            "INSERT OR REPLACE INTO web_users (name, role, password, created, counters) VALUES (?,?,?,?,?)",
            (name, role, hash_password(password), _now().isoformat(), _counters_text(counters)),
        )
        self.db.execute("DELETE FROM web_sessions WHERE name=?", (name,))

    def remove_user(self, name: str) -> bool:
        cur = self.db.execute("DELETE FROM web_users WHERE name=?", (name,))
        self.db.execute("DELETE FROM web_sessions WHERE name=?", (name,))
        return cur.rowcount > 0

    def users(self) -> list[User]:
        rows = self.db.execute("SELECT name, role, counters FROM web_users ORDER BY name").fetchall()
        return [User(str(n), str(r), parse_counters(str(c))) for n, r, c in rows]

    def lookup(self, name: str) -> tuple[str, str]:
        """(role, stored hash) of `name`; for an unknown name, a dummy pair that never matches.

        Reading is done here, on the caller's thread (the hub's SQLite connection is the event
        log's); only the slow hash check may go to another thread.
        """
        row = self.db.execute("SELECT role, password FROM web_users WHERE name=?", (name,)).fetchone()
        return (str(row[0]), str(row[1])) if row is not None else ("", self._dummy_hash)

    def check(self, name: str, password: str) -> User | None:
        """The user when the password is right. Unknown names cost as much as wrong passwords."""
        role, stored = self.lookup(name)
        return User(name, role) if verify_password(password, stored) and role else None

    # sessions ---------------------------------------------------------------------------------

    def open_session(self, user: User) -> str:
        """A new session cookie value for `user`."""
        token = secrets.token_urlsafe(32)
        expires = (_now() + timedelta(hours=SESSION_HOURS)).isoformat()
        self.db.execute("DELETE FROM web_sessions WHERE expires < ?", (_now().isoformat(),))
        self.db.execute(
            "INSERT INTO web_sessions VALUES (?,?,?,?)", (_sha(token), user.name, user.role, expires)
        )
        return token

    def session_user(self, token: str | None) -> User | None:
        if not token:
            return None
        # the counters are read from the account on every request: `users add` ends the
        # account's sessions anyway, and the binding must never lag behind it
        row = self.db.execute(
            "SELECT s.name, s.role, s.expires, u.counters FROM web_sessions s"
            " LEFT JOIN web_users u ON u.name = s.name WHERE s.id_hash=?",
            (_sha(token),),
        ).fetchone()
        if row is None or str(row[2]) < _now().isoformat():
            return None
        return User(str(row[0]), str(row[1]), parse_counters(str(row[3] or "")))

    def close_session(self, token: str | None) -> None:
        if token:
            self.db.execute("DELETE FROM web_sessions WHERE id_hash=?", (_sha(token),))

    # login lock-outs --------------------------------------------------------------------------

    def record_lockout(self, subject: str, address: str, failures: int, minutes: int) -> None:
        """Note that `subject` (`user:<name>` or `ip:<address>`) is locked out for `minutes`."""
        self.db.execute(
            "INSERT INTO web_login_audit (at, kind, subject, address, failures, minutes)"
            " VALUES (?, 'login_locked', ?, ?, ?, ?)",
            (_now().isoformat(timespec="seconds"), subject[:80], address[:64], failures, minutes),
        )
        self.db.execute(
            "DELETE FROM web_login_audit WHERE id <= (SELECT MAX(id) FROM web_login_audit) - ?",
            (LOGIN_AUDIT_ROWS,),
        )

    def lockouts(self, since: datetime, until: datetime) -> list[dict[str, object]]:
        """Lock-outs recorded in [since, until), oldest first."""
        rows = self.db.execute(
            "SELECT at, kind, subject, address, failures, minutes FROM "
            "web_login_audit WHERE at >= ? AND at < ? ORDER BY id",
            (
                since.astimezone(UTC).isoformat(timespec="seconds"),
                until.astimezone(UTC).isoformat(timespec="seconds"),
            ),
        ).fetchall()
        keys = ("at", "type", "subject", "address", "failures", "minutes")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # CSRF -------------------------------------------------------------------------------------

    def csrf_token(self, binding: str) -> str:
        """The CSRF token of the browser identified by `binding` (its session or anon cookie)."""
        return hmac.new(self._secret, binding.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, binding: str | None, token: str | None) -> bool:
        if not binding or not token:
            return False
        return hmac.compare_digest(self.csrf_token(binding), token)

    # kiosk tablets ----------------------------------------------------------------------------

    def issue_kiosk_key(self, name: str) -> str:
        """A new key for the kiosk tablet `name` (its old key stops working): `NAME.SECRET`,
        opened once on the tablet as `/kiosk?key=...`, which keeps it as a cookie. Only the
        secret's SHA-256 is stored, like a session's: a copied database opens no kiosk."""
        if not _valid_name(name):
            raise AccountError(NAME_RULE)
        secret = secrets.token_urlsafe(24)
        self.db.execute("INSERT OR REPLACE INTO web_meta VALUES (?, ?)", (KIOSK_META + name, _sha(secret)))
        return f"{name}.{secret}"

    def remove_kiosk(self, name: str) -> bool:
        return self.db.execute("DELETE FROM web_meta WHERE key=?", (KIOSK_META + name,)).rowcount > 0

    def kiosks(self) -> list[str]:
        rows = self.db.execute(
            "SELECT key FROM web_meta WHERE key LIKE ? ORDER BY key", (KIOSK_META + "%",)
        ).fetchall()
        return [str(r[0])[len(KIOSK_META) :] for r in rows]

    def kiosk_name(self, key: str | None) -> str | None:
        """The tablet a kiosk key belongs to, or None (no key, a malformed, old or forged one)."""
        if not key or len(key) > 120 or "." not in key:
            return None
        name, _, secret = key.rpartition(".")  # the secret has no dot; a name may
        if not _valid_name(name):
            return None
        row = self.db.execute("SELECT value FROM web_meta WHERE key=?", (KIOSK_META + name,)).fetchone()
        if row is None or not hmac.compare_digest(str(row[0]), _sha(secret)):
            return None
        return name

"""Accounts, sessions, CSRF tokens and the QR encoder, without a browser."""

from __future__ import annotations

import sqlite3

import pytest

from hub.web import qr
from hub.web.accounts import AccountError, Accounts, User


@pytest.fixture
def accounts(tmp_path):
    return Accounts(sqlite3.connect(tmp_path / "a.db", isolation_level=None))


def test_passwords_are_hashed_and_checked(accounts):
    accounts.add_user("ani", "admin", "rahasia-123")
    stored = accounts.db.execute("SELECT password FROM web_users").fetchone()[0]
    assert stored.startswith("scrypt$")
    assert "rahasia-123" not in stored
    assert accounts.check("ani", "rahasia-123") == User("ani", "admin")
    assert accounts.check("ani", "rahasia-124") is None
    assert accounts.check("nobody", "rahasia-123") is None


@pytest.mark.parametrize(("name", "role", "password"), [
    ("ani", "root", "rahasia-123"), ("a b", "admin", "rahasia-123"), ("ani", "admin", "short")])
def test_bad_accounts_are_refused(accounts, name, role, password):
    with pytest.raises(AccountError):
        accounts.add_user(name, role, password)


def test_sessions_end_on_logout_and_password_change(accounts):
    accounts.add_user("budi", "officer", "rahasia-123")
    user = accounts.check("budi", "rahasia-123")
    token = accounts.open_session(user)
    assert accounts.session_user(token) == User("budi", "officer")
    assert token not in str(accounts.db.execute("SELECT * FROM web_sessions").fetchall())
    accounts.close_session(token)
    assert accounts.session_user(token) is None
    token = accounts.open_session(user)
    accounts.add_user("budi", "officer", "rahasia-456")
    assert accounts.session_user(token) is None


def test_csrf_token_is_bound_to_the_browser(accounts, tmp_path):
    token = accounts.csrf_token("s:abc")
    assert accounts.csrf_ok("s:abc", token)
    assert not accounts.csrf_ok("s:abd", token)
    assert not accounts.csrf_ok("s:abc", None)
    again = Accounts(accounts.db)  # the secret survives a restart
    assert again.csrf_ok("s:abc", token)
    other = Accounts(sqlite3.connect(tmp_path / "b.db", isolation_level=None))
    assert not other.csrf_ok("s:abc", token)


@pytest.mark.parametrize(("text", "size"), [
    ("hi", 21),                                              # version 1
    ("http://192.168.1.10:8080/t/" + "x" * 22, 33),          # version 4: a real status link
    ("http://kantor.local:8080/t/" + "x" * 150, 53),         # version 9: with version bits
])
def test_qr_has_the_right_size_and_finder_patterns(text, size):
    m = qr.matrix(text)
    assert len(m) == size
    assert all(len(row) == size for row in m)
    finder = [[max(abs(x - 3), abs(y - 3)) != 2 for x in range(7)] for y in range(7)]
    for ox, oy in ((0, 0), (size - 7, 0), (0, size - 7)):
        assert [row[ox:ox + 7] for row in m[oy:oy + 7]] == finder
    assert 'viewBox="0 0' in qr.svg(text)


def test_qr_refuses_text_that_does_not_fit():
    with pytest.raises(ValueError, match="too long"):
        qr.matrix("x" * 400)

"""Accounts, sessions and CSRF tokens; the ticket QR code as Chromium draws it and zbar reads it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest

from antrian.web import qr
from antrian.web.accounts import AccountError, Accounts, User


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


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [("ani", "root", "rahasia-123"), ("a b", "admin", "rahasia-123"), ("ani", "admin", "short")],
)
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


#: Links as the kiosk route makes them: a LAN address, a host name, and one near the size limit.
LINKS = [
    "http://192.168.1.10:8080/t/" + "Ab3-_x" * 4,
    "https://antrean.kec-winongan.local/t/" + "Zz9_-q" * 4,
    "http://kantor.local:8080/t/" + "x" * 150,
]


@pytest.mark.parametrize("link", LINKS)
def test_qr_on_the_kiosk_card_scans_back_to_the_status_link(link, new_page, tmp_path):
    """Drawn by Chromium at the kiosk card's 200 px and read by a real decoder (zbar)."""
    if shutil.which("zbarimg") is None:
        pytest.fail("zbarimg missing: apt-get install zbar-tools (./run test installs it)")
    page = new_page(400, 400)
    page.set_content(
        f'<body style="margin:20px;background:#2b3a55">'
        f'<div id="qr" style="width:200px;height:200px">{qr.svg(link)}</div></body>'
    )
    image = tmp_path / "qr.png"
    page.locator("#qr").screenshot(path=str(image))
    read = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, timeout=20
    )
    assert read.stdout.strip() == link, read.stderr


def test_qr_is_one_dark_path_on_a_white_square_sized_by_its_container():
    drawn = qr.svg(LINKS[0])
    assert drawn.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ')
    assert drawn.count("<path ") == 1
    assert 'fill="#fff"' in drawn
    assert "width=" not in drawn.split(">", 1)[0]


def test_qr_refuses_text_that_does_not_fit():
    with pytest.raises(ValueError, match="too long"):
        qr.svg("x" * 400)

"""Logging in is throttled per account and per address: a growing delay, then a lock-out
that even the right password does not pass, recorded in the audit log; cookies are Secure
when the pages are served over TLS."""

from __future__ import annotations

import json
import threading
import time

from web_helpers import Browser, hub_fixture

DEWI = ("dewi", "admin", "rahasia-dewi-1")
LIMITS = """
login_max_failures = 4
login_lockout_minutes = 1
login_delay = 3.0
secure_cookies = true
"""
hub = hub_fixture("login", LIMITS, users=(DEWI,))


def test_failed_logins_slow_down_then_lock_out_even_the_right_password(hub, admin_account):
    name, _, password = DEWI
    guesser = Browser(hub, "127.0.0.5")
    csrf = guesser.csrf("/login")
    assert guesser.login(name, "salah-1", csrf)[0] == 401
    assert guesser.login(name, "salah-2", csrf)[0] == 401
    # from the second failure on, the next attempt must wait: not even checked, so the right
    # password does not get in either
    status, resp, page = guesser.login(name, password, csrf)
    assert status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert "Terlalu banyak percobaan masuk. Silakan coba lagi dalam" in page
    assert "antrian_session" not in guesser.cookies
    statuses = []
    deadline = time.monotonic() + 60
    while "dikunci" not in page and time.monotonic() < deadline:
        status, _, page = guesser.login(name, f"salah-{len(statuses) + 3}", csrf)
        statuses.append(status)
        if status == 429 and "dikunci" not in page:
            time.sleep(0.5)  # the growing delay
    assert statuses.count(401) == 1  # the fourth failure locks: 4 = login_max_failures
    assert "dikunci sementara" in page
    # locked: the right password is refused, from this address and from any other ...
    for address in ("127.0.0.5", "127.0.0.6"):
        status, _, page = Browser(hub, address).login(name, password)
        assert status == 429
        assert "dikunci sementara" in page
    # ... and this address may not try another account meanwhile
    assert guesser.login(*admin_account, csrf)[0] == 429
    assert "antrian_session" not in guesser.cookies
    # another account from another address logs in (over a Secure cookie, as configured)
    admin = Browser(hub, "127.0.0.7")
    assert admin.login(*admin_account)[0] == 302
    assert any(c.startswith("antrian_session=") and "Secure" in c for c in admin.set_cookie)
    # the lock-outs are in the audit log and in the hub's log
    _, _, data = admin.request("GET", "/admin/audit")
    locked = {r["actor"] for r in json.loads(data)["rows"] if r["type"] == "login_locked"}
    assert {"user:dewi", "ip:127.0.0.5"} <= locked
    assert "login locked for 1 minutes after 4 failures: user:dewi" in hub.proc.log()


def test_parallel_guesses_are_checked_one_at_a_time(hub):
    guesser = Browser(hub, "127.0.0.8")
    csrf = guesser.csrf("/login")
    statuses: list[int] = []
    start = threading.Barrier(20)

    def guess(n: int) -> None:
        start.wait()
        statuses.append(guesser.login("eko", f"tebakan-{n}", csrf)[0])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 20
    assert statuses.count(401) <= 3  # checked; the others were refused unchecked
    assert statuses.count(429) >= 17


def test_cookies_are_secure_when_configured(hub):
    browser = Browser(hub, "127.0.0.9")
    browser.request("GET", "/")
    anon = [c for c in browser.set_cookie if c.startswith("antrian_anon=")]
    assert len(anon) == 1
    assert "Secure" in anon[0]

"""The rules behind the web limits, on a controlled clock: token buckets, the login delay and
lock-out, the client's address behind a proxy, and the `[web]` keys that configure them."""

from __future__ import annotations

import pytest

from antrian.config import ConfigError, parse_config
from antrian.web.limits import LoginThrottle, RateLimit, client_address, wait_all


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_served_then_one_action_per_interval():
    clock = Clock()
    limit = RateLimit(6, clock=clock)  # 6 a minute: one every 10 s once the burst is spent
    assert [wait_all([(limit, "a")]) for _ in range(7)] == [0.0] * 6 + [pytest.approx(10.0)]
    assert wait_all([(limit, "b")]) == 0.0  # another key has its own bucket
    clock.now += 10
    assert wait_all([(limit, "a")]) == 0.0
    assert wait_all([(limit, "a")]) == pytest.approx(10.0)


def test_an_action_refused_by_one_limit_spends_nothing_of_the_others():
    clock = Clock()
    per_client, total = RateLimit(1, clock=clock), RateLimit(2, clock=clock)
    assert wait_all([(per_client, "a"), (total, "kiosk")]) == 0.0
    assert wait_all([(per_client, "a"), (total, "kiosk")]) > 0  # a's own limit
    assert wait_all([(per_client, "b"), (total, "kiosk")]) == 0.0  # the total had one left
    assert wait_all([(per_client, "c"), (total, "kiosk")]) > 0


def test_the_tables_of_clients_are_bounded():
    limit = RateLimit(1, clock=Clock(), max_keys=100)
    for n in range(1000):
        wait_all([(limit, f"cookie-{n}")])
    assert len(limit._buckets) == 100


def test_failed_logins_wait_longer_each_time_then_lock_then_are_forgotten():
    clock = Clock()
    throttle = LoginThrottle(4, 600.0, 1.0, clock=clock)
    keys = ("user:ani", "ip:10.0.0.5")
    assert throttle.failed(keys) == []
    assert throttle.wait(keys) == (0.0, False)  # a typo costs nothing
    assert throttle.failed(keys) == []
    assert throttle.wait(keys) == (pytest.approx(1.0), False)
    clock.now += 1
    assert throttle.failed(keys) == []
    assert throttle.wait(keys) == (pytest.approx(2.0), False)
    clock.now += 2
    assert throttle.failed(keys) == list(keys)  # the fourth in a row locks both
    assert throttle.wait(keys) == (pytest.approx(600.0), True)
    assert throttle.wait(("user:ani",)) == (pytest.approx(600.0), True)
    assert throttle.wait(("user:budi", "ip:10.0.0.6")) == (0.0, False)
    clock.now += 600
    assert throttle.wait(keys) == (0.0, False)
    assert throttle.failed(keys) == []  # a fresh start after the lock-out
    throttle.succeeded(keys)
    assert throttle.wait(keys) == (0.0, False)


def test_a_check_under_way_holds_back_parallel_attempts():
    throttle = LoginThrottle(5, 600.0, 1.0, clock=Clock())
    throttle.begin(("user:ani", "ip:10.0.0.5"))
    assert throttle.wait(("user:budi", "ip:10.0.0.5"))[0] > 0  # same address
    assert throttle.wait(("user:ani", "ip:10.0.0.6"))[0] > 0  # same account
    throttle.end(("user:ani", "ip:10.0.0.5"))
    assert throttle.wait(("user:ani", "ip:10.0.0.5")) == (0.0, False)


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "192.168.1.9", "10.0.0.5"),  # not a trusted proxy: ignored
        ("127.0.0.1", "1.2.3.4, 192.168.1.9", "192.168.1.9"),  # the proxy's own entry, not the rest
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ],
)
def test_the_client_behind_a_trusted_proxy(peer, forwarded, client):
    assert client_address(peer, forwarded, ("127.0.0.1",)) == client


@pytest.mark.parametrize(
    ("web", "message"),
    [
        ({"max_streams": 0}, "web.max_streams: must be 1..100000"),
        ({"max_streams": 10, "max_streams_per_client": 20}, "web.max_streams_per_client: must be 1..10"),
        ({"request_timeout": 0.5}, "web.request_timeout: must be 1..300"),
        ({"tickets_per_minute": True}, "web.tickets_per_minute: must be a whole number"),
        ({"login_delay": 61}, "web.login_delay: must be 0..60"),
        ({"trusted_proxies": ["proxy.lan"]}, "web.trusted_proxies: not an IP address"),
        ({"secure_cookie": True}, "web.secure_cookie: unknown key"),
    ],
)
def test_web_limits_are_checked_with_the_key_named(web, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config({"web": web})

"""How every MQTT part of this package connects to the broker: one client factory, one reconnect
policy.

Why one place: the hub, the web topic monitor and the speaker node each had their own client
settings and reconnect loop, with three different backoffs, and the one setting that matters
most for latency was copied three times:

* TCP_NODELAY on the socket. Without it, a request/response over QoS 1 stalls 40-90 ms
  (Nagle's algorithm on one side against delayed ACKs on the other). The broker needs
  `set_tcp_nodelay true` too.
* TLS with the office's CA when `[mqtt] tls_ca` is set; the user name and password of the part.
* A reconnect that starts at once and backs off to at most `MAX_RETRY_S`: after a broker
  restart the office is served again within 2 s, and a broker that stays down costs one
  connection attempt per part every 2 s.

Each part keeps what is its own: its client id, its last will, its subscriptions and what it
does on every (re)connect (subscribe again, publish its retained state again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Final

import aiomqtt

from antrian.config import MqttConfig

log = logging.getLogger("antrian.mqtt")

#: Socket option of every client: no Nagle delay on small MQTT packets.
NODELAY: Final = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
#: The first wait before connecting again; it doubles after each failed attempt...
FIRST_RETRY_S: Final = 0.2
#: ...up to this. A connection that worked starts the next outage at FIRST_RETRY_S again.
MAX_RETRY_S: Final = 2.0


def client(
    cfg: MqttConfig,
    *,
    will: aiomqtt.Will | None = None,
    keepalive: int = 15,
    clean_session: bool | None = None,
    max_inflight_messages: int | None = None,
) -> aiomqtt.Client:
    """An aiomqtt client for `cfg` (host, port, account, client id, TLS) with TCP_NODELAY."""
    tls = aiomqtt.TLSParameters(ca_certs=cfg.tls_ca, cert_reqs=ssl.CERT_REQUIRED) if cfg.tls_ca else None
    c = aiomqtt.Client(
        cfg.host,
        cfg.port,
        username=cfg.username,
        password=cfg.password,
        identifier=cfg.client_id,
        will=will,
        keepalive=keepalive,
        clean_session=clean_session,
        socket_options=NODELAY,
        tls_params=tls,
        max_inflight_messages=max_inflight_messages,
        timeout=5,
    )
    # aiomqtt warns past 10 publishes in flight; the hub has hundreds after a reconnect
    c.pending_calls_threshold = 100_000
    return c


async def reconnecting(
    connect: Callable[[], aiomqtt.Client],
    serve: Callable[[aiomqtt.Client], Awaitable[None]],
    *,
    name: str,
    stop: asyncio.Event | None = None,
    on_down: Callable[[], None] | None = None,
    max_retry_s: float = MAX_RETRY_S,
) -> None:
    """Connect and `serve` the connection; when it is refused or lost, wait and do it again.

    Runs until `stop` is set (checked between connections: `serve` watches it while connected)
    or the task is cancelled. `on_down` runs after every connection, lost or refused. The wait
    starts at `FIRST_RETRY_S` and doubles up to `max_retry_s`; a connection that was made
    resets it.
    """
    delay = FIRST_RETRY_S
    while stop is None or not stop.is_set():
        try:
            async with connect() as c:
                delay = FIRST_RETRY_S
                await serve(c)
        except aiomqtt.MqttError as exc:
            log.warning("%s: broker unreachable (%s); retrying in %.1f s", name, exc, delay)
        finally:
            if on_down is not None:
                on_down()
        if stop is None:
            await asyncio.sleep(delay)
        elif not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, max_retry_s)

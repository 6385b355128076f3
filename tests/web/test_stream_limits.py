"""Live pages cannot starve the hub: streams are capped per address and in total, a page
that does not read is dropped, unfinished requests are closed, and all the while the hub
answers the queue's MQTT requests. Real sockets against the hub in its own process; the
deadlines are generous bounds for the test to give up, never measurements."""

from __future__ import annotations

import select
import socket
import threading
import time

from web_helpers import Browser, closed_by_hub, hub_fixture, mqtt_ticket, open_stream

CAPS = """
max_streams = 12
max_streams_per_client = 4
request_timeout = 2
"""
hub = hub_fixture("streams", CAPS)


def test_live_streams_are_capped_per_address_and_in_total_and_mqtt_goes_on(hub, probe):
    mqtt = probe(hub)
    opened: list[socket.socket] = []
    try:
        first = [open_stream(hub, "127.0.1.1") for _ in range(6)]
        opened += [s for s, _, _ in first]
        assert [status for _, status, _ in first] == [200] * 4 + [429] * 2
        status, _, text = Browser(hub, "127.0.1.1").request("GET", "/events/public")
        assert status == 429
        assert "Terlalu banyak halaman terbuka" in text.decode()
        more = [open_stream(hub, f"127.0.1.{n}") for n in (2, 2, 2, 2, 3, 3, 3, 3)]
        opened += [s for s, _, _ in more]
        assert [status for _, status, _ in more] == [200] * 8  # 12 open: the total cap
        s, status, _ = open_stream(hub, "127.0.1.4")
        opened.append(s)
        assert status == 503
        # none of them reads, and the hub still answers the queue's requests over MQTT
        for _ in range(20):
            assert mqtt_ticket(mqtt, "B")["status"] == "ok"
        # a page that goes away frees its place
        for s in opened[:4]:
            s.close()
        deadline = time.monotonic() + 20
        while True:
            s, status, _ = open_stream(hub, "127.0.1.4")
            opened.append(s)
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200
    finally:
        for s in opened:
            s.close()


def test_a_page_that_does_not_read_is_dropped_and_one_that_reads_is_kept(hub, probe):
    mqtt = probe(hub)
    idle, status, _ = open_stream(hub, "127.0.2.1", rcvbuf=4096)
    assert status == 200
    reader, status, _ = open_stream(hub, "127.0.2.2")
    assert status == 200
    got = {"bytes": 0, "eof": False}

    def read() -> None:
        try:
            while chunk := reader.recv(65536):
                got["bytes"] += len(chunk)
        except OSError:
            pass
        got["eof"] = True

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    poller = select.poll()
    poller.register(idle, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    deadline = time.monotonic() + 120
    try:
        # every ticket changes the waiting-room picture: the hub keeps sending it to both. The
        # pages get at most a picture a second, so the idle page fills up with time, not with
        # tickets: a few tickets a round are enough, and at most 50 a second keep a hub that
        # answers quickly from using up the service's 9,999 numbers before the page is dropped.
        while not poller.poll(0) and time.monotonic() < deadline:
            for _ in range(5):
                answer = mqtt_ticket(mqtt, "C")
                assert answer["status"] == "ok", answer
            time.sleep(0.1)
        assert poller.poll(0), "the hub kept a page that never reads"
        assert not got["eof"]
        assert got["bytes"] > 20_000
        assert mqtt_ticket(mqtt, "C")["status"] == "ok"
    finally:
        idle.close()
        reader.close()
        thread.join(5)
    assert "closed a live page that does not read (127.0.2.1)" in hub.proc.log()


def test_unfinished_requests_are_closed_and_mqtt_goes_on(hub, probe):
    mqtt = probe(hub)
    slow: list[socket.socket] = []
    for n in range(20):  # slowloris: headers that never end, a line now and then
        s = socket.create_connection(("127.0.0.1", hub.port), source_address=(f"127.0.3.{n + 1}", 0))
        s.sendall(b"GET /tv HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(s)
    bodies: list[socket.socket] = []
    for n in range(5):  # a body that never ends
        s = socket.create_connection(("127.0.0.1", hub.port), source_address=(f"127.0.4.{n + 1}", 0))
        s.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nuser"
        )
        bodies.append(s)
    closed: set[int] = set()
    deadline = time.monotonic() + 60
    try:
        while len(closed) < len(slow) and time.monotonic() < deadline:
            for i, s in enumerate(slow):
                if i in closed:
                    continue
                if closed_by_hub(s):
                    closed.add(i)
                    continue
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    closed.add(i)
            assert mqtt_ticket(mqtt, "D")["status"] == "ok"
            time.sleep(0.3)
        assert len(closed) == len(slow)
        for s in bodies:
            s.settimeout(30)
            answer = s.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        # ... and the pages still work for everybody else
        assert hub.state()["hub_online"]
    finally:
        for s in slow + bodies:
            s.close()

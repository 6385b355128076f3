"""The web tests' parts: the hub with its pages as a child process (one per test module), and
its clients: plain HTTP and sockets from addresses of 127.0.0.0/8 (each address is one
"client" for the hub's per-client limits), and an MQTT request to show that the hub keeps
serving the queue meanwhile."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from antrian.contract import Topics
from antrian.net import free_port
from tests.kit import HubProcess, Mosquitto, Probe

T = Topics("kantor")
#: How the tests start Debian's Chromium (headless, and nothing that calls the internet).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
Answer = tuple[int, http.client.HTTPResponse, bytes]
ADMIN = ("ani", "rahasia-admin-1")
OFFICER = ("budi", "rahasia-petugas-1")


def kiosk_key(config: Path, name: str = "tablet-1") -> str:
    """A key for the kiosk tablet `name`, made with the real `antrian users kiosk` command."""
    out = subprocess.run(
        [sys.executable, "-m", "antrian.cli", "users", "kiosk", name, "-c", str(config)],
        text=True,
        check=True,
        capture_output=True,
    ).stdout
    found = re.search(r"/kiosk\?key=(\S+)", out)
    assert found, out
    return found.group(1)


def _add_user(config: Path, name: str, role: str, password: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "antrian.cli",
            "users",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "-c",
            str(config),
        ],
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


class WebHub:
    """The hub as a child process, plus where its pages are."""

    def __init__(self, proc: HubProcess, port: int) -> None:
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.printer: Path | None = None
        self.key = ""  # the kiosk tablet's key (`antrian users kiosk`)

    def kiosk(self, lang: str = "") -> str:
        """The address a kiosk tablet is set up with once: the kiosk page with its key."""
        return f"{self.base}/kiosk?key={self.key}" + (f"&lang={lang}" if lang else "")

    def state(self) -> dict:
        with urllib.request.urlopen(self.base + "/api/state", timeout=5) as r:
            return json.loads(r.read())

    def service(self, letter: str) -> dict:
        return next(s for s in self.state()["services"] if s["service"] == letter)


@contextmanager
def running_web_hub(
    workdir: Path, extra_config: str = "", users: tuple[tuple[str, str, str], ...] = ()
) -> Iterator[WebHub]:
    """A broker and the hub with its pages, the admin and officer accounts (and `users`: name,
    role, password); `extra_config` is TOML appended after the `[web]` table's own keys."""
    broker = Mosquitto()
    broker.start()
    port = free_port()
    printer = workdir / "printer.bin"  # the printer's device node, as a file
    config = (
        f'[office]\nname = "Kantor Kecamatan Winongan"\n'
        f'opening = "00:00"\nclosing = "23:59"\n'
        f'[printer]\ndevice = "{printer}"\n'
        f'[web]\nport = {port}\nhost = "127.0.0.1"\n{extra_config}'
    )
    proc = HubProcess(broker, config, workdir)
    _add_user(proc.config_path, ADMIN[0], "admin", ADMIN[1])
    _add_user(proc.config_path, OFFICER[0], "officer", OFFICER[1])
    for name, role, password in users:
        _add_user(proc.config_path, name, role, password)
    key = kiosk_key(proc.config_path)
    proc.start()
    hub = WebHub(proc, port)
    hub.printer = printer
    hub.key = key
    deadline = time.monotonic() + 60  # a bound to give up, generous for a busy machine
    try:
        while True:
            try:
                if hub.state()["hub_online"]:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("hub web server did not come up:\n" + proc.log())
            time.sleep(0.1)
        yield hub
    finally:
        proc.stop()
        broker.close()


def hub_fixture(
    name: str,
    extra_config: str = "",
    users: tuple[tuple[str, str, str], ...] = (),
    prepare: Callable[[Path], None] | None = None,
) -> Any:
    """A module-scoped fixture: a hub of the module's own (`extra_config`, `users`; `prepare`
    fills its folder before it starts)."""

    @pytest.fixture(scope="module")
    def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebHub]:
        workdir = tmp_path_factory.mktemp(name)
        if prepare is not None:
            prepare(workdir)
        with running_web_hub(workdir, extra_config, users) as h:
            yield h

    return hub


def mqtt_ticket(probe: Probe, service: str) -> dict:
    return probe.request(
        T.hub_request("take_ticket"), T.hub_response("take_ticket"), {"service": service}, timeout=10
    )


class Browser:
    """One client at its own address, with its cookies (a phone, a PC, a script)."""

    def __init__(self, hub, address: str) -> None:
        self.hub = hub
        self.address = address
        self.cookies: dict[str, str] = {}
        self.set_cookie: list[str] = []

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.hub.port, timeout=15, source_address=(self.address, 0)
        )
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.set_cookie = resp.headers.get_all("Set-Cookie") or []
        for line in self.set_cookie:
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return resp.status, resp, data

    def csrf(self, path: str = "/kiosk") -> str:
        _, _, page = self.request("GET", path)
        found = re.search(rb'<meta name="csrf" content="([0-9a-f]+)">', page)
        assert found, page[:300]
        return found.group(1).decode()

    def take_ticket(self, service: str) -> tuple[int, http.client.HTTPResponse, dict]:
        """A ticket from the kiosk page, as the office's tablet (its key, then the page)."""
        if "antrian_kiosk" not in self.cookies:
            self.request("GET", f"/kiosk?key={self.hub.key}")
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf()}
        status, resp, data = self.request(
            "POST", "/api/ticket", json.dumps({"service": service}).encode(), headers
        )
        return status, resp, json.loads(data)

    def login(self, name: str, password: str, csrf: str | None = None) -> tuple[int, Any, str]:
        form = urlencode(
            {"csrf": csrf or self.csrf("/login"), "username": name, "password": password, "next": "/admin"}
        ).encode()
        status, resp, data = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        said = re.search(r'<p class="error" id="login-error">([^<]*)</p>', data.decode())
        return status, resp, said.group(1) if said else ""


def open_stream(
    hub,
    address: str,
    path: str = "/events/public",
    rcvbuf: int | None = None,
) -> tuple[socket.socket, int, bytes]:
    """A live page that reads its response head (and the body's first bytes), then nothing."""
    s = socket.socket()
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((address, 0))
    s.settimeout(15)
    s.connect(("127.0.0.1", hub.port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1024)
        assert chunk, head
        head += chunk
    return s, int(head.split()[1]), head


def closed_by_hub(s: socket.socket) -> bool:
    """True when the hub has closed or reset this connection (reads whatever is left)."""
    s.setblocking(False)
    try:
        while True:
            if not s.recv(65536):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


Events = list[tuple[str, dict]]


def read_sse(sock: socket.socket, done: Callable[[Events], bool], timeout: float = 10.0) -> Events:
    """Server-sent events (name, data) from a stream's socket, until `done` says enough."""
    sock.settimeout(timeout)
    buf, events = b"", []
    while not done(events):
        chunk = sock.recv(65536)
        assert chunk, "the stream closed"
        buf += chunk
        while b"\n\n" in buf:
            block, buf = buf.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if ": " in line)
            if "event" in fields:
                events.append((fields["event"], json.loads(fields["data"])))
    return events

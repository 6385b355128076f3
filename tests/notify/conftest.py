"""Fixtures for notifications: a real gammu-smsd on Gammu's dummy phone, and a local HTTP sink.

`gammu_smsd` runs the real daemon (Debian's gammu-smsd) with the files backend in the test's
temporary folder, on the dummy phone (a fake modem kept in a folder). It can be stopped and
started again, as a modem that is unplugged and plugged back, and it tells what it transmitted
(number, text, encoding, parts) from its own log and its sent folder.

`http_sink` is a small HTTP server in a thread that records what apprise POSTs to it, and can
answer 503 as a provider does when it, or the way to it, is down.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from antrian.notify import gammu

# gammu-smsd's log lines (1.42): the coding of a message found in the outbox (1: UCS-2, 3: GSM
# 7-bit default alphabet), then one line a transmitted part.
_FOUND = re.compile(r'" cod (\d+) lgt \d+ udh:')
_TRANSMITTED = re.compile(r"Transmitted (\S+) \((part|total): (\d+)\) to (\S+), message reference")
_CODING = {"1": "ucs2", "3": "gsm7"}


@dataclass(frozen=True)
class Transmitted:
    """A message gammu-smsd sent through the (dummy) phone."""

    to: str
    text: str
    encoding: str
    parts: int
    name: str


class GammuSmsd:
    """A gammu-smsd of the test's own (see the module's notes)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.smsdrc = root / "smsdrc"
        self.log = root / "smsd.log"
        self.config = gammu.write_dummy_smsdrc(self.smsdrc, root / "spool", logfile=self.log, debuglevel=1)
        self.phone = root / "spool" / "phone"
        self.proc: subprocess.Popen[bytes] | None = None
        self._reports = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        """Start gammu-smsd and wait until it reached the phone and read its signal."""
        assert not self.running
        self.proc = subprocess.Popen(
            ["gammu-smsd", "-c", str(self.smsdrc)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-2000:]
            st = self.monitor()
            if st is not None and st.signal_percent > 0:
                return
            time.sleep(0.05)
        raise AssertionError("gammu-smsd did not start:\n" + self.log.read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        """Stop gammu-smsd as its service does (SIGTERM): the modem is gone for the hub."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self.proc = None

    def monitor(self) -> gammu.MonitorStatus | None:
        """gammu-smsd's status as `gammu-smsd-monitor` reads it, or None."""
        proc = subprocess.run(
            ["gammu-smsd-monitor", "-c", str(self.smsdrc), "-n", "1", "-d", "0", "-C"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        st = gammu.parse_monitor_csv(proc.stdout) if proc.returncode == 0 else None
        return st if st is not None and st.imei else None

    def transmitted(self) -> list[Transmitted]:
        """What gammu-smsd reports it transmitted (its log), with the text it read (sent folder)."""
        if not self.log.exists():
            return []
        out: list[Transmitted] = []
        coding = "?"
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            found = _FOUND.search(line)
            if found:
                coding = _CODING.get(found[1], found[1])
            m = _TRANSMITTED.search(line)
            if m is None or m[2] != "total":
                continue
            name = m[1]
            sent = self.config.sent / name
            if not sent.exists():  # gammu-smsd logs "Transmitted" before it moves the file
                break
            data = sent.read_bytes()
            out.append(Transmitted(m[4], gammu.decode_text(data), coding, int(m[3]), name))
        return out

    def wait_transmitted(self, n: int, timeout: float = 20.0) -> list[Transmitted]:
        """The first `n` transmitted messages, once there are that many."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.transmitted()
            if len(sent) >= n:
                return sent
            time.sleep(0.05)
        raise AssertionError(f"gammu-smsd transmitted {len(self.transmitted())} of {n} messages")

    def outbox(self) -> list[str]:
        return sorted(p.name for p in self.config.outbox.iterdir() if not p.name.startswith("."))

    def report_delivery(self, number: str, status: str = "Delivered") -> None:
        """Put a network's status report ("Delivered", "Failed", "Pending") for `number` on the
        dummy phone's SIM, where gammu-smsd reads received messages; the dummy phone makes none
        itself."""
        self._reports += 1
        text = status.encode("utf-16-be").hex().upper()
        folder = self.phone / "sms" / "1"
        folder.mkdir(parents=True, exist_ok=True)
        body = (
            "[SMSBackup000]\n"
            'SMSC = "+62816124"\n'
            "State = UnRead\n"
            f'Number = "{number}"\n'
            "Coding = Default\n"
            "Folder = 1\n"
            "PDU = Status_Report\n"
            f"MessageReference = {self._reports}\n"
            f"Text00 = {text}\n"
        )
        tmp = folder / f".{self._reports}"
        tmp.write_text(body, encoding="utf-8")
        tmp.rename(folder / str(self._reports))


@pytest.fixture
def gammu_smsd(tmp_path: Path) -> Iterator[GammuSmsd]:
    """A running gammu-smsd on the dummy phone; `stop()` / `start()` take the modem away and back."""
    if shutil.which("gammu-smsd") is None:
        pytest.skip("gammu-smsd is not installed (apt-get install gammu-smsd)")
    smsd = GammuSmsd(tmp_path / "gammu")
    smsd.start()
    yield smsd
    smsd.stop()


@dataclass
class HttpSink:
    """A local endpoint for apprise's json:// service (see the module's notes).

    `received` holds the requests it accepted, each as a dict: ``to`` and ``text`` (the
    number and the message as apprise's JSON body carries them: the ``:to=`` extra and
    ``message``), ``path``, ``query`` and the whole ``body``. `attempts` counts every request,
    refused ones too.
    """

    host: str
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    #: The status requests are refused with (503: a provider that is down), or None to accept.
    failing: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def apprise_url(self) -> str:
        """An `AppriseChannel` URL template that posts here with the number in the body."""
        return f"json://{self.host}:{self.port}/notify?:to={{to}}"

    def fail(self, status: int | None = 503) -> None:
        """Refuse every request with `status` from now on (None: accept them again)."""
        self.failing = status

    def wait(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The accepted requests, once there are `n` of them (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)


def _handler(sink: HttpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sink.attempts += 1
            status = sink.failing
            if status is None:
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", errors="replace")
                fields = body if isinstance(body, dict) else {}
                parts = urlsplit(self.path)
                sink.received.append(
                    {
                        "to": fields.get("to"),
                        "text": fields.get("message"),
                        "path": unquote(parts.path),
                        "query": parse_qs(parts.query),
                        "body": body,
                    }
                )
            self.send_response(status or 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test reads `received`

    return Handler


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    """A local HTTP server recording what is POSTed to it (``sink.url`` is ``http://127.0.0.1:PORT``)."""
    sink = HttpSink("127.0.0.1", 0)
    server = ThreadingHTTPServer((sink.host, 0), _handler(sink))
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()

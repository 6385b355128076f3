"""`antrian devices pair ID`: hand one board its config over the office network, once.

A board in setup mode (`devices/lib/fieldsetup.py`: a new board, or its setup button held at
start) asks a technician's phone for the office WiFi, the hub's address and a pairing code.
This command shows the code and waits: the board fetches `GET /pair/{id}` with the code in
`X-Pair-Code` and gets the `config.json` that `antrian devices add` wrote for it (its MQTT
account, its topics, the ticket words). Then the command ends.

Why a command that runs while the technician waits, not a page of the hub: the config holds
the board's MQTT password, so it is given out once, to whoever knows a code shown only on the
hub PC's screen, within `minutes`; five wrong codes end it (8 digits: a guess succeeds with
odds of 1 in 20 million). Nothing listens when nobody is pairing and nothing is stored.
"""

from __future__ import annotations

import hmac
import http.server
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

DEFAULT_PORT: Final = 8099
MAX_WRONG: Final = 5
CODE_DIGITS: Final = 8


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


@dataclass
class Pairing:
    """One board's pairing: its id, its config's bytes, the code; what happened so far."""

    device_id: str
    config: bytes
    code: str = field(default_factory=new_code)
    wrong: int = 0
    done: bool = False
    ended: threading.Event = field(default_factory=threading.Event)

    def answer(self, path: str, code: str | None, peer: str) -> tuple[int, bytes]:
        """The HTTP status and body for one request (thread-safe enough: one board asks)."""
        if self.ended.is_set():
            return 410, b"pairing ended"
        if path != f"/pair/{self.device_id}":
            return 404, b"not found"
        given = (code or "").replace(" ", "").strip()
        if not hmac.compare_digest(given.encode(), self.code.encode()):
            self.wrong += 1
            if self.wrong >= MAX_WRONG:
                self.ended.set()
            return 403, b"wrong code"
        self.done = True
        self.ended.set()
        return 200, self.config


def device_config(folder: Path, device_id: str) -> bytes:
    """The config `antrian devices add` wrote for `device_id`, checked to be one JSON object."""
    path = folder / "devices" / f"{device_id}.json"
    data = path.read_bytes()
    if not isinstance(json.loads(data), dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def serve(
    pairing: Pairing,
    host: str,
    port: int,
    minutes: float,
    say: Callable[[str, str], None],
    ready: Callable[[], None] = lambda: None,
) -> bool:
    """Serve the pairing until the board took its config, too many wrong codes or `minutes`;
    True when the board has it. `ready()` runs once the port listens (then the code is
    shown: a board that tries at once is not refused); `say(event, peer)` reports each
    request."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server names it
            peer = self.client_address[0]
            status, body = pairing.answer(self.path, self.headers.get("X-Pair-Code"), peer)
            say({200: "taken", 403: "wrong"}.get(status, "other"), peer)
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_a: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ready()
    try:
        pairing.ended.wait(minutes * 60)
        time.sleep(0.2)  # the last answer leaves before the socket closes
    finally:
        server.shutdown()
        server.server_close()
    return pairing.done

"""Firmware updates over the air: the hub serves each role's firmware and tells a board to fetch it.

Why from the hub: an office has nine boards for four counters and nobody with a laptop and a
USB cable to visit each. The firmware comes with the hub's own installation (updating the
hub updates what it offers, `antrian.provision.firmware`); the admin presses "Perbarui" for a
board (`POST /api/admin/firmware/{device}`), the hub sends that board `set`
`{"update": {...}}` with the manifest's SHA-256, and the board fetches the files from
`/firmware/{role}/{version}/...`, checks every hash, restarts into it and rolls back by
itself if the new version cannot reach the broker (`devices/lib/otaboot.py`). The board's
`info` then says which build it runs (`build`) and how an update ended (`update`); this part
logs each outcome.

The files are served without login: they are the project's open-source firmware and hold no
secret (a board's `config.json` is never among them), and a board has no web account.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from antrian.bus import MessageIn
from antrian.config import Config
from antrian.contract import MAX_PACKET_BYTES, Outgoing
from antrian.extension import Extension
from antrian.payloads import DeviceSet, UpdateOrder
from antrian.provision.firmware import MICROPYTHON_VERSION, Bundle, available

if TYPE_CHECKING:
    from aiohttp.web import AbstractRouteDef

log = logging.getLogger("antrian.updates")


def _text(value: object) -> str | None:
    """A short printable text from a board, or None."""
    if not isinstance(value, str):
        return None
    return "".join(c for c in value if c.isprintable())[:40] or None


class FirmwareUpdates(Extension):
    name = "updates"

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.web.enabled  # the boards download from the web server

    async def start(self) -> None:
        self.bundles: dict[str, Bundle] = available()
        self.outcomes: dict[str, str] = {}  # device -> last update outcome logged
        self.boards: dict[str, dict[str, Any]] = {}  # device -> build, micropython, update
        if self.bundles:
            log.info(
                "firmware for over-the-air updates: %s",
                ", ".join(f"{r} {b.version}" for r, b in self.bundles.items()),
            )
        else:
            log.warning("tanpa sumber firmware: pembaruan OTA tidak tersedia / no firmware sources: no OTA")
        self.bus.on(MessageIn, self, self.on_message)

    def on_message(self, msg: MessageIn) -> Iterable[Outgoing]:
        """A configured board's `info`: what it runs, and how its update ended (logged once)."""
        parsed = self.topics.parse_device_topic(msg.topic)
        if parsed is None or parsed[1] != "info" or parsed[2] or self.cfg.device(parsed[0]) is None:
            return ()
        device = parsed[0]
        try:
            info: Any = json.loads(msg.payload) if len(msg.payload) <= MAX_PACKET_BYTES else None
        except (ValueError, UnicodeDecodeError):
            info = None
        info = info if isinstance(info, dict) else {}
        update = info.get("update")
        update = (
            {k: _text(update.get(k)) for k in ("version", "state", "error")}
            if isinstance(update, dict)
            else None
        )
        self.boards[device] = {
            "build": _text(info.get("build")),
            "micropython": _text(info.get("micropython")),
            "update": update,
        }
        if update is None:
            return ()
        outcome = f"{update.get('version')}:{update.get('state')}:{update.get('error')}"
        if self.outcomes.get(device) != outcome:
            self.outcomes[device] = outcome
            if update.get("error"):
                log.warning(
                    "PEMBARUAN GAGAL / UPDATE FAILED: %s, versi %s: %s (firmware lama tetap berjalan)",
                    device,
                    str(update.get("version"))[:16],
                    str(update.get("error"))[:40],
                )
            else:
                log.info("update of %s to %s: %s", device, update.get("version"), update.get("state"))
        return ()

    def update(self, device_id: str) -> dict[str, Any]:
        """Tell one board to fetch the firmware of its role; the answer for the admin page."""
        dev = self.cfg.device(device_id)
        if dev is None:
            return {"status": "error", "error": "unknown_device"}
        b = self.bundles.get(dev.role)
        if b is None:
            return {"status": "error", "error": "no_firmware"}
        order: UpdateOrder = {
            "version": b.version,
            "sha256": b.sha256,
            "port": self.cfg.web.port,
            "path": f"/firmware/{b.role}/{b.version}/",
        }
        message: DeviceSet = {"update": order}
        self.publish([Outgoing(self.topics.device_set(dev.id), json.dumps(message).encode())])
        log.info("asked %s to update to %s %s", dev.id, dev.role, b.version)
        return {"status": "ok", "data": {"device": dev.id, "version": b.version}}

    def status(self) -> list[dict[str, Any]]:
        """Each MicroPython board: the build it runs, the one offered, the last outcome."""
        out = []
        for dev in self.cfg.devices:
            b = self.bundles.get(dev.role)
            if b is None:
                continue
            info = self.boards.get(dev.id, {})
            mp = info.get("micropython")
            out.append(
                {
                    "device": dev.id,
                    "role": dev.role,
                    "build": info.get("build"),
                    "available": b.version,
                    "current": info.get("build") == b.version,
                    "update": info.get("update"),
                    "micropython": mp,
                    "micropython_ok": isinstance(mp, str) and mp.startswith(MICROPYTHON_VERSION + "."),
                    "micropython_pinned": MICROPYTHON_VERSION,
                }
            )
        return out

    def web_routes(self) -> Sequence[AbstractRouteDef]:
        from antrian.web.server import K_WEB, _csrf_refused

        async def firmware_file(request: web.Request) -> web.Response:
            b = self.bundles.get(request.match_info["role"])
            name = request.match_info["name"]
            if b is None or request.match_info["version"] != b.version:
                raise web.HTTPNotFound(text="no such firmware version")
            data = b.manifest if name == "manifest.json" else b.files.get(name)
            if data is None:
                raise web.HTTPNotFound(text="no such file")
            return web.Response(body=data, content_type="application/octet-stream")

        async def admin_status(request: web.Request) -> web.Response:
            request.app[K_WEB].need_user(request, ("admin",))
            return web.json_response({"status": "ok", "data": self.status()})

        async def admin_update(request: web.Request) -> web.Response:
            app = request.app[K_WEB]
            app.need_user(request, ("admin",))
            if not app.csrf_ok(request, None):
                return _csrf_refused(app, request)
            answer = self.update(request.match_info["device"][:32])
            return web.json_response(answer, status=200 if answer["status"] == "ok" else 404)

        return [
            web.get("/firmware/{role}/{version}/{name}", firmware_file),
            web.get("/api/admin/firmware", admin_status),
            web.post("/api/admin/firmware/{device}", admin_update),
        ]

"""Field setup without a laptop: an access point and a page on the board itself.

A board starts it (`hw.main`) when its `config.json` is missing or incomplete (a board fresh
from flashing), or when its setup button (`setup_pin`, default GPIO0, the DevKit's BOOT
button) is held for 3 s in the first seconds after power-on. The board then opens the WiFi
network `antrian-setup-<id>`; a phone joins it and opens http://192.168.4.1/. The page lists
the WiFi networks the board sees and asks for the office WiFi's password, the hub's address
and the board's id and pairing code, which `antrian devices pair <id>` shows on the hub PC.

With these the board joins the office WiFi and fetches its config from the hub (the MQTT
account and topics `antrian devices add` made for it), keeps its own wiring (pins, printer,
panel), writes `config.json` whole and restarts. Nothing is saved unless the hub accepted the
code, so the open network cannot make the board join another broker without the hub PC.
The page never shows a saved password. After `SETUP_MS` without a saved config the board
restarts as it was: a setup network does not stay open in the lobby.

Everything is bounded: the request's size, the fields' lengths, the time of each step.
Imported only in setup mode.
"""

import asyncio
import json
import os

import ota

SETUP_MS = 600000
MAX_REQUEST = 2048
JOIN_MS = 20000
#: What the board keeps from its own config over the hub's: its wiring and its local choices.
LOCAL = ("kiosk", "printer", "pad", "display", "panel", "supervisor", "production", "setup_pin")
FIELDS = {"ssid": 32, "password": 64, "hub": 64, "port": 5, "id": 32, "code": 16}


def escape(text):
    """HTML text: a network's name is whatever a neighbour called it."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def unquote(text):
    """application/x-www-form-urlencoded value to text."""
    text = text.replace("+", " ")
    out = bytearray()
    i = 0
    raw = text.encode()
    while i < len(raw):
        c = raw[i]
        if c == 0x25 and i + 2 < len(raw):  # %XX
            try:
                out.append(int(raw[i + 1 : i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(c)
        i += 1
    return out.decode()


def parse_form(body):
    """The form's fields, each within its length; ValueError when one is missing or too long."""
    form = {}
    for pair in body.decode().split("&"):
        if "=" in pair:
            k, v = pair.split("=", 1)
            form[unquote(k)] = unquote(v).strip()
    for k, limit in FIELDS.items():
        if len(form.get(k, "")) > limit:
            raise ValueError(k)
    for k in ("ssid", "hub", "id", "code"):
        if not form.get(k):
            raise ValueError(k)
    port = form.get("port") or "8099"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("port")
    form["port"] = int(port)
    for c in form["hub"]:
        if not (c.isalpha() or c.isdigit() or c in ".-"):
            raise ValueError("hub")
    for c in form["id"]:
        if not (c.isalpha() or c.isdigit() or c in "-_"):
            raise ValueError("id")
    return form


def page(networks, cfg, message=""):
    """The setup form, in Indonesian with English beneath."""
    mine = cfg.get("wifi", {}).get("ssid", "")
    options = "".join(
        '<option value="%s"%s>%s (%d dBm)</option>'
        % (escape(n), " selected" if n == mine else "", escape(n), rssi)
        for n, rssi in networks
    )
    return (
        '<!doctype html><html lang="id"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Pengaturan papan antrian</title>"
        "<style>body{font:18px sans-serif;margin:1em;max-width:30em}label{display:block;margin-top:1em}"
        "input,select,button{font-size:1em;width:100%%;padding:.4em}small{color:#555}"
        ".msg{padding:.5em;background:#fee;border:1px solid #c00}</style>"
        "<h1>Pengaturan papan antrian</h1><small>Board setup</small>"
        "%s"
        '<form method="post" action="/save">'
        "<label>WiFi kantor <small>office WiFi</small>"
        '<select name="ssid" id="ssid">%s</select></label>'
        '<label>Kata sandi WiFi <small>WiFi password</small><input name="password" type="password" maxlength="64"></label>'
        '<label>Alamat hub <small>hub address</small><input name="hub" value="%s" maxlength="64" required></label>'
        '<label>Port pemasangan <small>pairing port</small><input name="port" value="8099" maxlength="5"></label>'
        '<label>ID papan <small>board id</small><input name="id" value="%s" maxlength="32" required></label>'
        '<label>Kode pemasangan <small>pairing code (antrian devices pair)</small>'
        '<input name="code" inputmode="numeric" maxlength="16" required></label>'
        '<p><button type="submit">Simpan dan mulai ulang / Save and restart</button></p></form>'
        % (
            '<p class="msg" id="msg">%s</p>' % escape(message) if message else "",
            options,
            escape(cfg.get("mqtt", {}).get("host", "")),
            escape(cfg.get("id", "")),
        )
    )


def merge(fetched, cfg, form):
    """The new config: the hub's account and topics, the board's wiring, the office WiFi."""
    if not isinstance(fetched, dict) or fetched.get("id") != form["id"] or not fetched.get("topics"):
        raise ValueError("config")
    new = dict(fetched)
    for k in LOCAL:
        if k in cfg:
            new[k] = cfg[k]
    new["wifi"] = {"ssid": form["ssid"], "password": form.get("password", "")}
    return new


def save(cfg, path):
    """Write the config whole: a power cut leaves the old file or the new one."""
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f)
    os.rename(path + ".tmp", path)


class Setup:
    def __init__(self, board, cfg, path):
        self.board = board
        self.cfg = cfg
        self.path = path
        self.networks = []
        self.done = asyncio.Event()

    async def run(self, port=80):
        b = self.board
        name = "antrian-setup-" + (self.cfg.get("id") or b.unique_id())[:18]
        b.setup_ap(name)
        b.log("setup: access point", name)
        self.networks = b.wifi_scan()
        server = await asyncio.start_server(self.serve, "0.0.0.0", port)
        try:
            await asyncio.wait_for_ms(self.done.wait(), SETUP_MS)
        except asyncio.TimeoutError:
            b.log("setup: nothing saved, restart")
        server.close()
        await asyncio.sleep_ms(1000)  # the last page reaches the phone
        b.reboot()

    async def serve(self, r, w):
        try:
            answer = await asyncio.wait_for_ms(self.answer(r), 60000)  # type: tuple[str, str]
        except Exception as exc:  # noqa: BLE001 - one bad request never stops the setup
            self.board.log("setup: bad request", repr(exc))
            answer = ("400 Bad Request", "bad request")
        try:
            body = answer[1].encode()
            w.write(
                (
                    "HTTP/1.0 %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n" % (answer[0], len(body))
                ).encode()
            )
            w.write(body)
            await w.drain()
        finally:
            w.close()
            await w.wait_closed()

    async def answer(self, r):
        line = await r.readline()
        length = 0
        total = len(line)
        while True:
            h = await r.readline()
            total += len(h)
            if total > MAX_REQUEST:
                raise ValueError("too large")
            if not h or h == b"\r\n":
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h[15:])
        if length > MAX_REQUEST:
            raise ValueError("too large")
        parts = line.split()
        if len(parts) < 2:
            raise ValueError("request")
        if parts[0] == b"POST" and parts[1] == b"/save":
            body = await r.readexactly(length) if length else b""
            try:
                form = parse_form(body)
            except ValueError as exc:
                return "200 OK", page(self.networks, self.cfg, "Isian tidak lengkap / invalid: %s" % exc.args[0])
            message = await self.apply(form)
            if message:
                return "200 OK", page(self.networks, self.cfg, message)
            self.done.set()
            return (
                "200 OK",
                '<!doctype html><meta charset="utf-8"><h1 id="saved">Tersimpan</h1>'
                "<p>Papan memulai ulang dan tersambung ke hub. / Saved: the board restarts.</p>",
            )
        return "200 OK", page(self.networks, self.cfg)

    async def apply(self, form):
        """Join the WiFi, fetch the config from the hub, save it: '' or what went wrong."""
        b = self.board
        log = b.log
        await b.wifi({"ssid": form["ssid"], "password": form.get("password", "")})
        t = 0
        while not b.wifi_up():
            if t >= JOIN_MS:
                return "WiFi %s tidak tersambung / could not join" % form["ssid"]
            await asyncio.sleep_ms(250)
            t += 250
        buf = []  # type: list[bytes]
        try:
            await ota.fetch(
                form["hub"],
                form["port"],
                "/pair/" + form["id"],
                buf.append,
                4096,
                "X-Pair-Code: %s\r\n" % form["code"],
            )
            new = merge(json.loads(b"".join(buf)), self.cfg, form)
        except Exception as exc:  # noqa: BLE001 - told on the page, nothing saved
            log("setup: pairing failed", repr(exc))
            return "Hub menolak atau tidak terjangkau (kode? alamat?) / the hub refused or is unreachable"
        save(new, self.path)
        log("setup: saved config of", new["id"])
        return ""


async def run(board, cfg, path, port=80):
    await Setup(board, cfg, path).run(port)

"""The download half of over-the-air updates: fetch a firmware from the hub, check, stage it.

The hub says `set` `{"update": {"version", "sha256", "port", "path"}}` (only the hub may
write a device's `set`: the broker's ACL). The board fetches `manifest.json` from the hub's
web server (the host of its broker unless `host` is given) and checks it against `sha256`
from that message; then each file named in it, checked against the manifest's size and
SHA-256, into `ota_new/`. Only when every file is there and right is the swap written down
(`otaboot`) and the board restarted; any failure leaves the running firmware as it was and is
reported in `info.update`. Imported only when an update arrives: the bytes it takes are not
the firmware's while it serves.

Everything is bounded: the manifest's size, the number of files, each file's size and the
total, the time of each download, and the names (no path, never `main.py`, `otaboot.py` or
`config.json`).
"""

import asyncio
import binascii
import hashlib
import json
import os
import sys

import otaboot

MAX_MANIFEST = 4096
MAX_FILES = 24
MAX_FILE = 96 * 1024
MAX_TOTAL = 400 * 1024
#: Each download's deadline.
FETCH_MS = 30000
#: Never replaced over the air (see otaboot).
KEEP = ("main.py", "boot.py", "otaboot.py", "config.json", "ota.json")
CHUNK = 512


class UpdateError(Exception):
    pass


def _name_ok(name):
    if not isinstance(name, str) or not 3 <= len(name) <= 32 or name in KEEP:
        return False
    if not (name.endswith(".py") or name.endswith(".mpy")):
        return False
    for c in name:
        if not (c.isalpha() or c.isdigit() or c in "_."):
            return False
    return not name.startswith(".")


def check_manifest(man, role, version):
    """The manifest's files, or UpdateError: every bound is checked before a byte is fetched."""
    files = man.get("files") if isinstance(man, dict) else None
    if not files or man.get("role") != role or man.get("version") != version or not isinstance(files, list) or not 0 < len(files) <= MAX_FILES:
        raise UpdateError("manifest")
    total = 0
    names = []
    for f in files:
        name, size, sha = f.get("name"), f.get("size"), f.get("sha256")
        if not _name_ok(name) or name in names:
            raise UpdateError("name")
        if not isinstance(size, int) or not 0 <= size <= MAX_FILE:
            raise UpdateError("size")
        if not isinstance(sha, str) or len(sha) != 64:
            raise UpdateError("manifest")
        total += size
        names.append(name)
    if total > MAX_TOTAL:
        raise UpdateError("size")
    return files


async def _get(host, port, path, sink, limit, headers=""):
    """HTTP/1.0 GET of `path`, each chunk of the body to `sink`; the body's length."""
    r, w = await asyncio.open_connection(host, port)
    try:
        w.write(("GET %s HTTP/1.0\r\nHost: %s\r\n%s\r\n" % (path, host, headers)).encode())
        await w.drain()
        status = await r.readline()
        if b" 200 " not in status:
            raise UpdateError("http")
        length = None
        while True:
            line = await r.readline()
            if not line or line == b"\r\n":
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line[15:])
        if length is None or length > limit:
            raise UpdateError("size")
        got = 0
        while got < length:
            chunk = await r.read(min(CHUNK, length - got))
            if not chunk:
                raise UpdateError("short")
            got += len(chunk)
            sink(chunk)
        return got
    finally:
        w.close()
        await w.wait_closed()


async def fetch(host, port, path, sink, limit, headers=""):
    """`_get` within `FETCH_MS`; every failure is an UpdateError."""
    try:
        return await asyncio.wait_for_ms(_get(host, port, path, sink, limit, headers), FETCH_MS)
    except asyncio.TimeoutError:
        raise UpdateError("timeout")
    except OSError:
        raise UpdateError("network")


def _hex(h):
    return binascii.hexlify(h.digest()).decode()


def _clear(folder):
    try:
        for name in os.listdir(folder):
            os.remove(folder + "/" + name)
    except OSError:
        os.mkdir(folder)


async def download(cfg, msg, log):
    """Fetch, check and stage the update in `msg`; True when the board should restart."""
    version, sha, path = msg.get("version"), msg.get("sha256"), msg.get("path")
    if not (isinstance(version, str) and isinstance(sha, str) and isinstance(path, str)):
        raise UpdateError("message")
    if not path.startswith("/") or len(path) > 128 or " " in path:
        raise UpdateError("message")
    host = msg.get("host") or cfg.get("mqtt", {}).get("host")
    port = msg.get("port", 80)
    if not isinstance(host, str) or not isinstance(port, int):
        raise UpdateError("message")
    buf = []
    h = hashlib.sha256()

    def keep(chunk):
        buf.append(chunk)
        h.update(chunk)

    await fetch(host, port, path + "manifest.json", keep, MAX_MANIFEST)
    if _hex(h) != sha:
        raise UpdateError("hash")
    try:
        man = json.loads(b"".join(buf))
    except ValueError:
        raise UpdateError("manifest")
    del buf
    files = check_manifest(man, cfg.get("role"), version)
    _clear(otaboot.NEW)
    for f in files:
        name = f["name"]
        h = hashlib.sha256()
        with open(otaboot.NEW + "/" + name, "wb") as out:

            def write(chunk, out=out, h=h):
                out.write(chunk)
                h.update(chunk)

            size = await fetch(host, port, path + name, write, f["size"])
        if size != f["size"] or _hex(h) != f["sha256"]:
            raise UpdateError("hash")
        log("ota: got", name, size)
    _clear(otaboot.OLD)
    st = otaboot.read()
    added = []
    for f in files:
        try:
            os.stat(f["name"])
        except OSError:
            added.append(f["name"])
    otaboot.write(
        {
            "state": "swap",
            "version": version,
            "prev": st.get("version"),
            "files": [f["name"] for f in files],
            "added": added,
        }
    )
    return True


def start(dev, msg):
    """`set` `{"update": msg}` on a running device: fetch it, unless one is being fetched."""
    if dev.updating and dev.updating.get("state") == "fetching":
        return
    dev.updating = {"version": msg.get("version"), "state": "fetching"}
    asyncio.create_task(run(dev, msg))


async def run(dev, msg):
    """Fetch and stage the update, then restart into it once no press waits for its answer.

    A failure leaves the running firmware untouched; `info.update` says why.
    """
    log = dev.board.log
    version = msg.get("version")
    try:
        await download(dev.cfg, msg, log)
    except Exception as exc:  # noqa: BLE001 - reported, the running firmware stays
        err = exc.args[0] if exc.args and isinstance(exc.args[0], str) else repr(exc)
        log("ota: failed", err)
        dev.updating = {"version": version, "state": "failed", "error": err}
        sys.modules.pop("ota", None)  # its bytes back to the firmware once this ends
        await dev.publish_info()
        return
    dev.updating = {"version": version, "state": "restarting"}
    await dev.publish_info()
    for _ in range(30):  # a press in flight is answered first
        if not dev._waiting:
            break
        await asyncio.sleep_ms(1000)
    log("ota: restart into", version)
    dev.board.reboot()

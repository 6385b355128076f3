"""What every antrian device does the same way: config, WiFi, MQTT, requests, `set`.

A device owns `antrian/{office}/device/{id}/...`. It never spells a topic itself: `topics` in
its config.json holds the topics the MQTT contract gives its role, with office and id filled
in by `antrian devices add` (why the board does not read the contract itself:
`antrian.provision.topics`); the board fills only `{command}` (one per request) and
`{counter}` (a call pad's counter). On every (re)connect it announces itself
(`availability` = `online`, retained, with `offline` as its last will; `info` retained),
resubscribes, and sends again every request still waiting for its response. Each request
carries a `transaction` made of a random boot id and a press counter, so a resend after a
lost response gets the hub's first answer back instead of a second ticket, and a reboot
never reuses an id the hub has already seen: the boot id has 64 random bits, so two boots of
one device sharing it is negligible (about 1 in 10^16 for a hundred reboots in a day; the hub
remembers transactions per device per working day).

A device recovers by itself (the supervisor, `Device._supervise`): it checks the WLAN every
second and drops the MQTT link the moment the WLAN goes (`online` is false at once, not when
the keepalive runs out); it restarts the MQTT task or the role's loop if one of them fails
(a display driver's I2C error included); it feeds the hardware watchdog only while that loop
turns; and it reboots after `reboot_timeout_s` (15 minutes) without the broker. Every request
carries `age_ms`, the time since the press, and gives up after `request_timeout_ms`: the hub
refuses a press older than its limit (`stale_press`), so nobody gets a ticket minutes after
they left.
"""

import asyncio
import gc
import json
import os
import sys

from mqtt import MQTTClient

FIRMWARE = "antrian-mpy 0.1.0"

from time import ticks_diff, ticks_ms


#: What the contract allows any message a device receives (mqtt_topics.md, "Conventions").
MAX_PAYLOAD = 1024
MAX_DEPTH = 32


def json_object(payload):
    """`payload` as a dict, or None when it is not one JSON object within the contract's limits.

    Depth is checked before parsing: a deeply nested payload exhausts the parser's memory on a
    board (MemoryError). Brackets inside strings count too, which only errs on the safe side.
    """
    if len(payload) > MAX_PAYLOAD:
        return None
    depth = 0
    for b in payload:
        if b == 0x5B or b == 0x7B:  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return None
        elif b == 0x5D or b == 0x7D:  # ] }
            depth -= 1
    try:
        msg = json.loads(payload)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


def _ota_state():
    """`ota.json` as `otaboot` left it: the installed build, a rolled-back one ({} if none)."""
    try:
        with open("ota.json") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def load_config(path="config.json"):
    """The device's one config file (WiFi, broker, id, credentials, pins), as a dict."""
    with open(path) as f:
        return json.load(f)


class Device:
    """The MQTT side of a device. Roles subclass it and fill `subscriptions()`/`handle()`."""

    role = "device"

    def __init__(self, cfg, board):
        self.cfg = cfg
        self.board = board
        self.id = cfg["id"]
        t = cfg.get("topics")
        if not t:
            raise ValueError("config.json tanpa topics (buat dengan `antrian devices add`) / has no topics")
        self.topics = t
        self.availability = t["device_availability"]
        self.request_topic = t["device_request"]
        self.response_prefix = t["device_response"].split("{command}")[0]
        self.boot = "".join("%02x" % b for b in os.urandom(8))
        self.seq = 0
        self.hub_online = False
        self._waiting = {}  # transaction -> [command, payload bytes, response or None, Event]
        m = cfg.get("mqtt", {})
        self.resend_ms = m.get("resend_ms", 5000)
        # supervisor: watchdog_ms, reboot_timeout_s, request_timeout_ms
        self.sup = cfg.get("supervisor", {})
        self.wifi = False
        self.started = ticks_ms()
        self.ota = _ota_state()  # the installed update's version, a rolled-back one
        self.updating = None  # the update being fetched, then its outcome (`ota.py`)
        self.mqtt = MQTTClient(
            m.get("client_id", self.id),
            m.get("host", "192.168.1.10"),
            m.get("port", 1883),
            user=m.get("user"),
            password=m.get("password"),
            keepalive=m.get("keepalive", 30),
            will=(self.availability, b"offline", True, 1),
            on_message=self._on_message,
            on_connect=self._on_connect,
            on_down=self._on_down,
            backoff_ms=(m.get("backoff_min_ms", 500), m.get("backoff_max_ms", 30000)),
            log=board.log,
            link_up=board.wifi_up,
        )

    # -- to be filled by roles ------------------------------------------------------------

    def subscriptions(self):
        """Extra topics to follow besides responses, `set` and the hub state."""
        return ()

    def handle(self, topic, payload, retained):
        """A message on one of `subscriptions()`."""

    def link_changed(self):
        """Called when the broker link or the hub's state changes (redraw the status)."""

    def brightness(self, level):
        """`set` {"brightness": 0-15}."""

    async def main(self):
        """The role's own loop (buttons, display refresh)."""
        while True:
            await asyncio.sleep(3600)

    # -- runtime ----------------------------------------------------------------------------

    @property
    def online(self):
        """True when the device can ask the hub something right now."""
        return self.wifi and self.mqtt.connected and self.hub_online

    async def run(self):
        """Start joining the WiFi, then keep the MQTT link and the role's loop running."""
        b = self.board
        wdt = b.watchdog(self.sup.get("watchdog_ms", 30000))
        await b.wifi(self.cfg.get("wifi", {}))  # returns at once; hw guards every WLAN call
        for job in (self.mqtt.run, self._resender, self.main):
            asyncio.create_task(self._keep(job))
        # Once a second: the watchdog (fed only while this loop turns: a blocked loop resets
        # the board), the WLAN, the broker's absence.
        reboot_ms = self.sup.get("reboot_timeout_s", 900) * 1000
        seen = ticks_ms()
        while True:
            wdt.feed()
            up = b.wifi_check()
            if up != self.wifi:
                self.wifi = up
                b.log("device: wifi", up)
                if not up:
                    self.mqtt.drop()  # offline now; reconnects once the WLAN is back
                self._changed()
            if self.mqtt.connected:
                seen = ticks_ms()
            elif ticks_diff(ticks_ms(), seen) >= reboot_ms:
                b.log("device: no broker, reboot")
                b.reboot()
            await asyncio.sleep_ms(1000)

    async def _keep(self, job):
        """Run `job()` forever: a failure (a display driver's I2C error) is logged, and the
        job starts again."""
        while True:
            try:
                await job()
            except Exception as exc:  # noqa: BLE001 - a driver error must not stop the device
                self.board.log("device: failed", repr(exc))
            await asyncio.sleep_ms(1000)

    def _changed(self):
        try:
            self.link_changed()
        except Exception as exc:  # noqa: BLE001 - a display error must not stop the link
            self.board.log("device: redraw failed", repr(exc))

    def _request_topic(self, command):
        return self.request_topic.replace("{command}", command)

    async def _on_connect(self):
        t = self.topics
        for topic in (t["device_response"].replace("{command}", "+"), t["device_set"], t["hub_state"]):
            await self.mqtt.subscribe(topic, 1)
        for topic in self.subscriptions():
            await self.mqtt.subscribe(topic, 1)
        await self.mqtt.publish(self.availability, b"online", retain=True, qos=1)
        if self.ota.get("state") == "trial":  # a new version that reached the broker stays
            import otaboot

            self.ota = otaboot.confirm()
        await self.publish_info()
        # A response that was lost with the old connection: ask again, same transaction.
        for w in list(self._waiting.values()):
            if w[2] is None:
                await self._send(w)
        self.wifi = self.board.wifi_up()
        self.board.log("device: announced")
        self._changed()

    async def publish_info(self):
        await self.mqtt.publish(self.topics["device_info"], json.dumps(self.info()), retain=True, qos=1)

    def info(self):
        """The retained `info`: what a technician asks first about a board that misbehaved."""
        b = self.board
        gc.collect()
        ota = self.ota
        return {
            "firmware": FIRMWARE,
            "build": ota.get("version"),
            "update": self.updating or ({"version": ota["failed"], "error": "rolled_back"} if ota.get("failed") else None),
            "model": "esp32",
            "micropython": "%d.%d.%d" % sys.implementation.version[:3],
            "role": self.role,
            "reset_cause": b.reset_cause(),
            "uptime_s": ticks_diff(ticks_ms(), self.started) // 1000,
            "rssi": b.rssi(),
            "free_heap": gc.mem_free(),
            "mqtt_connects": self.mqtt.connects,
        }

    def _on_down(self):
        # The broker may have lost the retained hub state: wait to hear it again.
        self.hub_online = False
        self._changed()

    def _on_message(self, topic, payload, retained):
        if topic.startswith(self.response_prefix):
            msg = json_object(payload)
            tx = msg.get("transaction") if msg else None
            w = self._waiting.get(tx) if isinstance(tx, str) else None
            if w is not None and w[2] is None:
                w[2] = msg
                w[3].set()
        elif topic == self.topics["device_set"]:
            if retained:
                # Commands are never retained: obeying one would replay it on every
                # reconnect (a retained reboot would be a boot loop).
                self.board.log("device: retained set ignored")
                return
            self._on_set(payload)
        elif topic == self.topics["hub_state"]:
            state = (json_object(payload) or {}).get("state")
            self.hub_online = state == "online"
            self._changed()
        else:
            self.handle(topic, payload, retained)

    def _on_set(self, payload):
        msg = json_object(payload)
        if msg is None:
            return
        self.board.log("device: set", payload)
        if "brightness" in msg:
            level = msg["brightness"]
            if isinstance(level, int) and 0 <= level <= 15:
                self.brightness(level)
        if msg.get("reboot") is True:
            self.board.reboot()
        up = msg.get("update")
        if isinstance(up, dict):
            gc.collect()  # room to load the updater in one piece
            try:
                import ota  # only now: its bytes are not the firmware's while it serves
            except MemoryError:
                self.updating = {"version": up.get("version"), "state": "failed", "error": "memory"}
                asyncio.create_task(self.publish_info())
                return
            ota.start(self, up)

    def transaction(self):
        """A fresh id for one press: unique across reboots, reused by every resend."""
        self.seq += 1
        return "%s-%d" % (self.boot, self.seq)

    async def request(self, command, fields):
        """Send `device_request` with `{command}` filled in and wait for its response.

        While it waits the request is sent again on every reconnect and every `resend_ms`,
        always with the same transaction, so the hub acts on it once; each copy carries the
        press's `age_ms` as of its sending. After `request_timeout_ms` it gives up with an
        error response `{"status": "error", "error": "timeout"}` (the hub refuses presses
        that old anyway).
        """
        tx = self.transaction()
        fields["transaction"] = tx
        ev = asyncio.Event()
        t0 = ticks_ms()
        w = [command, fields, None, ev, t0, t0]
        self._waiting[tx] = w
        try:
            await asyncio.wait_for_ms(self._first(w), self.sup.get("request_timeout_ms", 150000))
            return w[2]
        except asyncio.TimeoutError:
            return {"status": "error", "error": "timeout", "transaction": tx}
        finally:
            del self._waiting[tx]

    async def _first(self, w):
        if self.mqtt.connected:
            await self._send(w)
        await w[3].wait()

    async def _send(self, w):
        """Publish one waiting request with its age now."""
        w[1]["age_ms"] = ticks_diff(ticks_ms(), w[5])
        await self.mqtt.publish(self._request_topic(w[0]), json.dumps(w[1]), qos=1)

    async def _resender(self):
        """Ask again for a response that is late while connected (hub restarted, lost)."""
        while True:
            await asyncio.sleep_ms(self.resend_ms // 2)
            if not self.mqtt.connected:
                continue
            now = ticks_ms()
            for w in list(self._waiting.values()):
                if w[2] is None and ticks_diff(now, w[4]) >= self.resend_ms:
                    w[4] = now
                    await self._send(w)

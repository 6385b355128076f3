"""A real Home Assistant for the tests: its own venv (installed by `./run setup-ha`), a fresh
config folder, MQTT on the test's Mosquitto, and a user whose token drives the REST API.

Home Assistant runs with `--skip-pip`: everything it loads was installed with it, so a test
run downloads nothing. The configuration is minimal (no `default_config`: nothing that looks
for devices on the network or calls the internet); the MQTT broker cannot be set in YAML, so
the config entry is written into `.storage` before the first start, as the UI would have.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from antrian.net import free_port
from tests.kit.broker import Mosquitto
from tests.kit.process import ChildProcess

HA_VERSION = "2024.3.3"
REPO = Path(__file__).resolve().parents[2]
USER = "antrian-test"
PASSWORD = "antrian-test-password"

T = TypeVar("T")


def ha_venv() -> Path:
    """Where `./run setup-ha` installs Home Assistant (outside the checkout, reused)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "antrian" / f"ha-{HA_VERSION}"


def ensure_installed() -> Path:
    """The venv's `hass`, installing it first when no complete install is there."""
    venv = ha_venv()
    if not (venv / ".complete").exists():
        subprocess.run([str(REPO / "run"), "setup-ha"], check=True, timeout=1800)
    return venv / "bin" / "hass"


def poll(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.05) -> T:
    """`probe()`'s first value that is not None (exceptions count as not yet), within `timeout`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            got = probe()
            if got is not None:
                return got
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")
        time.sleep(every)


CONFIGURATION = """\
homeassistant:
  name: Kantor test
  latitude: -7.74
  longitude: 112.91
  elevation: 10
  unit_system: metric
  time_zone: Asia/Jakarta
  country: ID
  currency: IDR
  language: id
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
logger:
  default: warning
"""


class HomeAssistant(ChildProcess):
    """`hass -c CONFIG` on 127.0.0.1:`port` against `broker`; `start()` returns once its API
    answers with a token and the MQTT integration is loaded."""

    def __init__(self, broker: Mosquitto, config_dir: Path) -> None:
        self.hass = ensure_installed()
        self.config_dir = config_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.start_seconds = 0.0
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port))
        storage = config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        entry = {
            "entry_id": uuid.uuid4().hex,
            "version": 1,
            "minor_version": 1,
            "domain": "mqtt",
            "title": broker.host,
            "data": {"broker": broker.host, "port": broker.port, "discovery": True},
            "options": {},
            "pref_disable_new_entities": False,
            "pref_disable_polling": False,
            "source": "user",
            "unique_id": None,
            "disabled_by": None,
        }
        (storage / "core.config_entries").write_text(
            json.dumps(
                {"version": 1, "minor_version": 1, "key": "core.config_entries", "data": {"entries": [entry]}}
            )
        )
        subprocess.run(
            [str(self.hass), "--script", "auth", "-c", str(config_dir), "add", USER, PASSWORD],
            check=True,
            capture_output=True,
            timeout=120,
        )
        super().__init__(
            [str(self.hass), "-c", str(config_dir), "--skip-pip", "--log-no-color"],
            config_dir / "hass.out",
        )

    def start(self, timeout: float = 120.0) -> None:
        began = time.monotonic()
        super().start()
        try:
            poll("Home Assistant's HTTP server", self._listening, timeout, every=0.1)
            self.token = self._login()
            poll("the MQTT integration", self._mqtt_loaded, timeout)
        except (AssertionError, OSError) as exc:
            self.stop()
            raise AssertionError(f"Home Assistant did not come up ({exc}): {self.log()[-4000:]}") from None
        self.start_seconds = time.monotonic() - began

    def _listening(self) -> bool | None:
        if not self.alive():
            raise AssertionError(f"Home Assistant exited: {self.log()[-4000:]}")
        # any answer (400 until onboarding is done) means it listens
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.base}/auth/providers", timeout=2)
        return True

    def _mqtt_loaded(self) -> bool | None:
        return True if "mqtt" in self.get("/api/config")["components"] else None

    def _login(self) -> str:
        """A user's access token, the way the frontend gets one (login flow, then a code)."""
        client = f"{self.base}/"
        flow = self._post(
            "/auth/login_flow",
            {"client_id": client, "handler": ["homeassistant", None], "redirect_uri": client},
        )
        done = self._post(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": client, "username": USER, "password": PASSWORD},
        )
        assert done.get("type") == "create_entry", done
        form = urllib.parse.urlencode(
            {"grant_type": "authorization_code", "code": done["result"], "client_id": client}
        ).encode()
        with urllib.request.urlopen(f"{self.base}/auth/token", form, timeout=10) as r:
            token: str = json.loads(r.read())["access_token"]
        return token

    # -- the REST API -------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw and r.headers.get_content_type() == "application/json" else raw.decode()

    def _post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body, auth=False)

    def get(self, path: str) -> Any:
        return self._request("GET", path)

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """The entity's state object, None while Home Assistant does not know it."""
        try:
            found: dict[str, Any] = self.get(f"/api/states/{entity_id}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        return found

    def states(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("/api/states")
        return found

    def call(self, domain: str, service: str, **data: Any) -> Any:
        return self._request("POST", f"/api/services/{domain}/{service}", data)

    def template(self, text: str) -> str:
        """A template rendered by Home Assistant (device registry reads without a websocket)."""
        out: str = self._request("POST", "/api/template", {"template": text})
        return out

    def device_id(self, entity_id: str) -> str:
        """The id of the device the entity belongs to, from Home Assistant's device registry."""
        return self.template(f"{{{{ device_id('{entity_id}') }}}}")

    def device_attr(self, device_id: str, attr: str) -> str:
        return self.template(f"{{{{ device_attr('{device_id}', '{attr}') }}}}")

    def wait_state(
        self, entity_id: str, want: Callable[[str], bool] | str, timeout: float = 15.0
    ) -> dict[str, Any]:
        """The entity's state object once its state is `want` (or `want(state)` holds)."""
        check = want if callable(want) else (lambda s: s == want)

        def ready() -> dict[str, Any] | None:
            st = self.state(entity_id)
            return st if st is not None and check(st["state"]) else None

        try:
            return poll(f"{entity_id} = {want}", ready, timeout, every=0.01)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; it is {self.state(entity_id)}") from None

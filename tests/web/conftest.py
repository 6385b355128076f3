"""Fixtures for the web pages: a real broker, the real hub (`antrian run`) with its web server,
accounts made with the real `antrian users` command, and Debian's Chromium through Playwright.

One hub per module keeps the suite fast; tests in a module use different services so they do
not depend on each other's order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.testing import HubProcess, Mosquitto, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ADMIN = ("ani", "rahasia-admin-1")
OFFICER = ("budi", "rahasia-petugas-1")


def _add_user(config: Path, name: str, role: str, password: str) -> None:
    subprocess.run([sys.executable, "-m", "hub.cli", "users", "add", name, "--role", role,
                    "--password-stdin", "-c", str(config)], input=password + "\n", text=True,
                   check=True, capture_output=True)  # fmt: skip


class WebHub:
    """The hub as a child process, plus where its pages are."""

    def __init__(self, proc: HubProcess, port: int) -> None:
        self.proc = proc
        self.base = f"http://127.0.0.1:{port}"
        self.printer: Path | None = None

    def state(self) -> dict:
        with urllib.request.urlopen(self.base + "/api/state", timeout=5) as r:
            return json.loads(r.read())

    def service(self, letter: str) -> dict:
        return next(s for s in self.state()["services"] if s["service"] == letter)


@pytest.fixture(scope="module")
def web_hub(tmp_path_factory) -> Iterator[WebHub]:
    broker = Mosquitto()
    broker.start()
    port = free_port()
    workdir = tmp_path_factory.mktemp("webhub")
    printer = workdir / "printer.bin"  # the printer's device node, as a file
    config = (f'[office]\nname = "Kantor Kecamatan Winongan"\n'
              f'[web]\nport = {port}\nhost = "127.0.0.1"\n'
              f'[printer]\ndevice = "{printer}"\n')
    proc = HubProcess(broker, config, workdir)
    _add_user(proc.config_path, ADMIN[0], "admin", ADMIN[1])
    _add_user(proc.config_path, OFFICER[0], "officer", OFFICER[1])
    proc.start()
    hub = WebHub(proc, port)
    hub.printer = printer
    deadline = time.monotonic() + 15
    while True:
        try:
            if hub.state()["hub_online"]:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.stop()
            broker.close()
            raise RuntimeError("hub web server did not come up:\n" + proc.log())
        time.sleep(0.1)
    yield hub
    proc.stop()
    broker.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install chromium (./run test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])  # fmt: skip
        yield b
        b.close()


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts (separate cookies: a TV, a phone, an officer's PC)."""
    contexts = []

    def make(width: int = 1280, height: int = 800):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID")
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shot():
    """Save a screenshot of a page as a test artifact (test-artifacts/web/NAME.png)."""

    def save(page, name: str, full_page: bool = False) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

    return save


@pytest.fixture
def login():
    """Log a page in through the login form, the way a person does."""

    def do(page, base: str, role: str, next_path: str) -> None:
        name, password = ADMIN if role == "admin" else OFFICER
        page.goto(f"{base}{next_path}")
        page.fill("#username", name)
        page.fill("#password", password)
        page.click("#login-submit")
        page.wait_for_url(f"**{next_path.split('?')[0]}*")

    return do


@pytest.fixture
def admin_account() -> tuple[str, str]:
    return ADMIN

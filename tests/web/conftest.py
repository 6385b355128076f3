"""Fixtures for the web pages: a real broker, the real hub (`antrian run`) with its web server,
accounts made with the real `antrian users` command, and Debian's Chromium through Playwright.

One hub per module keeps the suite fast; tests in a module use different services so they do
not depend on each other's order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import ADMIN, CHROMIUM_ARGS, OFFICER, WebHub, hub_fixture

from antrian.contract import Topics
from tests.kit import Probe

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


web_hub = hub_fixture("webhub")


@pytest.fixture
def probe():
    """MQTT clients of a hub (`probe(hub)`), asking it for tickets while its pages are busy."""
    probes: list[Probe] = []

    def make(hub: WebHub) -> Probe:
        p = Probe(hub.proc.broker)
        p.subscribe(Topics("kantor").hub_response("take_ticket"))
        probes.append(p)
        return p

    yield make
    for p in probes:
        p.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install chromium (./run test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=list(CHROMIUM_ARGS),
        )
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

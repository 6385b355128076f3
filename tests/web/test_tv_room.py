"""The waiting-room TV as the room sees it: one row per called ticket, text readable from the
back of the room at 720p and 1080p, a warning in large letters while the browser keeps the
sound off, and the admin's running text (pengumuman)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from test_audio_limits import one_clip
from web_helpers import ADMIN, CHROMIUM_ARGS, OFFICER, Browser, T, WebHub, hub_fixture

from antrian.net import free_port
from tests.kit import Probe

tv_hub = hub_fixture("tvroom", prepare=one_clip)  # the clips are there: the TV may speak
LAUNCHER = Path(__file__).resolve().parents[2] / "hub" / "install" / "tv" / "antrian-tv"


@pytest.fixture
def hub_mqtt(tv_hub: WebHub, probe) -> Probe:
    """The hub's MQTT side, as call pads and kiosks use it."""
    client: Probe = probe(tv_hub)
    client.subscribe(T.hub_response("+"))
    return client


def ask(probe: Probe, command: str, **fields: Any) -> dict[str, Any]:
    """One request to the hub over MQTT, as a call pad or a kiosk makes it; its answer."""
    answer = probe.request(T.hub_request(command), T.hub_response(command), fields, timeout=10)
    assert answer["status"] == "ok", answer
    return answer


def admin_client(hub: WebHub, address: str = "127.0.0.21") -> tuple[Browser, str]:
    """A logged-in admin over plain HTTP, and the CSRF token of its session."""
    admin = Browser(hub, address)
    status, _, _ = admin.login(*ADMIN)
    assert status == 302
    return admin, admin.csrf("/admin")


def set_running_text(client: Browser, csrf: str | None, text: object) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    status, _, body = client.request(
        "POST", "/api/running-text", json.dumps({"text": text}).encode(), headers
    )
    return status, json.loads(body)


# ---------------------------------------------------------------------------------------------
# recalls
# ---------------------------------------------------------------------------------------------


def test_a_recalled_ticket_is_one_row_of_the_recent_calls_marked_recalled(tv_hub, hub_mqtt, new_page):
    ask(hub_mqtt, "counter_status", counter=3, status="open")
    tv = new_page(1920, 1080)
    tv.goto(f"{tv_hub.base}/tv")
    expect(tv.locator("#services .svc")).to_have_count(5)
    first = ask(hub_mqtt, "take_ticket", service="D")["data"]["ticket"]
    second = ask(hub_mqtt, "take_ticket", service="D")["data"]["ticket"]
    assert ask(hub_mqtt, "call_next", counter=3)["data"]["ticket"] == first
    ask(hub_mqtt, "recall", counter=3)
    ask(hub_mqtt, "recall", counter=3)
    assert ask(hub_mqtt, "call_next", counter=3)["data"]["ticket"] == second

    expect(tv.locator("#hero-ticket")).to_have_text(second, timeout=15_000)  # each call in turn
    row = tv.locator(f"#recent li[data-ticket='{first}']")
    expect(row).to_have_count(1)
    expect(row.locator(".again")).to_have_text("dipanggil ulang")
    expect(row.locator(".c")).to_have_text("Loket 3")
    # the hub still sends each call: the one row is the TV's doing, from three calls
    calls = [c["ticket"] for c in tv_hub.state()["recent"]]
    assert calls.count(first) == 3
    assert tv.locator("#recent li", has_text=first).count() == 1
    ask(hub_mqtt, "done", counter=3)


# ---------------------------------------------------------------------------------------------
# readability
# ---------------------------------------------------------------------------------------------

#: What a citizen reads on the TV (the full-screen button is for staff, and hidden in kiosk mode).
MEASURE = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.getElementById('app'), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest('.tv-tools')) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    const path = [];
    for (let e = el; e && e.id !== 'app'; e = e.parentElement) {
      const cls = e.classList[0] ? '.' + e.classList[0] : '';
      path.unshift(e.id ? '#' + e.id : e.tagName.toLowerCase() + cls);
    }
    const clipped = el.scrollWidth > el.clientWidth + 1 && style.overflow === 'hidden';
    out.push({text: n.textContent.trim(), where: path.join(' '), px: parseFloat(style.fontSize),
              top: box.top, bottom: box.bottom, left: box.left, right: box.right, clipped,
              ticker: Boolean(el.closest('.ticker'))});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def busy_room(tv_hub: WebHub) -> None:
    """A morning in progress: tickets waiting in every service, calls and a recall."""
    probe = Probe(tv_hub.proc.broker)
    try:
        probe.subscribe(T.hub_response("+"))
        for service in ("A", "A", "A", "B", "B", "C", "E", "E"):
            ask(probe, "take_ticket", service=service)
        ask(probe, "call_next", counter=1)
        ask(probe, "call_next", counter=2)
        ask(probe, "recall", counter=2)
    finally:
        probe.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_everything_a_citizen_reads_on_the_tv_is_at_least_a_thirtieth_of_the_screen_height(
    tv_hub, busy_room, hub_mqtt, new_page, width, height, tmp_path: Path
):
    ask(hub_mqtt, "counter_status", counter=3, status="break", until="10:30")
    admin, csrf = admin_client(tv_hub)
    status, _ = set_running_text(admin, csrf, "Layanan KTP-el hari ini sampai pukul 14.00 WIB.")
    assert status == 200
    tv = new_page(width, height)
    tv.goto(f"{tv_hub.base}/tv")
    expect(tv.locator("#ticker-text")).to_have_text("Layanan KTP-el hari ini sampai pukul 14.00 WIB.")
    expect(tv.locator(".svc[data-service='A'] .meta")).to_contain_text("sekitar pukul")
    expect(tv.locator(".counter-card[data-counter='3'] .serving")).to_contain_text("10:30")
    tv.mouse.click(width // 2, height // 2)  # the tap that turns the sound on (see below)
    expect(tv.locator("#sound-blocked")).to_be_hidden()
    texts: list[dict[str, Any]] = tv.evaluate(MEASURE)
    tv.screenshot(path=str(tmp_path / f"tv-{width}x{height}.png"))
    (tmp_path / f"tv-{width}x{height}.json").write_text(json.dumps(texts, indent=1))

    least = height / 30
    assert len(texts) > 20
    small = [(t["where"], t["text"], t["px"]) for t in texts if t["px"] < least - 0.01]
    assert small == []
    # the queue lengths and estimates, once the smallest text on the screen
    meta = [t for t in texts if ".svc" in t["where"] and (".meta" in t["where"] or ".count" in t["where"])]
    assert len(meta) >= 10
    assert min(t["px"] for t in meta) >= least
    # and all of it on the screen, none of it cut off (the running text moves through by design)
    off = [
        (t["where"], t["text"])
        for t in texts
        if not t["ticker"] and (t["bottom"] > height + 0.5 or t["right"] > width + 0.5)
    ]
    assert off == []
    cut = [(t["where"], t["text"]) for t in texts if t["clipped"] and not t["ticker"]]
    assert cut == []


# ---------------------------------------------------------------------------------------------
# sound
# ---------------------------------------------------------------------------------------------


def test_a_tv_whose_browser_keeps_the_sound_off_says_so_until_tapped(tv_hub, new_page, tmp_path: Path):
    """Chromium started without the autoplay flag: its audio stays suspended until a tap."""
    tv = new_page(1280, 720)
    tv.goto(f"{tv_hub.base}/tv")
    banner = tv.locator("#sound-blocked")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Suara nonaktif: ketuk layar untuk menyalakan")
    tv.screenshot(path=str(tmp_path / "tv-sound-blocked.png"))
    size = float(banner.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size >= 720 / 30
    tv.mouse.click(640, 400)
    expect(banner).to_be_hidden()


@pytest.fixture
def kiosk_tv(tv_hub: WebHub, browser, tmp_path: Path) -> Iterator[Page]:
    """The TV page as the shipped launcher (hub/install/tv/antrian-tv) starts it on a TV stick: its
    Chromium flags, its own profile; headless here, and reached over the DevTools protocol."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "ANTRIAN_TV_URL": f"{tv_hub.base}/tv",
        "ANTRIAN_TV_FLAGS": " ".join([*CHROMIUM_ARGS, f"--remote-debugging-port={port}"]),
    }
    launcher = subprocess.Popen(
        [str(LAUNCHER)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30  # a bound to give up, generous for a busy machine
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2).close()
                break
            except OSError:
                assert launcher.poll() is None, "the launcher stopped"
                assert time.monotonic() < deadline, "Chromium did not come up"
                time.sleep(0.2)
        cdp = browser.browser_type.connect_over_cdp(f"http://127.0.0.1:{port}")
        while not cdp.contexts or not cdp.contexts[0].pages:
            assert time.monotonic() < deadline, "no page"
            time.sleep(0.2)
        yield cdp.contexts[0].pages[0]
        cdp.close()
    finally:
        os.killpg(launcher.pid, signal.SIGTERM)
        launcher.wait(10)


def test_the_shipped_launcher_starts_the_tv_with_sound_allowed_and_no_warning(tv_hub, kiosk_tv):
    expect(kiosk_tv.locator("#services .svc")).to_have_count(5)
    assert kiosk_tv.url == f"{tv_hub.base}/tv"
    assert tv_hub.state()["tv_voice"] is True
    expect(kiosk_tv.locator("#sound-blocked")).to_be_hidden()


# ---------------------------------------------------------------------------------------------
# running text
# ---------------------------------------------------------------------------------------------


def test_the_admin_sets_a_running_text_that_every_tv_shows_and_an_empty_one_clears_it(tv_hub, new_page):
    tv = new_page(1920, 1080)
    tv.goto(f"{tv_hub.base}/tv")
    admin, csrf = admin_client(tv_hub, "127.0.0.22")
    status, body = set_running_text(admin, csrf, "  Pelayanan  Perizinan\nditutup pukul 12.00  ")
    assert (status, body["data"]["text"]) == (200, "Pelayanan Perizinan ditutup pukul 12.00")
    expect(tv.locator("#ticker")).to_be_visible()
    expect(tv.locator("#ticker-text")).to_have_text("Pelayanan Perizinan ditutup pukul 12.00")
    assert tv_hub.state()["running_text"] == "Pelayanan Perizinan ditutup pukul 12.00"

    status, _ = set_running_text(admin, csrf, "")
    assert status == 200
    expect(tv.locator("#ticker")).to_be_hidden()
    assert tv_hub.state()["running_text"] == ""


def test_markup_in_a_running_text_is_shown_as_text_never_run(tv_hub, new_page):
    tv = new_page(1280, 720)
    tv.goto(f"{tv_hub.base}/tv")
    admin, csrf = admin_client(tv_hub, "127.0.0.23")
    text = '<img src=x onerror="document.title=1"><b>Gratis</b>'
    assert set_running_text(admin, csrf, text)[0] == 200
    expect(tv.locator("#ticker-text")).to_have_text(text)
    assert tv.locator("#ticker img, #ticker b").count() == 0
    assert tv.title() != "1"
    set_running_text(admin, csrf, "")


def test_a_running_text_over_200_characters_is_refused_and_the_old_one_stays(tv_hub):
    admin, csrf = admin_client(tv_hub, "127.0.0.24")
    assert set_running_text(admin, csrf, "Antrean dibuka pukul 08.00")[0] == 200
    status, body = set_running_text(admin, csrf, "x" * 201)
    assert status == 400
    assert body["data"]["code"] == "too_long"
    assert "200" in body["error"]
    assert tv_hub.state()["running_text"] == "Antrean dibuka pukul 08.00"
    assert set_running_text(admin, csrf, "y" * 200)[0] == 200
    set_running_text(admin, csrf, "")


def test_an_officer_or_a_request_without_its_token_cannot_set_the_running_text(tv_hub):
    officer = Browser(tv_hub, "127.0.0.25")
    assert officer.login(*OFFICER)[0] == 302
    status, body = set_running_text(officer, officer.csrf("/officer"), "Kantor tutup")
    assert (status, body["data"]["code"]) == (403, "role")
    admin, _ = admin_client(tv_hub, "127.0.0.26")
    status, body = set_running_text(admin, None, "Kantor tutup")
    assert (status, body["data"]["code"]) == (403, "csrf")
    anonymous = Browser(tv_hub, "127.0.0.27")
    status, _ = set_running_text(anonymous, anonymous.csrf("/tv"), "Kantor tutup")
    assert status == 401
    assert tv_hub.state()["running_text"] != "Kantor tutup"


def test_the_admin_page_sets_the_running_text(tv_hub, new_page, login):
    page = new_page(1280, 900)
    login(page, tv_hub.base, "admin", "/admin")
    page.fill("#running-text", "Loket 3 istirahat sampai 10.30")
    page.click("#running-text-save")
    expect(page.locator("#running-text-result")).to_have_text("Pengumuman ditampilkan di TV")
    tv = new_page(1280, 720)
    tv.goto(f"{tv_hub.base}/tv")
    expect(tv.locator("#ticker-text")).to_have_text("Loket 3 istirahat sampai 10.30")
    page.click("#running-text-clear")
    expect(page.locator("#running-text-result")).to_have_text("Pengumuman dihapus dari TV")
    expect(tv.locator("#ticker")).to_be_hidden()


def test_the_running_text_is_still_on_the_tv_after_the_hub_restarts(tv_hub, new_page):
    admin, csrf = admin_client(tv_hub, "127.0.0.28")
    assert set_running_text(admin, csrf, "Hari Sabtu kantor tutup")[0] == 200
    tv_hub.proc.stop()
    tv_hub.proc.start_online()
    deadline = time.monotonic() + 30  # the pages come up with the hub; a bound to give up
    while True:
        try:
            state = tv_hub.state()
            break
        except OSError:
            assert time.monotonic() < deadline, tv_hub.proc.log()
            time.sleep(0.1)
    assert state["running_text"] == "Hari Sabtu kantor tutup"
    tv = new_page(1280, 720)
    tv.goto(f"{tv_hub.base}/tv")
    expect(tv.locator("#ticker-text")).to_have_text("Hari Sabtu kantor tutup")
    admin, csrf = admin_client(tv_hub, "127.0.0.29")  # the sessions live in the database too
    set_running_text(admin, csrf, "")

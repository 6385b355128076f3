"""The screenshots of the officers' guide (`docs/officer-guide.md`), taken from the real pages.

    .venv/bin/python tests/web/guide_shots.py          # writes docs/img/officer-*.png, admin-*.png

It starts what the web tests start (a Mosquitto of its own, the hub with its pages, the accounts,
Debian's Chromium), fills a morning's queue over MQTT as the kiosks do, and photographs the parts
of the pages the guide talks about, in Indonesian, at the sizes an officer sees them (a counter
PC 1024 px wide, a phone 390 px). Only the element each picture is about, so the PNGs stay small
and the guide shows what matters. Run it again after a change of the pages: the guide's pictures
then show the pages as they are.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from web_helpers import CHROMIUM_ARGS, OFFICER, T, running_web_hub  # noqa: E402

from tests.kit import Probe  # noqa: E402
from tests.kit.office import call_pad, kiosk, led_board, to_toml  # noqa: E402

OUT = ROOT / "docs" / "img"
DEVICES = to_toml({"devices": [kiosk(), call_pad("pad-1", 1), led_board("board-1", 1)]})


def log_in(page: Page, base: str, path: str, who: tuple[str, str]) -> None:
    page.goto(f"{base}{path}")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("#login-submit")
    page.wait_for_url(f"**{path.split('?')[0]}*")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, running_web_hub(Path(tmp), DEVICES) as hub:
        probe = Probe(hub.proc.broker)
        probe.subscribe(T.hub_response("take_ticket"))
        for service, priority in (("A", False), ("B", False), ("A", True), ("A", False), ("D", False)):
            probe.request(
                T.hub_request("take_ticket"),
                T.hub_response("take_ticket"),
                {"service": service, "priority": priority},
            )
        # a kiosk that answered, and a call pad that went away (its last will said "offline")
        probe.publish(T.device_availability("kiosk-1"), b"online", retain=True)
        probe.publish(
            T.device_info("kiosk-1"), json.dumps({"role": "kiosk", "printer": "ok"}).encode(), retain=True
        )
        probe.publish(T.device_availability("pad-1"), b"offline", retain=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=list(CHROMIUM_ARGS))
            pc = browser.new_context(viewport={"width": 1024, "height": 900}, locale="id-ID").new_page()
            log_in(pc, hub.base, "/officer?counter=1", OFFICER)
            expect(pc.locator("#queue li")).to_have_count(4)  # counter 1 serves A and B
            pc.click("#btn-next")
            expect(pc.locator("#serving")).to_have_text("A-002")  # the priority ticket first
            pc.locator("#desk").screenshot(path=OUT / "officer-desk.png")
            pc.locator(".pad").screenshot(path=OUT / "officer-buttons.png")
            pc.locator(".queue-box").screenshot(path=OUT / "officer-queue.png")
            pc.click("#btn-skip")
            expect(pc.locator('#skipped li[data-ticket="A-002"]')).to_be_visible()
            pc.locator("#skipped").screenshot(path=OUT / "officer-missed.png")
            pc.locator(".row.transfer").screenshot(path=OUT / "officer-transfer.png")
            pc.click("#btn-close")
            pc.locator("#close-confirm").screenshot(path=OUT / "officer-close.png")
            pc.click("#btn-close-no")
            pc.locator("nav.top").screenshot(path=OUT / "officer-help-link.png")

            phone = browser.new_context(viewport={"width": 390, "height": 760}, locale="id-ID").new_page()
            log_in(phone, hub.base, "/officer?counter=1", OFFICER)
            expect(phone.locator("#queue li").first).to_be_visible()
            phone.screenshot(path=OUT / "officer-phone.png")

            admin = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID").new_page()
            log_in(admin, hub.base, "/admin", ("ani", "rahasia-admin-1"))
            expect(admin.locator("#devices tr[data-device='pad-1']")).to_be_visible()
            admin.locator("#devices").screenshot(path=OUT / "admin-devices.png")
            browser.close()
        probe.close()
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()

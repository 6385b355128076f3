# Runs at power-on, on every board. `otaboot` first: it finishes or rolls back an update
# before any module of the firmware is imported (this file and otaboot.py are never updated
# over the air). Then the firmware of the board's `role` in config.json: the kiosk
# (button_app), the call pad (pad_app) or the LED board (display_app). Anything that
# escapes resets the board.
import json
import sys

import otaboot

otaboot.boot()
del otaboot
sys.modules.pop("otaboot", None)  # its bytes back to the firmware
try:
    try:
        with open("config.json") as f:
            role = json.load(f).get("role")
    except (OSError, ValueError):
        role = None  # no config yet: hw.main opens the setup network
    # by name: `hw.main` imports it only when the board does not open its setup page
    app = {"led_board": "display_app", "call_pad": "pad_app"}.get(role, "button_app")
    import hw
except Exception as exc:  # noqa: BLE001 - a firmware that cannot even load: reset, counted
    import otaboot

    otaboot.failed(exc)
hw.main(app)

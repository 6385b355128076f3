# Runs at power-on: read config.json, start the kiosk or call pad on the real ESP32.
import button_app
import hw
from runtime import load_config

cfg = load_config()
button_app.start(cfg, hw.Esp32Board(cfg))

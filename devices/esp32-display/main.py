# Runs at power-on: read config.json, start the LED board on the real ESP32.
import display_app
import hw
from runtime import load_config

cfg = load_config()
display_app.start(cfg, hw.Esp32Board(cfg))

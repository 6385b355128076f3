# Runs at power-on: read config.json, start the kiosk or call pad on the real ESP32. Anything
# that escapes the firmware resets the board (hw.main); Ctrl-C in the first 2 s: the REPL.
import button_app
import hw

hw.main(button_app)

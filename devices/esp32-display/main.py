# Runs at power-on: read config.json, start the LED board on the real ESP32. Anything that
# escapes the firmware resets the board (hw.main); Ctrl-C in the first 2 s: the REPL.
import display_app
import hw

hw.main(display_app)

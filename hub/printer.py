"""A ticket printer attached to the hub, for the tablet kiosk page.

Offices without an ESP32 kiosk can print the web kiosk's tickets on an ESC/POS printer plugged
into the hub PC (USB: `/dev/usb/lp0`, serial: `/dev/ttyUSB0`). The layout is the one the ESP32
kiosk firmware prints with (`antrian.shared.escpos`, one file that both run), so a ticket looks
the same whichever machine printed it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from antrian.config import PrinterConfig
from antrian.i18n import device_words


class PrinterError(OSError):
    """The printer could not be written to (unplugged, no paper, no permission)."""


def ticket_bytes(ticket: dict[str, Any], paper: int = 58, lang: str = "id") -> bytes:
    """The ESC/POS job of a `take_ticket` response (`data`), worded in `lang` from the catalogue
    (the words a kiosk board is given too, so both print the same ticket)."""
    # unannotated (MicroPython style): reached as Any, not as untyped calls in a typed module
    escpos: Any = importlib.import_module("antrian.shared.escpos")
    return bytes(escpos.ticket(ticket, paper, False, device_words(lang)))


def print_ticket(printer: PrinterConfig, ticket: dict[str, Any], lang: str = "id") -> None:
    """Send one ticket to the configured printer, in `lang`; PrinterError says why it failed.

    Blocking (a device node can stall while the printer is busy): call it from an executor.
    """
    if printer.device is None:
        raise PrinterError("no printer configured")
    data = ticket_bytes(ticket, printer.paper, lang)
    try:
        with Path(printer.device).open("ab", buffering=0) as dev:
            dev.write(data)
    except OSError as exc:
        raise PrinterError(f"{printer.device}: {exc.strerror or exc}") from exc

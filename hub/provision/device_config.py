"""A device's `config.json`, declared once: what provisioning writes and its JSON Schema.

`antrian devices add` writes the identity, broker, credentials and topics of a board; the
installer adds WiFi and the hardware sections (pins, printer, panel) by hand, from
`config.example.json` in the firmware's folder. The tables below are both: the writer builds
its file from them, and `antrian devices schema` exports them as `devices/config.schema.json`
for an editor to complete and check the rest. Every key and default is the one the firmware
reads (`devices/lib/runtime.py`, `hw.py`, `button_app.py`, `display_app.py`).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from antrian.config import Letter, Role, Slug
from antrian.contract import topic_templates
from antrian.i18n import device_words

Pin = Annotated[int, msgspec.Meta(ge=0, le=39, description="GPIO ESP32")]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Millis = Annotated[int, msgspec.Meta(ge=0, description="ms")]
Counter = Annotated[int, msgspec.Meta(ge=1, le=99)]

_SLUG_RE = "[a-z0-9][a-z0-9_-]{0,31}"


def _topic(name: str) -> msgspec.Meta:
    """A topic of the contract's template `name`: any office and id, every other part as the
    template spells it (a hand-typed topic with a typo fails the schema)."""
    template = topic_templates()[name]
    pattern = re.escape(template).replace(r"\{office\}", _SLUG_RE).replace(r"\{id\}", _SLUG_RE)
    example = template.replace("{office}", "kantor").replace("{id}", "kiosk-1")
    return msgspec.Meta(pattern=f"^{pattern}$", examples=[example], description=name)


class _Section(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A part of config.json: an unknown key is a typo (the firmware would ignore it)."""


class MqttSection(_Section):
    """mqtt: the office broker and this device's own account (user = client id = device id)."""

    host: Annotated[str, msgspec.Meta(examples=["192.168.1.10"])]
    port: Port
    user: str | UnsetType = UNSET
    password: str | UnsetType = UNSET
    client_id: (
        Annotated[str, msgspec.Meta(description="bawaan: id perangkat / default: the id")] | UnsetType
    ) = UNSET
    keepalive: Annotated[int, msgspec.Meta(ge=5, le=600, description="s")] = 30
    resend_ms: Annotated[
        Millis,
        msgspec.Meta(description="kirim ulang permintaan tanpa jawaban / resend an unanswered request"),
    ] = 5000
    backoff_min_ms: Millis = 500
    backoff_max_ms: Millis = 30000
    tls: bool | UnsetType = UNSET
    tls_port: Port | UnsetType = UNSET
    ca: (
        Annotated[str, msgspec.Meta(description="CA kantor / the office CA, beside config.json")] | UnsetType
    ) = UNSET


class WifiSection(_Section):
    """wifi: the office network the board joins (filled in by the installer)."""

    ssid: str
    password: str
    hostname: str | UnsetType = UNSET


class SupervisorSection(_Section):
    """supervisor: how the board keeps itself alive (devices/README.md, "Recovering")."""

    watchdog_ms: Annotated[int, msgspec.Meta(ge=1000, le=120000, description="ms")] = 30000
    reboot_timeout_s: Annotated[
        int, msgspec.Meta(ge=60, description="reboot after so long without the broker")
    ] = 900
    request_timeout_ms: Annotated[
        int, msgspec.Meta(ge=1000, description="give a press up after so long without an answer")
    ] = 150000


class TopicsSection(_Section):
    """topics: this device's topics from the MQTT contract, office and id filled in.

    Written by `antrian devices add` (`antrian.provision.topics`); `{command}` and `{counter}`
    are filled by the board.
    """

    device_availability: Annotated[str, _topic("device_availability")]
    device_info: Annotated[str, _topic("device_info")]
    device_request: Annotated[str, _topic("device_request")]
    device_response: Annotated[str, _topic("device_response")]
    device_set: Annotated[str, _topic("device_set")]
    hub_state: Annotated[str, _topic("hub_state")]
    counter_state: Annotated[str, _topic("counter_state")] | UnsetType = UNSET
    device_display: Annotated[str, _topic("device_display")] | UnsetType = UNSET
    device_play: Annotated[str, _topic("device_play")] | UnsetType = UNSET


class KioskLeds(_Section):
    ready: Pin = 2
    error: Pin = 4
    priority: Pin = 13


class ScannerSection(_Section):
    """kiosk.scanner: an optional QR scanner module (GM65/GM805) on a second UART; it sends
    each code it reads as text ended by CR, and a booking code read there is checked in."""

    id: Annotated[int, msgspec.Meta(ge=0, le=2, description="UART")] = 1
    baud: int = 9600
    tx: Pin = 26
    rx: Pin = 27


class KioskSection(_Section):
    """kiosk: one button per service (letter -> GPIO), the priority button, the LEDs."""

    services: dict[Letter, Pin] = msgspec.field(default_factory=lambda: {"A": 32})
    priority_pin: Pin | UnsetType = UNSET
    lock_ms: Millis = 2000
    priority_window_ms: Millis = 10000
    leds: KioskLeds | UnsetType = UNSET
    scanner: ScannerSection | UnsetType = UNSET


class PrinterSection(_Section):
    """printer: the ESC/POS thermal printer on a UART."""

    paper: Annotated[Literal[58, 80], msgspec.Meta(description="mm")] = 58
    status_query: Annotated[
        bool, msgspec.Meta(description="false hanya untuk printer tanpa DLE EOT / only without DLE EOT")
    ] = True
    id: Annotated[int, msgspec.Meta(ge=0, le=2, description="UART")] = 2
    baud: int = 19200
    tx: Pin = 17
    rx: Pin = 16


class PadButtons(_Section):
    next: Pin | UnsetType = UNSET
    recall: Pin | UnsetType = UNSET
    skip: Pin | UnsetType = UNSET
    done: Pin | UnsetType = UNSET
    transfer: Pin | UnsetType = UNSET
    pause: Pin | UnsetType = UNSET


class PadSection(_Section):
    """pad: the call pad's buttons and the services a ticket can be transferred to."""

    counter: Counter | UnsetType = UNSET
    name: Annotated[str, msgspec.Meta(description='bawaan "LOKET n" / default "LOKET n"')] | UnsetType = UNSET
    buttons: PadButtons | UnsetType = UNSET
    transfer_services: list[Letter] = msgspec.field(default_factory=list)
    lock_ms: Millis = 700


class OledSection(_Section):
    """display: the call pad's SSD1306 OLED on I2C."""

    width: int = 128
    height: int = 32
    id: Annotated[int, msgspec.Meta(ge=0, le=1, description="I2C")] = 0
    sda: Pin = 21
    scl: Pin = 22
    freq: int = 400000


class PanelSection(_Section):
    """panel: the LED board's MAX7219 chain or P10 (HUB12) panels."""

    type: Literal["max7219", "p10"] = "max7219"
    modules: Annotated[int, msgspec.Meta(ge=1, description="MAX7219 8x8")] = 4
    panels: Annotated[int, msgspec.Meta(ge=1, description="P10 32x16")] = 1
    cs: Pin = 5
    id: Annotated[int, msgspec.Meta(ge=1, le=2, description="SPI")] = 1
    baud: int = 4000000
    sck: Pin = 18
    mosi: Pin = 23
    a: Pin = 19
    b: Pin = 21
    latch: Pin = 5
    oe: Pin = 22


#: words: what a kiosk prints on its tickets, in the office's language (`device_words`). A key
#: the board does not find (a config written before that word existed) reads the firmware's
#: own Indonesian copy (`escpos.WORDS`), so only known keys, and ASCII as the printers get it.
TicketWords = Annotated[
    dict[str, Annotated[str, msgspec.Meta(pattern="^[ -~]*$")]],
    msgspec.Meta(
        description="kata-kata tiket (ditulis `antrian devices add`) / the ticket's words",
        extra_json_schema={"propertyNames": {"enum": sorted(device_words("id"))}},
    ),
]


class DeviceConfig(_Section, kw_only=True):
    """config.json of an antrian ESP32 board (kiosk, call pad, LED board)."""

    id: Slug
    office: Slug
    role: Role
    counter: Counter | UnsetType = UNSET
    services: list[Letter] | UnsetType = UNSET
    mqtt: MqttSection
    topics: TopicsSection
    wifi: WifiSection
    supervisor: SupervisorSection | UnsetType = UNSET
    production: Annotated[
        bool,
        msgspec.Meta(
            description="true: no REPL (Ctrl-C off); change the board over the air or by erasing it"
        ),
    ] = False
    setup_pin: Annotated[
        Pin | UnsetType,
        msgspec.Meta(description="held 3 s after power-on: the setup network (default GPIO0, BOOT)"),
    ] = UNSET
    kiosk: KioskSection | UnsetType = UNSET
    printer: PrinterSection | UnsetType = UNSET
    pad: PadSection | UnsetType = UNSET
    display: OledSection | UnsetType = UNSET
    panel: PanelSection | UnsetType = UNSET
    words: TicketWords | UnsetType = UNSET


def config_text(config: DeviceConfig) -> str:
    """The file as written, in the order of the tables above, indented for people."""
    return json.dumps(msgspec.to_builtins(config), indent=2, ensure_ascii=False) + "\n"


def config_schema() -> dict[str, Any]:
    """The JSON Schema of config.json (`antrian devices schema`; devices/config.schema.json)."""
    schema = msgspec.json.schema(DeviceConfig)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "config.json", **schema}


def schema_text() -> str:
    """`antrian devices schema`, byte for byte the committed devices/config.schema.json."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"

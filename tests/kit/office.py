"""Offices for tests and benchmarks, built as the dict `parse_config` reads and as TOML.

One builder instead of a TOML string copied into every test file: a test names the devices
and the sections it cares about, and the rest is the default office (`kantor`, services A-E,
counters 1-3). `to_toml` writes the same dict as the file `antrian run -c` reads.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

SLUG = "kantor"
#: The keys of `[office.hours]`, Monday first.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def every_day(span: str) -> dict[str, str]:
    """`[office.hours]` with the same hours on all seven days."""
    return dict.fromkeys(WEEKDAYS, span)


#: Opening hours that never close while a test or a benchmark runs (no expiry mid-run), on
#: any day of the week and on holidays too: kiosks refuse tickets outside office hours.
ALL_DAY: dict[str, Any] = {
    "opening": "00:00",
    "closing": "23:59",
    "hours": every_day("00:00-23:59"),
    "national_holidays": False,
}


def open_every_day(config: Mapping[str, Any]) -> dict[str, Any]:
    """The office of a hub on the real clock, open whenever the test happens to run.

    Kiosks refuse tickets outside office hours, on weekends and on holidays; a test on the
    machine's clock may run at any of those. An office that says nothing of its week is given
    its `opening`-`closing` (else all day) on every day, without national holidays; one that
    sets `[office.hours]` or `national_holidays` is left as it is.
    """
    office_cfg = dict(config.get("office", {}))
    if "hours" in office_cfg or "national_holidays" in office_cfg:
        return dict(config)
    span = f"{office_cfg.get('opening', '00:00')}-{office_cfg.get('closing', '23:59')}"
    return {**config, "office": {**office_cfg, "hours": every_day(span), "national_holidays": False}}


def open_every_day_toml(text: str) -> str:
    """`open_every_day` of an office written as TOML text."""
    office_cfg = tomllib.loads(text).get("office", {})
    if "hours" in office_cfg or "national_holidays" in office_cfg:
        return text
    span = f"{office_cfg.get('opening', '00:00')}-{office_cfg.get('closing', '23:59')}"
    hours = "\n[office.hours]\n" + "".join(f'{day} = "{span}"\n' for day in WEEKDAYS)
    if "\n[office]\n" in f"\n{text}":
        text = f"\n{text}".replace("\n[office]\n", "\n[office]\nnational_holidays = false\n", 1).lstrip("\n")
        return text + hours
    return text + "\n[office]\nnational_holidays = false\n" + hours


Config = dict[str, Any]


def zone_where_it_is(hour: int) -> str:
    """A time zone whose local time is now `hour` o'clock: a hub that runs on the real clock
    (its own process) is then at that hour of its working day."""
    offset = (hour - datetime.now(UTC).hour + 12) % 24 - 12  # UTC-12 .. UTC+11
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def hours_now_at(hour: int, closing: str) -> Config:
    """`[office]` hours for a hub on the real clock: it is `hour` o'clock there now, the day
    opened at midnight and closes at `closing`, with no lunch break in between."""
    return {
        "timezone": zone_where_it_is(hour),
        "opening": "00:00",
        "closing": closing,
        "lunch": "",
        "lunch_friday": "",
        "hours": every_day(f"00:00-{closing}"),
        "national_holidays": False,
    }


def kiosk(device_id: str = "kiosk-1", services: Sequence[str] | None = None) -> Config:
    """A ticket kiosk; `services` limits what it may issue (all services when None)."""
    out: Config = {"id": device_id, "role": "kiosk"}
    if services is not None:
        out["services"] = list(services)
    return out


def call_pad(device_id: str = "pad-1", counter: int = 1) -> Config:
    return {"id": device_id, "role": "call_pad", "counter": counter}


def led_board(device_id: str = "board-1", counter: int = 1) -> Config:
    return {"id": device_id, "role": "led_board", "counter": counter}


def speaker(device_id: str = "speaker-1") -> Config:
    return {"id": device_id, "role": "speaker"}


def office(*devices: Config, web: bool | int = False, **sections: Any) -> Config:
    """An office with `devices`; `web` is False (pages off), True (defaults) or a port on
    127.0.0.1; `sections` are further top-level keys (`office`, `services`, `counters` ...)."""
    out: Config = dict(sections)
    if web is False:
        out["web"] = {"enabled": False}
    elif web is not True:
        out["web"] = {"host": "127.0.0.1", "port": int(web)}
    if devices:
        out["devices"] = [dict(d) for d in devices]
    return out


#: The office the device firmware is tested against: the names printed on a ticket, two
#: counters, one device of each role the firmware plays, and a second board on counter 1.
DEVICE_OFFICE: Config = office(
    kiosk(services=["A", "B", "D"]),
    call_pad(),
    led_board("board-1"),
    led_board("board-2"),
    office={"slug": SLUG, "name": "Kantor Kecamatan Contoh", "public_url": "http://192.168.1.10:8080"},
    services=[
        {"letter": "A", "name": "Administrasi kependudukan", "minutes": 10, "completion": "1 hari kerja"},
        {
            "letter": "B",
            "name": "Surat keterangan & legalisasi",
            "minutes": 10,
            "completion": "selesai hari ini",
        },
        {"letter": "D", "name": "Pengambilan dokumen", "minutes": 5},
    ],
    counters=[{"number": 1, "services": ["A", "B"]}, {"number": 2, "services": ["D"]}],
)

#: The office of the hub's MQTT tests: a kiosk for three services, two pads, a board, a speaker.
HUB_OFFICE: Config = {
    "devices": [
        kiosk(services=["A", "B", "D"]),
        call_pad("pad-1", 1),
        call_pad("pad-3", 3),
        led_board("board-1", 1),
        speaker(),
    ]
}


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {v!r}")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list | tuple) and bool(v) and all(isinstance(x, Mapping) for x in v)


def to_toml(config: Mapping[str, Any], _prefix: str = "") -> str:
    """The TOML text of a config dict (scalars, lists, tables and arrays of tables)."""
    lines = [
        f"{k} = {_value(v)}"
        for k, v in config.items()
        if not isinstance(v, Mapping) and not _is_table_array(v)
    ]
    for k, v in config.items():
        name = f"{_prefix}{k}"
        if isinstance(v, Mapping):
            lines += ["", f"[{name}]", to_toml(v, name + ".").strip("\n")]
        elif _is_table_array(v):
            for item in v:
                lines += ["", f"[[{name}]]", to_toml(item, name + ".").strip("\n")]
    return "\n".join(lines).strip("\n") + "\n"

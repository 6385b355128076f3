"""What a board says about itself (`info`) is read within bounds, and what deserves a look is
named: a start by the watchdog, a weak signal, a link that keeps dropping, a printer in trouble."""

from __future__ import annotations

import pytest

from antrian.device_info import PRINTER_STATES, RESET_CAUSES, hints, read_info
from antrian.i18n import CATALOGUE, LANGUAGES

KIOSK = {
    "firmware": "antrian-mpy 0.1.0",
    "model": "esp32",
    "role": "kiosk",
    "reset_cause": "power_on",
    "uptime_s": 12,
    "rssi": -61,
    "free_heap": 61344,
    "mqtt_connects": 1,
    "printer": "ok",
}


def test_a_healthy_kiosks_info_is_read_whole_and_needs_no_look():
    health = read_info(KIOSK)
    assert health == {k: v for k, v in KIOSK.items() if k != "role"}
    assert hints(health) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reset_cause", "brownout"),
        ("reset_cause", 3),
        ("uptime_s", -1),
        ("uptime_s", "12"),
        ("uptime_s", True),
        ("uptime_s", 10**30),
        ("rssi", 5),
        ("rssi", -61.5),
        ("rssi", -1000),
        ("free_heap", [1]),
        ("free_heap", 2**40),
        ("mqtt_connects", None),
        ("printer", "jammed"),
        ("printer", {"state": "ok"}),
        ("firmware", 7),
        ("firmware", "   "),
    ],
)
def test_a_field_of_the_wrong_type_or_out_of_range_is_left_out(field, value):
    health = read_info({**KIOSK, field: value})
    assert health[field] is None


def test_a_long_or_unprintable_text_is_cut_and_cleaned():
    health = read_info({**KIOSK, "firmware": "v1\x1b[31m" + "x" * 500, "model": "\n"})
    assert health["firmware"] == ("v1[31m" + "x" * 500)[:40]
    assert health["model"] is None


def test_no_info_at_all_reads_as_nothing_known():
    assert set(read_info(None).values()) == {None}
    assert hints(read_info(None)) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"reset_cause": "watchdog"}, ["watchdog"]),
        ({"rssi": -76}, ["weak_signal"]),
        ({"rssi": -75}, []),
        ({"mqtt_connects": 4, "uptime_s": 600}, ["reconnects"]),  # 3 reconnections in 10 min
        ({"mqtt_connects": 3, "uptime_s": 600}, []),
        ({"mqtt_connects": 8, "uptime_s": 7 * 86400}, []),  # one router reboot a night
        ({"printer": "silent"}, ["printer_silent"]),
        ({"printer": "paper_end", "reset_cause": "watchdog"}, ["watchdog", "printer_paper_end"]),
    ],
)
def test_what_deserves_a_look_is_named(changes, expected):
    assert hints(read_info({**KIOSK, **changes})) == expected


def test_every_reset_cause_and_printer_state_has_its_words_in_both_languages():
    """The admin page looks them up by name (`T["reset_" + cause]`, `T["printer_" + state]`)."""
    keys = [f"web.reset_{c}" for c in RESET_CAUSES] + [f"web.printer_{p}" for p in PRINTER_STATES]
    for lang in LANGUAGES:
        assert [k for k in keys if k not in CATALOGUE[lang]] == [], lang

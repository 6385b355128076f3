"""The configuration file: kecamatan defaults, and errors that name the key."""

from __future__ import annotations

import json
import tomllib

import msgspec
import pytest

from antrian.cli import CONFIG_SCHEMA, EXAMPLE_CONFIG, main, schema_text
from antrian.config import ConfigError, ConfigFile, load_config, parse_config


def test_no_file_gives_a_working_kecamatan():
    cfg = parse_config({})
    assert [s.letter for s in cfg.services] == ["A", "B", "C", "D", "E"]
    assert [c.number for c in cfg.counters] == [1, 2, 3]
    assert cfg.office.timezone == "Asia/Jakarta"
    assert cfg.wording.prefix == "Nomor antrean"
    assert cfg.wording.direction == "silakan menuju"
    assert cfg.queue.priority_streak == 3
    assert cfg.queue.max_recalls == 2


def test_the_shipped_example_is_valid_and_declares_devices():
    cfg = load_config(EXAMPLE_CONFIG)
    assert cfg.office.name == "Kantor Kecamatan Winongan"
    assert {d.role for d in cfg.devices} == {"kiosk", "call_pad", "led_board", "speaker"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"office": {"slug": "Kantor Besar"}}, "office.slug"),
        ({"office": {"timezone": "Asia/Bandung"}}, "office.timezone: unknown time zone"),
        ({"office": {"opening": "8 pagi"}}, "office.opening: must be a time"),
        ({"office": {"opening": "16:00", "closing": "08:00"}}, "office.closing"),
        ({"mqtt": {"port": "1883"}}, "mqtt.port: must be a whole number"),
        ({"queue": {"priority_streak": 0}}, "queue.priority_streak"),
        ({"queue": {"max_recalls": True}}, "queue.max_recalls: must be a whole number, not true/false"),
        ({"services": [{"letter": "a", "name": "x"}]}, "services[0].letter"),
        (
            {"services": [{"letter": "A", "name": "x"}, {"letter": "A", "name": "y"}]},
            "services[1].letter: A is used twice",
        ),
        ({"services": [{"letter": "A"}]}, "services[0].name: required"),
        ({"counters": [{"number": 1, "services": ["Z"]}]}, "counters[0].services: unknown service 'Z'"),
        ({"devices": [{"id": "pad-1", "role": "call_pad"}]}, "devices[0].counter: required"),
        (
            {"devices": [{"id": "pad-1", "role": "call_pad", "counter": 9}]},
            "devices[0].counter: no counter 9",
        ),
        ({"devices": [{"id": "x", "role": "toaster"}]}, "devices[0].role"),
        ({"servcies": []}, "servcies: unknown key"),
        ({"office": {"nmae": "x"}}, "office.nmae: unknown key"),
    ],
)
def test_a_bad_value_is_reported_with_its_key(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert message in str(err.value)


def test_bad_toml_and_missing_file_are_clear(tmp_path):
    bad = tmp_path / "antrian.toml"
    bad.write_text("[office\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_database_path_is_relative_to_the_config_file(tmp_path):
    f = tmp_path / "antrian.toml"
    f.write_text('database = "data/antrian.db"\n')
    assert load_config(f).database == str(tmp_path / "data" / "antrian.db")


def test_config_check_command_names_the_key(tmp_path, capsys):
    f = tmp_path / "antrian.toml"
    f.write_text("[queue]\nmax_recalls = 9\n")
    with pytest.raises(SystemExit) as exit_:
        main(["config", "check", str(f)])
    assert exit_.value.code == 2
    assert "queue.max_recalls: must be 0..5" in capsys.readouterr().err


def test_the_shipped_schema_is_the_one_the_declared_tables_export(capsys):
    main(["config", "schema"])
    printed = capsys.readouterr().out
    assert printed == schema_text()
    regenerate = "antrian config schema > hub/antrian.schema.json"
    assert CONFIG_SCHEMA.read_text(encoding="utf-8") == printed, regenerate


def test_the_schema_describes_the_file_as_written():
    raw = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    msgspec.convert(raw, ConfigFile)  # the example, decoded through the declared TOML model
    office = json.loads(CONFIG_SCHEMA.read_text(encoding="utf-8"))["$defs"]["OfficeTable"]["properties"]
    assert office["opening"]["type"] == "string"
    assert office["opening"]["default"] == "07:30"
    assert office["lunch"]["default"] == "12:00-13:00"

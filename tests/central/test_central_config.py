"""central.toml: the example `antrian central init` prints is valid, and every mistake is named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from antrian.central.config import CentralConfigError, load, parse


def test_the_printed_example_is_a_valid_configuration(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "antrian.cli", "central", "init"], capture_output=True, text=True, check=True
    ).stdout
    path = tmp_path / "central.toml"
    path.write_text(out)
    cfg = load(path)
    assert cfg.mqtt.client_id == "antrian-central"
    assert cfg.offices["winongan"] == "Kantor Kecamatan Winongan"
    assert cfg.web_port == 8090


GOOD = {"database": {"dsn": "postgresql://a@h/db"}, "offices": {"grati": "Kecamatan Grati"}}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"brokr": {}}, "unknown section [brokr]"),
        ({"broker": {"hots": "x"}}, "unknown key 'hots'"),
        ({"broker": {"port": 70000}}, "[broker] port"),
        ({"broker": {"port": "1883"}}, "[broker] port: expected int"),
        ({"broker": {"tls_ca": "/nowhere/ca.crt"}}, "[broker] tls_ca"),
        ({"database": {}}, "[database] dsn is required"),
        ({"web": {"language": "jv"}}, "[web] language"),
        ({"ingest": {"gap_grace_seconds": 0}}, "[ingest] gap_grace_seconds"),
        ({"offices": {}}, "[offices] names no office"),
        ({"offices": {"Grati Kota": "x"}}, "a slug is"),
        ({"offices": {"grati": ""}}, "1-200 characters"),
    ],
)
def test_a_wrong_key_or_value_is_refused_by_name(change, named):
    with pytest.raises(CentralConfigError) as err:
        parse({**GOOD, **change})
    assert named in str(err.value)


def test_a_file_that_is_not_toml_or_not_there_is_refused_with_its_path(tmp_path):
    bad = tmp_path / "central.toml"
    bad.write_text("[broker\n")
    with pytest.raises(CentralConfigError, match="not valid TOML"):
        load(bad)
    with pytest.raises(CentralConfigError, match=r"missing\.toml"):
        load(tmp_path / "missing.toml")


def test_the_centre_refuses_to_start_on_a_database_it_cannot_reach(tmp_path):
    from centre import PG, write_config

    from antrian.net import free_port

    cfg = write_config(
        tmp_path / "c.toml", free_port(), PG + "antrian_test_not_there", free_port(), {"a": "A"}
    )
    run = subprocess.run(
        [sys.executable, "-m", "antrian.cli", "central", "run", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "PostgreSQL" in run.stderr
    assert "antrian_test_not_there" in run.stderr

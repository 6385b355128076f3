"""`devices/config.schema.json` describes the config.json every board reads: the files
`antrian devices add` writes validate against it, so do the example configs, and the committed
schema is the one `antrian devices schema` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness import DEVICES
from jsonschema import Draft202012Validator

from antrian.cli import main
from antrian.i18n import device_words
from antrian.provision import BrokerFolder
from antrian.provision.device_config import schema_text
from antrian.provision.topics import device_topics

SCHEMA_FILE = DEVICES / "config.schema.json"
VALIDATOR = Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
EXAMPLES = sorted(DEVICES.glob("*/config.example.json"))


def problems(config: dict) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(config)]


def test_the_committed_schema_is_the_one_provisioning_exports(capsys):
    assert main(["devices", "schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == schema_text()
    Draft202012Validator.check_schema(json.loads(printed))
    regenerate = "antrian devices schema > devices/config.schema.json"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed, regenerate


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls-only"])
def test_every_config_provisioning_writes_follows_the_schema(tmp_path: Path, tls: bool) -> None:
    folder = BrokerFolder(tmp_path / "broker")
    folder.configure(office="grati", host="192.168.1.10", tls=tls, port=0 if tls else 1883)
    for device_id, role, services, counter in (
        ("kiosk-1", "kiosk", ["A", "B"], None),
        ("pad-1", "call_pad", [], 1),
        ("board-1", "led_board", [], 2),
        ("speaker-1", "speaker", [], None),
        ("screen-1", "screen", [], None),
    ):
        folder.add(device_id, role, services, counter)
        folder.write()
        written = json.loads((folder.path / "devices" / f"{device_id}.json").read_text(encoding="utf-8"))
        assert problems(written) == [], device_id
        assert written["topics"] == device_topics("grati", device_id, role)
        assert written["mqtt"]["port"] == (8883 if tls else 1883)


def test_provisioning_gives_a_kiosk_the_ticket_words_in_the_offices_language(tmp_path: Path) -> None:
    """The board cannot read the catalogue: `antrian devices add --hub-config` writes the words
    it prints, in `[office] language`; Indonesian without a hub config; none to other roles."""
    hub_toml = tmp_path / "antrian.toml"
    hub_toml.write_text('[office]\nlanguage = "en"\n', encoding="utf-8")
    english, plain = BrokerFolder(tmp_path / "en"), BrokerFolder(tmp_path / "id")
    for folder, hub_config in ((english, hub_toml), (plain, None)):
        folder.configure(office="grati", host="192.168.1.10", port=1883)
        for device_id, role, counter in (("kiosk-1", "kiosk", None), ("pad-1", "call_pad", 1)):
            folder.add(device_id, role, [], counter)
            if hub_config:
                folder.sync_hub_config(hub_config)
            folder.write()

    def written(folder: BrokerFolder, device_id: str) -> dict:
        config = json.loads((folder.path / "devices" / f"{device_id}.json").read_text(encoding="utf-8"))
        assert problems(config) == [], device_id
        return config

    assert written(english, "kiosk-1")["words"] == device_words("en")
    assert written(english, "kiosk-1")["words"]["number"] == "Queue number"
    assert written(plain, "kiosk-1")["words"] == device_words("id")
    assert "words" not in written(english, "pad-1")
    assert "words" not in written(plain, "pad-1")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_the_example_configs_follow_the_schema_with_the_topics_provisioning_would_write(
    example: Path,
) -> None:
    config = json.loads(example.read_text(encoding="utf-8"))
    assert problems(config) == []
    assert config["topics"] == device_topics(config["office"], config["id"], config["role"])


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda c: c["topics"].update(device_request="antrian/kantor/device/kiosk-1/requests/{command}"),
            "topics",
        ),
        (lambda c: c["topics"].pop("hub_state"), ""),
        (lambda c: c["kiosk"]["services"].update(a=33), "kiosk.services"),
        (lambda c: c["printer"].update(paper=57), "printer.paper"),
        (lambda c: c.update(mqtt_host="192.168.1.10"), ""),
        (lambda c: c.update(words={"numbr": "Nomor antrean"}), "words"),
        (lambda c: c.update(words={"number": "Nomor antrean \u2116"}), "words.number"),
    ],
    ids=[
        "misspelled-topic",
        "missing-topic",
        "lower-case-service",
        "paper-width",
        "unknown-key",
        "unknown-word",
        "word-not-ascii",
    ],
)
def test_a_wrong_config_fails_the_schema_where_it_is_wrong(change, where) -> None:
    config = json.loads((DEVICES / "esp32-button" / "config.example.json").read_text(encoding="utf-8"))
    change(config)
    found = problems(config)
    assert found
    assert any(p.startswith(where) for p in found), found

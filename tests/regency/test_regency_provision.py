"""The files of the regency link: the centre's broker folder and the office's bridge.

Refusals write nothing; every generated line comes from checked values; the ACL follows the
link's contract. (That these files really run, and really keep offices apart, is shown on
live brokers in `test_regency_link.py`.)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from antrian.central.offices import INGEST_USER, MAX_OFFICES, CentralFolder
from antrian.cli import main as antrian
from antrian.contract import EVENT_FIELDS
from antrian.provision import BrokerFolder
from antrian.provision.files import ProvisionError, verify_password
from antrian.regency.outward import NEVER_OUT, PRIVATE_FIELDS, outward_data


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _centre(tmp_path: Path) -> Path:
    where = tmp_path / "central"
    args = ["central", "offices", "add", "grati", "--dir", str(where), "--host", "pusat.example.go.id"]
    assert antrian([*args, "--port", "8883"]) == 0
    assert antrian(["central", "offices", "add", "winongan", "--dir", str(where)]) == 0
    return where


def _office(tmp_path: Path, slug: str = "grati") -> BrokerFolder:
    folder = BrokerFolder(tmp_path / "office")
    folder.configure(office=slug, host="192.168.1.10", port=1883)
    folder.write()
    return folder


def test_the_centre_gets_one_account_per_office_and_an_acl_that_keeps_them_apart(tmp_path):
    where = _centre(tmp_path)
    acl = (where / "acl").read_text()
    assert "user office-grati\ntopic write antrian/grati/#\ntopic read antrian/grati/central/resend\n" in acl
    assert "user office-winongan\ntopic write antrian/winongan/#\n" in acl
    assert f"user {INGEST_USER}\ntopic read antrian/+/#\ntopic write antrian/+/central/resend\n" in acl
    secret = tomllib.loads((where / "secrets" / "office-grati.toml").read_text())
    assert secret["username"] == "office-grati"
    assert (secret["host"], secret["port"]) == ("pusat.example.go.id", 8883)
    hashes = dict(line.split(":", 1) for line in (where / "passwd").read_text().splitlines())
    assert verify_password(secret["password"], hashes["office-grati"])
    conf = (where / "mosquitto.conf").read_text()
    assert "persistence true" in conf
    assert "listener 8883\n" in conf
    assert "allow_anonymous false" in conf
    assert "use_username_as_clientid true" in conf
    assert (where / "secrets" / "office-grati.toml").stat().st_mode & 0o077 == 0


def test_the_centre_refuses_a_bad_slug_a_second_add_and_an_office_past_the_limit_writing_nothing(
    tmp_path, capsys
):
    where = _centre(tmp_path)
    before = _files(where)
    for slug in ("Grati", "grati", "a b", "x" * 33, "_x"):
        assert antrian(["central", "offices", "add", slug, "--dir", str(where)]) == 2
    assert antrian(["central", "offices", "add", "new", "--dir", str(where), "--port", "0"]) == 2
    assert _files(where) == before
    assert "grati" in capsys.readouterr().err
    folder = CentralFolder.open(where)
    for n in range(MAX_OFFICES - 2):
        folder.offices[f"o{n}"] = folder.offices["grati"]
    with pytest.raises(ProvisionError, match=str(MAX_OFFICES)):
        folder.add("one-too-many")


def test_the_office_bridge_is_written_from_the_centres_secret_file(tmp_path):
    where = _centre(tmp_path)
    office = _office(tmp_path)
    secret = where / "secrets" / "office-grati.toml"
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    args = ["devices", "bridge", "--dir", str(office.path), "--secret", str(secret), "--cafile", str(ca)]
    assert antrian(args) == 0
    conf = office.path / "mosquitto.conf"
    bridge = conf.read_text()
    password = tomllib.loads(secret.read_text())["password"]
    for line in (
        "connection antrian-central-grati",
        "address pusat.example.go.id:8883",
        "cleansession false",
        "remote_clientid office-grati",
        "remote_username office-grati",
        f"remote_password {password}",
        f"bridge_cafile {ca}",
        "topic antrian/grati/central/events out 1",
        "topic antrian/grati/central/head out 1",
        "topic antrian/grati/hub/state out 1",
        "topic antrian/grati/hub/info out 1",
        "topic antrian/grati/office/state out 1",
        "topic antrian/grati/service/+/state out 1",
        "topic antrian/grati/counter/+/state out 1",
        "topic antrian/grati/device/+/availability out 1",
        "topic antrian/grati/central/resend in 1",
    ):
        assert line in bridge.splitlines(), line
    # in mosquitto.conf itself (an include_dir in an included file is skipped), with its
    # password: readable by the broker only
    assert "include_dir" not in bridge
    assert conf.stat().st_mode & 0o077 == 0
    assert (office.path / "bridge" / "central.json").stat().st_mode & 0o077 == 0
    # --central overrides where the centre is; the office's other files stay as they were
    args = [
        "devices",
        "bridge",
        "--dir",
        str(office.path),
        "--secret",
        str(secret),
        "--central",
        "10.0.0.5:1883",
    ]
    assert antrian(args) == 0
    assert "address 10.0.0.5:1883" in conf.read_text()
    # regenerating the office's broker files keeps the bridge
    assert antrian(["devices", "write", "--dir", str(office.path)]) == 0
    assert "address 10.0.0.5:1883" in conf.read_text()
    assert conf.stat().st_mode & 0o077 == 0


def test_the_bridge_is_refused_for_another_office_a_bad_address_or_secret_and_nothing_is_written(tmp_path):
    where = _centre(tmp_path)
    office = _office(tmp_path)
    before = _files(office.path)
    bad = tmp_path / "bad.toml"
    cases = [
        ["--secret", str(where / "secrets" / "office-winongan.toml")],  # another office's account
        ["--secret", str(where / "secrets" / "office-grati.toml"), "--central", "host name:1883"],
        ["--secret", str(where / "secrets" / "office-grati.toml"), "--central", "pusat:99999"],
        ["--secret", str(where / "secrets" / "office-grati.toml"), "--central", "pusat"],
        ["--secret", str(where / "secrets" / "office-grati.toml"), "--cafile", str(tmp_path / "none.crt")],
        ["--secret", str(tmp_path / "missing.toml")],
        ["--secret", str(bad)],
    ]
    for n, extra in enumerate(cases):
        bad.write_text(
            ['username = "office-grati"\npassword = "short"\nhost = "x"\n', "not toml ["][n % 2]
            if n == len(cases) - 1
            else 'username = "office-grati"\npassword = "pass word with spaces"\nhost = "pusat"\n'
        )
        assert antrian(["devices", "bridge", "--dir", str(office.path), *extra]) == 2, extra
    assert antrian(["devices", "bridge", "--dir", str(tmp_path / "nothing"), "--secret", str(bad)]) == 2
    assert _files(office.path) == before


def test_every_field_of_the_events_is_known_to_the_privacy_projection():
    personal = {(t, f) for t, fields in EVENT_FIELDS.items() for f in fields if f in NEVER_OUT}
    assert personal == {(t, f) for t, fields in PRIVATE_FIELDS.items() for f in fields}
    assert outward_data("ticket_issued", {"ticket": "A-001", "token": "secret"}) == {"ticket": "A-001"}
    assert outward_data("some_new_event", {"phone": "+62812", "name": "Budi", "n": 1}) == {"n": 1}

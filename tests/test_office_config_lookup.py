"""Setting up an office from the command line: the commands find the office's configuration
(`-c`, `$ANTRIAN_CONFIG`, /etc/antrian/antrian.toml, ./antrian.toml) or refuse without writing,
`config init` prints a file that parses in both languages, and `devices add` takes that file
and writes nothing when it refuses."""

from __future__ import annotations

import grp
import os
import tomllib
from pathlib import Path

import msgspec
import pytest

from antrian.config import SYSTEM_CONFIG, ConfigFile, load_config
from tests.kit.process import antrian_cli

needs_no_system_config = pytest.mark.skipif(
    SYSTEM_CONFIG.exists(), reason="this machine has an office configuration in /etc/antrian"
)


def tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and folder under `folder`: its mode and its bytes."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mode, p.read_bytes() if p.is_file() else b"")
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTRIAN_CONFIG", raising=False)


@needs_no_system_config
@pytest.mark.usefixtures("no_config_env")
@pytest.mark.parametrize(
    "command",
    [["users", "list"], ["queue"], ["log"], ["report", "month", "2026-11"], ["notify", "status"]],
    ids=lambda c: "-".join(c[:1]),
)
def test_a_command_without_an_office_config_refuses_and_creates_no_database(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTRIAN_LANG", "en")
    done = antrian_cli(*command, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "configuration was not found" in done.stderr
    assert "$ANTRIAN_CONFIG, /etc/antrian/antrian.toml, ./antrian.toml" in done.stderr
    assert list(tmp_path.iterdir()) == []


@needs_no_system_config
@pytest.mark.usefixtures("no_config_env")
def test_the_refusal_is_in_indonesian_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTRIAN_LANG", "id")
    done = antrian_cli("users", "list", cwd=tmp_path)
    assert done.returncode == 2
    assert "Konfigurasi kantor tidak ditemukan" in done.stderr


def test_antrian_config_names_the_office_config_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    office, elsewhere = tmp_path / "etc", tmp_path / "home"
    office.mkdir()
    elsewhere.mkdir()
    (office / "antrian.toml").write_text('[office]\nname = "Kantor Uji"\n', encoding="utf-8")
    monkeypatch.setenv("ANTRIAN_CONFIG", str(office / "antrian.toml"))
    done = antrian_cli("queue", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "Kantor Uji" in done.stdout
    assert (office / "antrian.db").exists()
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("lang", "words"), [("id", "relatif terhadap file ini"), ("en", "relative to this file")]
)
def test_config_init_prints_every_section_commented_in_the_language_and_it_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, words: str
) -> None:
    monkeypatch.setenv("ANTRIAN_LANG", lang)
    done = antrian_cli("config", "init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert words in done.stdout
    raw = tomllib.loads(done.stdout)
    msgspec.convert(raw, ConfigFile)
    lines = done.stdout.splitlines()
    for section in (
        "office",
        "mqtt",
        "web",
        "queue",
        "announcement",
        "printer",
        "notify",
        "survey",
        "backup",
    ):
        assert f"[{section}]" in done.stdout, section
    assert "[homeassistant]" in done.stdout
    assert sum(line == "[[devices]]" for line in lines) == 4
    (tmp_path / "antrian.toml").write_text(done.stdout, encoding="utf-8")
    assert len(load_config(tmp_path / "antrian.toml").devices) == 4


def test_devices_add_takes_the_config_init_output(tmp_path: Path) -> None:
    (tmp_path / "antrian.toml").write_text(
        antrian_cli("config", "init", cwd=tmp_path).stdout, encoding="utf-8"
    )
    kiosk = ("kiosk-1", "--role", "kiosk", "--services", "A,B")
    done = antrian_cli("devices", "add", *kiosk, "--hub-config", "antrian.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    devices = load_config(tmp_path / "antrian.toml").devices
    assert [(d.id, d.role) for d in devices] == [("kiosk-1", "kiosk")]
    assert (tmp_path / "broker" / "devices" / "kiosk-1.json").exists()


@pytest.mark.parametrize("folder_exists", [False, True], ids=["new-folder", "existing-folder"])
def test_a_refused_devices_add_leaves_the_folder_exactly_as_it_was(
    tmp_path: Path, folder_exists: bool
) -> None:
    (tmp_path / "antrian.toml").write_text(
        antrian_cli("config", "init", cwd=tmp_path).stdout, encoding="utf-8"
    )
    if folder_exists:
        done = antrian_cli(
            "devices", "add", "kiosk-1", "--role", "kiosk", "--hub-config", "antrian.toml", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
    before = tree(tmp_path)
    unknown_counter = ("pad-9", "--role", "call_pad", "--counter", "9")
    done = antrian_cli("devices", "add", *unknown_counter, "--hub-config", "antrian.toml", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "9" in done.stderr
    assert tree(tmp_path) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="owners can only be given away by root")
def test_devices_add_as_root_keeps_the_office_config_readable_by_the_hub_user(tmp_path: Path) -> None:
    """An installed office's config is root:antrian 0640; `sudo antrian devices add --hub-config`
    used to leave it root:root, and the hub (its own user) could not read it at the next start."""
    config = tmp_path / "antrian.toml"
    config.write_text(antrian_cli("config", "init", cwd=tmp_path).stdout, encoding="utf-8")
    hub_group = grp.getgrnam("nogroup").gr_gid
    os.chown(config, 0, hub_group)
    config.chmod(0o640)
    done = antrian_cli(
        "devices", "add", "kiosk-1", "--role", "kiosk", "--hub-config", str(config), cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    st = config.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, hub_group, 0o640)
    assert [d.id for d in load_config(config).devices] == ["kiosk-1"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"# " + b"x" * (1024 * 1024) + b"\n", "larger than 1024 KiB"),
        (b'[office]\nname = "\xff"\n', "not valid TOML"),
    ],
    ids=["over-1-MiB", "not-utf-8"],
)
def test_an_office_config_too_large_or_not_text_is_refused_with_its_reason(
    tmp_path: Path, body: bytes, said: str
) -> None:
    (tmp_path / "antrian.toml").write_bytes(body)
    done = antrian_cli("queue", "-c", "antrian.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "antrian.db").exists()

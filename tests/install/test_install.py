"""`antrian install` into a throwaway root (`--prefix`), run as the office runs it.

The tree, its modes and owners, the office configuration it writes (database in
/var/lib/antrian, the hub's broker account filled in and accepted by the generated password
file), the Mosquitto include, the units (checked by `systemd-analyze verify` where the machine
has it, and read as INI files), a second run that changes nothing, an office's own
configuration left untouched, and the refusals.
"""

from __future__ import annotations

import configparser
import json
import os
import pwd
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from antrian.config import parse_config
from antrian.provision.files import verify_password
from tests.kit.process import antrian_cli

ROOT = Path(__file__).resolve().parents[2]


def install(prefix: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return antrian_cli("install", "--prefix", str(prefix), "--lang", "id", *args, cwd=cwd)


def tree(root: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every path under `root`: mode, owner, group, and content (a link's target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            body = "-> " + os.readlink(path)
        elif path.is_file():
            body = path.read_text(encoding="utf-8")
        else:
            body = ""
        out[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, body)
    return out


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys keep their case
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def mode(path: Path) -> int:
    return path.lstat().st_mode & 0o7777


def test_install_makes_the_office_tree_with_its_modes_and_a_working_broker_account(tmp_path):
    prefix = tmp_path / "root"
    done = install(prefix, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    me = os.geteuid()
    for folder in ("var/lib/antrian", "var/lib/antrian/backup", "var/lib/antrian/tts_cache"):
        assert mode(prefix / folder) == 0o750
        assert (prefix / folder).stat().st_uid == me
    assert mode(prefix / "etc/antrian") == 0o750
    assert mode(prefix / "etc/antrian/secrets") == 0o750
    config = prefix / "etc/antrian/antrian.toml"
    assert mode(config) == 0o640

    text = config.read_text(encoding="utf-8")
    cfg = parse_config(tomllib.loads(text))
    assert cfg.database == "/var/lib/antrian/antrian.db"
    assert cfg.tts_cache == "/var/lib/antrian/tts_cache"
    assert cfg.backup.folder == "/var/lib/antrian/backup"
    assert cfg.mqtt.username == "antrian-hub"
    assert cfg.mqtt.monitor_username == "antrian-monitor"
    # the password in the office's config is the one the generated broker accepts
    passwd = dict(
        line.split(":", 1) for line in (prefix / "etc/mosquitto/antrian/passwd").read_text().splitlines()
    )
    assert cfg.mqtt.password
    assert verify_password(cfg.mqtt.password, passwd["antrian-hub"])
    assert cfg.mqtt.monitor_password
    assert verify_password(cfg.mqtt.monitor_password, passwd["antrian-monitor"])
    # the doctor's own account, where `antrian doctor` looks first, readable by root and the hub
    doctor = prefix / "etc/antrian/secrets/doctor-mqtt.toml"
    assert mode(doctor) == 0o640
    assert doctor.read_text() == (prefix / "etc/mosquitto/antrian/secrets/doctor-mqtt.toml").read_text()
    account = tomllib.loads(doctor.read_text())
    assert account["username"] == "antrian-doctor"
    assert verify_password(account["password"], passwd["antrian-doctor"])

    include = prefix / "etc/mosquitto/conf.d/antrian.conf"
    assert include.is_symlink()
    assert include.resolve() == (prefix / "etc/mosquitto/antrian/mosquitto.conf").resolve()
    broker_conf = include.read_text()
    assert "set_tcp_nodelay true" in broker_conf.splitlines()
    assert "password_file /etc/mosquitto/antrian/passwd" in broker_conf.splitlines()

    launcher = prefix / "usr/local/bin/antrian-tv"
    assert mode(launcher) == 0o755
    assert launcher.read_text() == (ROOT / "hub/install/tv/antrian-tv").read_text()

    out = done.stdout
    assert "✓ Folder /var/lib/antrian (0750)" in out
    assert "useradd --system --user-group --home-dir /var/lib/antrian" in out  # said, not run
    assert "Langkah berikutnya" in out
    assert "sudo antrian doctor" in out
    assert "✓ Akun baca-saja antrian doctor: /etc/antrian/secrets/doctor-mqtt.toml" in out


def test_an_older_broker_folder_is_told_how_to_get_the_doctors_account_and_then_gets_it(tmp_path):
    """A broker folder made before the doctor's account: install never regenerates it, says
    the commands, and copies the account once `antrian devices write` made it."""
    prefix = tmp_path / "root"
    assert install(prefix, cwd=tmp_path).returncode == 0
    broker = prefix / "etc/mosquitto/antrian"
    registry = json.loads((broker / "registry.json").read_text())
    del registry["accounts"]["antrian-doctor"]
    (broker / "registry.json").write_text(json.dumps(registry))
    (broker / "secrets/doctor-mqtt.toml").unlink()
    installed = prefix / "etc/antrian/secrets/doctor-mqtt.toml"
    installed.unlink()

    older = install(prefix, cwd=tmp_path)
    assert older.returncode == 0, older.stderr
    assert not installed.exists()
    warning = next(x for x in older.stdout.splitlines() if "antrian doctor" in x and x.startswith("! "))
    assert "sudo antrian devices write --dir /etc/mosquitto/antrian" in warning
    assert "sudo systemctl reload mosquitto" in warning

    made = antrian_cli("devices", "write", "--dir", str(broker), "--lang", "id", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "doctor-mqtt.toml" in made.stdout
    again = install(prefix, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "✓ Akun baca-saja antrian doctor" in again.stdout
    account = tomllib.loads(installed.read_text())
    passwd = dict(line.split(":", 1) for line in (broker / "passwd").read_text().splitlines())
    assert verify_password(account["password"], passwd["antrian-doctor"])


def test_the_units_run_the_installed_hub_as_its_own_user_and_systemd_takes_them(tmp_path):
    prefix = tmp_path / "root"
    assert install(prefix, cwd=tmp_path).returncode == 0
    system = prefix / "etc/systemd/system"

    hub = unit(system / "antrian-hub.service")["Service"]
    assert hub["User"] == "antrian"
    exec_start = hub["ExecStart"].split()
    assert Path(exec_start[0]).is_file()  # the antrian of the environment that installed
    assert exec_start[1:] == ["run", "-c", "/etc/antrian/antrian.toml"]
    assert hub["Restart"] == "always"
    assert hub["RestartPreventExitStatus"].split() == ["3", "4"]  # another hub; a newer database
    assert hub["NoNewPrivileges"] == "yes"
    assert hub["ProtectSystem"] == "strict"
    assert "/var/lib/antrian" in hub["ReadWritePaths"].split()
    assert hub["PrivateTmp"] == "yes"

    speaker = unit(system / "antrian-speaker.service")
    assert speaker["Unit"]["ConditionPathExists"] == "/etc/antrian/secrets/speaker.env"
    assert speaker["Service"]["User"] == "antrian"
    assert "speaker -c /etc/antrian/antrian.toml" in speaker["Service"]["ExecStart"]
    assert "--username ${ANTRIAN_SPEAKER_ID}" in speaker["Service"]["ExecStart"]

    tv = unit(prefix / "etc/systemd/user/antrian-tv.service")
    assert tv["Service"]["ExecStart"] == "/usr/local/bin/antrian-tv"
    assert tv["Service"]["Environment"] == "ANTRIAN_TV_URL=http://192.168.1.10:8080/tv"
    assert tv["Install"]["WantedBy"] == "graphical-session.target"

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine: the units were read as INI only")
    for name in ("antrian-hub.service", "antrian-speaker.service"):
        verify = subprocess.run(
            [analyze, "verify", str(system / name)], capture_output=True, text=True, timeout=60, check=False
        )
        assert verify.returncode == 0, verify.stderr
        assert name not in verify.stderr, verify.stderr  # no warning about the unit itself


def test_a_second_install_changes_nothing_and_says_so(tmp_path):
    prefix = tmp_path / "root"
    assert install(prefix, cwd=tmp_path).returncode == 0
    before = tree(prefix)
    again = antrian_cli("install", "--prefix", str(prefix), "--lang", "en", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert tree(prefix) == before
    assert "Nothing changed: the installation is already complete." in again.stdout
    steps = [line for line in again.stdout.splitlines() if line[:2] in ("✓ ", "! ", "• ", "✗ ")]
    assert steps
    for line in steps:
        assert line.startswith("! ") or "(already there, unchanged)" in line or "not overwritten" in line


def test_an_offices_own_configuration_is_never_overwritten(tmp_path):
    prefix = tmp_path / "root"
    config = prefix / "etc/antrian/antrian.toml"
    config.parent.mkdir(parents=True)
    own = '# our office\ndatabase = "/srv/antrian/kantor.db"\n[office]\nslug = "winongan"\n'
    config.write_text(own)
    config.chmod(0o600)
    done = install(prefix, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert config.read_text() == own
    assert mode(config) == 0o640  # readable by the hub's group, still not by everyone
    assert "Konfigurasi /etc/antrian/antrian.toml sudah ada: tidak ditimpa" in done.stdout
    # the broker folder was made for the office the configuration names
    registry = (prefix / "etc/mosquitto/antrian/registry.json").read_text()
    assert '"office": "winongan"' in registry


def test_a_dry_run_writes_nothing(tmp_path):
    prefix = tmp_path / "root"
    done = install(prefix, "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not prefix.exists()
    assert "• Folder /var/lib/antrian (0750) (uji coba: akan dibuat/diubah)" in done.stdout
    assert "Uji coba: tidak ada yang ditulis." in done.stdout


def test_install_refuses_an_unknown_user_and_a_bad_name_and_writes_nothing(tmp_path):
    prefix = tmp_path / "root"
    unknown = install(prefix, "--user", "no-such-user-17", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "pengguna no-such-user-17 tidak ada" in unknown.stderr
    assert not (prefix / "var/lib/antrian").exists()

    bad = install(prefix, "--user", "ani; rm -rf /", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bukan nama pengguna yang sah" in bad.stderr
    assert not (prefix / "var").exists()


def test_install_refuses_without_root_unless_given_a_prefix(tmp_path):
    """Without --prefix only root may install: said plainly, with the way out, nothing made."""
    env = {k: v for k, v in os.environ.items() if k != "ANTRIAN_LANG"} | {"ANTRIAN_LANG": "id"}
    argv = [sys.executable, "-m", "antrian.cli", "install"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is missing: cannot drop to a plain user")
        nobody = pwd.getpwnam("nobody")
        argv = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", *argv]
    done = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Pemasangan ditolak: jalankan sebagai root" in done.stderr
    assert "--prefix DIR" in done.stderr
    assert done.stdout == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give files to another user")
def test_as_root_the_data_belongs_to_the_hubs_user_and_the_config_to_root(tmp_path):
    prefix = tmp_path / "root"
    nobody = pwd.getpwnam("nobody")
    done = install(prefix, "--user", "nobody", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = (prefix / "var/lib/antrian").stat()
    assert (data.st_uid, data.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    etc = (prefix / "etc/antrian/antrian.toml").stat()
    assert (etc.st_uid, etc.st_gid) == (0, nobody.pw_gid)
    assert unit(prefix / "etc/systemd/system/antrian-hub.service")["Service"]["User"] == "nobody"

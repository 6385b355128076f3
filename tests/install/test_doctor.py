"""`antrian doctor` on a broken office and on a healthy one, as the officer runs it.

Real parts throughout: the suite's own Mosquitto, the hub as `antrian run`, voice clips made
by `antrian tts build` (espeak-ng), backups made by the hub's own backup code, a kiosk's
retained `info` and `availability` as its firmware publishes them. Only the clock check
depends on the machine (`timedatectl`): where it cannot say, doctor says so, never OK.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from antrian.backup.files import make_backup
from antrian.contract import Topics
from antrian.install.doctor import DISK_WARN_BYTES, FAIL, OK, WARN, disk_verdict
from antrian.net import free_port
from antrian.store import EventStore
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.process import antrian_cli
from tests.kit.waiting import wait_until
from tests.security.secure_broker import Office, running_office

T = Topics("kantor")
OFFICE = """
database = "antrian.db"
tts_cache = "tts_cache"

[web]
enabled = false

[backup]
folder = "{backup}"

[[devices]]
id = "kiosk-1"
role = "kiosk"
"""


@pytest.fixture(scope="module")
def built_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every clip the office needs, made once by the command an office runs."""
    folder = tmp_path_factory.mktemp("clips")
    (folder / "antrian.toml").write_text(OFFICE.format(backup=folder / "backup"))
    done = antrian_cli("tts", "build", "-c", "antrian.toml", "--engines", "espeak-ng", "--quiet", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "tts_cache"


def office_folder(workdir: Path, clips: Path, port: int) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "antrian.toml"
    text = OFFICE.format(backup=workdir / "backup") + f'\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\n'
    config.write_text(text)
    shutil.copytree(clips, workdir / "tts_cache")
    return config


def doctor(
    config: Path, mosquitto_conf: Path, *args: str, lang: str = "id"
) -> subprocess.CompletedProcess[str]:
    done = antrian_cli(
        "doctor",
        "-c",
        str(config),
        "--mosquitto-conf",
        str(mosquitto_conf),
        "--lang",
        lang,
        *args,
        cwd=config.parent,
    )
    print(done.stdout)  # what the officer reads (pytest -s shows it)
    return done


def line(out: str, words: str) -> str:
    """The one line of the output that contains `words`."""
    found = [x for x in out.splitlines() if words in x]
    assert len(found) == 1, f"{words!r} in:\n{out}"
    return found[0]


def kiosk_says(broker: Mosquitto, printer: str) -> None:
    """kiosk-1's retained birth and info, as its firmware publishes them."""
    probe = Probe(broker, "kiosk-1")
    try:
        probe.publish(T.device_availability("kiosk-1"), "online", retain=True)
        info = {"firmware": "1.0", "role": "kiosk", "printer": printer, "uptime_s": 60}
        probe.publish(T.device_info("kiosk-1"), info, retain=True)
    finally:
        probe.close()


def test_a_broken_office_gets_a_line_for_each_fault_with_its_fix_and_exit_1(broker, built_clips, tmp_path):
    config = office_folder(tmp_path / "office", built_clips, broker.port)
    (tmp_path / "office/tts_cache/clips/number.dua.wav").unlink()  # a clip lost
    store = EventStore(tmp_path / "office/antrian.db")
    store.close()
    old = make_backup(tmp_path / "office/antrian.db", tmp_path / "office/backup", date(2026, 11, 28))
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    kiosk_says(broker, "paper_end")
    # a broker config as Mosquitto ships it: Nagle's algorithm left on
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {broker.port} 127.0.0.1\nallow_anonymous true\n")

    done = doctor(config, conf)
    out = done.stdout
    assert done.returncode == 1
    assert line(out, "terbaca (").startswith("OK ")
    assert line(out, "Database ").startswith("OK ")
    assert line(out, "Broker 127.0.0.1").startswith("OK ")
    nodelay = line(out, "set_tcp_nodelay")
    assert nodelay.startswith("GAGAL ")
    assert "Perbaiki:" in nodelay
    hub = line(out, "Hub kantor kantor")
    assert hub.startswith("GAGAL ")
    assert "systemctl start antrian-hub" in hub
    printer = line(out, "Printer tiket")
    assert printer.startswith("PERINGATAN ")
    assert "kiosk-1: kertas habis" in printer
    clips = line(out, "Klip suara")
    assert clips.startswith("GAGAL ")
    assert "kurang 1 dari" in clips
    assert "number.dua" in clips
    assert f"antrian tts build -c {config}" in clips
    backup = line(out, "Cadangan terbaru")
    assert backup.startswith("GAGAL ")
    assert "antrian-2026-11-28.db" in backup
    assert "lebih dari 26 jam" in backup
    assert line(out, "perangkat online").startswith("OK ")  # the kiosk is on; its printer is not
    clock = line(out, "Jam ") if "Jam " in out else line(out, "Sinkronisasi jam")
    assert clock.startswith(("OK ", "PERINGATAN "))
    assert "Hasil " in out.splitlines()[-1]


def test_a_broker_that_is_down_is_named_and_nothing_is_said_of_what_it_would_have_told(built_clips, tmp_path):
    config = office_folder(tmp_path / "office", built_clips, free_port())
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("set_tcp_nodelay true\n")
    done = doctor(config, conf, lang="en")
    assert done.returncode == 1
    broker = line(done.stdout, "Broker 127.0.0.1")
    assert broker.startswith("FAILED ")
    assert "cannot be reached" in broker
    assert "systemctl start mosquitto" in broker
    # what only the broker could tell is not claimed either way
    assert "The hub of office" not in done.stdout
    assert "online" not in done.stdout
    assert "printer" not in done.stdout.lower()


def test_a_configuration_error_is_reported_with_its_key_and_exit_1(tmp_path):
    config = tmp_path / "antrian.toml"
    config.write_text('[office]\nslug = "Kantor Winongan"\n')
    done = doctor(config, tmp_path / "none.conf")
    assert done.returncode == 1
    bad = line(done.stdout, "Konfigurasi salah")
    assert bad.startswith("GAGAL ")
    assert "office.slug" in bad
    assert "antrian config check" in bad


def test_a_healthy_office_with_a_running_hub_gets_ok_lines_and_exit_0(broker, built_clips, tmp_path):
    workdir = tmp_path / "office"
    config = office_folder(workdir, built_clips, broker.port)
    hub = HubProcess(broker, config.read_text(), workdir)
    try:
        hub.start_online()
        make_backup(hub.database, workdir / "backup", date.today())  # the daily backup, online
        kiosk_says(broker, "ok")
        done = doctor(config, broker.conf_path)
    finally:
        hub.stop()
    out = done.stdout
    assert done.returncode == 0, out
    for words in (
        "terbaca (",
        "Database ",
        "Broker 127.0.0.1",
        "set_tcp_nodelay",
        "Hub kantor kantor berjalan",
        "Printer tiket siap: kiosk-1",
        "Klip suara lengkap",
        "Semua 1 perangkat online",
        "Cadangan terbaru",
    ):
        assert line(out, words).startswith("OK "), words
    assert "bisa diputar ulang" in line(out, "Cadangan terbaru")
    # the machine decides these two; never a failure on a healthy office with room on its disk
    clock = line(out, "Jam ") if "Jam " in out else line(out, "Sinkronisasi jam")
    assert clock.startswith(("OK ", "PERINGATAN "))
    assert not line(out, "Ruang kosong").startswith("GAGAL ")
    assert "GAGAL" not in out


def test_free_space_warns_under_a_gigabyte_or_a_tenth_and_fails_near_full():
    gb = 1_000_000_000
    assert disk_verdict(50 * gb, 100 * gb) == OK
    assert disk_verdict(9 * gb, 100 * gb) == WARN  # under 10 %
    assert disk_verdict(DISK_WARN_BYTES - 1, 2 * gb) == WARN  # under 1 GB
    assert disk_verdict(50_000_000, 100 * gb) == FAIL


def test_a_hub_whose_account_the_broker_refuses_is_told_to_copy_its_account(tmp_path):
    """The generated broker (accounts, ACL): the doctor listens with its own read-only
    account, which works; the hub's password in antrian.toml is not the broker's."""
    from tests.security.secure_broker import generated_broker, office_folder, public_tmpdir, secret

    base = public_tmpdir()  # the broker's own user must reach its files
    try:
        folder = office_folder(base / "broker", tls=False)
        folder.write()
        broker = generated_broker(folder, base / "run")
        try:
            account = secret(folder, "hub-mqtt.toml")
            config = tmp_path / "antrian.toml"
            config.write_text(
                'database = "antrian.db"\n[web]\nenabled = false\n'
                f'[mqtt]\nhost = "127.0.0.1"\nport = {folder.settings.port}\n'
                'username = "antrian-hub"\npassword = "not-the-brokers"\n'
                f'monitor_username = "antrian-monitor"\nmonitor_password = "{account["monitor_password"]}"\n'
            )
            (tmp_path / "secrets").mkdir()
            shutil.copy(folder.path / "secrets/doctor-mqtt.toml", tmp_path / "secrets")
            done = doctor(config, folder.path / "mosquitto.conf")
        finally:
            broker.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert done.returncode == 1
    assert line(done.stdout, "Broker 127.0.0.1").startswith("OK ")
    assert "menerima akun antrian-doctor" in done.stdout
    assert line(done.stdout, "set_tcp_nodelay").startswith("OK ")
    hub = line(done.stdout, "Hub tidak berjalan")
    assert hub.startswith("GAGAL ")
    assert "menolak akun hub antrian-hub" in hub
    assert "salin bagian [mqtt] dari secrets/hub-mqtt.toml" in hub
    assert "sudo systemctl restart antrian-hub" in hub


# ---------------------------------------------------------------------------------------------
# The production setup: the generated broker (client id = user name) and a hub with its web
# side on, so that its topic monitor is on the broker while the doctor runs.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def production() -> Iterator[Office]:
    with running_office() as office:
        wait_until(lambda: logins(office, "antrian-monitor") >= 1, 20, "the hub's topic monitor logged in")
        yield office


def logins(office: Office, user: str) -> int:
    """How often `user` logged in, from the broker's own log."""
    return office.broker.log().count(f" as {user} (")


def takeovers(office: Office, user: str) -> int:
    """How often a login as `user` took the session of a client already connected as `user`."""
    return office.broker.log().count(f"Client {user} already connected, closing old connection")


def doctor_secret(office: Office, present: bool) -> Path:
    """`secrets/doctor-mqtt.toml` beside the hub's configuration, copied from the broker folder
    as `antrian install` copies it to /etc/antrian/secrets (or gone: an older install)."""
    secrets = office.hub.config_path.parent / "secrets"
    shutil.rmtree(secrets, ignore_errors=True)
    if present:
        secrets.mkdir()
        shutil.copy(office.folder.path / "secrets/doctor-mqtt.toml", secrets / "doctor-mqtt.toml")
    return office.hub.config_path


def test_doctor_with_its_own_account_leaves_the_hubs_topic_monitor_connected(production):
    config = doctor_secret(production, present=True)
    monitor, doctors = logins(production, "antrian-monitor"), logins(production, "antrian-doctor")
    cut = takeovers(production, "antrian-monitor")

    done = doctor(config, production.folder.path / "mosquitto.conf")

    broker = line(done.stdout, "Broker 127.0.0.1")
    assert broker.startswith("OK "), broker
    assert "menerima akun antrian-doctor" in broker
    assert line(done.stdout, "Hub kantor kantor berjalan").startswith("OK ")
    assert logins(production, "antrian-doctor") == doctors + 1  # one try
    # the monitor's session was never taken: nobody logged in as it, it never logged in again
    assert takeovers(production, "antrian-monitor") == cut
    assert logins(production, "antrian-monitor") == monitor


def test_an_older_install_borrows_the_monitors_account_and_is_told_how_to_get_its_own(production):
    """Without the doctor's secret (an install before the account existed) the doctor still
    checks the office, with the monitor's account, and says what that costs and how to fix
    it. The monitor is cut off meanwhile: the broker log shows it, which is what the test
    above sees does not happen."""
    config = doctor_secret(production, present=False)
    cut = takeovers(production, "antrian-monitor")

    done = doctor(config, production.folder.path / "mosquitto.conf")

    broker = line(done.stdout, "Broker 127.0.0.1")
    assert broker.startswith("PERINGATAN "), broker
    assert "menerima akun antrian-monitor" in broker
    assert "pemantau topik /admin terputus" in broker
    assert "sudo antrian devices write --dir /etc/mosquitto/antrian" in broker
    assert "sudo antrian install" in broker
    assert line(done.stdout, "Hub kantor kantor berjalan").startswith("OK ")
    assert takeovers(production, "antrian-monitor") > cut


def test_a_doctor_secret_given_on_the_command_line_is_used_and_a_bad_one_is_named(production, tmp_path):
    config = doctor_secret(production, present=False)
    done = doctor(
        config,
        production.folder.path / "mosquitto.conf",
        "--mqtt-secret",
        str(production.folder.path / "secrets/doctor-mqtt.toml"),
        lang="en",
    )
    assert line(done.stdout, "Broker 127.0.0.1").startswith("OK ")
    assert "accepts the account antrian-doctor" in done.stdout

    bad = {
        "missing.toml": None,
        "not-toml.toml": "username = antrian-doctor\n",
        "no-password.toml": 'username = "antrian-doctor"\n',
        "huge.toml": 'username = "antrian-doctor"\npassword = "x"\n' + "# padding\n" * 1000,
        "line-break.toml": 'username = "antrian-doctor"\npassword = "x\\ny"\n',
    }
    for name, text in bad.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        done = doctor(
            config, production.folder.path / "mosquitto.conf", "--mqtt-secret", str(path), lang="en"
        )
        assert done.returncode == 1, name
        broker = line(done.stdout, f"account {path}")
        assert broker.startswith("FAILED "), broker
        assert "sudo antrian install" in broker, broker
        # no borrowed account behind the officer's back, and nothing claimed of the broker
        assert "Broker 127.0.0.1" not in done.stdout, name
        assert "The hub of office" not in done.stdout, name

    wrong = tmp_path / "wrong.toml"
    wrong.write_text('username = "antrian-doctor"\npassword = "not-the-brokers"\n')
    done = doctor(config, production.folder.path / "mosquitto.conf", "--mqtt-secret", str(wrong), lang="en")
    refused = line(done.stdout, "Broker 127.0.0.1")
    assert refused.startswith("FAILED ")
    assert "antrian-doctor" in refused
    assert "sudo antrian install" in refused

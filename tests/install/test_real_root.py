"""`antrian install` as root on the machine's own root, in a throwaway copy of it.

The machine's `/etc`, `/var` and `/usr/local` are covered by overlays in a mount namespace of
the test's own (with its own network and process namespaces), so the real install runs
unchanged (`useradd`, chown to the new `antrian` user, Mosquitto's `conf.d`) and nothing of
it outlives the test. Then the office runs as it would after `systemctl start`: Mosquitto
started as root from a Debian-like main config (it drops to its `mosquitto` user and must
read the generated password file through the `conf.d` link), the voice clips built, the hub
run as the `antrian` user reading its 0640 config, and `antrian doctor` asked about it all.
Only root can do this; elsewhere the `--prefix` tests cover what they can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = r"""
ip link set lo up
mkdir -p /etc/mosquitto/conf.d
printf 'log_dest stderr\ninclude_dir /etc/mosquitto/conf.d\n' > /etc/mosquitto/mosquitto.conf
find /etc/mosquitto/conf.d -mindepth 1 -delete
echo "== install 1"
"$PY" -m antrian.cli install --no-systemctl --lang id || echo "install rc=$?"
echo "== install 2"
"$PY" -m antrian.cli install --no-systemctl --lang id || echo "install rc=$?"
echo "== owners"
stat -c '%a %U:%G %n' /var/lib/antrian /etc/antrian /etc/antrian/antrian.toml /etc/antrian/secrets \
  /etc/antrian/secrets/doctor-mqtt.toml
getent passwd antrian
echo "== verify"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /etc/systemd/system/antrian-hub.service 2>&1 && echo "verify rc=0"
fi
mosquitto -c /etc/mosquitto/mosquitto.conf > "$W/mosquitto.log" 2>&1 &
"$PY" -m antrian.cli tts build -c /etc/antrian/antrian.toml --engines espeak-ng --quiet > "$W/tts.log" 2>&1
setpriv --reuid=antrian --regid=antrian --init-groups \
  "$PY" -m antrian.cli run -c /etc/antrian/antrian.toml > "$W/hub.log" 2>&1 &
i=0
while [ $i -lt 60 ]; do
  if "$PY" -m antrian.cli doctor --lang id 2>/dev/null | grep -q "^OK *Hub kantor"; then break; fi
  i=$((i+1)); sleep 0.5
done
echo "== doctor"
"$PY" -m antrian.cli doctor --lang id && echo "doctor rc=0" || echo "doctor rc=$?"
echo "== doctor as nobody"
setpriv --reuid=nobody --regid=nogroup --clear-groups \
  "$PY" -m antrian.cli doctor -c /etc/antrian/antrian.toml --lang id || echo "doctor rc=$?"
echo "== end"
"""


#: Mounts, network and processes of its own: whatever the script starts ends with it.
NAMESPACES = ("unshare", "-m", "-n", "-p", "-f", "--mount-proc", "--propagation", "private")


#: The machine's root covered by overlays (the part every script here starts with).
OVERLAYS = r"""
set -eu
W="$1"; PY="$2"
for d in etc var usr/local; do
  n=$(echo "$d" | tr / _)
  mkdir -p "$W/up_$n" "$W/work_$n"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$W/up_$n,workdir=$W/work_$n" "/$d" || exit 97
done
# never a step on the machine's own /etc
grep -q "^overlay /etc overlay" /proc/mounts || exit 97
"""

#: systemd's command line as far as `antrian install` uses it, for a machine whose init is not
#: systemd (this one): each call is written down, `enable` and `start` are remembered.
SYSTEMCTL = r"""#!/bin/sh
echo "$*" >> "$FAKE_SYSTEMCTL/calls"
case "$1" in
  is-enabled) test -e "$FAKE_SYSTEMCTL/enabled-$2" ;;
  is-active) test -e "$FAKE_SYSTEMCTL/active-$2" ;;
  enable) touch "$FAKE_SYSTEMCTL/enabled-$2" ;;
  start|restart) touch "$FAKE_SYSTEMCTL/active-$2" ;;
esac
"""

SYSTEMCTL_SCRIPT = r"""
export FAKE_SYSTEMCTL="$W/systemd"
mkdir -p "$FAKE_SYSTEMCTL"
cat > /usr/local/bin/systemctl
chmod 755 /usr/local/bin/systemctl
export PATH="/usr/local/bin:$PATH"
echo "== install 1"
"$PY" -m antrian.cli install --lang id || echo "install rc=$?"
echo "== calls 1"
cat "$FAKE_SYSTEMCTL/calls"
: > "$FAKE_SYSTEMCTL/calls"
echo "== install 2"
"$PY" -m antrian.cli install --lang id || echo "install rc=$?"
echo "== calls 2"
cat "$FAKE_SYSTEMCTL/calls"
echo "== end"
"""


def section(out: str, name: str) -> str:
    return out.split(f"== {name}\n", 1)[1].split("\n== ", 1)[0]


def in_namespaces(tmp_path, script: str, stdin: str = "") -> str:
    """`script` (after the overlays) as root in namespaces of its own; its output."""
    if os.geteuid() != 0:
        pytest.skip("a real install needs root")
    for tool in ("unshare", "mosquitto", "setpriv", "ip", "espeak-ng"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on this machine")
    path = tmp_path / "real-root.sh"
    path.write_text(OVERLAYS + script)
    work = tmp_path / "overlay"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ANTRIAN_CONFIG", "ANTRIAN_LANG")}
    done = subprocess.run(
        [*NAMESPACES, "sh", str(path), str(work), sys.executable],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
    )
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"no overlay mount namespace here: {done.stderr.strip()[-200:]}")
    print(done.stdout)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_a_real_install_runs_the_office_as_its_own_user_and_doctor_finds_it_healthy(tmp_path):
    out = in_namespaces(tmp_path, SCRIPT)

    first = section(out, "install 1")
    assert "✓ Pengguna sistem antrian\n" in first  # made by useradd, not just said
    assert "install rc=" not in first
    second = section(out, "install 2")
    assert "Tidak ada yang berubah: pemasangan sudah lengkap." in second

    owners = section(out, "owners").splitlines()
    assert owners[:5] == [
        "750 antrian:antrian /var/lib/antrian",
        "750 root:antrian /etc/antrian",
        "640 root:antrian /etc/antrian/antrian.toml",
        "750 root:antrian /etc/antrian/secrets",
        "640 root:antrian /etc/antrian/secrets/doctor-mqtt.toml",
    ]
    assert owners[5].startswith("antrian:x:")
    assert owners[5].endswith(":/var/lib/antrian:/usr/sbin/nologin")
    if shutil.which("systemd-analyze"):
        assert "verify rc=0" in section(out, "verify")

    doctor = section(out, "doctor")
    assert "doctor rc=0" in doctor
    for words in (
        "Konfigurasi /etc/antrian/antrian.toml terbaca",
        "Database /var/lib/antrian/antrian.db utuh",
        # its own account, copied by install: the hub's topic monitor is left alone
        "Broker 127.0.0.1:1883 menerima akun antrian-doctor",
        "Konfigurasi Mosquitto /etc/mosquitto/conf.d/antrian.conf memuat set_tcp_nodelay true",
        "Hub kantor kantor berjalan",
        "Klip suara lengkap di /var/lib/antrian/tts_cache",
        "Cadangan terbaru",
    ):
        assert any(line.startswith("OK ") and words in line for line in doctor.splitlines()), words
    assert "GAGAL" not in doctor

    # /etc/antrian is the hub's and root's: anyone else is told to use sudo
    refused = section(out, "doctor as nobody")
    assert "doctor rc=1" in refused
    assert (
        "GAGAL      Konfigurasi /etc/antrian/antrian.toml tidak boleh dibaca pengguna ini."
        " -> Perbaiki: jalankan dengan sudo: sudo antrian doctor"
    ) in refused


def test_install_reloads_systemd_restarts_mosquitto_and_starts_the_hub_once(tmp_path):
    """What `antrian install` asks of systemd (this machine's init is not systemd, so a
    stand-in that writes each call down answers): the units are read again, Mosquitto is
    restarted with the new accounts, the hub and the speaker node are enabled and started;
    a second run asks whether they are, and changes nothing."""
    out = in_namespaces(tmp_path, SYSTEMCTL_SCRIPT, stdin=SYSTEMCTL)
    assert "install rc=" not in out
    calls = section(out, "calls 1").splitlines()
    assert calls[calls.index("daemon-reload") :] == [
        "daemon-reload",
        "restart mosquitto",
        "enable antrian-hub.service",
        "start antrian-hub.service",
        "enable antrian-speaker.service",
        "start antrian-speaker.service",
    ]
    first = section(out, "install 1")
    assert "✓ antrian-hub.service dijalankan" in first
    assert "✓ Mosquitto dimulai ulang dengan akun dan ACL antrian" in first
    assert "systemctl tidak dijalankan" not in first

    assert "Tidak ada yang berubah: pemasangan sudah lengkap." in section(out, "install 2")
    again = section(out, "calls 2").splitlines()
    assert all(call.startswith(("is-enabled ", "is-active ")) for call in again), again

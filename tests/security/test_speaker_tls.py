"""A speaker node (`antrian speaker`, its own process) on a broker locked down by
`antrian devices --tls`: its own account, over the TLS listener, trusting the office CA."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from secure_broker import BASE, OFFICE, Client, generated_broker, office_folder, public_tmpdir, secret


def test_speaker_comes_online_over_tls_with_the_office_ca():
    root = public_tmpdir()
    folder = office_folder(root / "broker")
    port, tls_port = folder.settings.port, folder.settings.tls_port
    password = folder.add("speaker-1", "speaker")
    folder.write()
    broker = generated_broker(folder, root / "run")
    observer = Client(port, "homeassistant", secret(folder, "homeassistant.json")["password"])
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "antrian.cli",
            "speaker",
            "--id",
            "speaker-1",
            "--office",
            OFFICE,
            "--host",
            "127.0.0.1",
            "--port",
            str(tls_port),
            "--username",
            "speaker-1",
            "--tls-ca",
            str(folder.path / "tls" / "ca.crt"),
            "--cache",
            str(root / "cache"),
            "--wav-dir",
            str(root / "wav"),
        ],
        env={**os.environ, "ANTRIAN_MQTT_PASSWORD": password},
        # as systemd starts it: Ctrl+C (SIGINT) does what it does for a person at a terminal,
        # whatever disposition the test process itself was left with by earlier tests
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert observer.ok
        observer.subscribe(f"{BASE}/device/speaker-1/availability")
        observer.wait_for(f"{BASE}/device/speaker-1/availability", lambda p: p == b"online", timeout=15)
        node.send_signal(signal.SIGINT)  # leaving on purpose: it says goodbye itself
        observer.wait_for(f"{BASE}/device/speaker-1/availability", lambda p: p == b"offline", timeout=15)
        missed = None
    except TimeoutError as exc:
        missed = exc
    finally:
        if node.poll() is None:
            node.kill()
        errors = node.communicate(timeout=10)[1]
        observer.close()
        broker.close()
    assert missed is None, f"{missed}; the node's log: {errors[-3000:]}"
    assert "Traceback" not in errors, errors

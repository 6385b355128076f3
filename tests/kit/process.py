"""A part of the system as its own child process: started, stopped, killed, its output logged."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from antrian.core import STRICT_REPLAY_ENV

from .probe import Endpoint, Predicate, Probe


class ChildProcess:
    """`argv` as a child process whose stdout and stderr go to `log_path`."""

    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # a second start would leave the first process running, unseen by `stop`, after the
        # test: a hub that then joins a later test's broker under the same client id
        assert not self.alive(), f"{self.argv[2:4]} is already running"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log)

    def announced(self, broker: Endpoint, topic: str, valid: Predicate, timeout: float = 20.0) -> None:
        """Start, and return once the process published a `valid` payload on `topic` (its birth);
        fail with the tail of its log if it does not, or dies first."""
        watch = Probe(broker)
        try:
            watch.subscribe(topic)
            start = watch.mark()
            self.start()
            deadline = time.monotonic() + timeout
            while True:
                try:
                    watch.wait_for(topic, valid, 0.2, start, live=True)
                    return
                except TimeoutError:
                    if time.monotonic() > deadline or not self.alive():
                        self.stop()
                        raise AssertionError(
                            f"{self.argv[2:4]} did not come up: {self.log()[-3000:]}"
                        ) from None
        finally:
            watch.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash or a power cut, no goodbye."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        """SIGTERM, as systemd stops a service (SIGKILL if it does not end within 10 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def antrian_cli(*args: str, cwd: Path, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """`antrian ARGS` in `cwd`, run to its end, its output as text; exit codes are the caller's.

    Run as an office runs it: without the suite's strict-replay switch, so that a log which
    does not replay is reported (what `log verify` and the hub must do), not fatal.
    """
    env = {k: v for k, v in os.environ.items() if k != STRICT_REPLAY_ENV}
    return subprocess.run(
        [sys.executable, "-m", "antrian.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )

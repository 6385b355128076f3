"""One hub per office: a lock beside the database, and the refusal a second hub prints.

Two hubs started by mistake on one office (a second `antrian run` beside the service, a
second unit file, an old PC left running beside the new one) share the broker client id: each
connection takes the other's session over, and they knock each other off the broker in a
loop, with no warning, while both write to the event log. So the second one must not start.

On one machine the proof is an exclusive `flock` on `{database}.lock`, taken by `antrian run`
before it opens the database. The kernel drops it when the process ends in any way (kill -9,
power cut), so a stale lock never blocks a restart, and the file is never deleted (deleting a
lock file lets two processes each lock a different file). Across machines the hub checks the
broker instead (`HubService`, the `instance` in `hub/state`); both refuse with `AnotherHub`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Final

#: Exit status of a hub that refused to start because another one serves the office. A unit
#: file can name it in `RestartPreventExitStatus=` so that systemd does not try again and again.
EXIT_ANOTHER_HUB: Final = 3


class AnotherHub(RuntimeError):
    """Another hub already serves this database or this office: this one must not start.

    Carries the message in Bahasa Indonesia and in English; `str()` is both, Indonesian first.
    """

    exit_code: Final = EXIT_ANOTHER_HUB

    def __init__(self, indonesian: str, english: str) -> None:
        super().__init__(f"{indonesian}\n{english}")
        self.indonesian = indonesian
        self.english = english

    @classmethod
    def locked(cls, lock_path: Path, holder: str) -> AnotherHub:
        """The database is locked by a hub process on this machine."""
        pid = f" (pid {holder})" if holder else ""
        return cls(
            f"Hub tidak dijalankan: hub lain{pid} sudah berjalan dengan database ini ({lock_path})."
            " Hentikan dulu hub itu (mis. systemctl stop antrian-hub) atau pakai database lain.",
            f"Hub not started: another hub{pid} is already running with this database"
            f" ({lock_path}). Stop that one first (e.g. systemctl stop antrian-hub) or use another"
            " database.",
        )

    @classmethod
    def on_broker(cls, office: str, instance: str | None, broker: str) -> AnotherHub:
        """A live hub of the same office is on the broker (another machine, another database)."""
        who = f" (instance {instance})" if instance else ""
        return cls(
            f"Hub tidak dijalankan: hub lain{who} sedang melayani kantor '{office}' di broker"
            f" {broker}. Dua hub untuk satu kantor saling memutus koneksi; hentikan hub yang lain"
            " dulu (mungkin di PC lain), atau periksa [office] slug.",
            f"Hub not started: another hub{who} is serving office '{office}' on broker {broker}."
            " Two hubs of one office knock each other off the broker; stop the other one first"
            " (perhaps on another PC), or check [office] slug.",
        )


class HubLock:
    """An exclusive, non-blocking `flock` on `{database}.lock`, holding the owner's pid."""

    def __init__(self, database: str | Path) -> None:
        self.path = Path(f"{database}.lock")
        self.in_memory = str(database) == ":memory:"  # nothing on disk to share: no lock
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AnotherHub naming the process that holds it."""
        if self.in_memory:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise AnotherHub.locked(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> HubLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

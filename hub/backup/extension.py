"""The backup part: the hub makes the day's backup of its database by itself.

On when `[backup] folder` is set. Each day at `[backup] time` (30 minutes after `[office]
closing` when not set) it backs the database up once with `antrian.backup.files.make_backup`
(which keeps the newest `keep_days`), and at start when the newest backup is more than a day
old (a hub that was off over a long weekend, or never backed up). It looks at the hub's own
clock on the hub's tick (`antrian.bus.Ticked`), so the schedule follows the time the queue
runs on. The backup runs in a thread: it reads its own consistent moment of the log, and the
queue goes on answering meanwhile. A backup that fails (the USB disk not mounted, the disk
full) is logged and tried again 15 minutes later; the last good backup stays as it was.

A backup's file time is set to the hub's time of the backup, so "how old is the newest
backup" (`antrian.backup.files.latest_backup`) is read on the same clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from antrian.backup.files import BackupError, list_backups, make_backup
from antrian.bus import Ticked
from antrian.config import Config
from antrian.extension import Extension
from antrian.i18n import t

if TYPE_CHECKING:
    from antrian.service import HubService

log = logging.getLogger("antrian.backup")

#: A backup older than this at start is replaced by a fresh one.
STALE: Final = timedelta(days=1)
#: After a failed backup, the next try (not at every tick: one log line per try).
RETRY: Final = timedelta(minutes=15)


def backup_time(cfg: Config) -> time:
    """When the day's backup is made: `[backup] time`, else 30 minutes after closing."""
    if cfg.backup.time is not None:
        return cfg.backup.time
    closing = datetime.combine(date(2000, 1, 1), cfg.office.closing) + timedelta(minutes=30)
    return closing.time()


class Backups(Extension):
    """Makes the day's backup, once a day, in a thread."""

    name: ClassVar[str] = "backup"

    def __init__(self, hub: HubService) -> None:
        super().__init__(hub)
        self.folder = Path(self.cfg.backup.folder)
        self._task: asyncio.Task[None] | None = None
        #: The day whose backup at `backup_time` is done (or being made).
        self._done: date | None = None
        #: A backup is due at the next look whatever the time (the one at start, a retry)...
        self._due_now = False
        #: ... but not before this time (after a failure).
        self._retry_at: datetime | None = None

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.backup.enabled and cfg.database != ":memory:"

    async def start(self) -> None:
        now = self._now()
        newest = list_backups(self.cfg.database, self.folder)[-1:]
        if not newest or now - _made(newest[0].path) > STALE:
            self._due_now = True
        elif newest[0].day == now.date() and _made(newest[0].path) >= _at(now, backup_time(self.cfg)):
            self._done = now.date()  # today's scheduled backup was made before a restart
        self.bus.on(Ticked, self, lambda tick: self._look(tick.now))
        self._look(now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await super().stop()

    def _now(self) -> datetime:
        return self.core.clock().astimezone(self.cfg.office.tz)

    def _look(self, now: datetime) -> None:
        """Start the backup that is due, unless one is being made."""
        if self._task is not None and not self._task.done():
            return
        now = now.astimezone(self.cfg.office.tz)
        scheduled = now.time() >= backup_time(self.cfg) and self._done != now.date()
        due = self._due_now and (self._retry_at is None or now >= self._retry_at)
        if not (due or scheduled):
            return
        self._due_now = False
        if scheduled:
            self._done = now.date()
        self._task = asyncio.create_task(self._backup(now), name="backup")

    async def _backup(self, now: datetime) -> None:
        lang = self.cfg.office.language
        try:
            path = await asyncio.to_thread(
                make_backup, self.cfg.database, self.folder, now.date(), keep_days=self.cfg.backup.keep_days
            )
        except BackupError as exc:
            log.error("%s", t(exc.key, lang, **exc.params))
            self._due_now, self._retry_at = True, now + RETRY
            return
        self._retry_at = None
        stamp = now.timestamp()
        with contextlib.suppress(OSError):
            os.utime(path, (stamp, stamp))
        log.info("%s", t("backup.made", lang, path=path))


def _made(path: Path) -> datetime:
    """When a backup was made (its file time), as an aware time."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _at(now: datetime, at: time) -> datetime:
    return datetime.combine(now.date(), at, tzinfo=now.tzinfo)

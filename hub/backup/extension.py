"""The backup part: the hub makes the day's backup of its database by itself.

On when `[backup] folder` is set. At start, when today's backup is missing, and each day at
`[backup] time` (30 minutes after `[office] closing` when not set), it backs the database up
with `antrian.backup.files.make_backup`, in a thread: the backup reads its own consistent
moment of the log, so the queue goes on answering meanwhile. A backup that fails (the USB disk
not mounted, the disk full) is logged and tried again at the next time; the last good backup
stays as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from antrian.backup.files import BackupError, list_backups, make_backup
from antrian.config import Config
from antrian.extension import Extension
from antrian.i18n import t

if TYPE_CHECKING:
    from antrian.service import HubService

log = logging.getLogger("antrian.backup")

#: Seconds between looks at the clock.
TICK: Final = 30.0


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
        #: The day whose backup at `backup_time` is done.
        self._done: date | None = None

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.backup.enabled and cfg.database != ":memory:"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="backup")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await super().stop()

    def _now(self) -> datetime:
        return self.core.clock().astimezone(self.cfg.office.tz)

    async def _run(self) -> None:
        at = backup_time(self.cfg)
        now = self._now()
        if not any(b.day == now.date() for b in list_backups(self.cfg.database, self.folder)):
            await self._backup(now.date())
            if now.time() >= at:
                self._done = now.date()
        while True:
            await asyncio.sleep(TICK)
            now = self._now()
            if now.time() >= at and self._done != now.date():
                self._done = now.date()
                await self._backup(now.date())

    async def _backup(self, day: date) -> None:
        lang = self.cfg.office.language
        try:
            path = await asyncio.to_thread(
                make_backup, self.cfg.database, self.folder, day, keep_days=self.cfg.backup.keep_days
            )
        except BackupError as exc:
            log.error("%s", t(exc.key, lang, **exc.params))
            return
        log.info("%s", t("backup.made", lang, path=path))

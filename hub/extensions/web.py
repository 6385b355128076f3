"""The web pages (TV, kiosk, ticket status, officer, admin) and the admin's topic monitor.

The pages are one more client of the core (`core.handle`), on the hub's own event loop. They
hear of every committed change on the bus: the pictures are drawn again once for all pages,
and each call is handed to the waiting-room TV as it is (two calls in one moment are two
calls on the TV, never one picture).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from antrian.config import Config
from antrian.extension import Extension

log = logging.getLogger("antrian.web")


class WebPages(Extension):
    name = "web"

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.web.enabled

    async def start(self) -> None:
        from antrian.web import server  # aiohttp and the pages: loaded only where they run

        self._stop: Callable[[], Awaitable[None]] | None = None
        try:
            self._stop = await server.start(self.core, self.hub)
        except OSError as exc:  # e.g. the port is taken: the queue itself must still run
            log.error(
                "halaman web tidak berjalan / web pages not started (port %s): %s", self.cfg.web.port, exc
            )

    async def stop(self) -> None:
        if self._stop is not None:
            await self._stop()
            self._stop = None
        await super().stop()

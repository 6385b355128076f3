"""The seam every part around the core plugs into: an `Extension` with a start and a stop.

Modelled on Zigbee2MQTT's extensions: the core decides and commits; each outward feature (the
LED boards, the speakers, Home Assistant, the web pages, and what comes later: notifications,
reports, the regency link) is one class registered in one list (`antrian.extensions.BUILTIN`).
An extension listens on the typed bus (`antrian.bus`) and returns the messages its reaction needs;
it never changes the queue except through `core.handle`, like any other client.

To add a part: subclass `Extension`, register its listeners in `start`, add it to `BUILTIN`,
and test it with the shared scenarios in `tests/kit`. Nothing in the core changes. A part that
must commit something together with the events that cause it (a notification queued with the
call) registers `bus.on_committing`; a part with pages of its own returns them from
`web_routes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from antrian.bus import EventBus
from antrian.config import Config
from antrian.contract import Outgoing, Topics
from antrian.retained import RetainedCache

__all__ = ["Extension", "RetainedCache"]

if TYPE_CHECKING:
    from aiohttp.web import AbstractRouteDef

    from antrian.core import HubCore
    from antrian.service import HubService


class Extension:
    """One part around the core. The constructor only keeps references; `start` does the work."""

    #: A short name for logs and the admin page.
    name: ClassVar[str] = "extension"

    def __init__(self, hub: HubService) -> None:
        self.hub = hub
        self.core: HubCore = hub.core
        self.cfg: Config = hub.core.cfg
        self.bus: EventBus = hub.core.bus
        self.topics: Topics = hub.core.topics

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        """Whether this office runs the part (from its configuration)."""
        return True

    async def start(self) -> None:
        """Register listeners and start any task of its own. Must return promptly."""

    async def stop(self) -> None:
        """Stop tasks; the bus forgets this part's listeners."""
        self.bus.remove(self)

    def web_routes(self) -> Sequence[AbstractRouteDef]:
        """The routes this part adds to the web pages (`antrian.web.server` mounts them)."""
        return ()

    def publish(self, messages: Iterable[Outgoing]) -> None:
        """Publish outside a bus reaction (from a task of the part's own)."""
        self.hub.publish(messages)

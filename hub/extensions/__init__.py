"""The parts around the core, in one list: what an office runs besides the queue itself.

Each is an `antrian.extension.Extension`. `antrian run` starts those whose `enabled(cfg)` says so,
in this order, and stops them in reverse.
"""

from __future__ import annotations

from typing import Final

from antrian.backup.extension import Backups
from antrian.booking.extension import Bookings
from antrian.extension import Extension
from antrian.extensions.boards import DisplayBoards
from antrian.extensions.homeassistant import HomeAssistant
from antrian.extensions.speakers import Speakers
from antrian.extensions.updates import FirmwareUpdates
from antrian.extensions.web import WebPages
from antrian.join.extension import PhoneJoin
from antrian.notify.extension import Notifications
from antrian.regency.extension import RegencyLink
from antrian.reports.extension import Reports
from antrian.survey.extension import Survey

#: Every built-in part, in the order they start.
#: Notifications and updates start before the pages, which mount their routes.
BUILTIN: Final[tuple[type[Extension], ...]] = (
    DisplayBoards,
    Speakers,
    HomeAssistant,
    Notifications,
    FirmwareUpdates,
    Survey,
    Bookings,
    PhoneJoin,
    Reports,
    WebPages,
    Backups,
    RegencyLink,
)

__all__ = [
    "BUILTIN",
    "Backups",
    "Bookings",
    "DisplayBoards",
    "FirmwareUpdates",
    "HomeAssistant",
    "Notifications",
    "PhoneJoin",
    "RegencyLink",
    "Reports",
    "Speakers",
    "WebPages",
]

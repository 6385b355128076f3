"""What of an event leaves the office: the log's row, less anything personal about a citizen.

UU PDP 27/2022 and the office's promise to its citizens: a phone number is given only for the
call notification and deleted at the end of the day; a ticket's token is the citizen's key to
its status page, its notification opt-in and its one survey answer. Neither ever leaves the
office. Phone numbers are not in the event log at all (they live, sealed, in the notification
tables: `antrian.notify`); the token is in `ticket_issued`. The centre stores this projection
and compares its copy with the office's log through the same projection (`outward_data`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any, Final

from antrian.contract import CentralEvent
from antrian.queue import Event

#: Event data fields that never leave the office, by event type, each with its reason.
PRIVATE_FIELDS: Final[Mapping[str, Mapping[str, str]]] = {
    "ticket_issued": {
        "token": "the citizen's key to the ticket's status page, notification opt-in and survey answer",
    },
    "phone_ticket": {
        "check_in_code": "what the citizen's phone shows to check the ticket in at a kiosk",
    },
    "booking_checked_in": {
        "booking": "the citizen's booking code: their key to look the booking up and cancel it",
    },
}

#: Field names dropped from the data of any event type, should one ever carry them: a new
#: event type with a phone number or a name stays inside the office even before it is listed
#: above (tests/regency checks that every field of the contract's events is known here).
NEVER_OUT: Final = frozenset(
    {
        "token",
        "booking",
        "check_in_code",
        "phone",
        "phone_number",
        "msisdn",
        "name",
        "nik",
        "contact",
        "email",
    }
)


def outward_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` of an event as the centre gets it and stores it (the same for a comparison)."""
    private = PRIVATE_FIELDS.get(event_type, {})
    return {k: v for k, v in data.items() if k not in private and k not in NEVER_OUT}


def outward_event(seq: int, event: Event, tz: tzinfo) -> CentralEvent:
    """One log row as `central/events` carries it: its position, its time in the office's zone
    at the log's full precision (so the centre's copy compares equal), its projected data."""
    return {
        "seq": seq,
        "day": event.day,
        "at": event.at.astimezone(tz).isoformat(),
        "type": event.type,
        "actor": event.actor,
        "reason": event.reason or None,
        "data": outward_data(event.type, event.data),
    }

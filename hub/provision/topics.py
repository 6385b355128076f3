"""The topics of one device, resolved from the contract's templates: its config and its ACL.

`antrian.contract.topic_templates()` is the one place a topic is spelled. Provisioning fills
in the office and the device id and writes the result into the device's `config.json`
(`topics`), and builds the broker's ACL for that device from the same templates, so what a
board uses and what the broker lets it do cannot drift apart.

Why the board gets its topics resolved in its config rather than a copy of the contract
(`devices/contract.json`) to read at boot: an ESP32 has ~100 KB of heap for the firmware
(the tests hold it to 48 KB) and the kiosk already peaks at ~43 KB. The contract is ~7 KB of
flash and parsing it takes ~25 KB of heap on the unix port (~12 KB on a 32-bit board) for
commands, events and error codes the board never uses; eight resolved topics are ~400 bytes,
kept in the config the board reads anyway, and need no template code on the board. Two
placeholders stay for the board to fill with one `str.replace`: `{command}` (a different one
per request) and `{counter}` (the counter the hub binds a call pad to, which a pad without
one in its config learns from the hub's first answer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from antrian.contract import topic_templates

#: What every device publishes: its birth and last will, its info, its requests.
DEVICE_WRITES: Final = ("device_availability", "device_info", "device_request")
#: What a role publishes besides DEVICE_WRITES: a speaker reports each call it played or had to
#: give up (`device_event`), so that no call is lost unseen; no other role may.
ROLE_WRITES: Final[Mapping[str, tuple[str, ...]]] = {
    "kiosk": (),
    "call_pad": (),
    "led_board": (),
    "speaker": ("device_event",),
    "screen": (),
}
#: What every device reads: the answers to its requests, `set`, and whether the hub is up.
DEVICE_READS: Final = ("device_response", "device_set", "hub_state")
#: What each role in `antrian.contract.DEVICE_ROLES` reads besides DEVICE_READS.
ROLE_READS: Final[Mapping[str, tuple[str, ...]]] = {
    "kiosk": (),
    "call_pad": ("counter_state",),
    "led_board": ("device_display",),
    "speaker": ("device_play",),
    "screen": ("device_display",),
}
#: The hub's words to a device: the device reads them, only the hub writes them (so a device
#: cannot forge a display, an announcement, a `set` or an answer).
HUB_TO_DEVICE: Final = ("device_response", "device_display", "device_play", "device_set")
#: The queue state any device may read: what every dashboard shows anyway.
PUBLIC_STATE: Final = (
    "hub_state",
    "hub_info",
    "office_state",
    "service_state",
    "counter_state",
    "counter_event",
)
#: Placeholders the board fills itself (see the module's docstring).
ON_THE_BOARD: Final = ("command", "counter")

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(template: str, **values: str) -> str:
    """`template` with each `{name}` given in `values` replaced; other placeholders stay."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def wildcard(template: str, **values: str) -> str:
    """An ACL topic: `values` filled in, every other placeholder the one-level wildcard `+`."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), "+"), template)


def device_topics(office: str, device_id: str, role: str) -> dict[str, str]:
    """The topics a device of `role` uses, by contract name, with office and id filled in.

    What provisioning writes into `config.json` as `topics`; only `{command}` and
    `{counter}` are left for the board.
    """
    templates = topic_templates()
    names = (*DEVICE_WRITES, *DEVICE_READS, *ROLE_READS[role])
    return {name: fill(templates[name], office=office, id=device_id) for name in names}


def device_acl(office: str, device_id: str, role: str) -> tuple[list[str], list[str]]:
    """What the broker lets one device of `role` read and write: (read topics, write topics).

    Reads: the hub's words to this device and the public queue state; writes: only what the
    device says about itself (and its role's own reports, `ROLE_WRITES`). Any role's own
    topics are among them (a test holds it).
    """
    templates = topic_templates()
    reads = [wildcard(templates[n], office=office, id=device_id) for n in (*HUB_TO_DEVICE, *PUBLIC_STATE)]
    names = (*DEVICE_WRITES, *ROLE_WRITES.get(role, ()))
    writes = [wildcard(templates[n], office=office, id=device_id) for n in names]
    return reads, writes

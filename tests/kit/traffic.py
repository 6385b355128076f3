"""What each client did on a broker, read from the broker's own log.

A Mosquitto with `LOG_EVERYTHING` in its config logs every CONNECT with its last will, every
SUBSCRIBE with its topic filters, and every PUBLISH it received or denied. Read from there, the
topics a part uses are seen from outside it, as the broker saw them, with nothing in the part
changed for the test. (An ACL-denied publish is silent to its sender; only this log says so.)
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

#: The line to add to a broker's config (`Mosquitto(extra_conf=...)`) for `read_traffic`.
LOG_EVERYTHING = "log_type all"

_STAMP = re.compile(r"^\d+: ")
_CONNECTED = re.compile(r"^New client connected from \S+ as (\S+) \(")
_SUBSCRIBE = re.compile(r"^Received SUBSCRIBE from (\S+)$")
_FILTER = re.compile(r"^\t(.+) \(QoS \d\)$")
_PUBLISH = re.compile(
    r"^(Received|Denied) PUBLISH from (\S+) \(d\d, q\d, r\d, m\d+, '(.*)', \.\.\. \(\d+ bytes\)\)$"
)
_SENDING = re.compile(r"^Sending PUBLISH to (\S+) \(d\d, q\d, r\d, m\d+, '(.*)', \.\.\. \(\d+ bytes\)\)$")


@dataclass
class Traffic:
    """Per client id: the topics of its last wills, subscriptions, publishes, denied publishes,
    and of the messages the broker delivered to it (the read ACL let them through)."""

    wills: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    subscribed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    published: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    denied: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    delivered: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def written(self, client: str) -> set[str]:
        """Every topic `client` published to or left a last will on."""
        return self.published[client] | self.denied[client] | self.wills[client]


def read_traffic(log: str) -> Traffic:
    """The traffic in a Mosquitto 2.x log written with `LOG_EVERYTHING`."""
    out = Traffic()
    connecting = subscribing = None
    will_next = False
    for raw in log.splitlines():
        line = _STAMP.sub("", raw)
        if will_next and line.startswith("\t") and connecting is not None:
            out.wills[connecting].add(line[1:])
            will_next = False
            continue
        will_next = False
        if subscribing is not None:
            f = _FILTER.match(line)
            if f:
                out.subscribed[subscribing].add(f.group(1))
                continue
            if not line.startswith(f"{subscribing} "):  # the `log_type subscribe` echo
                subscribing = None
        if m := _CONNECTED.match(line):
            connecting = m.group(1)
        elif line.startswith("Will message specified"):
            will_next = True
        elif m := _SUBSCRIBE.match(line):
            subscribing = m.group(1)
        elif m := _PUBLISH.match(line):
            target = out.published if m.group(1) == "Received" else out.denied
            target[m.group(2)].add(m.group(3))
        elif m := _SENDING.match(line):
            out.delivered[m.group(1)].add(m.group(2))
    return out

"""The speaker node: its own part, on a Raspberry Pi by a waiting room's loudspeaker or on the
office PC, connected to the broker like any device (`antrian speaker`).

It is not part of the hub: it needs no database and no web side, only the clip cache and audio
joining of `antrian.voice`, which the hub uses to build and serve the clips. `node` is the MQTT
side and the play queue, `sinks` where the sound goes, `cli` the command.
"""

from __future__ import annotations

from antrian.speaker.node import Call, SpeakerConfig, SpeakerNode, SpeakerStats, parse_play
from antrian.speaker.sinks import AplaySink, Playback, Sink, WavFileSink

__all__ = [
    "AplaySink",
    "Call",
    "Playback",
    "Sink",
    "SpeakerConfig",
    "SpeakerNode",
    "SpeakerStats",
    "WavFileSink",
    "parse_play",
]

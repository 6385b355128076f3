"""`antrian speaker`: run a speaker node until interrupted.

The main `antrian` command mounts it with `add_commands(subparsers)`. Settings come from flags,
and from the office's `antrian.toml` where the node runs on the hub's own PC.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from pathlib import Path

from antrian.config import MqttConfig
from antrian.i18n import default_lang
from antrian.speaker.node import SpeakerConfig, SpeakerNode
from antrian.speaker.sinks import AplaySink, Sink, WavFileSink
from antrian.voice import audio
from antrian.voice.cli import office_config


def cmd_speaker(args: argparse.Namespace) -> int:
    """Run a speaker node until interrupted."""
    # a node on its own machine: what it plays, drops and fetches goes to its journal
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = office_config(args)
    mqtt = cfg.mqtt if cfg else MqttConfig()
    username = args.username or mqtt.username
    password = os.environ.get("ANTRIAN_MQTT_PASSWORD", mqtt.password or "") or None
    config = SpeakerConfig(
        speaker_id=args.id,
        cache_dir=args.cache,
        office=args.office or (cfg.office.slug if cfg else "kantor"),
        host=args.host or mqtt.host,
        port=args.port or mqtt.port,
        hub_url=args.hub_url or (cfg.office.public_url if cfg else None),
        username=username,
        password=password if username else None,
        tls_ca=args.tls_ca or mqtt.tls_ca,
        volume=args.volume,
        gap_ms=args.gap_ms,
        lang=args.lang,
    )
    sink: Sink = WavFileSink(args.wav_dir, speed=1.0) if args.wav_dir else AplaySink(args.alsa_device)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(SpeakerNode(config, sink).run())
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `speaker` to the main `antrian` parser."""
    sp = subparsers.add_parser("speaker", help="jalankan node pengeras suara / run a speaker node")
    sp.add_argument("--id", required=True, help="device id of this speaker, e.g. speaker-1")
    sp.add_argument("-c", "--config", default=None, help="antrian.toml, if this machine has one")
    sp.add_argument("--office", default=None, help="office slug (default kantor)")
    sp.add_argument("--host", default=None, help="MQTT broker host (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=None, help="MQTT broker port (default 1883)")
    sp.add_argument("--username", default=None, help="MQTT user (password: ANTRIAN_MQTT_PASSWORD)")
    sp.add_argument("--tls-ca", default=None, help="CA certificate of a TLS broker listener")
    sp.add_argument("--hub-url", default=None, help="hub web address, e.g. http://hub.lan:8080")
    sp.add_argument("--cache", type=Path, default=None, help="local clip cache folder")
    sp.add_argument("--volume", type=int, default=80, help="start volume 0-100")
    sp.add_argument("--gap-ms", type=int, default=audio.DEFAULT_GAP_MS, help="gap between clips")
    sp.add_argument("--alsa-device", default=None, help="ALSA device for aplay -D")
    sp.add_argument("--wav-dir", type=Path, default=None, help="write WAV files, no loudspeaker")
    sp.add_argument("--lang", choices=("id", "en"), default=default_lang())
    sp.set_defaults(func=cmd_speaker)

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
from antrian.i18n import default_lang, t
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
    lang = default_lang()
    sp = subparsers.add_parser("speaker", help=t("cli.speaker", lang))
    sp.add_argument("--id", required=True, help=t("cli.speaker_id", lang))
    sp.add_argument("-c", "--config", default=None, help=t("cli.speaker_config", lang))
    sp.add_argument("--office", default=None, help=t("cli.speaker_office", lang))
    sp.add_argument("--host", default=None, help=t("cli.speaker_host", lang))
    sp.add_argument("--port", type=int, default=None, help=t("cli.speaker_port", lang))
    sp.add_argument("--username", default=None, help=t("cli.speaker_username", lang))
    sp.add_argument("--tls-ca", default=None, help=t("cli.speaker_tls_ca", lang))
    sp.add_argument("--hub-url", default=None, help=t("cli.speaker_hub_url", lang))
    sp.add_argument("--cache", type=Path, default=None, help=t("cli.speaker_cache", lang))
    sp.add_argument("--volume", type=int, default=80, help=t("cli.speaker_volume", lang))
    sp.add_argument("--gap-ms", type=int, default=audio.DEFAULT_GAP_MS, help=t("cli.gap_ms", lang))
    sp.add_argument("--alsa-device", default=None, help=t("cli.speaker_alsa_device", lang))
    sp.add_argument("--wav-dir", type=Path, default=None, help=t("cli.speaker_wav_dir", lang))
    sp.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    sp.set_defaults(func=cmd_speaker)

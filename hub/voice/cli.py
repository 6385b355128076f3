"""`antrian tts build|say`: the voice clip commands (the speaker node's is `antrian.speaker.cli`).

The main `antrian` command mounts these with `add_commands(subparsers)`; `python -m
antrian.voice.cli ...` runs them on their own.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from antrian.announce import Wording, build
from antrian.config import Config, ConfigError, find_config, load_config
from antrian.contract import parse_ticket_code
from antrian.i18n import default_lang, t
from antrian.voice import audio
from antrian.voice.cache import ClipCache, build_cache, default_engines, office_clip_texts

DEFAULT_CACHE = Path("tts_cache")


class ProgressBar:
    """A one-line bar on a terminal; a line every 10 % when the output is a log file."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self._last_decile = -1

    def __call__(self, index: int, total: int, clip_id: str, engine: str) -> None:
        frac = index / total if total else 1.0
        filled = int(self.width * frac)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {index}/{total} {clip_id} ({engine or '-'})"
        if self.tty:
            self.stream.write("\r" + line[:100].ljust(100))
            if index == total:
                self.stream.write("\n")
        elif int(frac * 10) != self._last_decile:
            self._last_decile = int(frac * 10)
            self.stream.write(line + "\n")
        self.stream.flush()


def office_config(args: argparse.Namespace) -> Config | None:
    """The office configuration, looked for as every command does (`find_config`: `--config`,
    `$ANTRIAN_CONFIG`, /etc/antrian/antrian.toml, ./antrian.toml); without one the defaults, as
    voice works without an office. `args.cache` defaults to its clip cache (`tts_cache/`
    without one)."""
    path = find_config(args.config)
    if path is None:
        args.cache = args.cache or DEFAULT_CACHE
        return None
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        raise SystemExit(f"Konfigurasi salah / bad configuration: {exc}") from None
    if args.cache is None:  # the configured cache, unless --cache says otherwise
        args.cache = Path(cfg.tts_cache)
    return cfg


def _wording(args: argparse.Namespace, cfg: Config | None) -> Wording:
    """The configured wording, with any flag given on the command line on top."""
    base = cfg.wording if cfg else Wording()
    flags = {
        "prefix": args.prefix,
        "direction": args.direction,
        "counter_word": args.counter_word,
        "repeat": args.repeat,
        "digit_mode": True if args.digits else None,
    }
    return replace(base, **{k: v for k, v in flags.items() if v is not None})


def _spoken_names(cfg: Config | None) -> dict[int, str]:
    return {c.number: c.spoken_name for c in cfg.counters if c.spoken_name} if cfg else {}


def _add_wording_flags(p: argparse.ArgumentParser, lang: str) -> None:
    from antrian.cli import add_config_flag

    w = Wording()
    add_config_flag(p)
    p.add_argument("--cache", type=Path, default=None, help=t("cli.tts_cache", lang))
    p.add_argument("--prefix", default=None, help=t("cli.tts_prefix", lang, default=repr(w.prefix)))
    p.add_argument("--direction", default=None, help=t("cli.tts_direction", lang, default=repr(w.direction)))
    p.add_argument(
        "--counter-word", default=None, help=t("cli.tts_counter_word", lang, default=repr(w.counter_word))
    )
    p.add_argument("--repeat", type=int, default=None, help=t("cli.tts_repeat", lang, default=w.repeat))
    p.add_argument("--digits", action="store_true", help=t("cli.tts_digits", lang))
    p.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))


def cmd_tts_build(args: argparse.Namespace) -> int:
    """Build or refresh the clip cache; exit 1 if any clip is missing afterwards."""
    cfg = office_config(args)
    names = [*_spoken_names(cfg).values(), *(args.counter_name or [])]
    texts = office_clip_texts(_wording(args, cfg), names)
    engines = default_engines(
        args.cache,
        [e.strip() for e in args.engines.split(",") if e.strip()],
        gtts_tld=args.gtts_tld,
        espeak_voice=args.espeak_voice,
    )
    progress = None if args.quiet else ProgressBar()
    report = build_cache(args.cache, texts, engines, lang=args.lang, progress=progress)
    for msg in report.messages:
        print(msg, file=sys.stderr)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(report.engines.items()))
    print(t("voice.engines_used", args.lang, summary=summary or t("voice.none", args.lang)))
    print(
        t(
            "voice.build_done",
            args.lang,
            root=args.cache,
            total=report.total,
            built=len(report.built),
            reused=len(report.reused),
            removed=len(report.removed),
            failed=len(report.failed),
            seconds=report.seconds,
        )
    )
    return 1 if report.failed else 0


def cmd_tts_say(args: argparse.Namespace) -> int:
    """Write one call's announcement to a WAV file, to hear the cache without a speaker."""
    parsed = parse_ticket_code(args.ticket)
    if parsed is None:
        print(t("voice.bad_ticket", args.lang, ticket=repr(args.ticket)), file=sys.stderr)
        return 2
    letter, number = parsed
    cfg = office_config(args)
    name = args.name or _spoken_names(cfg).get(args.counter)
    ann = build(letter, number, args.counter, counter_name=name, wording=_wording(args, cfg))
    pcm, _ = ClipCache(args.cache).render(ann.clips, args.gap_ms)
    args.output.write_bytes(audio.wav_bytes(pcm))
    print(ann.text)
    print(t("voice.say_done", args.lang, path=args.output, seconds=pcm.duration))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `tts` (with `build` and `say`) to the main `antrian` parser."""
    lang = default_lang()
    engines = "voice_pack,gtts,espeak-ng"
    tts = subparsers.add_parser("tts", help=t("cli.tts", lang))
    tts_sub = tts.add_subparsers(dest="tts_command", required=True)

    b = tts_sub.add_parser("build", help=t("cli.tts_build", lang))
    _add_wording_flags(b, lang)
    b.add_argument("--engines", default=engines, help=t("cli.tts_engines", lang, default=engines))
    b.add_argument("--counter-name", action="append", help=t("cli.tts_counter_name", lang))
    b.add_argument("--gtts-tld", default="co.id", help=t("cli.tts_gtts_tld", lang, default="co.id"))
    b.add_argument("--espeak-voice", default=None, help=t("cli.tts_espeak_voice", lang))
    b.add_argument("--quiet", action="store_true", help=t("cli.tts_quiet", lang))
    b.set_defaults(func=cmd_tts_build)

    s = tts_sub.add_parser("say", help=t("cli.tts_say", lang))
    _add_wording_flags(s, lang)
    s.add_argument("ticket", help=t("cli.tts_ticket", lang))
    s.add_argument("counter", type=int, help=t("cli.tts_counter", lang))
    s.add_argument("--name", default=None, help=t("cli.tts_name", lang))
    s.add_argument("--gap-ms", type=int, default=audio.DEFAULT_GAP_MS, help=t("cli.gap_ms", lang))
    s.add_argument("-o", "--output", type=Path, default=Path("panggilan.wav"), help=t("cli.tts_output", lang))
    s.set_defaults(func=cmd_tts_say)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `python -m antrian.voice.cli`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from antrian.cli import Parser

    parser = Parser(prog="antrian", description=t("cli.tts", default_lang()))
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

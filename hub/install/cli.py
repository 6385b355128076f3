"""`antrian install` and `antrian doctor`: make this machine an office hub, and check it.

    sudo antrian install                       the user, folders, config, broker, units; started
    antrian install --prefix /tmp/root         the same tree inside a throwaway root
    sudo antrian install --dry-run             what it would do, nothing written
    sudo antrian doctor [-c antrian.toml]      one line per check: OK / PERINGATAN / GAGAL
    antrian doctor --mqtt-secret FILE          logged in with the account in FILE (username,
                                               password), not /etc/antrian/secrets' own

Both speak the command line's language (`antrian.i18n.default_lang`), `--lang en` for
English. `install` exits 2 when it refuses, 1 when a step failed; `doctor` exits 1 on any
failure, 0 otherwise (warnings included).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from antrian.i18n import default_lang, t
from antrian.install import layout
from antrian.install.doctor import FAIL, MOSQUITTO_INCLUDE, Context, run_checks, summary
from antrian.install.machine import Installer, InstallRefused, Step

MARKS: Final = {"done": "✓", "same": "✓", "kept": "✓", "would": "•", "warn": "!", "failed": "✗"}


def step_line(step: Step, lang: str) -> str:
    text = t(step.key, lang, **step.params)
    if step.state == "same":
        text += t("install.unchanged", lang)
    elif step.state == "would":
        text += t("install.would", lang)
    return f"{MARKS[step.state]} {text}"


def cmd_install(args: argparse.Namespace) -> int:
    from antrian.cli import example_config

    lang = args.lang
    try:
        installer = Installer(
            prefix=Path(args.prefix) if args.prefix else None,
            user=args.user,
            example=example_config(lang).read_text(encoding="utf-8"),
            dry_run=args.dry_run,
            systemctl=not args.no_systemctl,
        )
    except InstallRefused as exc:
        print(t(exc.key, lang, **exc.params), file=sys.stderr)
        return 2
    try:
        installer.run()
    except InstallRefused as exc:
        for step in installer.steps:
            print(step_line(step, lang))
        print(t(exc.key, lang, **exc.params), file=sys.stderr)
        return 2
    for step in installer.steps:
        print(step_line(step, lang))
    steps = installer.steps
    if all(s.state in ("same", "kept", "warn") for s in steps) and not args.dry_run:
        print(t("install.nothing_changed", lang))
    if args.dry_run:
        print(t("install.dry_run", lang))
        return 0
    print()
    print(t("install.next", lang, config=layout.CONFIG, broker=layout.BROKER, env=layout.SPEAKER_ENV))
    if not installer.systemctl:
        print(t("install.next_systemctl", lang, hub=layout.HUB_UNIT))
    return 1 if any(s.state == "failed" for s in steps) else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    lang = args.lang
    secret = Path(args.mqtt_secret) if args.mqtt_secret else None
    ctx = Context(config_arg=args.config, mqtt_secret=secret, mosquitto_conf=Path(args.mosquitto_conf))
    results = run_checks(ctx, lang)
    for result in results:
        print(result.line(lang))
    print(summary(results, lang))
    return 1 if any(r.status == FAIL for r in results) else 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lang = default_lang()
    p = subparsers.add_parser("install", help=t("cli.install", lang))
    p.add_argument("--prefix", metavar="DIR", help=t("cli.install_prefix", lang))
    p.add_argument("--user", help=t("cli.install_user", lang))
    p.add_argument("--dry-run", action="store_true", help=t("cli.install_dry_run", lang))
    p.add_argument("--no-systemctl", action="store_true", help=t("cli.install_no_systemctl", lang))
    p.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    p.set_defaults(func=cmd_install)

    d = subparsers.add_parser("doctor", help=t("cli.doctor", lang))
    d.add_argument("-c", "--config", help=t("cli.config", lang))
    d.add_argument(
        "--mosquitto-conf",
        default=str(MOSQUITTO_INCLUDE),
        metavar="FILE",
        help=t("cli.doctor_mosquitto", lang),
    )
    d.add_argument("--mqtt-secret", metavar="FILE", help=t("cli.doctor_mqtt_secret", lang))
    d.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    d.set_defaults(func=cmd_doctor)

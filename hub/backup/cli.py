"""`antrian backup` and `antrian restore`: the IT officer's backup and its restore.

    antrian backup                      today's backup now, into [backup] folder (or backup/
                                        beside the database), beside a running hub
    antrian backup --to /media/usb      into another folder (a USB disk)
    antrian restore FILE                the hub stopped: check FILE, keep the current database
                                        as <db>.before-restore-<time>, put FILE in its place

Both speak the office's language (`antrian.i18n.default_lang`); a refusal says why, with exit
status 2 (1 when the backup itself failed).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from antrian.backup.files import BackupError, Progress, default_folder, make_backup, restore
from antrian.i18n import default_lang, t


def _progress(lang: str) -> Progress:
    tty = sys.stderr.isatty()
    shown = -1

    def show(done: int, total: int) -> None:
        nonlocal shown
        percent = 100 * done // total if total else 100
        if tty:
            end = "\n" if done >= total else ""
            print(f"\r{t('backup.progress', lang, percent=percent)}", end=end, file=sys.stderr)
        elif percent // 10 != shown // 10 and done < total:
            print(t("backup.progress", lang, percent=percent), file=sys.stderr)
        shown = percent

    return show


def cmd_backup(args: argparse.Namespace) -> int:
    from antrian.cli import _config

    lang = default_lang()
    cfg = _config(args.config)
    folder = Path(args.to) if args.to else default_folder(cfg)
    day = datetime.now(cfg.office.tz).date()
    try:
        path = make_backup(
            cfg.database, folder, day, keep_days=cfg.backup.keep_days, progress=_progress(lang)
        )
    except BackupError as exc:
        print(t(exc.key, lang, **exc.params), file=sys.stderr)
        return 2 if exc.key == "backup.no_database" else 1
    print(t("backup.made", lang, path=path))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from antrian.cli import _config

    lang = default_lang()
    cfg = _config(args.config)
    try:
        done = restore(cfg, Path(args.file))
    except BackupError as exc:
        print(t(exc.key, lang, **exc.params), file=sys.stderr)
        return 2
    if done.kept is not None:
        print(t("backup.kept", lang, path=done.kept))
    print(t("backup.restored", lang, path=done.database, days=done.days, events=done.events))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lang = default_lang()
    p = subparsers.add_parser("backup", help=t("cli.backup_command", lang))
    p.add_argument("-c", "--config", help=t("cli.config", lang))
    p.add_argument("--to", metavar="FOLDER", help=t("cli.backup_to", lang))
    p.set_defaults(func=cmd_backup)

    p = subparsers.add_parser("restore", help=t("cli.backup_restore", lang))
    p.add_argument("-c", "--config", help=t("cli.config", lang))
    p.add_argument("file", help=t("cli.backup_file", lang))
    p.set_defaults(func=cmd_restore)

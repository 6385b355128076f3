"""`antrian users ...`: the officer and admin accounts of the web pages.

    antrian users add NAME --role admin|officer [--counters 1,2] [--password-stdin] [-c antrian.toml]
    antrian users list [-c antrian.toml]
    antrian users remove NAME [-c antrian.toml]
    antrian users kiosk NAME [-c antrian.toml]          # a new key for the kiosk tablet NAME
    antrian users kiosk-remove NAME [-c antrian.toml]

Accounts are kept in the hub's database file, so the command works while the hub runs.
`--counters` binds an officer account to its counters: the pages refuse any action of that
account on another counter (or on a ticket no counter of its serves).
`kiosk` gives a tablet its key: the kiosk page and its tickets are refused to any browser
without one (a phone on the office Wi-Fi is not a kiosk). The address it prints is opened once
on the tablet; a second `kiosk` for the same name replaces the key (a lost tablet).
"""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys

from antrian.i18n import default_lang, t
from antrian.web.accounts import ROLES, AccountError, Accounts, User, parse_counters


def _accounts(args: argparse.Namespace) -> tuple[Accounts, set[int]]:
    """The accounts of the configured hub, and its counters (a binding must name real ones)."""
    from antrian.cli import _config

    cfg = _config(args.config)
    db = sqlite3.connect(cfg.database, isolation_level=None)
    db.execute("PRAGMA busy_timeout=2000")
    return Accounts(db), {c.number for c in cfg.counters}


def _public_url(args: argparse.Namespace) -> str:
    """The hub's address for the tablet: `[office] public_url` (the tablet is on the LAN)."""
    from antrian.cli import _config

    return _config(args.config).office.public_url.rstrip("/")


def _bound(args: argparse.Namespace, known: set[int], lang: str) -> tuple[int, ...]:
    counters = parse_counters(args.counters or "")
    for n in counters:
        if n not in known:
            raise AccountError(t("users.unknown_counter", lang, counter=n))
    return counters


def _describe(user: User, lang: str) -> str:
    if user.role != "officer":
        return user.role
    where = ",".join(map(str, user.counters)) if user.counters else ""
    bound = t("users.counters", lang, counters=where) if where else t("users.all_counters", lang)
    return f"{user.role} ({bound})"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Kata sandi / password: ")
    if getpass.getpass("Ulangi / repeat: ") != first:
        raise AccountError("passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    lang = default_lang()
    try:
        accounts, known = _accounts(args)
        if args.action == "add":
            counters = _bound(args, known, lang)
            accounts.add_user(args.name, args.role, _read_password(args.password_stdin), counters)
            print(f"OK: {args.name} {_describe(User(args.name, args.role, counters), lang)}")
        elif args.action == "remove":
            if not accounts.remove_user(args.name):
                print(f"{args.name}: tidak ada / no such user", file=sys.stderr)
                return 1
            print(f"OK: {args.name} dihapus / removed")
        elif args.action == "kiosk":
            key = accounts.issue_kiosk_key(args.name)
            print(t("users.kiosk_key", lang, name=args.name))
            print(f"{_public_url(args)}/kiosk?key={key}")
        elif args.action == "kiosk-remove":
            if not accounts.remove_kiosk(args.name):
                print(t("users.kiosk_unknown", lang, name=args.name), file=sys.stderr)
                return 1
            print("OK: " + t("users.kiosk_removed", lang, name=args.name))
        else:
            for user in accounts.users():
                print(f"{user.name:<24} {_describe(user, lang)}")
            for name in accounts.kiosks():
                print(f"{name:<24} {t('users.kiosk_list', lang)}")
    except AccountError as exc:
        print(f"Ditolak / refused: {exc}", file=sys.stderr)
        return 2
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from antrian.cli import add_config_flag

    lang = default_lang()
    p = subparsers.add_parser("users", help=t("cli.users", lang))
    p.add_argument(
        "action", choices=("add", "list", "remove", "kiosk", "kiosk-remove"), help=t("cli.users_action", lang)
    )
    p.add_argument("name", nargs="?", default="", help=t("cli.users_name", lang))
    p.add_argument("--role", choices=ROLES, default="officer", help=t("cli.users_role", lang))
    p.add_argument("--counters", default="", metavar="1,2", help=t("cli.users_counters", lang))
    p.add_argument("--password-stdin", action="store_true", help=t("cli.users_password_stdin", lang))
    add_config_flag(p)
    p.set_defaults(func=cmd_users)

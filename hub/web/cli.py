"""`antrian users ...`: the officer and admin accounts of the web pages.

    antrian users add NAME --role admin|officer [--password-stdin] [-c antrian.toml]
    antrian users list [-c antrian.toml]
    antrian users remove NAME [-c antrian.toml]

Accounts are kept in the hub's database file, so the command works while the hub runs.
"""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys

from antrian.i18n import default_lang, t
from antrian.web.accounts import ROLES, AccountError, Accounts


def _accounts(args: argparse.Namespace) -> Accounts:
    from antrian.cli import _config

    cfg = _config(args.config)
    db = sqlite3.connect(cfg.database, isolation_level=None)
    db.execute("PRAGMA busy_timeout=2000")
    return Accounts(db)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Kata sandi / password: ")
    if getpass.getpass("Ulangi / repeat: ") != first:
        raise AccountError("passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    try:
        accounts = _accounts(args)
        if args.action == "add":
            accounts.add_user(args.name, args.role, _read_password(args.password_stdin))
            print(f"OK: {args.name} ({args.role})")
        elif args.action == "remove":
            if not accounts.remove_user(args.name):
                print(f"{args.name}: tidak ada / no such user", file=sys.stderr)
                return 1
            print(f"OK: {args.name} dihapus / removed")
        else:
            for user in accounts.users():
                print(f"{user.name:<24} {user.role}")
    except AccountError as exc:
        print(f"Ditolak / refused: {exc}", file=sys.stderr)
        return 2
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from antrian.cli import add_config_flag

    lang = default_lang()
    p = subparsers.add_parser("users", help=t("cli.users", lang))
    p.add_argument("action", choices=("add", "list", "remove"), help=t("cli.users_action", lang))
    p.add_argument("name", nargs="?", default="", help=t("cli.users_name", lang))
    p.add_argument("--role", choices=ROLES, default="officer", help=t("cli.users_role", lang))
    p.add_argument("--password-stdin", action="store_true", help=t("cli.users_password_stdin", lang))
    add_config_flag(p)
    p.set_defaults(func=cmd_users)

"""`antrian central init | run | users`: the centre's own commands (added by `antrian.central.cli`).

antrian central init > central.toml          a commented example configuration
antrian central run -c central.toml          the ingest and the regency page, one process
antrian central users add NAME [--password-stdin] -c central.toml
antrian central users remove NAME -c central.toml
antrian central users list -c central.toml
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any, Final

from antrian.i18n import default_lang, t

#: Exit status when the configuration or the database cannot be used.
EXIT_CONFIG: Final = 2


def add_centre_commands(csub: Any, lang: str) -> None:  # noqa: ANN401 - argparse's private subparsers type
    """`antrian central init`, `run` and `users`."""
    q = csub.add_parser("init", help=t("regency.cli_init", lang))
    q.set_defaults(func=cmd_init)
    q = csub.add_parser("run", help=t("regency.cli_run", lang))
    q.add_argument("-c", "--config", required=True, help=t("regency.cli_config", lang))
    q.set_defaults(func=cmd_run)
    q = csub.add_parser("users", help=t("regency.cli_users", lang))
    q.add_argument("action", choices=("add", "remove", "list"))
    q.add_argument("name", nargs="?")
    q.add_argument("--password-stdin", action="store_true", help=t("cli.users_password_stdin", lang))
    q.add_argument("-c", "--config", required=True, help=t("regency.cli_config", lang))
    q.set_defaults(func=cmd_users)


def cmd_init(args: argparse.Namespace) -> int:
    from antrian.central.config import EXAMPLE

    sys.stdout.write(EXAMPLE.read_text(encoding="utf-8"))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from antrian.central.config import CentralConfigError, load

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load(args.config)
    except CentralConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_run(cfg))
    return 0


async def _run(cfg: Any) -> int:  # noqa: ANN401 - a CentralConfig, imported late
    import psycopg

    from antrian.central.db import CentralSchemaError
    from antrian.central.ingest import Ingest
    from antrian.central.web import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    ingest = Ingest(cfg)
    try:
        runner = await serve(cfg)
    except (psycopg.Error, CentralSchemaError) as exc:
        print(f"PostgreSQL ({cfg.dsn.split('@')[-1]}): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"web port {cfg.web_port}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        await ingest.run(stop)
    except (psycopg.Error, CentralSchemaError) as exc:
        print(f"PostgreSQL ({cfg.dsn.split('@')[-1]}): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await runner.cleanup()
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    import psycopg

    from antrian.central.config import CentralConfigError, load
    from antrian.central.db import CentralSchemaError, connect
    from antrian.web.accounts import hash_password
    from antrian.web.cli import _read_password  # the office's own prompt (AccountError is a ValueError)

    lang = default_lang()
    try:
        cfg = load(args.config)
        if args.action != "list" and not args.name:
            raise ValueError(t("regency.users_name_needed", lang))
        if args.name is not None and not (1 <= len(args.name) <= 64 and args.name.isprintable()):
            raise ValueError(t("regency.users_bad_name", lang))
        with connect(cfg.dsn) as conn:
            if args.action == "add":
                password = _read_password(args.password_stdin)
                if not 8 <= len(password) <= 200:
                    raise ValueError(t("regency.users_short_password", lang))
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO central_users (name, password) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO UPDATE SET password = excluded.password",
                        (args.name, hash_password(password)),
                    )
                    # a new password ends the account's open sessions
                    conn.execute("DELETE FROM central_sessions WHERE name = %s", (args.name,))
                print(f"OK: {args.name}")
            elif args.action == "remove":
                cur = conn.execute("DELETE FROM central_users WHERE name = %s", (args.name,))
                if cur.rowcount == 0:
                    print(t("regency.users_no_such", lang, name=args.name), file=sys.stderr)
                    return 1
                print(f"OK: {args.name}")
            else:
                for (name,) in conn.execute("SELECT name FROM central_users ORDER BY name"):
                    print(name)
    except (CentralConfigError, ValueError, CentralSchemaError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except psycopg.Error as exc:
        print(f"PostgreSQL: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0

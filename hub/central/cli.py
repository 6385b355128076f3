"""`antrian central`: the regency's centre.

    antrian central offices add grati --dir central-broker [--host pusat.example.go.id] [--port 8883]
    antrian central offices remove grati --dir central-broker
    antrian central offices list --dir central-broker

`offices` keeps the central broker's folder (`antrian.central.offices`): one account per
office, the ingest's account, passwd, acl and mosquitto.conf, and the office's secret file
to hand over (`secrets/office-<slug>.toml`). `init`, `run` and `users` are the centre's own
(`antrian.central.commands`). Each group of subcommands adds itself with a small function of
its own (`add_offices_commands`, `add_centre_commands`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from antrian.i18n import default_lang, t
from antrian.provision.files import ProvisionError


def add_commands(sub: Any) -> None:  # noqa: ANN401 - argparse's private subparsers type
    """Add `central` to the `antrian` command line."""
    lang = default_lang()
    p = sub.add_parser("central", help=t("link.cli_central_group", lang))
    csub = p.add_subparsers(dest="central_command", required=True)
    add_offices_commands(csub, lang)
    from antrian.central.commands import add_centre_commands

    add_centre_commands(csub, lang)


# ---------------------------------------------------------------------------------------------
# antrian central offices
# ---------------------------------------------------------------------------------------------


def add_offices_commands(csub: Any, lang: str) -> None:  # noqa: ANN401
    """`antrian central offices add | remove | list`."""
    p = csub.add_parser("offices", help=t("link.cli_offices", lang))
    osub = p.add_subparsers(dest="offices_command", required=True)
    for name, func in (("add", cmd_offices_add), ("remove", cmd_offices_remove), ("list", cmd_offices_list)):
        o = osub.add_parser(name, help=t(f"link.cli_offices_{name}", lang))
        if name != "list":
            o.add_argument("slug", help=t("link.cli_slug", lang))
        o.add_argument("--dir", required=True, help=t("link.cli_central_dir", lang))
        if name == "add":
            o.add_argument("--host", help=t("link.cli_central_host", lang))
            o.add_argument("--port", type=int, help=t("link.cli_central_port", lang))
            o.add_argument("--bind", help=t("link.cli_central_bind", lang))
        o.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
        o.set_defaults(func=func)


def _offices(args: argparse.Namespace, change: Any) -> Any:  # noqa: ANN401
    """Open the folder, apply `change`, write every file; a refusal writes nothing (None)."""
    from antrian.central.offices import CentralFolder

    try:
        folder = CentralFolder.open(args.dir)
        folder.configure(
            getattr(args, "host", None), getattr(args, "port", None), getattr(args, "bind", None)
        )
        change(folder)
        folder.write()
    except ProvisionError as exc:
        print(t("devices.error", args.lang, error=exc), file=sys.stderr)
        return None
    return folder


def cmd_offices_add(args: argparse.Namespace) -> int:
    folder = _offices(args, lambda f: f.add(args.slug))
    if folder is None:
        return 2
    secret = folder.path / "secrets" / f"office-{args.slug}.toml"
    print(t("link.office_added", args.lang, slug=args.slug, n=len(folder.offices), file=secret))
    print(t("link.restart_central", args.lang))
    return 0


def cmd_offices_remove(args: argparse.Namespace) -> int:
    if _offices(args, lambda f: f.remove(args.slug)) is None:
        return 2
    print(t("link.office_removed", args.lang, slug=args.slug))
    print(t("link.restart_central", args.lang))
    return 0


def cmd_offices_list(args: argparse.Namespace) -> int:
    from antrian.central.offices import CentralFolder

    try:
        folder = CentralFolder.open(args.dir)
    except ProvisionError as exc:
        print(t("devices.error", args.lang, error=exc), file=sys.stderr)
        return 2
    s = folder.settings
    print(t("link.offices_header", args.lang, n=len(folder.offices), host=s.host, port=s.port))
    for slug in sorted(folder.offices):
        print(f"  {slug}")
    return 0

"""`antrian devices add | remove | list`: accounts for the broker, one per device.

    antrian devices add pad-1 --role call_pad --counter 1 --host 192.168.1.10 \\
        --hub-config antrian.toml [--tls]
    antrian devices remove pad-1 --hub-config antrian.toml
    antrian devices list
    antrian devices pair kiosk-1            # hand a board in setup mode its config
    antrian devices flash kiosk --out DIR   # every file a new board needs over USB
    antrian devices schema > devices/config.schema.json
    antrian devices bridge --secret office-grati.toml [--central HOST:PORT] [--cafile CA]

Every command works on one broker folder (`--dir`, default `./broker`) and regenerates all of
its files. With `--hub-config`, the hub's `[[devices]]` are kept in step in a marked block of
that file; without it, `hub-devices.toml` in the folder holds the tables to copy in.
`schema` prints the JSON Schema of the devices' `config.json` (`antrian.provision.device_config`).
Messages and help are in the command line's language (Bahasa Indonesia unless the environment
asks for English, see `antrian.i18n.default_lang`); `--lang en` gives English messages (the
`devices.` part of the catalogue in `antrian.i18n`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from antrian.i18n import default_lang, t
from antrian.provision.device_config import schema_text
from antrian.provision.files import BrokerFolder, ProvisionError, read_central_secret
from antrian.provision.firmware import ROLE_FILES, write_flash_folder
from antrian.provision.pairing import DEFAULT_PORT, MAX_WRONG, Pairing, device_config, serve


def add_commands(sub: Any) -> None:  # noqa: ANN401 - argparse's private subparsers type
    """Add `devices` to the `antrian` command line."""
    from antrian.cli import Parser  # the parents' options must come under the same, translated title

    lang = default_lang()
    common = Parser(add_help=False)
    common.add_argument("--dir", default="broker", help=t("cli.devices_dir", lang))
    common.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    common.add_argument("--hub-config", help=t("cli.devices_hub_config", lang))
    common.add_argument("--office", help=t("cli.devices_office", lang))
    common.add_argument("--host", help=t("cli.devices_host", lang))
    common.add_argument("--port", type=int, help=t("cli.devices_port", lang))
    common.add_argument("--bind", help=t("cli.devices_bind", lang))
    common.add_argument("--tls", action="store_true", default=None, help=t("cli.devices_tls", lang))
    common.add_argument("--tls-port", type=int, help=t("cli.devices_tls_port", lang))
    common.add_argument("--tls-host", action="append", dest="tls_hosts", help=t("cli.devices_tls_host", lang))
    common.add_argument("--conf-dir", help=t("cli.devices_conf_dir", lang))

    p = sub.add_parser("devices", help=t("cli.devices", lang))
    dsub = p.add_subparsers(dest="devices_command", required=True)

    a = dsub.add_parser("add", parents=[common], help=t("cli.devices_add", lang))
    a.add_argument("id", help=t("cli.devices_id", lang))
    a.add_argument("--role", required=True, help=t("cli.devices_role", lang))
    a.add_argument("--counter", type=int, help=t("cli.devices_counter", lang))
    a.add_argument("--services", help=t("cli.devices_services", lang))
    a.set_defaults(func=cmd_add)

    r = dsub.add_parser("remove", parents=[common], help=t("cli.devices_remove", lang))
    r.add_argument("id", help=t("cli.devices_id", lang))
    r.set_defaults(func=cmd_remove)

    ls = dsub.add_parser("list", parents=[common], help=t("cli.devices_list", lang))
    ls.set_defaults(func=cmd_list)

    w = dsub.add_parser("write", parents=[common], help=t("cli.devices_write", lang))
    w.set_defaults(func=cmd_write)

    br = dsub.add_parser("bridge", help=t("link.cli_bridge", lang))
    br.add_argument("--dir", default="broker", help=t("cli.devices_dir", lang))
    br.add_argument("--central", metavar="HOST:PORT", help=t("link.cli_central", lang))
    br.add_argument("--secret", metavar="FILE", required=True, help=t("link.cli_secret", lang))
    br.add_argument("--cafile", metavar="CA", help=t("link.cli_cafile", lang))
    br.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    br.set_defaults(func=cmd_bridge)

    sc = dsub.add_parser("schema", help=t("cli.devices_schema", lang))
    sc.set_defaults(func=cmd_schema)

    pr = dsub.add_parser("pair", help=t("cli.devices_pair", lang))
    pr.add_argument("id", help=t("cli.devices_id", lang))
    pr.add_argument("--dir", default="broker", help=t("cli.devices_dir", lang))
    pr.add_argument("--listen", default="0.0.0.0", help=t("cli.devices_pair_listen", lang))  # noqa: S104
    pr.add_argument("--pair-port", type=int, default=DEFAULT_PORT, help=t("cli.devices_pair_port", lang))
    pr.add_argument("--minutes", type=float, default=10.0, help=t("cli.devices_pair_minutes", lang))
    pr.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    pr.set_defaults(func=cmd_pair)

    fl = dsub.add_parser("flash", help=t("cli.devices_flash", lang))
    fl.add_argument("role", choices=sorted(ROLE_FILES), help=t("cli.devices_role", lang))
    fl.add_argument("--out", required=True, help=t("cli.devices_flash_out", lang))
    fl.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.lang", lang))
    fl.set_defaults(func=cmd_flash)


def _folder(args: argparse.Namespace) -> BrokerFolder:
    folder = BrokerFolder(args.dir)
    folder.configure(
        office=args.office,
        host=args.host,
        port=args.port,
        bind=args.bind,
        tls=args.tls,
        tls_port=args.tls_port,
        tls_hosts=args.tls_hosts,
        conf_dir=args.conf_dir,
    )
    return folder


def _finish(folder: BrokerFolder, args: argparse.Namespace, tls_before: bool) -> None:
    lang = args.lang
    hub_text = None
    if args.hub_config:
        # first: a change the hub would refuse (unknown counter) is refused before any file
        hub_text = folder.hub_config_text(args.hub_config)
    folder.write()
    if hub_text is not None:
        folder.write_hub_config(args.hub_config, hub_text)
    if folder.created:
        print(t("devices.accounts", lang, folder=folder.path))
    if args.hub_config:
        print(t("devices.hub_synced", lang, file=args.hub_config))
    else:
        print(t("devices.hub_manual", lang, file=folder.path / "hub-devices.toml"))
    if folder.settings.tls and not tls_before:
        print(t("devices.restart_tls", lang))
    else:
        print(t("devices.reload", lang))
    if not folder.settings.conf_dir and folder.broker_unreachable_dirs():
        print(t("devices.unreachable", lang, dir=folder.broker_unreachable_dirs()[0]), file=sys.stderr)


def _run(args: argparse.Namespace, body: Any) -> int:  # noqa: ANN401
    try:
        body()
    except ProvisionError as exc:
        print(t("devices.error", args.lang, error=exc), file=sys.stderr)
        return 2
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    def body() -> None:
        folder = BrokerFolder(args.dir)
        tls_before = folder.exists and folder.settings.tls
        folder = _folder(args)
        services = [s.strip() for s in args.services.split(",") if s.strip()] if args.services else []
        folder.add(args.id, args.role, services, args.counter)
        _finish(folder, args, tls_before)
        print(
            t(
                "devices.added",
                args.lang,
                id=args.id,
                role=args.role,
                file=folder.path / "devices" / f"{args.id}.json",
            )
        )

    return _run(args, body)


def cmd_remove(args: argparse.Namespace) -> int:
    def body() -> None:
        folder = _folder(args)
        folder.remove(args.id)
        _finish(folder, args, folder.settings.tls)
        print(t("devices.removed", args.lang, id=args.id))

    return _run(args, body)


def cmd_write(args: argparse.Namespace) -> int:
    def body() -> None:
        folder = BrokerFolder(args.dir)
        tls_before = folder.exists and folder.settings.tls
        folder = _folder(args)
        _finish(folder, args, tls_before)

    return _run(args, body)


def cmd_bridge(args: argparse.Namespace) -> int:
    """Write the office broker's bridge to the regency's central broker (docs/regency.md)."""

    def body() -> None:
        folder = BrokerFolder(args.dir)
        account = read_central_secret(args.secret, args.central)
        cafile = str(Path(args.cafile).resolve()) if args.cafile else None
        folder.write_bridge(account, cafile)
        where = f"{account.host}:{account.port}"
        print(t("link.bridge_written", args.lang, file=folder.path / "mosquitto.conf", central=where))
        print(t("link.restart_broker", args.lang))

    return _run(args, body)


def cmd_list(args: argparse.Namespace) -> int:
    def body() -> None:
        folder = BrokerFolder(args.dir)
        s = folder.settings
        devices = folder.devices()
        tls = f", TLS {s.tls_port}" if s.tls else ""
        print(
            t("devices.header", args.lang, n=len(devices), office=s.office, host=s.host, port=s.port, tls=tls)
        )
        if not devices:
            print(t("devices.none", args.lang))
        for d in devices:
            where = f"loket {d.counter}" if d.counter is not None else ",".join(d.services)
            print(f"  {d.id:<20} {d.role:<10} {where}")

    return _run(args, body)


def cmd_pair(args: argparse.Namespace) -> int:
    """Show a code and wait until the board in setup mode has fetched its config."""
    lang = args.lang
    try:
        config = device_config(Path(args.dir), args.id)
    except (OSError, ValueError):
        print(t("devices.pair_unknown", lang, id=args.id, dir=args.dir), file=sys.stderr)
        return 2
    pairing = Pairing(args.id, config)
    code = f"{pairing.code[:4]} {pairing.code[4:]}"

    def show() -> None:
        minutes = f"{args.minutes:g}"
        print(
            t("devices.pair_code", lang, id=args.id, code=code, port=args.pair_port, minutes=minutes),
            flush=True,
        )

    def say(event: str, peer: str) -> None:
        if event == "wrong":
            print(t("devices.pair_wrong", lang, peer=peer, left=MAX_WRONG - pairing.wrong), flush=True)

    try:
        taken = serve(pairing, args.listen, args.pair_port, args.minutes, say, show)
    except OSError as exc:
        print(t("devices.pair_port_busy", lang, port=args.pair_port, error=exc), file=sys.stderr)
        return 2
    if taken:
        print(t("devices.pair_done", lang, id=args.id))
        return 0
    print(t("devices.pair_failed", lang, id=args.id), file=sys.stderr)
    return 1


def cmd_flash(args: argparse.Namespace) -> int:
    """Write the loader and the firmware of `role` into a folder, to copy onto a board by USB."""
    out = Path(args.out)
    b = write_flash_folder(args.role, out)
    print(t("devices.flash_written", args.lang, role=args.role, version=b.version, out=out))
    return 0


def cmd_schema(_args: argparse.Namespace) -> int:
    """The schema an editor checks a device's config.json with (devices/config.schema.json)."""
    sys.stdout.write(schema_text())
    return 0

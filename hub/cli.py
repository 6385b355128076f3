"""`antrian`: the command line of the hub and of the tools around it.

    antrian run [-c antrian.toml]        the hub (MQTT service)
    antrian demo [--lang en]             a full demo on this machine, simulated devices
    antrian queue [-c ...]               today's queue, from the event log
    antrian log [-c ...] [--day D]       the audit log of a day
    antrian log verify [-c ...]          check the database file and replay every day's log
    antrian config check FILE | init    check a configuration / print the default one
    antrian config schema                the JSON Schema of antrian.toml (editor completion)
    antrian contract                     the MQTT contract as JSON (topics, schemas, roles)
    antrian report month 2026-11 --out laporan.pdf   a report (PDF, CSV, XLSX)

Other parts of the project add their own subcommands through `EXTENSIONS`. The help is in
the office's language, Indonesian, or in English where the environment asks for it
(`ANTRIAN_LANG=en`, `LANG=en_US.UTF-8`): see `antrian.i18n.default_lang`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

from antrian.config import Config, ConfigError, config_places, config_schema, find_config, load_config
from antrian.data_owner import become_data_owner
from antrian.i18n import default_lang, t

if TYPE_CHECKING:
    from antrian.store import EventStore

#: Modules that add subcommands: each has `add_commands(subparsers)`.
EXTENSIONS: Final = (
    "antrian.voice.cli",
    "antrian.speaker.cli",
    "antrian.web.cli",
    "antrian.provision.cli",
    "antrian.notify.cli",
    "antrian.reports.cli",
    "antrian.backup.cli",
    "antrian.schedule_cli",
    "antrian.install.cli",
    "antrian.central.cli",
)

EXAMPLE_CONFIG: Final = Path(__file__).with_name("antrian.example.toml")


def example_config(lang: str) -> Path:
    """What `antrian config init` prints: every section, commented in the command's language."""
    return EXAMPLE_CONFIG if lang == "id" else EXAMPLE_CONFIG.with_name(f"antrian.example.{lang}.toml")


#: The JSON Schema of antrian.toml, shipped beside the example so an editor can complete keys.
CONFIG_SCHEMA: Final = Path(__file__).with_name("antrian.schema.json")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, with "usage:" in the command line's language."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,  # noqa: ANN401 - argparse's own (untyped) signature
        groups: Any,  # noqa: ANN401
        prefix: str | None = None,
    ) -> None:
        super().add_usage(
            usage, actions, groups, t("cli.usage", default_lang()) if prefix is None else prefix
        )


class Parser(argparse.ArgumentParser):
    """An argparse parser that speaks the command line's language (`default_lang`), its own
    words too.

    argparse writes "usage:", its section titles, the -h help and "error:" in English (the
    standard library has no Indonesian for them); here they come from the catalogue's `cli.`
    keys like every help text, so `antrian --help` reads in one language. The subcommands'
    parsers are made by the same class (argparse makes them with the class of their parent),
    and a parser given as `parents=` must be one too, or its options would come under a second,
    English section. argparse's detailed errors (a missing argument, a wrong choice) stay in its
    English, after the translated "error:".
    """

    def __init__(self, **kwargs: Any) -> None:  # noqa: ANN401 - argparse's keyword arguments
        self.lang = default_lang()
        add_help = kwargs.pop("add_help", True)
        parents = kwargs.pop("parents", [])
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(add_help=False, **kwargs)
        self._positionals.title = t("cli.positionals", self.lang)
        self._optionals.title = t("cli.options", self.lang)
        if add_help:
            self.add_argument(
                "-h", "--help", action="help", default=argparse.SUPPRESS, help=t("cli.help", self.lang)
            )
        # what argparse does with `parents=`, once the sections have their titles: a parent's
        # options then join this parser's sections of the same title, after -h
        for parent in parents:
            self._add_container_actions(parent)
            self.set_defaults(**parent._defaults)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {t('cli.error', self.lang)}: {message}\n")


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    """`-c/--config`, as every command that reads the office's antrian.toml takes it."""
    parser.add_argument("-c", "--config", help=t("cli.config", default_lang()))


def schema_text() -> str:
    """`antrian config schema`, and the text of CONFIG_SCHEMA (a test keeps the two equal)."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _config(path: str | None) -> Config:
    """The office's configuration for a command that needs its database: `-c FILE`, else
    `$ANTRIAN_CONFIG`, else /etc/antrian/antrian.toml, else ./antrian.toml (`find_config`);
    with none of them the command refuses (exit 2) and says where it looked. Run by root on
    an installed office, the command goes on as the data's owner (`antrian.data_owner`)."""
    found = find_config(path)
    if found is None:
        lang = default_lang()
        print(t("cli.config_not_found", lang, places=", ".join(config_places())), file=sys.stderr)
        raise SystemExit(2)
    try:
        cfg = load_config(found)
    except ConfigError as exc:
        print(f"Konfigurasi salah / bad configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        user = become_data_owner(cfg)
    except OSError as exc:
        print(t("owner.refused", cfg.office.language, error=exc), file=sys.stderr)
        raise SystemExit(2) from None
    if user is not None:
        print(t("owner.switched", cfg.office.language, user=user), file=sys.stderr)
    return cfg


def cmd_run(args: argparse.Namespace) -> int:
    _setup_logging(args.verbose)
    cfg = _config(args.config)
    try:
        import uvloop  # ~10-15% less latency per request/response than the default loop
    except ImportError:  # pragma: no cover - optional (not on Windows)
        return asyncio.run(run_hub(cfg))
    return int(uvloop.run(run_hub(cfg)))


async def run_hub(cfg: Config, stop: asyncio.Event | None = None) -> int:
    """Run the hub (and whatever runs beside it) until SIGINT/SIGTERM or `stop`.

    Returns 3 with a message (Indonesian, then English) when another hub holds this database's
    lock or serves the office on the broker: two hubs of one office would fight over the
    broker session and both write the log, so the second one does not start.
    """
    from antrian.backup.files import OFFICE_META, default_folder
    from antrian.core import HubCore
    from antrian.lock import AnotherHub, HubLock
    from antrian.migrations import SchemaError
    from antrian.service import HubService
    from antrian.store import EventStore, StorageError

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not possible outside the main thread (tests run the hub in one): Ctrl+C still works
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    lock = HubLock(cfg.database)
    try:
        lock.acquire()  # before the database is opened: one hub per event log
        # an older database is backed up and migrated here; a newer one is refused
        store = EventStore(cfg.database, backup_folder=default_folder(cfg))
        # a restore refuses another office's backup; a damaged meta page (reported by the
        # integrity check at start) must not keep the office from being served
        with contextlib.suppress(StorageError):
            store.set_meta(OFFICE_META, cfg.office.slug)
        core = HubCore(cfg, store)
        log = logging.getLogger("antrian.hub")
        log.info(
            "office %s (%s), day %s, %d events today, database %s",
            cfg.office.name,
            cfg.office.slug,
            core.state.day or "-",
            len(core.state.tickets),
            cfg.database,
        )
        service = HubService(core)  # with every extension the configuration enables
        try:
            await service.run(stop)
        finally:
            store.close()
    except (AnotherHub, SchemaError) as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    finally:
        lock.release()
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from antrian import views
    from antrian.core import HubCore
    from antrian.store import EventStore

    cfg = _config(args.config)
    core = HubCore(cfg, EventStore(cfg.database))
    st = core.state
    now = datetime.now(UTC)
    print(f"{cfg.office.name} - hari kerja {st.day or '(belum ada tiket)'}")
    print(f"{'Layanan':<36} {'Menunggu':>8} {'Prioritas':>9} {'Terakhir':>9} {'Perkiraan':>10}")
    for letter in st.services:
        s = views.service_state(st, letter, now)
        wait = "-" if s["estimated_wait_min"] is None else f"{s['estimated_wait_min']} mnt"
        print(
            f"{letter} {s['name'][:33]:<34} {s['waiting']:>8} {s['waiting_priority']:>9} "
            f"{s['last_called'] or '-':>9} {wait:>10}"
        )
    print()
    for number in st.counters:
        c = views.counter_state(st, number)
        status = t(f"state.{c['status']}", cfg.office.language)
        print(
            f"{c['name']:<12} {status:<11} melayani {c['serving'] or '-':<6} "
            f"layanan {','.join(c['services'])}"
        )
    waiting = sorted(
        (t for t in st.tickets.values() if t.state == "waiting"), key=lambda t: (not t.priority, t.order)
    )
    if waiting:
        print("\nAntrean: " + " ".join(t.code + ("*" if t.priority else "") for t in waiting[:40]))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from antrian.store import EventStore

    cfg = _config(args.config)
    if args.day is not None:
        try:
            date.fromisoformat(args.day)
        except ValueError:
            print(
                f"Tanggal tidak sah / invalid date: {args.day!r} (YYYY-MM-DD, mis. 2026-11-27)",
                file=sys.stderr,
            )
            return 2
    store = EventStore(cfg.database)
    if args.action == "verify":
        return _verify(cfg, store, args.day)
    day = args.day or store.last_day()
    if day is None:
        print("Belum ada kejadian / no events yet")
        return 0
    for _, e in store.events_between(day, day):
        at = e.at.astimezone(cfg.office.tz).strftime("%H:%M:%S")
        data = " ".join(f"{k}={v}" for k, v in e.data.items() if k != "token")
        reason = f"  ({e.reason})" if e.reason else ""
        print(f"{at} {e.type:<24} {e.actor:<18} {data}{reason}")
    return 0


def _verify(cfg: Config, store: EventStore, only_day: str | None) -> int:
    """`antrian log verify`: SQLite's integrity check, then every day's log replayed.

    Exit 0 when all is sound, 1 when anything is wrong (each problem on its own line).
    """
    from antrian.queue import replay
    from antrian.store import StorageError

    bad = 0
    damage = store.integrity_problems(full=True)
    if damage:
        bad += len(damage)
        print(
            f"RUSAK / DAMAGED: berkas {store.path} rusak ({len(damage)} masalah). Hentikan hub,"
            " salin berkasnya, lalu pulihkan cadangan terakhir. / Stop the hub, copy the file,"
            " restore the latest backup."
        )
        for line in damage[:20]:
            print(f"  {line}")
    try:
        days = [only_day] if only_day else store.days()
        for day in days:
            _, problems = replay(cfg, store.events_between(day, day))
            for problem in problems:
                print(f"{day} TIDAK KONSISTEN / INCONSISTENT: {problem}")
            bad += len(problems)
    except StorageError as exc:
        print(f"Log tidak terbaca / log unreadable: {exc}")
        return 1
    if bad:
        return 1
    print(
        f"OK: {store.path}, {len(days)} hari, {store.count()} kejadian; semua bisa diputar ulang"
        " / all days replay"
    )
    return 0


def _today_warnings(cfg: Config) -> list[str]:
    """What a configuration change does to the day already in the log (retired entries)."""
    from antrian.queue import CALLED, WAITING, replay
    from antrian.store import EventStore, StorageError

    if cfg.database == ":memory:" or not Path(cfg.database).exists():
        return []
    try:
        store = EventStore(cfg.database)
        day = store.last_day()
        if day is None:
            return []
        state, _ = replay(cfg, store.events_between(day, day))
        store.close()
    except StorageError as exc:
        return [f"database {cfg.database} tidak terbaca / unreadable: {exc}"]
    out = []
    for item in sorted(state.retired, key=str):
        if isinstance(item, int):
            c = state.counters[item]
            busy = f", masih melayani {c.serving}" if c.serving else ""
            out.append(
                f"loket {item} dihapus dari konfigurasi tetapi ada di log {day}{busy}; "
                f"ditampilkan tutup sampai hari berganti / counter {item} removed while "
                "today's log uses it: shown closed until the day ends"
            )
        else:
            left = [
                t.code for t in state.tickets.values() if t.service == item and t.state in (WAITING, CALLED)
            ]
            out.append(
                f"layanan {item} dihapus dari konfigurasi tetapi {len(left)} tiketnya masih"
                f" menunggu hari ini ({day}); tiket itu tidak akan dipanggil / service "
                f"{item} removed while {len(left)} of its tickets still wait"
            )
    return out


def cmd_config(args: argparse.Namespace) -> int:
    if args.action == "init":
        print(example_config(default_lang()).read_text(encoding="utf-8"), end="")
        return 0
    if args.action == "schema":
        print(schema_text(), end="")
        return 0
    cfg = _config(args.file)
    print(
        f"OK: {cfg.office.name} ({cfg.office.slug}), {len(cfg.services)} layanan, "
        f"{len(cfg.counters)} loket, {len(cfg.devices)} perangkat"
    )
    for warning in _today_warnings(cfg):
        print(f"Peringatan / warning: {warning}")
    return 0


def cmd_contract(args: argparse.Namespace) -> int:
    from antrian.contract import describe

    print(json.dumps(describe(), indent=2, ensure_ascii=False))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from antrian.demo import main as demo_main

    return demo_main(args)


def build_parser() -> argparse.ArgumentParser:
    lang = default_lang()
    parser = Parser(prog="antrian", description=t("cli.description", lang))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help=t("cli.run", lang))
    add_config_flag(p)
    p.add_argument("-v", "--verbose", action="store_true", help=t("cli.run_verbose", lang))
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help=t("cli.demo", lang))
    p.add_argument("--broker", help=t("cli.demo_broker", lang))
    p.add_argument("--web-port", type=int, help=t("cli.demo_web_port", lang))
    p.add_argument("--seconds", type=float, default=45.0, help=t("cli.demo_seconds", lang))
    p.add_argument("--lang", choices=("id", "en"), default=lang, help=t("cli.demo_lang", lang))
    p.add_argument("--db", help=t("cli.demo_db", lang))
    p.add_argument("--keep-running", action="store_true", help=t("cli.demo_keep_running", lang))
    p.add_argument("--audio-dir", help=t("cli.demo_audio_dir", lang))
    p.add_argument("--sound", action="store_true", help=t("cli.demo_sound", lang))
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("queue", help=t("cli.queue", lang))
    add_config_flag(p)
    p.set_defaults(func=cmd_queue)

    p = sub.add_parser("log", help=t("cli.log", lang))
    p.add_argument(
        "action", nargs="?", choices=("show", "verify"), default="show", help=t("cli.log_action", lang)
    )
    add_config_flag(p)
    p.add_argument("--day", help=t("cli.log_day", lang))
    p.set_defaults(func=cmd_log)

    p = sub.add_parser("config", help=t("cli.config_command", lang))
    p.add_argument("action", choices=("check", "init", "schema"), help=t("cli.config_action", lang))
    p.add_argument("file", nargs="?", help=t("cli.config_file", lang))
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("contract", help=t("cli.contract", lang))
    p.set_defaults(func=cmd_contract)

    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that part is not installed in this tree
            raise
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from antrian.migrations import SchemaError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SchemaError as exc:  # a database newer than this release, or a step that failed
        print(exc, file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

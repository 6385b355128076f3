"""`antrian doctor`: what an installed office needs, checked one thing at a time.

Each check is a small function of a `Context` returning one `Result` (OK, a warning or a
failure, what was found and what to do about it), or None where it does not apply (no
configuration to read, no broker to ask). `CHECKS` is the list: a new check is one function
added to it. The context reads the configuration once and asks the broker once for what is
retained (the hub's state, every device's availability and info), so a dozen checks cost one
connection.

The broker is asked with the doctor's own read-only account (`antrian-doctor`, made by
`antrian devices`, copied by `antrian install` to `secrets/doctor-mqtt.toml` beside the
configuration): the broker takes the client id from the user name, so a login with any other
client's account takes that client's session over for a moment. An older install without it
borrows the topic monitor's account (the monitor is cut off while the doctor listens) or the
hub's, and the broker line says so and how to get the doctor's own. That the hub's own account
works is shown by the hub being online. The database is checked on a copy in a temporary folder,
made as the hub makes its backups: a check run as root must not leave files beside it that
the hub cannot write. A backup is only read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Final

from antrian.config import (
    Config,
    ConfigError,
    MqttConfig,
    TomlTooLarge,
    config_places,
    find_config,
    load_config,
    read_toml,
)
from antrian.contract import Topics
from antrian.i18n import t
from antrian.install import layout
from antrian.provision.files import DOCTOR_ACCOUNT_FILE

OK: Final = "ok"
WARN: Final = "warn"
FAIL: Final = "fail"

#: A backup older than this is late: the daily one plus a margin for a late evening.
BACKUP_MAX_AGE_H: Final = 26.0
#: Free space under which a warning is given (either), and under which the check fails.
DISK_WARN_BYTES: Final = 1_000_000_000
DISK_WARN_SHARE: Final = 0.10
DISK_FAIL_BYTES: Final = 100_000_000
#: How long the broker is listened to for retained messages after the last one came.
RETAINED_QUIET_S: Final = 0.5
RETAINED_MOST_S: Final = 5.0
#: CONNACK codes of a refused account: MQTT 3.1.1 bad user name or password, not authorised;
#: MQTT 5 the same two.
REFUSED: Final = (4, 5, 134, 135)
CLOCK_COMMAND: Final = ("timedatectl", "show", "-p", "NTPSynchronized", "--value")
#: Where `antrian install` puts the broker include (a link to the generated mosquitto.conf).
MOSQUITTO_INCLUDE: Final = Path(layout.MOSQUITTO_INCLUDE)
#: Largest doctor secret file read (the generated one is ~300 bytes), longest user name or
#: password taken from it.
SECRET_MAX_BYTES: Final = 4096
SECRET_MAX_CHARS: Final = 256


@dataclass(frozen=True)
class Result:
    """One line: `status`, what was found (`key` and its parameters) and, unless all is well,
    what to do (`fix`, a catalogue key taking the same parameters)."""

    status: str
    key: str
    params: dict[str, object] = field(default_factory=dict)
    fix: str | None = None

    def line(self, lang: str) -> str:
        label = t(f"doctor.{self.status}", lang)
        text = f"{label:<10} {t(self.key, lang, **self.params)}"
        if self.fix:
            text += f" {t('doctor.fix', lang)} {t(self.fix, lang, **self.params)}"
        return text


@dataclass(frozen=True)
class BrokerView:
    """What the broker said: an error key (the connection failed), or the retained messages."""

    address: str
    user: str
    error: str | None = None
    detail: str = ""
    retained: dict[str, bytes] = field(default_factory=dict)
    #: the doctor's own account was used (False: an older install's monitor or hub account)
    own: bool = True
    #: the doctor secret file used, or the one that could not be used
    secret: Path | None = None


class SecretError(Exception):
    """A doctor secret file that cannot be used: a catalogue key and what was wrong."""

    def __init__(self, key: str, error: str) -> None:
        super().__init__(key, error)
        self.key = key
        self.error = error


def read_secret(path: Path) -> tuple[str, str]:
    """(username, password) of a doctor secret file: TOML with two short strings."""
    try:
        body = read_toml(path, SECRET_MAX_BYTES)
    except OSError as exc:
        raise SecretError("doctor.secret_unreadable", exc.strerror or str(exc)) from None
    except TomlTooLarge:
        raise SecretError("doctor.secret_bad", f"> {SECRET_MAX_BYTES} bytes") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SecretError("doctor.secret_bad", str(exc)) from None
    found = []
    for key in ("username", "password"):
        value = body.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= SECRET_MAX_CHARS or not value.isprintable():
            raise SecretError("doctor.secret_bad", key)
        found.append(value)
    return found[0], found[1]


@dataclass
class Context:
    """Everything the checks read, each gathered once, when a check first asks for it."""

    config_arg: str | None = None
    #: `--mqtt-secret FILE`; without it `secrets/doctor-mqtt.toml` beside the configuration
    mqtt_secret: Path | None = None
    mosquitto_conf: Path = MOSQUITTO_INCLUDE
    clock_command: Sequence[str] = CLOCK_COMMAND
    now: float = field(default_factory=time.time)
    config_path: Path | None = None
    config_error: str | None = None

    @cached_property
    def cfg(self) -> Config | None:
        self.config_path = find_config(self.config_arg)
        if self.config_path is None:
            return None
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            self.config_error = str(exc)
            return None

    @cached_property
    def broker(self) -> BrokerView | None:
        cfg = self.cfg
        if cfg is None or self.config_path is None:
            return None
        m = cfg.mqtt
        path = self.mqtt_secret or self.config_path.parent / "secrets" / DOCTOR_ACCOUNT_FILE
        view = BrokerView(f"{m.host}:{m.port}", "", secret=path)
        if self.mqtt_secret is None and _absent(path):
            # an older install: the monitor's account, else the hub's
            user, password = (
                (m.monitor_username, m.monitor_password) if m.monitor_username else (m.username, m.password)
            )
            # (no account at all: a broker open to anonymous clients, where the doctor's
            # own client id takes nobody's session)
            view = replace(view, own=not user, secret=None)
        else:
            try:
                user, password = read_secret(path)
            except SecretError as exc:
                return replace(view, error=exc.key, detail=exc.error)
        return asyncio.run(read_retained(cfg, replace(view, user=user or ""), password))


def _absent(path: Path) -> bool:
    """True when there is no such file (a folder this user may not enter is not 'absent')."""
    try:
        path.stat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


async def read_retained(cfg: Config, view: BrokerView, password: str | None) -> BrokerView:
    """Log in to the office's broker as `view.user` and collect what is retained under the
    office's topics.

    With a borrowed account (`view.own` False) the client that owns it, a running hub's topic
    monitor, takes its session back within a moment once the doctor took it: a disconnection
    after the login is the end of listening, not a fault. The retained messages come right
    after the one SUBSCRIBE; should the session be taken before the hub's state came, the
    doctor tries again (twice). With its own account the first try is the only one.
    """
    import aiomqtt

    # an id of its own: a broker that does not force id = user name must not hand the doctor
    # another client's session either
    account = replace(
        cfg.mqtt, username=view.user or None, password=password, client_id=f"antrian-doctor-{os.getpid()}"
    )
    topics = Topics(cfg.office.slug)
    wanted = [topics.hub_state, topics.device_availability("+"), topics.device_info("+")]
    got: dict[str, bytes] = {}
    try:
        for _attempt in range(1 if view.own else 3):
            if await _listen(account, wanted, got) or topics.hub_state in got:
                break
    except aiomqtt.MqttCodeError as exc:
        rc = getattr(exc.rc, "value", exc.rc)
        key = "doctor.broker_refused" if rc in REFUSED else "doctor.broker_down"
        return replace(view, error=key, detail=str(exc))
    except (aiomqtt.MqttError, OSError) as exc:
        return replace(view, error="doctor.broker_down", detail=str(exc))
    return replace(view, retained=got)


async def _listen(account: MqttConfig, wanted: Sequence[str], got: dict[str, bytes]) -> bool:
    """One login: retained messages on `wanted` into `got`. True when it listened until the
    broker fell quiet; False when the session was taken over first. A failed login raises."""
    import aiomqtt

    from antrian.mqtt import client

    c = client(account, clean_session=True)
    await c.__aenter__()  # a refused or failed login raises here, to the caller
    try:
        await c.subscribe([(topic, 1) for topic in wanted])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETAINED_MOST_S
        messages = c.messages.__aiter__()
        while (left := deadline - loop.time()) > 0:
            try:
                msg = await asyncio.wait_for(messages.__anext__(), min(RETAINED_QUIET_S, left))
            except TimeoutError:
                return True
            if msg.retain and isinstance(msg.payload, bytes | bytearray):
                got[str(msg.topic)] = bytes(msg.payload)
        return True
    except aiomqtt.MqttError:
        return False
    finally:
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            await c.__aexit__(None, None, None)


# ---------------------------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------------------------


def _permission_denied(path: Path) -> bool:
    """True when `path` is there but this user may not read it (or enter its folder)."""
    try:
        path.open("rb").close()
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def check_config(ctx: Context) -> Result:
    cfg = ctx.cfg
    if ctx.config_path is None:
        return Result(
            FAIL, "doctor.config_missing", {"places": ", ".join(config_places())}, "doctor.fix_config_missing"
        )
    if cfg is None and _permission_denied(ctx.config_path):
        fix = "doctor.fix_config_unreadable"
        return Result(FAIL, "doctor.config_unreadable", {"path": ctx.config_path}, fix)
    if cfg is None:
        return Result(FAIL, "doctor.config_bad", {"error": ctx.config_error or "?"}, "doctor.fix_config_bad")
    return Result(OK, "doctor.config_ok", {"path": ctx.config_path, "office": cfg.office.name})


def _checked_copy(cfg: Config, path: Path) -> tuple[int, int]:
    """(days, events) of a copy of `path` that passed `antrian log verify`'s checks; the copy
    is made as the hub makes its backups (online, beside a running hub)."""
    from antrian.backup.files import check_copy, make_backup

    with tempfile.TemporaryDirectory(prefix="antrian-doctor-") as tmp:
        return check_copy(cfg, make_backup(path, Path(tmp), date.today(), keep_days=1))


def _copy_problem(cfg: Config, path: Path, lang: str) -> tuple[tuple[int, int] | None, str]:
    from antrian.backup.files import BackupError

    try:
        return _checked_copy(cfg, path), ""
    except BackupError as exc:
        return None, t(exc.key, lang, **exc.params)
    except sqlite3.Error as exc:
        return None, str(exc)


def check_database(ctx: Context, lang: str) -> Result | None:
    cfg = ctx.cfg
    if cfg is None:
        return None
    path = Path(cfg.database)
    if not path.is_file():
        return Result(WARN, "doctor.db_missing", {"path": path}, "doctor.fix_start_hub")
    counts, problem = _copy_problem(cfg, path, lang)
    if counts is None:
        return Result(FAIL, "doctor.db_bad", {"path": path, "problem": problem}, "doctor.fix_db_bad")
    return Result(OK, "doctor.db_ok", {"path": path, "days": counts[0], "events": counts[1]})


def check_broker(ctx: Context, lang: str) -> Result | None:
    b = ctx.broker
    if b is None:
        return None
    user = b.user or t("doctor.anonymous", lang)
    params: dict[str, object] = {
        "address": b.address,
        "user": user,
        "error": " ".join(b.detail.split()),
        "path": b.secret,
        "broker": layout.BROKER,
    }
    if b.error in ("doctor.secret_unreadable", "doctor.secret_bad"):
        return Result(FAIL, b.error, params, "doctor.fix_secret")
    if b.error == "doctor.broker_refused":
        return Result(FAIL, b.error, params, "doctor.fix_secret" if b.own else "doctor.fix_broker_refused")
    if b.error:
        return Result(FAIL, b.error, params, "doctor.fix_broker_down")
    if not b.own:
        return Result(WARN, "doctor.broker_borrowed", params, "doctor.fix_broker_borrowed")
    return Result(OK, "doctor.broker_ok", params)


def _conf_words(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [w for w in (line.split("#", 1)[0].split() for line in lines) if w]


def check_nodelay(ctx: Context) -> Result:
    from antrian.install.machine import includes_conf_d

    conf = ctx.mosquitto_conf
    params: dict[str, object] = {"path": conf}
    try:
        words = _conf_words(conf)
    except OSError:
        return Result(WARN, "doctor.nodelay_unknown", params, "doctor.fix_nodelay_unknown")
    main = conf.parent.parent / "mosquitto.conf"
    if conf.parent.name == "conf.d" and main.is_file():
        params["main"] = main
        if not includes_conf_d(main.read_text(encoding="utf-8", errors="replace")):
            return Result(FAIL, "doctor.include_unused", params, "doctor.fix_include_unused")
    if ["set_tcp_nodelay", "true"] not in words:
        return Result(FAIL, "doctor.nodelay_missing", params, "doctor.fix_nodelay_missing")
    return Result(OK, "doctor.nodelay_ok", params)


def _answered(ctx: Context) -> tuple[BrokerView, Config] | None:
    """The broker's retained messages and the configuration, when both could be read."""
    b, cfg = ctx.broker, ctx.cfg
    return None if b is None or b.error or cfg is None else (b, cfg)


def check_hub(ctx: Context) -> Result | None:
    if (answered := _answered(ctx)) is None:
        return None
    b, cfg = answered
    raw = b.retained.get(Topics(cfg.office.slug).hub_state)
    try:
        state = json.loads(raw).get("state") if raw else None
    except (ValueError, AttributeError):
        state = None
    if state == "online":
        return Result(OK, "doctor.hub_ok", {"office": cfg.office.slug})
    m = cfg.mqtt
    if m.username and m.username != b.user:
        # the doctor listened with another account: is the hub's own refused? (no hub is
        # online on it, so logging in with it takes nobody's session)
        refused = asyncio.run(_refusal(replace(m, client_id=f"antrian-doctor-{os.getpid()}")))
        if refused is not None:
            params: dict[str, object] = {"address": b.address, "user": m.username, "error": refused}
            return Result(FAIL, "doctor.hub_account_refused", params, "doctor.fix_hub_account")
    key = "doctor.hub_offline" if state == "offline" else "doctor.hub_never"
    return Result(FAIL, key, {"office": cfg.office.slug}, "doctor.fix_hub")


async def _refusal(account: MqttConfig) -> str | None:
    """The broker's words when it refuses `account`'s login; None when it takes it (or fails
    for another reason, which the broker's own line reports)."""
    import aiomqtt

    from antrian.mqtt import client

    try:
        async with client(account, clean_session=True):
            return None
    except aiomqtt.MqttCodeError as exc:
        return str(exc) if getattr(exc.rc, "value", exc.rc) in REFUSED else None
    except (aiomqtt.MqttError, OSError):
        return None


def check_clock(ctx: Context) -> Result:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command
            list(ctx.clock_command), capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Result(WARN, "doctor.clock_unknown", {"error": exc}, "doctor.fix_clock_unknown")
    answer = done.stdout.strip()
    if done.returncode != 0 or answer not in ("yes", "no"):
        error = " ".join((done.stderr or answer or f"exit {done.returncode}").split())[-200:]
        return Result(WARN, "doctor.clock_unknown", {"error": error}, "doctor.fix_clock_unknown")
    if answer == "no":
        return Result(WARN, "doctor.clock_unsynced", {}, "doctor.fix_clock_unsynced")
    return Result(OK, "doctor.clock_ok")


def disk_verdict(free: int, total: int) -> str:
    """OK, WARN (under 1 GB or 10 % free) or FAIL (under 100 MB: the log may soon refuse)."""
    if free < DISK_FAIL_BYTES:
        return FAIL
    if free < DISK_WARN_BYTES or (total and free < DISK_WARN_SHARE * total):
        return WARN
    return OK


def check_disk(ctx: Context) -> Result | None:
    cfg = ctx.cfg
    if cfg is None:
        return None
    from antrian.backup.files import default_folder

    folders = [Path(cfg.database).parent]
    if cfg.backup.enabled:
        folders.append(default_folder(cfg))
    order = {OK: 0, WARN: 1, FAIL: 2}
    worst: tuple[str, Path, int, int] | None = None
    for folder in folders:
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        usage = shutil.disk_usage(probe)
        verdict = disk_verdict(usage.free, usage.total)
        if worst is None or order[verdict] > order[worst[0]]:
            worst = (verdict, folder, usage.free, usage.total)
    assert worst is not None
    verdict, folder, free, total = worst
    params: dict[str, object] = {
        "path": folder,
        "free": f"{free / 1e9:.1f}",
        "percent": round(100 * free / total) if total else 0,
    }
    return Result(verdict, "doctor.disk", params, None if verdict == OK else "doctor.fix_disk")


def _retained_json(view: BrokerView, topic: str) -> dict[str, object] | None:
    raw = view.retained.get(topic)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_printer(ctx: Context, lang: str) -> Result | None:
    from antrian.device_info import PRINTER_TROUBLE, read_info

    b, cfg = ctx.broker, ctx.cfg
    if cfg is None:
        return None
    trouble: list[str] = []
    if cfg.printer.device and not Path(cfg.printer.device).exists():
        trouble.append(t("doctor.printer_device_missing", lang, device=cfg.printer.device))
    kiosks = [d.id for d in cfg.devices if d.role == "kiosk"]
    ready = [cfg.printer.device] if cfg.printer.device and not trouble else []
    if b is not None and not b.error:
        topics = Topics(cfg.office.slug)
        for kiosk in kiosks:
            printer = read_info(_retained_json(b, topics.device_info(kiosk)))["printer"]
            if printer in PRINTER_TROUBLE:
                trouble.append(f"{kiosk}: {t(f'doctor.printer_{printer}', lang)}")
            elif printer == "ok":
                ready.append(kiosk)
            else:  # no word from it: its availability is the devices check's line
                trouble.append(f"{kiosk}: {t('doctor.printer_unknown', lang)}")
    elif kiosks:
        return None  # the broker's line says why the kiosks cannot be asked
    if trouble:
        return Result(WARN, "doctor.printer_trouble", {"list": "; ".join(trouble)}, "doctor.fix_printer")
    if not ready:
        return Result(OK, "doctor.printer_none")
    return Result(OK, "doctor.printer_ok", {"list": ", ".join(ready)})


def check_clips(ctx: Context) -> Result | None:
    cfg = ctx.cfg
    if cfg is None:
        return None
    from antrian.voice.cache import ClipCache, office_clip_texts

    names = [c.spoken_name for c in cfg.counters if c.spoken_name]
    needed = sorted(office_clip_texts(cfg.wording, names))
    cache = ClipCache(Path(cfg.tts_cache))
    missing = [clip for clip in needed if not cache.has(clip)]
    params: dict[str, object] = {
        "path": cfg.tts_cache,
        "n": len(needed),
        "missing": len(missing),
        "list": ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else ""),
        "config": ctx.config_path,
    }
    if missing:
        return Result(FAIL, "doctor.clips_missing", params, "doctor.fix_clips")
    return Result(OK, "doctor.clips_ok", params)


def check_devices(ctx: Context) -> Result | None:
    if (answered := _answered(ctx)) is None:
        return None
    b, cfg = answered
    if not cfg.devices:
        return Result(OK, "doctor.devices_none")
    topics = Topics(cfg.office.slug)
    unseen = [d.id for d in cfg.devices if b.retained.get(topics.device_availability(d.id)) != b"online"]
    if unseen:
        params: dict[str, object] = {"list": ", ".join(unseen), "n": len(unseen), "all": len(cfg.devices)}
        return Result(WARN, "doctor.devices_unseen", params, "doctor.fix_devices")
    return Result(OK, "doctor.devices_ok", {"n": len(cfg.devices)})


def check_backups(ctx: Context, lang: str) -> Result | None:
    cfg = ctx.cfg
    if cfg is None:
        return None
    from antrian.backup.files import BackupError, check_copy, default_folder, latest_backup

    params: dict[str, object] = {"path": default_folder(cfg), "config": ctx.config_path}
    if not cfg.backup.enabled:
        return Result(WARN, "doctor.backup_off", params, "doctor.fix_backup_off")
    newest = latest_backup(cfg, now=datetime.fromtimestamp(ctx.now).astimezone())
    if newest is None:
        return Result(FAIL, "doctor.backup_none", params, "doctor.fix_backup")
    hours = newest.age.total_seconds() / 3600
    params |= {"file": newest.path.name, "hours": f"{hours:.0f}"}
    if hours > BACKUP_MAX_AGE_H:
        return Result(FAIL, "doctor.backup_old", params, "doctor.fix_backup")
    try:
        days, events = check_copy(cfg, newest.path)  # reads the backup only, never changes it
    except BackupError as exc:
        problem = t(exc.key, lang, **exc.params)
        return Result(FAIL, "doctor.backup_bad", params | {"problem": problem}, "doctor.fix_backup")
    return Result(OK, "doctor.backup_ok", params | {"days": days, "events": events})


Check = Callable[[Context, str], Result | None]


def _plain(check: Callable[[Context], Result | None]) -> Check:
    return lambda ctx, _lang: check(ctx)


#: Every check, in the order they are printed.
CHECKS: Final[tuple[Check, ...]] = (
    _plain(check_config),
    check_database,
    check_broker,
    _plain(check_nodelay),
    _plain(check_hub),
    _plain(check_clock),
    _plain(check_disk),
    check_printer,
    _plain(check_clips),
    _plain(check_devices),
    check_backups,
)


def run_checks(ctx: Context, lang: str, checks: Sequence[Check] = CHECKS) -> list[Result]:
    return [r for r in (check(ctx, lang) for check in checks) if r is not None]


def summary(results: Sequence[Result], lang: str) -> str:
    count = {s: sum(r.status == s for r in results) for s in (OK, WARN, FAIL)}
    at = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    return t("doctor.summary", lang, ok=count[OK], warn=count[WARN], fail=count[FAIL], at=at)

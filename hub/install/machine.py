"""`antrian install`: the steps that make a machine an office hub, each idempotent.

Every step looks before it writes and reports what it found: made, changed, or already as it
should be, so a second run changes nothing and says so, and an upgrade (a new `antrian` in
the units) changes exactly the units. An office's own `antrian.toml` is never overwritten, and
neither is its broker folder: both hold what the officer set up (services, counters, devices,
passwords).

Into a throwaway root (`--prefix DIR`) the same tree is made inside DIR, and nothing outside
it is touched: no `useradd` (the command that would run is reported), no `systemctl`, no
`chown` to users that may not exist there. The files are owned by the user running the command,
or by `--user NAME` when NAME exists and the command may give files away; the modes are the
real ones. That is what a test without root can check, and what a root test checks too.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

from antrian.config import Config, ConfigError, parse_config
from antrian.install import layout
from antrian.install.layout import Units, under
from antrian.provision.files import _write as write_atomically

#: What `useradd` makes: a system account with no login and no home of its own making.
USERADD: Final = (
    "useradd",
    "--system",
    "--user-group",
    "--home-dir",
    str(layout.DATA),
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
)
#: A user name `useradd` takes on Debian (and nothing that could be an option or a path).
_USER_NAME: Final = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: The `[mqtt]` lines of `config init`'s example that the broker folder's secrets fill in.
_MQTT_KEYS: Final = ("username", "password", "monitor_username", "monitor_password")


class InstallRefused(Exception):
    """Why the install did not start, or stopped: a catalogue key and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key, params)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Step:
    """One line of the report. `state`: `done` (written now), `same` (already right),
    `kept` (the office's own, left as it is), `would` (a dry run: it would be written), `warn`
    (needs the officer), `failed`."""

    state: str
    key: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int


def installed_command() -> tuple[str, ...]:
    """The `antrian` of the environment this command runs from, as a unit's ExecStart says it:
    the script beside this Python (a venv's `bin/antrian`), else the one on PATH, else
    `python -m antrian.cli`."""
    beside = Path(sys.executable).parent / "antrian"
    if beside.is_file() and os.access(beside, os.X_OK):
        return (str(beside),)
    found = shutil.which("antrian")
    if found:
        return (str(Path(found).absolute()),)
    return (sys.executable, "-m", "antrian.cli")


def check_user_name(name: str) -> str:
    if not _USER_NAME.match(name):
        raise InstallRefused("install.bad_user", user=name)
    return name


def office_config_text(example: str, secret: dict[str, str] | None) -> str:
    """`config init`'s example for a new installation: the database, clip cache and daily
    backups in /var/lib/antrian, and the hub's broker accounts when the broker folder has them.

    Checked by parsing the result: an example whose lines moved is refused, never written
    with the database left beside the configuration in /etc."""
    text = re.sub(r'^(database = )"[^"]*"', rf'\1"{layout.DATABASE}"', example, count=1, flags=re.M)
    text = re.sub(r'^(tts_cache = )"[^"]*"', rf'\1"{layout.CLIP_CACHE}"', text, count=1, flags=re.M)
    text = re.sub(r"^# \[backup\]", "[backup]  ", text, count=1, flags=re.M)
    text = re.sub(r'^# (folder = )"[^"]*"', rf'\1"{layout.BACKUPS}"', text, count=1, flags=re.M)
    for key in _MQTT_KEYS:
        value = (secret or {}).get(key)
        if value:
            quoted = value.replace("\\", "\\\\").replace('"', '\\"')
            text = re.sub(rf"^# {key} = .*$", f'{key} = "{quoted}"', text, count=1, flags=re.M)
    try:
        cfg = parse_config(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise InstallRefused("install.example_changed", error=exc) from None
    wanted = (str(layout.DATABASE), str(layout.CLIP_CACHE), str(layout.BACKUPS))
    if (cfg.database, cfg.tts_cache, cfg.backup.folder) != wanted:
        raise InstallRefused("install.example_changed", error="database/tts_cache/[backup] folder")
    return text


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=120)  # noqa: S603


class Installer:
    """The install, step by step (`run`); `steps` is the report, in order."""

    def __init__(
        self,
        *,
        prefix: Path | None,
        user: str | None,
        example: str,
        dry_run: bool = False,
        systemctl: bool = True,
        command: tuple[str, ...] | None = None,
        runner: Runner = run_command,
    ) -> None:
        self.real = prefix is None or prefix.resolve() == Path("/")
        self.root = Path("/") if self.real else Path(prefix or "/")
        self.user = check_user_name(user or "antrian")
        self.user_given = user is not None
        self.example = example
        self.dry_run = dry_run
        self.systemctl = systemctl and self.real and not dry_run
        self.command = command or installed_command()
        self.run_cmd = runner
        self.steps: list[Step] = []
        self.units_changed = False
        self.broker_changed = False

    # -- helpers ---------------------------------------------------------------------------

    def path(self, p: PurePosixPath) -> Path:
        return under(self.root, p)

    def say(self, state: str, key: str, **params: object) -> None:
        self.steps.append(Step(state, key, dict(params)))

    def _refuse_early(self) -> None:
        if self.real and os.geteuid() != 0:
            raise InstallRefused("install.not_root")
        if not self.real:
            probe = self.root
            while not probe.exists() and probe != probe.parent:
                probe = probe.parent
            if not os.access(probe, os.W_OK | os.X_OK):
                raise InstallRefused("install.prefix_not_writable", prefix=self.root)

    def owners(self) -> tuple[Owner, Owner]:
        """(the owner of /etc/antrian: root and the hub's group; the hub's own user)."""
        if self.real:
            try:
                entry = pwd.getpwnam(self.user)
            except KeyError:
                if self.dry_run:
                    return Owner(0, 0), Owner(0, 0)  # not made in a dry run: nothing is chowned
                raise InstallRefused("install.unknown_user", user=self.user) from None
            return Owner(0, entry.pw_gid), Owner(entry.pw_uid, entry.pw_gid)
        me = Owner(os.geteuid(), os.getegid())
        if not self.user_given:
            return me, me
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            raise InstallRefused("install.unknown_user", user=self.user) from None
        hub = Owner(entry.pw_uid, entry.pw_gid)
        if me.uid != 0 and hub.uid != me.uid:
            raise InstallRefused("install.cannot_give", user=self.user)
        return Owner(me.uid, hub.gid), hub

    def _fix(self, path: Path, mode: int, owner: Owner) -> bool:
        """Set mode and owner where they differ; True when something changed (or would)."""
        st = path.lstat()
        wrong = (st.st_mode & 0o7777) != mode or (st.st_uid, st.st_gid) != (owner.uid, owner.gid)
        if wrong and not self.dry_run:
            os.chown(path, owner.uid, owner.gid)
            os.chmod(path, mode)
        return wrong

    def _state(self, changed: bool) -> str:
        if not changed:
            return "same"
        return "would" if self.dry_run else "done"

    def ensure_dir(self, p: PurePosixPath, mode: int, owner: Owner) -> None:
        target = self.path(p)
        made = not target.is_dir()
        if made and not self.dry_run:
            target.mkdir(parents=True, exist_ok=True)
        changed = made or (target.exists() and self._fix(target, mode, owner))
        if made and not self.dry_run:
            self._fix(target, mode, owner)
        self.say(self._state(changed), "install.dir", path=p, mode=f"{mode:04o}")

    def ensure_file(self, p: PurePosixPath, text: str, mode: int, owner: Owner, key: str) -> bool:
        """Write `text` where the file differs (atomically); True when it changed."""
        target = self.path(p)
        try:
            same = target.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if not same and not self.dry_run:
            write_atomically(target, text, mode)  # a reader sees the old file or the new one
        fixed = target.exists() and self._fix(target, mode, owner)
        changed = not same or fixed
        self.say(self._state(changed), key, path=p)
        return changed

    # -- the steps -------------------------------------------------------------------------

    def run(self) -> list[Step]:
        self._refuse_early()
        self.step_user()
        etc, hub = self.owners()
        self.ensure_dir(layout.DATA, 0o750, hub)
        for sub in (layout.CLIP_CACHE, layout.BACKUPS):
            self.ensure_dir(sub, 0o750, hub)
        self.ensure_dir(layout.ETC, 0o750, etc)
        self.ensure_dir(layout.SECRETS, 0o750, etc)
        self.step_broker()
        self.step_config(etc)
        self.step_doctor_account(etc)
        self.step_mosquitto_include()
        self.step_units()
        self.step_systemctl()
        return self.steps

    def step_user(self) -> None:
        if not self.real:
            owner = self.user if self.user_given else pwd.getpwuid(os.geteuid()).pw_name
            self.say("warn", "install.user_prefix", command=shlex.join([*USERADD, self.user]), owner=owner)
            return
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            pass
        else:
            self.say("same", "install.user", user=self.user)
            return
        if self.dry_run:
            self.say("would", "install.user", user=self.user)
            return
        try:
            grp.getgrnam(self.user)
            argv = [a for a in USERADD if a != "--user-group"] + ["--gid", self.user, self.user]
        except KeyError:
            argv = [*USERADD, self.user]
        done = self.run_cmd(argv)
        if done.returncode != 0:
            raise InstallRefused("install.useradd_failed", user=self.user, error=done.stderr.strip()[-300:])
        self.say("done", "install.user", user=self.user)

    def _office(self) -> Config:
        """The office's configuration as it stands (the defaults where there is none yet)."""
        try:
            return parse_config(tomllib.loads(self.path(layout.CONFIG).read_text(encoding="utf-8")))
        except (OSError, ValueError, ConfigError):
            return parse_config({})

    def step_broker(self) -> None:
        """The broker folder with the hub's, the topic monitor's and Home Assistant's accounts,
        unless one is there (it holds the office's devices: never regenerated here)."""
        from antrian.provision.files import BrokerFolder, ProvisionError

        folder = self.path(layout.BROKER)
        if (folder / "registry.json").exists():
            self.say("same", "install.broker", path=layout.BROKER)
            return
        if self.dry_run:
            self.say("would", "install.broker", path=layout.BROKER)
            return
        try:
            broker = BrokerFolder(folder)
            broker.configure(office=self._office().office.slug, conf_dir=str(layout.BROKER))
            broker.write()
        except ProvisionError as exc:
            raise InstallRefused("install.broker_failed", error=exc) from None
        self.broker_changed = True
        self.say("done", "install.broker", path=layout.BROKER)

    def _hub_secret(self) -> dict[str, str] | None:
        path = self.path(layout.BROKER) / "secrets" / "hub-mqtt.toml"
        try:
            section = tomllib.loads(path.read_text(encoding="utf-8")).get("mqtt", {})
        except (OSError, ValueError):
            return None
        return {k: v for k, v in section.items() if isinstance(v, str)}

    def step_config(self, etc: Owner) -> None:
        target = self.path(layout.CONFIG)
        if target.exists():
            changed = self._fix(target, 0o640, etc)
            self.say("kept", "install.config_kept", path=layout.CONFIG)
            if changed:
                self.say(self._state(True), "install.config_mode", path=layout.CONFIG)
            return
        secret = self._hub_secret()
        self.ensure_file(
            layout.CONFIG, office_config_text(self.example, secret), 0o640, etc, "install.config"
        )
        if secret is None and not self.dry_run:
            self.say("warn", "install.config_no_account", path=layout.CONFIG)

    def step_doctor_account(self, etc: Owner) -> None:
        """The doctor's account from the broker folder into /etc/antrian/secrets (root:antrian
        0640, like the configuration holding the hub's password), so that `sudo antrian doctor`
        takes no other client's session. A folder older than the account gets it from
        `antrian devices write`, which the warning says."""
        source = self.path(layout.BROKER) / "secrets" / layout.DOCTOR_ACCOUNT.name
        try:
            text = source.read_text(encoding="utf-8")
        except OSError:
            made_now = self.dry_run and not (self.path(layout.BROKER) / "registry.json").exists()
            if made_now:
                self.say("would", "install.doctor_account", path=layout.DOCTOR_ACCOUNT)
            else:
                self.say("warn", "install.doctor_account_missing", broker=layout.BROKER)
            return
        self.ensure_file(layout.DOCTOR_ACCOUNT, text, 0o640, etc, "install.doctor_account")

    def step_mosquitto_include(self) -> None:
        link = self.path(layout.MOSQUITTO_INCLUDE)
        target = str(layout.MOSQUITTO_INCLUDE_TARGET)
        if link.is_symlink() and os.readlink(link) == target:
            self.say("same", "install.mosquitto_include", path=layout.MOSQUITTO_INCLUDE)
        elif self.dry_run:
            self.say("would", "install.mosquitto_include", path=layout.MOSQUITTO_INCLUDE)
        else:
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.exists() or link.is_symlink():
                kept = link.with_name(link.name + ".before-antrian-install")
                os.replace(link, kept)
                self.say("warn", "install.mosquitto_kept", path=layout.MOSQUITTO_INCLUDE, kept=kept.name)
            tmp = link.with_name(f".{link.name}.tmp")
            tmp.unlink(missing_ok=True)
            os.symlink(target, tmp)
            os.replace(tmp, link)
            self.broker_changed = True
            self.say("done", "install.mosquitto_include", path=layout.MOSQUITTO_INCLUDE)
        main = self.path(layout.MOSQUITTO_MAIN)
        if not main.exists():
            self.say("warn", "install.mosquitto_missing")
        elif not includes_conf_d(main.read_text(encoding="utf-8", errors="replace")):
            self.say(
                "warn", "install.mosquitto_no_conf_d", main=layout.MOSQUITTO_MAIN, dir=layout.MOSQUITTO_CONF_D
            )

    def _tv_url(self) -> str:
        return (self._office().office.public_url or "http://127.0.0.1:8080").rstrip("/") + "/tv"

    def step_units(self) -> None:
        me = Owner(os.geteuid(), os.getegid()) if not self.real else Owner(0, 0)
        units = Units(self.command, self.user, self._tv_url())
        changed = False
        for name, text in ((layout.HUB_UNIT, units.hub()), (layout.SPEAKER_UNIT, units.speaker())):
            changed |= self.ensure_file(layout.SYSTEM_UNITS / name, text, 0o644, me, "install.unit")
        changed |= self.ensure_file(layout.USER_UNITS / layout.TV_UNIT, units.tv(), 0o644, me, "install.unit")
        self.ensure_file(layout.TV_LAUNCHER, layout.tv_file("antrian-tv"), 0o755, me, "install.tv_launcher")
        self.units_changed = changed

    def step_systemctl(self) -> None:
        if not self.systemctl:
            return
        if shutil.which("systemctl") is None:
            self.say("warn", "install.no_systemctl")
            return
        plan: list[tuple[list[str], str]] = []
        if self.units_changed:
            plan.append((["systemctl", "daemon-reload"], "install.daemon_reload"))
        if self.broker_changed:
            plan.append((["systemctl", "restart", "mosquitto"], "install.mosquitto_restart"))
        for unit in (layout.HUB_UNIT, layout.SPEAKER_UNIT):
            enabled = self.run_cmd(["systemctl", "is-enabled", unit]).returncode == 0
            active = self.run_cmd(["systemctl", "is-active", unit]).returncode == 0
            waiting = unit == layout.SPEAKER_UNIT and not self.path(layout.SPEAKER_ENV).exists()
            if enabled and (active or waiting) and not self.units_changed:
                self.say("same", "install.enabled", unit=unit)
                continue
            verb = "restart" if active and self.units_changed else "start"
            plan.append((["systemctl", "enable", unit], "install.enabled"))
            plan.append((["systemctl", verb, unit], "install.started"))
        for argv, key in plan:
            done = self.run_cmd(argv)
            unit = argv[-1]
            if done.returncode != 0:
                self.say(
                    "failed",
                    "install.systemctl_failed",
                    command=shlex.join(argv),
                    error=done.stderr.strip()[-300:],
                )
            else:
                self.say("done", key, unit=unit)


def includes_conf_d(main_conf: str) -> bool:
    """True when Mosquitto's main file loads `/etc/mosquitto/conf.d` (Debian's does)."""
    for line in main_conf.splitlines():
        words = line.split("#", 1)[0].split()
        if (
            len(words) == 2
            and words[0] == "include_dir"
            and words[1].rstrip("/") == str(layout.MOSQUITTO_CONF_D)
        ):
            return True
    return False

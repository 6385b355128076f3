"""The broker folder: a registry of accounts and every file generated from it.

Why a registry and regeneration rather than editing `passwd`/`acl` in place: removing a device
must remove *every* trace of it (password line, ACL block, `[[devices]]` table, its config
file) in one step, and a file rewritten whole from one source cannot keep a stale line.
Writes go through a temporary file and `os.replace`, so a broker reloading at the wrong moment
reads the old file or the new one, never half of one.

Every value that goes into a generated file is checked first (`Settings.check`,
`DeviceEntry.check`), from the command line and from `registry.json` alike: these files are
line-based configs of a security boundary, and `--bind $'127.0.0.1\nallow_anonymous true'`
must not become a line of `mosquitto.conf`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from msgspec import UNSET

from antrian.config import ROLES, ConfigError, TomlTooLarge, parse_config, read_toml
from antrian.contract import HA_DISCOVERY_PREFIX, MAX_PACKET_BYTES, Topics, is_slug, topic_templates
from antrian.i18n import device_words
from antrian.provision.device_config import DeviceConfig, MqttSection, TopicsSection, WifiSection, config_text
from antrian.provision.topics import device_acl, device_topics, wildcard

HUB_USER: Final = "antrian-hub"
#: The hub's web topic monitor (`/admin`). An account of its own because the broker forces
#: client id = user name: a second login as `antrian-hub` would take over the hub's session,
#: and the two would knock each other off the broker in a loop. It may read, never write.
MONITOR_USER: Final = "antrian-monitor"
#: `antrian doctor`. An account of its own for the same reason: logging in as the monitor
#: would take the running hub's topic monitor off the broker while the doctor listens.
#: It may read, never write.
DOCTOR_USER: Final = "antrian-doctor"
HA_USER: Final = "homeassistant"
RESERVED_USERS: Final = frozenset({HUB_USER, MONITOR_USER, DOCTOR_USER, HA_USER})
#: The doctor's account, in the broker folder's `secrets/` and, installed, in /etc/antrian/secrets.
DOCTOR_ACCOUNT_FILE: Final = "doctor-mqtt.toml"
#: The system user Debian's Mosquitto drops to: it must be able to read passwd, acl and certs.
BROKER_SYSTEM_USER: Final = "mosquitto"

#: PBKDF2 iterations of Mosquitto's `$7$` format. 101 is `mosquitto_passwd`'s own default; the
#: passwords are 24 random characters (144 bits), so the cost only has to beat nothing, and
#: every CONNECT pays it.
PBKDF2_ITERATIONS: Final = 101

BLOCK_START: Final = "# >>> antrian devices: dibuat otomatis / generated, jangan disunting >>>"
BLOCK_END: Final = "# <<< antrian devices <<<"

REGISTRY_VERSION: Final = 1

#: `openssl req` options for a new P-256 key, unencrypted (the broker reads it unattended at
#: start), written to the path that follows them: the CA's and the server's alike.
_NEW_KEY: Final = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout")

#: Roles bound to one counter (they need `--counter`).
COUNTER_ROLES: Final = ("call_pad", "led_board")


class ProvisionError(RuntimeError):
    """Something the officer must fix (bad id, unknown counter, openssl missing)."""


# ---------------------------------------------------------------------------------------------
# checks: nothing reaches a generated file unchecked
# ---------------------------------------------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_LETTER = re.compile(r"^[A-Z]$")
_HASH = re.compile(r"^\$7\$[0-9]{1,9}\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$")


def check_host(value: object, what: str) -> str:
    """An IP address or a host name (RFC 1123 labels): no spaces, no line breaks, nothing else."""
    if isinstance(value, str):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if _HOSTNAME.match(value):
                return value
        else:
            return value
    raise ProvisionError(
        f"{what} {value!r}: harus alamat IP atau nama host (tanpa spasi) /"
        " must be an IP address or a host name (no spaces)"
    )


def check_port(value: object, what: str, *, none_allowed: bool = False) -> int:
    """A TCP port, 1..65535 (0 too where it means "no listener")."""
    low = 0 if none_allowed else 1
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= 65535:
        return value
    zero = (" (0: tanpa listener biasa, dengan --tls)", " (0: no plain listener, with --tls)")
    id_, en = zero if none_allowed else ("", "")
    raise ProvisionError(f"{what} {value!r}: harus 1..65535{id_} / must be 1..65535{en}")


def check_path(value: object, what: str) -> str:
    """An absolute path that fits on one line of mosquitto.conf (no control characters)."""
    if isinstance(value, str) and value.startswith("/") and value == value.strip() and value.isprintable():
        return value
    raise ProvisionError(
        f"{what} {value!r}: harus path absolut tanpa karakter kontrol /"
        " must be an absolute path without control characters"
    )


def _toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# ---------------------------------------------------------------------------------------------
# passwords
# ---------------------------------------------------------------------------------------------


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A Mosquitto 2.x password-file hash: `$7$iterations$salt$hash`, PBKDF2-SHA512.

    Written here rather than by calling `mosquitto_passwd` so that provisioning also works on
    a machine that is not the broker (the files are then copied over).
    """
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a `$7$` hash (for tests and `devices list --check`)."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    salt, expected = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(got, expected)


def new_password() -> str:
    """24 URL-safe random characters: typeable on a config screen, 144 bits of entropy."""
    return secrets.token_urlsafe(18)


# ---------------------------------------------------------------------------------------------
# the registry
# ---------------------------------------------------------------------------------------------


@dataclass
class DeviceEntry:
    """One provisioned device: what the hub needs to know, and its password hash."""

    id: str
    role: str
    services: tuple[str, ...] = ()
    counter: int | None = None
    hash: str = ""

    def check(self) -> None:
        """Raise ProvisionError unless every field may go into passwd, acl, TOML and JSON."""
        if not isinstance(self.id, str) or not is_slug(self.id):
            raise ProvisionError(f"id {self.id!r}: lower-case letters, digits, - or _, max 32")
        if self.id in RESERVED_USERS:
            raise ProvisionError(f"id {self.id!r} is reserved")
        if self.role not in ROLES:
            raise ProvisionError(f"role {self.role!r}: one of {', '.join(ROLES)}")
        for letter in self.services:
            if not isinstance(letter, str) or not _LETTER.match(letter):
                raise ProvisionError(
                    f"--services {letter!r}: satu huruf kapital A-Z / one capital letter A-Z"
                )
        if len(set(self.services)) != len(self.services):
            raise ProvisionError(f"--services {','.join(self.services)}: huruf ganda / a letter given twice")
        if self.role in COUNTER_ROLES and self.counter is None:
            raise ProvisionError(f"a {self.role} needs --counter")
        counter = self.counter
        if counter is not None and (
            not isinstance(counter, int) or isinstance(counter, bool) or not 1 <= counter <= 99
        ):
            raise ProvisionError(f"--counter {counter!r}: harus 1..99 / must be 1..99")
        if self.hash and not _HASH.match(self.hash):
            raise ProvisionError(f"device {self.id}: not a Mosquitto $7$ password hash")

    def hub_table(self) -> str:
        """The `[[devices]]` table of the hub's TOML for this device."""
        lines = ["[[devices]]", f"id = {_toml_str(self.id)}", f"role = {_toml_str(self.role)}"]
        if self.services:
            lines.append("services = [" + ", ".join(_toml_str(s) for s in self.services) + "]")
        if self.counter is not None:
            lines.append(f"counter = {int(self.counter)}")
        return "\n".join(lines)


@dataclass
class Settings:
    """Where the broker listens and how devices reach it."""

    office: str = "kantor"
    host: str = "192.168.1.10"  # what devices and the hub connect to
    port: int = 1883  # plain listener; 0 = none (TLS only)
    bind: str = ""  # listener address on the broker; "" = every interface
    tls: bool = False
    tls_port: int = 8883
    tls_hosts: list[str] = field(default_factory=list)  # names/IPs in the server certificate
    conf_dir: str = ""  # where the files live on the broker host; "" = this folder

    def check(self) -> None:
        """Raise ProvisionError unless every setting may go into the generated files."""
        if not isinstance(self.office, str) or not is_slug(self.office):
            raise ProvisionError(f"office: use lower-case letters, digits, - or _ ({self.office!r})")
        check_host(self.host, "--host")
        if self.bind != "":
            check_host(self.bind, "--bind")
        check_port(self.port, "--port", none_allowed=True)
        check_port(self.tls_port, "--tls-port")
        if not isinstance(self.tls, bool):
            raise ProvisionError(f"tls {self.tls!r}: true or false")
        if not isinstance(self.tls_hosts, list):
            raise ProvisionError(f"tls_hosts {self.tls_hosts!r}: a list of names")
        for name in self.tls_hosts:
            check_host(name, "--tls-host")
        if self.conf_dir != "":
            check_path(self.conf_dir, "--conf-dir")
        if self.port == 0 and not self.tls:
            raise ProvisionError("port 0 (no plain listener) needs --tls")
        if self.tls and self.port == self.tls_port:
            raise ProvisionError(f"--port and --tls-port are both {self.port}")


class BrokerFolder:
    """A folder holding the registry and everything generated from it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.registry_path = self.path / "registry.json"
        self.settings = Settings()
        self.accounts: dict[str, str] = {}  # hub / Home Assistant user -> hash
        self.device_map: dict[str, DeviceEntry] = {}
        self.created = False
        self._pending_password: tuple[str, str] | None = None
        #: what `configure` and `remove` decided, written (or deleted) by `write` only: a
        #: command refused on the way leaves the folder as it was
        self._fresh: dict[str, str] = {}
        self._removed: set[str] = set()
        #: the language a kiosk's tickets are written in: the office's (`[office] language` of
        #: the hub's TOML, read by `sync_hub_config`), Indonesian without one
        self.ticket_lang = "id"
        if self.registry_path.exists():
            self._load()

    # -- registry --------------------------------------------------------------------------

    def _load(self) -> None:
        """Read `registry.json`, checked like a command line: it is a file someone could edit."""
        try:
            raw = json.loads(self.registry_path.read_text(encoding="utf-8"))
            s = raw["settings"]
            self.settings = Settings(**s)
            self.accounts = dict(raw["accounts"])
            self.device_map = {
                d["id"]: DeviceEntry(
                    d["id"], d["role"], tuple(d.get("services", ())), d.get("counter"), d["hash"]
                )
                for d in raw["devices"]
            }
            self.settings.check()
            for device in self.device_map.values():
                device.check()
            for user, digest in self.accounts.items():
                if user not in RESERVED_USERS or not isinstance(digest, str) or not _HASH.match(digest):
                    raise ProvisionError(f"account {user!r}: unknown, or not a $7$ hash")
        except (OSError, ValueError, KeyError, TypeError, ProvisionError) as exc:
            raise ProvisionError(f"{self.registry_path}: unreadable registry ({exc})") from None

    def _save(self) -> None:
        body = {
            "version": REGISTRY_VERSION,
            "settings": asdict(self.settings),
            "accounts": self.accounts,
            "devices": [{**asdict(d), "services": list(d.services)} for d in self.devices()],
        }
        _write(self.registry_path, json.dumps(body, indent=2) + "\n", 0o600)

    @property
    def exists(self) -> bool:
        return self.registry_path.exists()

    def devices(self) -> list[DeviceEntry]:
        return [self.device_map[k] for k in sorted(self.device_map)]

    @property
    def conf_dir(self) -> str:
        return self.settings.conf_dir or str(self.path.resolve())

    # -- changes ---------------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:  # noqa: ANN401
        """Change settings (None values are ignored); creates the hub, monitor, doctor and HA
        accounts.

        Each account is made once. A folder made before the monitor account existed gets it on
        its next command, and `secrets/hub-mqtt.toml` gains the two `monitor_*` lines; one made
        before the doctor's account gets that and `secrets/doctor-mqtt.toml` the same way.
        """
        for key, value in changes.items():
            if value is None:
                continue
            if not hasattr(self.settings, key):
                raise ProvisionError(f"unknown setting {key}")
            setattr(self.settings, key, value)
        self.settings.check()
        check_path(self.conf_dir, "--dir")  # before anything is made in it
        for user in (HUB_USER, MONITOR_USER, DOCTOR_USER, HA_USER):
            if user not in self.accounts:
                self._fresh[user] = new_password()
                self.accounts[user] = hash_password(self._fresh[user])
                self.created = True

    def add(self, device_id: str, role: str, services: Sequence[str] = (), counter: int | None = None) -> str:
        """Register a device; returns its new password (written to its config file too)."""
        entry = DeviceEntry(device_id, role, tuple(services), counter if role in COUNTER_ROLES else None)
        entry.check()
        if device_id in self.device_map:
            raise ProvisionError(f"device {device_id} exists already (remove it first)")
        password = new_password()
        entry.hash = hash_password(password)
        self.device_map[device_id] = entry
        self._pending_password = (device_id, password)
        return password

    def remove(self, device_id: str) -> None:
        """Forget a device: its account, ACL and config file go with the next `write`."""
        if device_id not in self.device_map:
            raise ProvisionError(f"no device {device_id}")
        del self.device_map[device_id]
        self._removed.add(device_id)

    # -- generation ------------------------------------------------------------------------

    def write(self) -> list[Path]:
        """Regenerate every file from the registry; returns what was written."""
        self.settings.check()
        check_path(self.conf_dir, "--dir")  # the folder's own path, when it is the conf dir
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o755)  # noqa: S103 - the broker user must reach passwd/acl/tls
        written: list[Path] = []
        if self.settings.tls:
            written += self._ensure_tls()
        fresh, self._fresh = self._fresh, {}
        if HUB_USER in fresh or MONITOR_USER in fresh:
            self._write_hub_secret(fresh.get(HUB_USER), fresh.get(MONITOR_USER))
        if HA_USER in fresh:
            self._write_ha_secret(fresh[HA_USER])
        if DOCTOR_USER in fresh:
            _write(self._secrets() / DOCTOR_ACCOUNT_FILE, self.doctor_secret_text(fresh[DOCTOR_USER]), 0o600)
        for device_id in self._removed - set(self.device_map):
            (self.path / "devices" / f"{device_id}.json").unlink(missing_ok=True)
        self._removed.clear()
        written.append(_write(self.path / "passwd", self.passwd_text(), 0o600, broker=True))
        written.append(_write(self.path / "acl", self.acl_text(), 0o600, broker=True))
        written.append(
            _write(self.path / "mosquitto.conf", self.mosquitto_conf(), self._conf_mode(), broker=True)
        )
        written.append(_write(self.path / "hub-devices.toml", self.hub_devices_text(), 0o644))
        pending = self._pending_password
        if pending is not None:
            written.append(self._write_device_config(*pending))
            self._pending_password = None
        self._save()
        written.append(self.registry_path)
        return written

    def passwd_text(self) -> str:
        lines = [f"{user}:{h}" for user, h in sorted(self.accounts.items())]
        lines += [f"{d.id}:{d.hash}" for d in self.devices()]
        return "\n".join(lines) + "\n"

    def acl_text(self) -> str:
        """Who may read and write what. Mosquitto denies whatever no line allows.

        Every topic comes from the contract's templates (`antrian.provision.topics`), the same
        that give each device the topics in its config, so a board is never refused a topic
        it uses; `+` stands for any command, service letter or counter.
        """
        office = self.settings.office
        everything = f"{Topics(office).base}/#"
        discovery = f"{HA_DISCOVERY_PREFIX}/#"
        out = [
            "# antrian: ACL broker. Dibuat oleh `antrian devices`; jangan disunting.",
            "# Generated by `antrian devices`; do not edit: changes are overwritten.",
            "",
            "# The hub: the whole office tree and Home Assistant discovery.",
            f"user {HUB_USER}",
            f"topic readwrite {everything}",
            f"topic readwrite {discovery}",
            "",
            "# The hub's web topic monitor (/admin): reads what the hub reads, writes nothing.",
            f"user {MONITOR_USER}",
            f"topic read {everything}",
            f"topic read {discovery}",
            "",
            "# antrian doctor: reads what the hub reads, writes nothing.",
            f"user {DOCTOR_USER}",
            f"topic read {everything}",
            f"topic read {discovery}",
            "",
            "# Home Assistant: reads everything of the office, asks the hub, owns its discovery.",
            f"user {HA_USER}",
            f"topic read {everything}",
            f"topic write {wildcard(topic_templates()['hub_request'], office=office)}",
            f"topic readwrite {discovery}",
        ]
        for d in self.devices():
            reads, writes = device_acl(office, d.id, d.role)
            out += [
                "",
                f"# {d.role} {d.id}" + (f" (loket {d.counter})" if d.counter else ""),
                f"user {d.id}",
                # reads: the hub's words to this device (responses, display, play, set) and the
                # public queue state
                *(f"topic read {topic}" for topic in reads),
                # writes: only what a device says about itself; display/play/set/response are
                # the hub's words to the device, so a device cannot forge them
                *(f"topic write {topic}" for topic in writes),
            ]
        return "\n".join(out) + "\n"

    def mosquitto_conf(self) -> str:
        s = self.settings
        d = self.conf_dir
        bind = f" {s.bind}" if s.bind else ""
        lines = [
            f"# antrian: broker kantor {s.office}. dibuat `antrian devices`, jangan disunting.",
            "# Generated by `antrian devices`: regenerate instead of editing.",
            "",
            "per_listener_settings false",
            "# No anonymous clients: every device, the hub and Home Assistant have an account.",
            "allow_anonymous false",
            f"password_file {d}/passwd",
            f"acl_file {d}/acl",
            "# Requests and responses are small QoS 1 messages. With Nagle's algorithm on (the",
            "# default) each round trip stalls 40-90 ms against delayed ACKs; off, it is < 1 ms.",
            "set_tcp_nodelay true",
            "# Retained state is republished by the hub and devices on every reconnect.",
            "persistence false",
            "# Largest packet accepted (topic, payload, headers). A device sends at most 1 KiB,",
            "# the hub's largest retained message (hub/info) is ~24 KiB for 26 services and 99",
            "# counters. A bigger packet disconnects its sender before the broker reads it, so a",
            "# 100 MB payload never reaches the hub or fills the broker's memory.",
            f"max_packet_size {MAX_PACKET_BYTES}",
            "# stderr, not stdout: stdout into a file is block-buffered and loses the last lines.",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "",
            "# Listener options follow their `listener` line (an option placed before the first",
            "# listener would open a default listener on port 1883 as well).",
            "# use_username_as_clientid: the client id is the user name, so a device cannot take",
            "# over (and disconnect) the hub's or another device's session by reusing its id.",
            "",
        ]
        if s.port:
            lines += [f"listener {s.port}{bind}", "use_username_as_clientid true", ""]
        if s.tls:
            lines += [
                f"listener {s.tls_port}{bind}",
                "use_username_as_clientid true",
                f"cafile {d}/tls/ca.crt",
                f"certfile {d}/tls/server.crt",
                f"keyfile {d}/tls/server.key",
                "tls_version tlsv1.2",
                "",
            ]
        bridge = self.bridge()
        if bridge is not None:
            # In this file, not in an `include_dir`: Mosquitto skips an `include_dir` inside an
            # included file without a word, and this file is included from conf.d.
            lines += [
                "# The bridge to the regency's central broker (`antrian devices bridge`), last:",
                "# the options after a `connection` line belong to that bridge.",
                bridge_text(self.settings.office, *bridge),
            ]
        return "\n".join(lines)

    def bridge(self) -> tuple[CentralAccount, str | None] | None:
        """The bridge's account and CA file (`bridge/central.json`), checked; None without one."""
        path = self.path / BRIDGE_DIR / BRIDGE_FILE
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            account = CentralAccount(raw["username"], raw["password"], raw["host"], raw["port"])
            cafile = raw.get("cafile")
            account.check()
            if cafile is not None:
                check_path(cafile, "cafile")
        except (OSError, ValueError, KeyError, TypeError, ProvisionError) as exc:
            raise ProvisionError(f"{path}: unreadable bridge settings ({exc})") from None
        return account, cafile

    def _conf_mode(self) -> int:
        """mosquitto.conf holds the bridge's password once there is one: broker-only then."""
        return 0o600 if (self.path / BRIDGE_DIR / BRIDGE_FILE).exists() else 0o644

    # -- the regency bridge ----------------------------------------------------------------

    def write_bridge(self, account: CentralAccount, cafile: str | None = None) -> list[Path]:
        """Write the bridge to the central broker and the mosquitto.conf that includes it.

        Everything is checked first (the account, that it is this office's, the CA file);
        a refusal writes nothing. The password is in files only root and the broker read:
        `bridge/central.json` and mosquitto.conf (0600 from then on)."""
        if not self.exists:
            raise ProvisionError(f"{self.path}: no broker folder yet (run `antrian devices write` first)")
        office = self.settings.office
        if account.username != central_user(office):
            raise ProvisionError(
                f"akun {account.username!r} bukan untuk kantor {office!r} (harus {central_user(office)!r}) /"
                f" account {account.username!r} is not this office's (must be {central_user(office)!r})"
            )
        if cafile is not None:
            check_path(cafile, "--cafile")
            if not Path(cafile).is_file():
                raise ProvisionError(f"--cafile {cafile}: tidak ada / no such file")
        bridge_text(office, account, cafile)  # checks every value before anything is written
        folder = self.path / BRIDGE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        body = {**asdict(account), "cafile": cafile}
        written = [_write(folder / BRIDGE_FILE, json.dumps(body, indent=2) + "\n", 0o600)]
        written.append(_write(self.path / "mosquitto.conf", self.mosquitto_conf(), 0o600, broker=True))
        return written

    def hub_devices_text(self) -> str:
        tables = [d.hub_table() for d in self.devices()]
        return "\n\n".join([BLOCK_START, *tables, BLOCK_END]) + "\n"

    def hub_mqtt_text(self, password: str | None, monitor_password: str | None) -> str:
        """The hub's `[mqtt]` section; a password not known any more is left as a comment."""
        s = self.settings
        port = s.tls_port if s.tls and not s.port else s.port
        unknown = "# {key} = (unchanged: the one already in antrian.toml)"
        lines = [
            "[mqtt]",
            f"host = {_toml_str(s.host)}",
            f"port = {int(port)}",
            f"username = {_toml_str(HUB_USER)}",
            f"password = {_toml_str(password)}" if password else unknown.format(key="password"),
            f"client_id = {_toml_str(HUB_USER)}",
            "# The web pages' topic monitor logs in with its own read-only account: a second",
            "# login as the hub would take over the hub's session (client id = user name).",
            f"monitor_username = {_toml_str(MONITOR_USER)}",
            f"monitor_password = {_toml_str(monitor_password)}"
            if monitor_password
            else unknown.format(key="monitor_password"),
            f"# tls_ca = {_toml_str(self.conf_dir + '/tls/ca.crt')}   # with port = {s.tls_port}",
        ]
        return "\n".join(lines) + "\n"

    @staticmethod
    def doctor_secret_text(password: str) -> str:
        """`secrets/doctor-mqtt.toml`: the doctor's read-only account, for a person to read too."""
        lines = [
            "# antrian doctor: its own read-only broker account (client id = user name, so it",
            "# takes no other client's session). `antrian install` copies this file to",
            "# /etc/antrian/secrets/; `antrian doctor --mqtt-secret FILE` reads it from anywhere.",
            f"username = {_toml_str(DOCTOR_USER)}",
            f"password = {_toml_str(password)}",
        ]
        return "\n".join(lines) + "\n"

    def _secrets(self) -> Path:
        folder = self.path / "secrets"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        return folder

    def _write_hub_secret(self, password: str | None, monitor_password: str | None) -> None:
        """`secrets/hub-mqtt.toml`, keeping a password made earlier that is still in the file."""
        path = self._secrets() / "hub-mqtt.toml"
        try:
            earlier = tomllib.loads(path.read_text(encoding="utf-8")).get("mqtt", {})
        except (OSError, ValueError):
            earlier = {}
        password = password or earlier.get("password")
        monitor_password = monitor_password or earlier.get("monitor_password")
        _write(path, self.hub_mqtt_text(password, monitor_password), 0o600)

    def _write_ha_secret(self, password: str) -> None:
        s = self.settings
        body = {
            "broker": s.host,
            "port": s.port or s.tls_port,
            "username": HA_USER,
            "password": password,
            "tls": bool(s.tls and not s.port),
        }
        _write(self._secrets() / "homeassistant.json", json.dumps(body, indent=2) + "\n", 0o600)

    def _write_device_config(self, device_id: str, password: str) -> Path:
        """The device's `config.json`: identity, broker, credentials, its topics from the
        contract; WiFi left to fill in (the tables and schema: `device_config`)."""
        folder = self.path / "devices"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        ca = self.path / "tls" / "ca.crt"
        if self.settings.tls and ca.exists():
            shutil.copyfile(ca, folder / "ca.crt")  # flashed beside config.json
        text = config_text(self.device_config(device_id, password))
        return _write(folder / f"{device_id}.json", text, 0o600)

    def device_config(self, device_id: str, password: str) -> DeviceConfig:
        """What `config.json` of a registered device says (`password` is its plain one)."""
        s = self.settings
        d = self.device_map[device_id]
        use_tls = s.tls and not s.port
        mqtt = MqttSection(
            host=s.host, port=s.tls_port if use_tls else s.port, user=d.id, password=password, client_id=d.id
        )
        if s.tls:
            mqtt.tls, mqtt.tls_port, mqtt.ca = use_tls, s.tls_port, "ca.crt"
        return DeviceConfig(
            id=d.id,
            office=s.office,
            role=d.role,  # type: ignore[arg-type]  # checked against ROLES by DeviceEntry.check
            counter=d.counter if d.counter is not None else UNSET,
            services=list(d.services) if d.services else UNSET,
            mqtt=mqtt,
            topics=TopicsSection(**device_topics(s.office, d.id, d.role)),
            wifi=WifiSection(ssid="", password=""),
            # the kiosk prints these; the board cannot read the hub's catalogue
            words=device_words(self.ticket_lang) if d.role == "kiosk" else UNSET,
        )

    # -- TLS -------------------------------------------------------------------------------

    def _ensure_tls(self) -> list[Path]:
        """A local CA and a server certificate, made once (adding a device never rotates them)."""
        tls = self.path / "tls"
        tls.mkdir(parents=True, exist_ok=True)
        os.chmod(tls, 0o755)  # noqa: S103 - certificates are public; the keys are 0600
        ca_key, ca_crt = tls / "ca.key", tls / "ca.crt"
        key, crt = tls / "server.key", tls / "server.crt"
        written: list[Path] = []
        if not (ca_key.exists() and ca_crt.exists()):
            _openssl(
                "req",
                "-x509",
                *_NEW_KEY,
                str(ca_key),
                "-out",
                str(ca_crt),
                "-days",
                "3650",
                "-subj",
                f"/O=antrian/CN=antrian {self.settings.office} local CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            )
            key.unlink(missing_ok=True)  # a new CA means a new server certificate
            written += [ca_key, ca_crt]
        os.chmod(ca_key, 0o600)  # stays with root: the broker never needs the CA key
        os.chmod(ca_crt, 0o644)
        if not (key.exists() and crt.exists()):
            names = self.settings.tls_hosts or [self.settings.host, "localhost", "127.0.0.1"]
            with tempfile.TemporaryDirectory() as tmp:
                csr, ext = Path(tmp) / "server.csr", Path(tmp) / "ext.cnf"
                ext.write_text(
                    f"subjectAltName={_san(names)}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                )
                _openssl(
                    "req",
                    *_NEW_KEY,
                    str(key),
                    "-out",
                    str(csr),
                    "-subj",
                    f"/O=antrian/CN={names[0]}",
                )
                _openssl(
                    "x509",
                    "-req",
                    "-in",
                    str(csr),
                    "-CA",
                    str(ca_crt),
                    "-CAkey",
                    str(ca_key),
                    "-CAcreateserial",
                    "-CAserial",
                    str(Path(tmp) / "ca.srl"),
                    "-out",
                    str(crt),
                    "-days",
                    "825",
                    "-extfile",
                    str(ext),
                )
            written += [key, crt]
        _own(key, 0o600, broker=True)
        _own(crt, 0o644, broker=True)
        _own(ca_crt, 0o644, broker=True)
        if (self.path / "devices").exists():
            shutil.copyfile(ca_crt, self.path / "devices" / "ca.crt")
        return written

    # -- the hub's TOML --------------------------------------------------------------------

    def hub_config_text(self, path: str | Path) -> str:
        """The hub's TOML with the `[[devices]]` block of this folder, checked as the hub would
        load it, and nothing written: a result the hub would refuse (a counter that does not
        exist, an id declared twice) is refused here. Reads `[office] language` for the kiosks.

        The block sits between two marker comments and is replaced whole each time (the one
        `antrian config init` prints too); devices declared by hand elsewhere stay as they are.
        """
        p = Path(path)
        try:
            old = p.read_text(encoding="utf-8") if p.exists() else ""
        except OSError as exc:
            raise ProvisionError(f"{p}: cannot read ({exc.strerror})") from None
        new = replace_block(old, self.hub_devices_text())
        try:
            self.ticket_lang = parse_config(tomllib.loads(new)).office.language
        except tomllib.TOMLDecodeError as exc:
            raise ProvisionError(f"{p}: not valid TOML: {exc}") from None
        except ConfigError as exc:
            raise ProvisionError(f"{p}: {exc}") from None
        return new

    def sync_hub_config(self, path: str | Path) -> None:
        """Write the `[[devices]]` block into the hub's TOML once `hub_config_text` took it."""
        self.write_hub_config(path, self.hub_config_text(path))

    @staticmethod
    def write_hub_config(path: str | Path, text: str) -> None:
        """Replace the hub's TOML with `text` at once (its mode kept)."""
        _write(Path(path), text, 0o644, keep_mode=True)

    def broker_unreachable_dirs(self) -> list[Path]:
        """Folders above this one that the broker user cannot enter (it would refuse to start)."""
        bad: list[Path] = []
        for parent in self.path.resolve().parents:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                bad.append(parent)
        return bad


# ---------------------------------------------------------------------------------------------
# the regency bridge (docs/regency.md)
# ---------------------------------------------------------------------------------------------

#: Where the bridge's settings are kept (with its password: root only), from which every
#: regeneration of mosquitto.conf writes the bridge section again.
BRIDGE_DIR: Final = "bridge"
BRIDGE_FILE: Final = "central.json"
#: Longest password accepted from a centre's secret file (its own are 24 characters).
MAX_CENTRAL_PASSWORD: Final = 128
#: Largest secret file read (the centre's are ~250 bytes).
MAX_SECRET_BYTES: Final = 4096


def central_user(office: str) -> str:
    """The office's account at the central broker (also the bridge's fixed remote client id)."""
    return f"office-{office}"


@dataclass(frozen=True)
class CentralAccount:
    """What the centre hands an office (`office-<slug>.toml`): its account and where to connect."""

    username: str
    password: str
    host: str
    port: int

    def check(self) -> None:
        """Raise ProvisionError unless every value may go into a line of mosquitto.conf."""
        user = self.username.removeprefix("office-")
        if not self.username.startswith("office-") or not is_slug(user):
            raise ProvisionError(f"username {self.username!r}: must be office-<slug>")
        pw = self.password
        if not (8 <= len(pw) <= MAX_CENTRAL_PASSWORD) or not pw.isprintable() or any(c.isspace() for c in pw):
            raise ProvisionError(f"password: 8..{MAX_CENTRAL_PASSWORD} printable characters without spaces")
        check_host(self.host, "host")
        check_port(self.port, "port")


def read_central_secret(path: str | Path, central: str | None = None) -> CentralAccount:
    """The office's account from the centre's secret file; `central` (`HOST:PORT`) overrides
    where to connect (the centre's public name may differ from what its folder says)."""
    p = Path(path)
    try:
        raw = read_toml(p, MAX_SECRET_BYTES)
    except TomlTooLarge:
        raise ProvisionError(f"{p}: over {MAX_SECRET_BYTES} bytes: not a secret file of the centre") from None
    except OSError as exc:
        raise ProvisionError(f"{p}: cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProvisionError(f"{p}: not valid TOML ({exc})") from None
    try:
        username, password = raw["username"], raw["password"]
        host, port = raw.get("host", ""), raw.get("port", 1883)
    except KeyError as exc:
        raise ProvisionError(f"{p}: {exc.args[0]} missing") from None
    if central is not None:
        host, port = parse_host_port(central)
    if not all(isinstance(v, str) for v in (username, password, host)):
        raise ProvisionError(f"{p}: username, password and host must be text")
    account = CentralAccount(username, password, host, port)
    account.check()
    return account


def parse_host_port(text: str) -> tuple[str, int]:
    """`central.example.go.id:8883` or `[2001:db8::1]:1883` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or len(port) > 5:
        raise ProvisionError(f"--central {text!r}: must be HOST:PORT")
    host = host.removeprefix("[").removesuffix("]")
    return check_host(host, "--central"), check_port(int(port), "--central")


def bridge_topics(office: str) -> list[tuple[str, str]]:
    """(topic, direction) of every bridged topic: the contract's regency link, from the
    contract's own `Topics` (the same names on both sides: no prefixes)."""
    tp = Topics(office)
    out = [
        tp.central_events,
        tp.central_head,
        tp.hub_state,
        tp.hub_info,
        tp.office_state,
        tp.service_state("+"),
        f"{tp.base}/counter/+/state",
        tp.device_availability("+"),
    ]
    return [(t, "out") for t in out] + [(tp.central_resend, "in")]


def bridge_text(office: str, account: CentralAccount, cafile: str | None) -> str:
    """The `connection` section of the office broker's bridge to the central broker."""
    account.check()
    lines = [
        f"# antrian: bridge kantor {office} ke broker pusat. Dibuat `antrian devices bridge`.",
        "# Generated by `antrian devices bridge`: run it again instead of editing.",
        f"connection antrian-central-{office}",
        f"address {account.host}:{account.port}",
        "# A persistent session at the centre, under a fixed client id: messages published",
        "# while the link is down wait in the office broker and leave when it is back.",
        "cleansession false",
        f"remote_clientid {account.username}",
        f"local_clientid antrian-bridge-{office}",
        f"remote_username {account.username}",
        f"remote_password {account.password}",
        "bridge_protocol_version mqttv311",
        "keepalive_interval 60",
        "restart_timeout 1 30",
        "# No $SYS notifications: the office's account may write only under its own prefix.",
        "notifications false",
    ]
    if cafile is not None:
        lines += [f"bridge_cafile {cafile}", "bridge_insecure false", "bridge_tls_version tlsv1.2"]
    lines += [f"topic {topic} {direction} 1" for topic, direction in bridge_topics(office)]
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    """`text` with the generated `[[devices]]` block replaced (or appended when absent)."""
    start = text.find(BLOCK_START)
    end = text.find(BLOCK_END)
    if start != -1 and end != -1 and end > start:
        after = text[end + len(BLOCK_END) :].lstrip("\n")
        return text[:start] + block + ("\n" + after if after else "")
    sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    return text + sep + block


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _san(names: Iterable[str]) -> str:
    out: list[str] = []
    for name in dict.fromkeys(names):
        try:
            ipaddress.ip_address(name)
            out.append(f"IP:{name}")
        except ValueError:
            out.append(f"DNS:{name}")
    return ",".join(out)


def _openssl(*args: str) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise ProvisionError("openssl is not installed (apt-get install openssl)")
    proc = subprocess.run([binary, *args], capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise ProvisionError(f"openssl {args[0]} failed: {proc.stderr.strip()[-500:]}")


def _broker_ids() -> tuple[int, int] | None:
    """uid/gid of the broker's system user when we are root and it exists, else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(BROKER_SYSTEM_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _own(path: Path, mode: int, *, broker: bool) -> None:
    os.chmod(path, mode)
    ids = _broker_ids() if broker else None
    if ids is not None:
        os.chown(path, *ids)


def _write(path: Path, text: str, mode: int, *, broker: bool = False, keep_mode: bool = False) -> Path:
    """Atomically replace `path`: a reader sees the old file or the new, never half.

    `keep_mode`: an existing file keeps its mode, and its owner too when root writes it: the
    office's `/etc/antrian/antrian.toml` is root:antrian 0640, and `sudo antrian devices add
    --hub-config` must not leave it root:root, which the hub (user antrian) cannot read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    owner: tuple[int, int] | None = None
    if keep_mode and path.exists():
        st = path.stat()
        mode = st.st_mode & 0o777
        owner = (st.st_uid, st.st_gid) if os.geteuid() == 0 else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        _own(Path(tmp), mode, broker=broker)
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

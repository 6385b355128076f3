"""The centre's configuration (`central.toml`): one small file, read once at start.

Why its own file and not a section of the office's antrian.toml: the centre runs on another
machine (the regency's), has no queue, no devices and no office hours; it needs the central
broker's account, the PostgreSQL address, the page's port and the offices it accepts. Every
key is checked here, with its range, so a typo stops the start with a clear message instead of
a default that silently differs from what the operator wrote.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from antrian.config import MqttConfig, TomlTooLarge, read_toml

#: The commented example `antrian central init` prints.
EXAMPLE: Final = Path(__file__).with_name("central.example.toml")
#: An office slug, as `[office] slug` of an office's antrian.toml (it is a topic level).
SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: At most this many offices on one centre (a regency has 10-40 kecamatan).
MAX_OFFICES: Final = 500
#: The largest config file read (a config is a few KiB; anything larger is a mistake).
MAX_BYTES: Final = 256 * 1024


class CentralConfigError(ValueError):
    """The file cannot be used: the message names the key and what is wrong."""


@dataclass(frozen=True)
class CentralConfig:
    mqtt: MqttConfig
    dsn: str
    web_host: str = "0.0.0.0"  # noqa: S104 - the regency's page, for its own network
    web_port: int = 8090
    language: str = "id"
    #: slug -> the office's name, in the order of the file.
    offices: dict[str, str] = field(default_factory=dict)
    #: Seconds a missing seq may stay missing before the office is asked to send it again
    #: (a batch overtaken by a later one on the link is normal and fills itself in).
    gap_grace_s: float = 2.0


_SECTIONS: Final = {
    "broker": {"host", "port", "username", "password", "client_id", "tls_ca"},
    "database": {"dsn"},
    "web": {"host", "port", "language"},
    "ingest": {"gap_grace_seconds"},
    "offices": None,
}


def _get(section: dict[str, Any], name: str, key: str, kind: type, default: Any) -> Any:  # noqa: ANN401
    value = section.get(key, default)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise CentralConfigError(f"[{name}] {key}: expected {kind.__name__}, got {value!r}")
    return value


def parse(data: dict[str, Any]) -> CentralConfig:
    """A checked CentralConfig from the parsed TOML, or CentralConfigError naming the key."""
    for name, value in data.items():
        if name not in _SECTIONS:
            raise CentralConfigError(f"unknown section [{name}] (known: {', '.join(_SECTIONS)})")
        if not isinstance(value, dict):
            raise CentralConfigError(f"[{name}] must be a table")
        keys = _SECTIONS[name]
        if keys is not None:
            unknown = set(value) - keys
            if unknown:
                raise CentralConfigError(
                    f"[{name}] unknown key {sorted(unknown)[0]!r} (known: {sorted(keys)})"
                )
    broker = data.get("broker", {})
    port = _get(broker, "broker", "port", int, 1883)
    if not 1 <= port <= 65535:
        raise CentralConfigError(f"[broker] port: {port} is not 1-65535")
    tls_ca = _get(broker, "broker", "tls_ca", str, None) or None
    if tls_ca is not None and not Path(tls_ca).is_file():
        raise CentralConfigError(f"[broker] tls_ca: no such file {tls_ca}")
    mqtt = MqttConfig(
        host=_get(broker, "broker", "host", str, "127.0.0.1"),
        port=port,
        username=_get(broker, "broker", "username", str, None),
        password=_get(broker, "broker", "password", str, None),
        client_id=_get(broker, "broker", "client_id", str, "antrian-central"),
        tls_ca=tls_ca,
    )
    if not 1 <= len(mqtt.client_id) <= 64:
        raise CentralConfigError("[broker] client_id: 1-64 characters")
    database = data.get("database", {})
    dsn = _get(database, "database", "dsn", str, None)
    if not dsn:
        raise CentralConfigError("[database] dsn is required (postgresql://USER@HOST:5432/DBNAME)")
    if len(dsn) > 1000:
        raise CentralConfigError("[database] dsn: longer than 1000 characters")
    web = data.get("web", {})
    web_port = _get(web, "web", "port", int, 8090)
    if not 1 <= web_port <= 65535:
        raise CentralConfigError(f"[web] port: {web_port} is not 1-65535")
    language = _get(web, "web", "language", str, "id")
    if language not in ("id", "en"):
        raise CentralConfigError(f"[web] language: {language!r} is not id or en")
    grace = _get(data.get("ingest", {}), "ingest", "gap_grace_seconds", float, 2.0)
    if not 0.1 <= grace <= 600:
        raise CentralConfigError(f"[ingest] gap_grace_seconds: {grace} is not 0.1-600")
    offices: dict[str, str] = {}
    for slug, name in data.get("offices", {}).items():
        if not SLUG.match(slug):
            raise CentralConfigError(f"[offices] {slug!r}: a slug is a-z, 0-9, - and _ (at most 40)")
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            raise CentralConfigError(f"[offices] {slug}: the office's name, 1-200 characters")
        offices[slug] = name
    if not offices:
        raise CentralConfigError('[offices] names no office (winongan = "Kecamatan Winongan")')
    if len(offices) > MAX_OFFICES:
        raise CentralConfigError(f"[offices] more than {MAX_OFFICES} offices")
    return CentralConfig(
        mqtt=mqtt,
        dsn=dsn,
        web_host=_get(web, "web", "host", str, "0.0.0.0"),  # noqa: S104
        web_port=web_port,
        language=language,
        offices=offices,
        gap_grace_s=grace,
    )


def load(path: str | Path) -> CentralConfig:
    """Read and check `path`; CentralConfigError for a missing, unreadable or wrong file."""
    p = Path(path)
    try:
        data = read_toml(p, MAX_BYTES)
    except TomlTooLarge:
        raise CentralConfigError(f"{p}: larger than {MAX_BYTES // 1024} KiB") from None
    except OSError as exc:
        raise CentralConfigError(f"{p}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CentralConfigError(f"{p}: not valid TOML: {exc}") from None
    try:
        return parse(data)
    except CentralConfigError as exc:
        raise CentralConfigError(f"{p}: {exc}") from None

"""The office's configuration: one readable TOML file, validated with errors that name the key.

Everything has an Indonesian kecamatan default (five services A-E, three counters, WIB), so
an office with no file at all gets a working queue, and a file only says what differs. A bad
file never starts a half-configured hub: `load_config` raises ConfigError("services[2].letter:
...") and the command line prints it.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.announce import Wording
from hub.contract import is_slug

ROLES: Final = ("kiosk", "call_pad", "led_board", "speaker", "screen")


class ConfigError(ValueError):
    """A configuration problem, phrased as `key: what is wrong`."""


@dataclass(frozen=True)
class ServiceConfig:
    letter: str
    name: str
    minutes: float = 10.0
    quota: int | None = None
    completion: str | None = None
    status: str = "open"


@dataclass(frozen=True)
class CounterConfig:
    number: int
    services: tuple[str, ...]
    name: str | None = None
    spoken_name: str | None = None
    status: str = "open"

    @property
    def label(self) -> str:
        return self.name or f"Loket {self.number}"


@dataclass(frozen=True)
class DeviceConfig:
    id: str
    role: str
    services: tuple[str, ...] = ()
    counter: int | None = None


@dataclass(frozen=True)
class OfficeConfig:
    slug: str = "kantor"
    name: str = "Kantor Kecamatan"
    timezone: str = "Asia/Jakarta"
    opening: time = time(7, 30)
    closing: time = time(16, 0)
    language: str = "id"
    public_url: str = "http://127.0.0.1:8080"
    #: ISHOMA (istirahat, sholat, makan): Monday-Thursday (and Saturday), and Friday with its
    #: longer Friday-prayer break. None: the office serves through. The wait estimate plans it.
    lunch: tuple[time, time] | None = (time(12, 0), time(13, 0))
    lunch_friday: tuple[time, time] | None = (time(11, 30), time(13, 0))
    #: Counters take the lunch break in turns (half of them in each half of it) so that one
    #: stays open; false: all counters close for the whole break.
    lunch_in_turns: bool = True
    #: A self-service ticket that will likely not be reached before closing: "warn" (issued,
    #: with the warning on the ticket) or "refuse" (not issued; staff can still issue one).
    late_tickets: str = "warn"
    #: "Bersiaplah" on the status page (and the notifications) when at most this many tickets
    #: are ahead, or the expected call is at most this many minutes away.
    get_ready_ahead: int = 3
    get_ready_minutes: int = 10

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def lunch_on(self, weekday: int) -> tuple[time, time] | None:
        """The lunch break on a weekday (Monday 0): Friday has its own."""
        return self.lunch_friday if weekday == 4 else self.lunch


@dataclass(frozen=True)
class MqttConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str = "antrian-hub"
    tls_ca: str | None = None
    #: The web topic monitor's own read-only account (`antrian devices` makes it). Never the
    #: hub's: a broker that forces client id = user name would let the two logins take each
    #: other's session over, again and again.
    monitor_username: str | None = None
    monitor_password: str | None = None


@dataclass(frozen=True)
class WebConfig:
    """The hub's web pages (waiting-room screen, ticket status, kiosk, officer, admin)."""

    enabled: bool = True
    host: str = "0.0.0.0"  # noqa: S104 - the pages are for the office LAN
    port: int = 8080
    #: Live pages (server-sent event streams) open at once: all clients, and per address.
    max_streams: int = 2000
    max_streams_per_client: int = 10
    #: Seconds a client has to send a request's headers (and its body); also the idle
    #: keep-alive time. Bounds how long a slow or silent client holds a connection.
    request_timeout: float = 10.0
    #: Tickets the kiosk page issues a minute: per client (address, and browser) and in total.
    tickets_per_minute_per_client: int = 10
    tickets_per_minute: int = 30
    #: Failed logins (per account and per address) before a lock-out of `login_lockout_minutes`;
    #: from the second failure on, the next attempt waits `login_delay` seconds, doubling.
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_delay: float = 1.0
    #: Cookies only over HTTPS: set when the pages are served over TLS (a reverse proxy).
    secure_cookies: bool = False
    #: Reverse proxies whose `X-Forwarded-For` names the client (for the per-client limits).
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrinterConfig:
    """An ESC/POS ticket printer attached to the hub (for the tablet kiosk page)."""

    device: str | None = None  # e.g. /dev/usb/lp0 (USB) or /dev/ttyUSB0 (serial)
    paper: int = 58  # mm: 58 (32 characters a line) or 80 (48)


@dataclass(frozen=True)
class QueueConfig:
    priority_streak: int = 3
    max_recalls: int = 2
    ewma_alpha: float = 0.3
    #: Self-service priority tickets (kiosks, the kiosk page) may be at most this share of a
    #: service's tickets of the day (after the first `priority_free`); staff can always mark
    #: priority. A button anyone may press must not let one script empty the regular queue.
    priority_share: float = 0.5
    priority_free: int = 5


@dataclass(frozen=True)
class Config:
    office: OfficeConfig = field(default_factory=OfficeConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    wording: Wording = field(default_factory=Wording)
    database: str = "antrian.db"
    tts_cache: str = "tts_cache"
    web: WebConfig = field(default_factory=WebConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    services: tuple[ServiceConfig, ...] = ()
    counters: tuple[CounterConfig, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()

    def service(self, letter: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.letter == letter), None)

    def counter(self, number: int) -> CounterConfig | None:
        return next((c for c in self.counters if c.number == number), None)

    def device(self, device_id: str) -> DeviceConfig | None:
        return next((d for d in self.devices if d.id == device_id), None)


DEFAULT_SERVICES: Final = (
    ServiceConfig("A", "Administrasi kependudukan", 10, completion="1 hari kerja"),
    ServiceConfig("B", "Surat keterangan & legalisasi", 10, completion="selesai hari ini"),
    ServiceConfig("C", "Perizinan", 20, completion="1-5 hari kerja"),
    ServiceConfig("D", "Pengambilan dokumen", 5, completion="selesai hari ini"),
    ServiceConfig("E", "Informasi & pengaduan", 10, completion="selesai hari ini"),
)

DEFAULT_COUNTERS: Final = (
    CounterConfig(1, ("A", "B")),
    CounterConfig(2, ("A", "B", "C", "E")),
    CounterConfig(3, ("D", "E", "C"), spoken_name=None),
)


# ---------------------------------------------------------------------------------------------
# Reading and checking
# ---------------------------------------------------------------------------------------------


class _Reader:
    """Reads one TOML table, remembering its path for error messages."""

    def __init__(self, table: Mapping[str, Any], path: str) -> None:
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: must be a table")
        self.table = table
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, typ: type | tuple[type, ...], default: Any) -> Any:  # noqa: ANN401
        self.used.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        types = typ if isinstance(typ, tuple) else (typ,)
        if isinstance(value, bool) and bool not in types:
            raise ConfigError(f"{self.key(name)}: must be {_names(types)}, not true/false")
        if not isinstance(value, types):
            raise ConfigError(f"{self.key(name)}: must be {_names(types)}, got {value!r}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])}: unknown key (typo?)")


def _names(types: tuple[type, ...]) -> str:
    words = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}  # fmt: skip
    return " or ".join(words.get(t, t.__name__) for t in types)


def _clock(r: _Reader, name: str, default: time) -> time:
    raw = r.get(name, str, None)
    if raw is None:
        return default
    try:
        return _parse_clock(raw)
    except ValueError:
        raise ConfigError(f"{r.key(name)}: must be a time like \"08:00\", got {raw!r}") from None


def _parse_clock(raw: str) -> time:
    """ "08:00" or "08.00" -> time; ValueError otherwise."""
    hh, mm = raw.replace(".", ":").split(":")
    return time(int(hh), int(mm))


def _span(r: _Reader, name: str, default: tuple[time, time] | None) -> tuple[time, time] | None:
    """A time span such as "12:00-13:00"; "" for none."""
    raw = r.get(name, str, None)
    if raw is None:
        return default
    if not raw.strip():
        return None
    try:
        start, end = (_parse_clock(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise ConfigError(f"{r.key(name)}: must be a span like \"12:00-13:00\" (or \"\" for"
                          f" none), got {raw!r}") from None  # fmt: skip
    if end <= start:
        raise ConfigError(f"{r.key(name)}: must end after it starts, got {raw!r}")
    return start, end


def _office(raw: Mapping[str, Any]) -> OfficeConfig:
    r = _Reader(raw, "office")
    d = OfficeConfig()
    slug = r.get("slug", str, d.slug)
    if not is_slug(slug):
        raise ConfigError(f"office.slug: use lower-case letters, digits, - or _, got {slug!r}")
    tz = r.get("timezone", str, d.timezone)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"office.timezone: unknown time zone {tz!r} (Asia/Jakarta?)") from None
    language = r.get("language", str, d.language)
    if language not in ("id", "en"):
        raise ConfigError(f"office.language: must be \"id\" or \"en\", got {language!r}")
    late = r.get("late_tickets", str, d.late_tickets)
    if late not in ("warn", "refuse"):
        raise ConfigError(f"office.late_tickets: must be \"warn\" or \"refuse\", got {late!r}")
    ready_ahead = r.get("get_ready_ahead", int, d.get_ready_ahead)
    ready_minutes = r.get("get_ready_minutes", int, d.get_ready_minutes)
    if not 0 <= ready_ahead <= 99:
        raise ConfigError("office.get_ready_ahead: must be 0..99")
    if not 0 <= ready_minutes <= 240:
        raise ConfigError("office.get_ready_minutes: must be 0..240")
    office = OfficeConfig(
        slug=slug,
        name=r.get("name", str, d.name),
        timezone=tz,
        opening=_clock(r, "opening", d.opening),
        closing=_clock(r, "closing", d.closing),
        language=language,
        public_url=r.get("public_url", str, d.public_url).rstrip("/"),
        lunch=_span(r, "lunch", d.lunch),
        lunch_friday=_span(r, "lunch_friday", d.lunch_friday),
        lunch_in_turns=r.get("lunch_in_turns", bool, d.lunch_in_turns),
        late_tickets=late,
        get_ready_ahead=ready_ahead,
        get_ready_minutes=ready_minutes,
    )
    r.finish()
    if office.closing <= office.opening:
        raise ConfigError("office.closing: must be later than office.opening")
    return office


def _mqtt(raw: Mapping[str, Any]) -> MqttConfig:
    r = _Reader(raw, "mqtt")
    d = MqttConfig()
    port = r.get("port", int, d.port)
    if not 1 <= port <= 65535:
        raise ConfigError(f"mqtt.port: must be 1..65535, got {port}")
    cfg = MqttConfig(
        host=r.get("host", str, d.host),
        port=port,
        username=r.get("username", str, d.username),
        password=r.get("password", str, d.password),
        client_id=r.get("client_id", str, d.client_id),
        tls_ca=r.get("tls_ca", str, d.tls_ca),
        monitor_username=r.get("monitor_username", str, d.monitor_username),
        monitor_password=r.get("monitor_password", str, d.monitor_password),
    )
    r.finish()
    if cfg.monitor_username is not None and cfg.monitor_username == cfg.username:
        raise ConfigError("mqtt.monitor_username: must differ from mqtt.username (the topic"
                          " monitor would take over the hub's session)")  # fmt: skip
    return cfg


def _queue(raw: Mapping[str, Any]) -> QueueConfig:
    r = _Reader(raw, "queue")
    d = QueueConfig()
    streak = r.get("priority_streak", int, d.priority_streak)
    if streak < 1:
        raise ConfigError("queue.priority_streak: must be at least 1")
    recalls = r.get("max_recalls", int, d.max_recalls)
    if not 0 <= recalls <= 5:
        raise ConfigError("queue.max_recalls: must be 0..5")
    alpha = float(r.get("ewma_alpha", (int, float), d.ewma_alpha))
    if not 0 < alpha <= 1:
        raise ConfigError("queue.ewma_alpha: must be in (0, 1]")
    share = float(r.get("priority_share", (int, float), d.priority_share))
    if not 0 <= share <= 1:
        raise ConfigError("queue.priority_share: must be in [0, 1]")
    free = r.get("priority_free", int, d.priority_free)
    if not 0 <= free <= 9999:
        raise ConfigError("queue.priority_free: must be 0..9999")
    r.finish()
    return QueueConfig(priority_streak=streak, max_recalls=recalls, ewma_alpha=alpha,
                       priority_share=share, priority_free=free)  # fmt: skip


def _web(raw: Mapping[str, Any]) -> WebConfig:
    r = _Reader(raw, "web")
    d = WebConfig()
    port = r.get("port", int, d.port)
    if not 0 <= port <= 65535:
        raise ConfigError(f"web.port: must be 0..65535, got {port}")

    def number(name: str, typ: type | tuple[type, ...], low: float, high: float) -> Any:  # noqa: ANN401
        value = r.get(name, typ, getattr(d, name))
        if not low <= value <= high:
            raise ConfigError(f"web.{name}: must be {low:g}..{high:g}, got {value}")
        return float(value) if isinstance(typ, tuple) else value

    max_streams = number("max_streams", int, 1, 100_000)
    proxies = r.get("trusted_proxies", list, list(d.trusted_proxies))
    for p in proxies:
        try:
            ipaddress.ip_address(p if isinstance(p, str) else "-")
        except ValueError:
            raise ConfigError(f"web.trusted_proxies: not an IP address: {p!r}") from None
    cfg = WebConfig(
        enabled=r.get("enabled", bool, d.enabled),
        host=r.get("host", str, d.host),
        port=port,
        max_streams=max_streams,
        max_streams_per_client=number("max_streams_per_client", int, 1, max_streams),
        request_timeout=number("request_timeout", (int, float), 1, 300),
        tickets_per_minute_per_client=number("tickets_per_minute_per_client", int, 1, 600),
        tickets_per_minute=number("tickets_per_minute", int, 1, 6000),
        login_max_failures=number("login_max_failures", int, 1, 100),
        login_lockout_minutes=number("login_lockout_minutes", int, 1, 1440),
        login_delay=number("login_delay", (int, float), 0, 60),
        secure_cookies=r.get("secure_cookies", bool, d.secure_cookies),
        trusted_proxies=tuple(str(p) for p in proxies),
    )
    r.finish()
    return cfg


def _printer(raw: Mapping[str, Any]) -> PrinterConfig:
    r = _Reader(raw, "printer")
    paper = r.get("paper", int, 58)
    if paper not in (58, 80):
        raise ConfigError(f"printer.paper: must be 58 or 80 (mm), got {paper}")
    cfg = PrinterConfig(device=r.get("device", str, None), paper=paper)
    r.finish()
    return cfg


def _wording(raw: Mapping[str, Any]) -> Wording:
    r = _Reader(raw, "announcement")
    d = Wording()
    repeat = r.get("repeat", int, d.repeat)
    if not 1 <= repeat <= 4:
        raise ConfigError("announcement.repeat: must be 1..4")
    w = Wording(
        prefix=r.get("prefix", str, d.prefix),
        direction=r.get("direction", str, d.direction),
        counter_word=r.get("counter_word", str, d.counter_word),
        repeat=repeat,
        digit_mode=r.get("digit_mode", bool, d.digit_mode),
    )
    r.finish()
    return w


def _list(raw: Any, key: str) -> list[Mapping[str, Any]]:  # noqa: ANN401
    if not isinstance(raw, list):
        raise ConfigError(f"{key}: must be a list of tables ([[{key}]])")
    return raw


def _services(raw: Any) -> tuple[ServiceConfig, ...]:  # noqa: ANN401
    out: list[ServiceConfig] = []
    for i, table in enumerate(_list(raw, "services")):
        r = _Reader(table, f"services[{i}]")
        letter = r.get("letter", str, None)
        if letter is None or len(letter) != 1 or not ("A" <= letter <= "Z"):
            raise ConfigError(f"services[{i}].letter: must be one capital letter A-Z")
        if any(s.letter == letter for s in out):
            raise ConfigError(f"services[{i}].letter: {letter} is used twice")
        name = r.get("name", str, None)
        if not name:
            raise ConfigError(f"services[{i}].name: required (e.g. \"Administrasi kependudukan\")")
        minutes = float(r.get("minutes", (int, float), 10))
        if not 0.5 <= minutes <= 240:
            raise ConfigError(f"services[{i}].minutes: must be 0.5..240")
        quota = r.get("quota", int, None)
        if quota is not None and not 1 <= quota <= 9999:
            raise ConfigError(f"services[{i}].quota: must be 1..9999")
        status = r.get("status", str, "open")
        if status not in ("open", "paused"):
            raise ConfigError(f"services[{i}].status: must be \"open\" or \"paused\"")
        out.append(ServiceConfig(letter, name, minutes, quota, r.get("completion", str, None),
                                 status))  # fmt: skip
        r.finish()
    return tuple(out)


def _counters(raw: Any, letters: set[str]) -> tuple[CounterConfig, ...]:  # noqa: ANN401
    out: list[CounterConfig] = []
    for i, table in enumerate(_list(raw, "counters")):
        r = _Reader(table, f"counters[{i}]")
        number = r.get("number", int, None)
        if number is None or not 1 <= number <= 99:
            raise ConfigError(f"counters[{i}].number: required, 1..99")
        if any(c.number == number for c in out):
            raise ConfigError(f"counters[{i}].number: counter {number} is declared twice")
        services = _letters(r, "services", letters, required=True)
        status = r.get("status", str, "open")
        if status not in ("open", "break", "closed"):
            raise ConfigError(f"counters[{i}].status: must be open, break or closed")
        out.append(CounterConfig(number, services, r.get("name", str, None),
                                 r.get("spoken_name", str, None), status))  # fmt: skip
        r.finish()
    return tuple(out)


def _letters(r: _Reader, name: str, letters: set[str], *, required: bool) -> tuple[str, ...]:
    values = r.get(name, list, None)
    if values is None:
        if required:
            raise ConfigError(f"{r.key(name)}: required, a list of service letters")
        return ()
    for v in values:
        if v not in letters:
            raise ConfigError(f"{r.key(name)}: unknown service {v!r} (have {sorted(letters)})")
    return tuple(values)


def _devices(raw: Any, letters: set[str], counters: set[int]) -> tuple[DeviceConfig, ...]:  # noqa: ANN401
    out: list[DeviceConfig] = []
    for i, table in enumerate(_list(raw, "devices")):
        r = _Reader(table, f"devices[{i}]")
        dev_id = r.get("id", str, None)
        if dev_id is None or not is_slug(dev_id):
            raise ConfigError(f"devices[{i}].id: required; lower-case letters, digits, - or _")
        if any(d.id == dev_id for d in out):
            raise ConfigError(f"devices[{i}].id: {dev_id} is declared twice")
        role = r.get("role", str, None)
        if role not in ROLES:
            raise ConfigError(f"devices[{i}].role: must be one of {', '.join(ROLES)}")
        services = _letters(r, "services", letters, required=False)
        if role == "kiosk" and not services:
            services = tuple(sorted(letters))
        counter = r.get("counter", int, None)
        if role in ("call_pad", "led_board"):
            if counter is None:
                raise ConfigError(f"devices[{i}].counter: required for a {role}")
            if counter not in counters:
                raise ConfigError(f"devices[{i}].counter: no counter {counter} is configured")
        out.append(DeviceConfig(dev_id, role, services, counter))
        r.finish()
    return tuple(out)


def parse_config(raw: Mapping[str, Any]) -> Config:
    """A parsed TOML document -> Config, with defaults filled in and everything checked."""
    top = _Reader(raw, "")
    office = _office(top.get("office", dict, {}))
    mqtt = _mqtt(top.get("mqtt", dict, {}))
    queue = _queue(top.get("queue", dict, {}))
    wording = _wording(top.get("announcement", dict, {}))
    database = top.get("database", str, "antrian.db")
    tts_cache = top.get("tts_cache", str, "tts_cache")
    services = _services(top.get("services", list, None)) if "services" in raw else DEFAULT_SERVICES
    if not services:
        raise ConfigError("services: at least one service is needed")
    letters = {s.letter for s in services}
    if "counters" in raw:
        counters = _counters(top.get("counters", list, None), letters)
    else:
        counters = tuple(
            CounterConfig(c.number, tuple(s for s in c.services if s in letters) or
                          tuple(sorted(letters)))
            for c in DEFAULT_COUNTERS
        )  # fmt: skip
    devices = _devices(top.get("devices", list, []), letters, {c.number for c in counters})
    web = _web(top.get("web", dict, {}))
    printer = _printer(top.get("printer", dict, {}))
    top.finish()
    return Config(office=office, mqtt=mqtt, queue=queue, wording=wording, database=database,
                  tts_cache=tts_cache, web=web, printer=printer, services=services,
                  counters=counters, devices=devices)  # fmt: skip


def load_config(path: str | Path | None) -> Config:
    """Read and check a TOML file; None gives the kecamatan defaults."""
    if path is None:
        return parse_config({})
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    cfg = parse_config(raw)
    # Relative paths are relative to the config file, not to wherever the service manager
    # happened to start the hub.
    db, cache = Path(cfg.database), Path(cfg.tts_cache)
    return replace(cfg, database=str(db if db.is_absolute() else p.parent / db),
                   tts_cache=str(cache if cache.is_absolute() else p.parent / cache))

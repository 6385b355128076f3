"""The office's configuration: one readable TOML file, validated with errors that name the key.

Everything has an Indonesian kecamatan default (five services A-E, three counters, WIB), so
an office with no file at all gets a working queue, and a file only says what differs. A bad
file never starts a half-configured hub: `load_config` raises ConfigError("services[2].letter:
...") and the command line prints it.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Final, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import UNSET, UnsetType, inspect
from msgspec.inspect import Metadata
from msgspec.structs import asdict

from antrian.announce import Wording
from antrian.contract import _SLUG

Role = Literal["kiosk", "call_pad", "led_board", "speaker", "screen"]
ROLES: Final[tuple[str, ...]] = get_args(Role)


#: The office's config is a page or two of TOML; a file this large is not one.
MAX_CONFIG_BYTES: Final = 1024 * 1024


class TomlTooLarge(Exception):
    """A TOML file over the size its reader allows (`read_toml`)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.max_bytes = max_bytes


def read_toml(path: Path, max_bytes: int) -> dict[str, Any]:
    """A TOML file of at most `max_bytes`, read once: the office's config, the central
    config, the secret files handed between machines. Raises OSError (unreadable),
    TomlTooLarge, or ValueError (`tomllib.TOMLDecodeError`, `UnicodeDecodeError`); each
    caller words these its own way."""
    with path.open("rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise TomlTooLarge(max_bytes)
    return tomllib.loads(raw.decode("utf-8"))


class ConfigError(ValueError):
    """A configuration problem, phrased as `key: what is wrong`."""


#: A span of the day: opening and closing, or the start and end of a break.
TimeSpan = tuple[time, time]
#: The weekday keys of `[office.hours]` and `[[office.special_hours]]`, Monday (0) first.
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Most `[[office.special_hours]]` ranges and `[[holidays]]` days a file may hold.
MAX_SPECIAL_RANGES: Final = 48
MAX_LOCAL_HOLIDAYS: Final = 400


@dataclass(frozen=True)
class ServiceConfig:
    letter: str
    name: str
    minutes: float = 10.0
    quota: int | None = None
    completion: str | None = None
    status: str = "open"
    #: The service standard's longest wait (SOP, maklumat pelayanan), in minutes; None: three
    #: times `minutes` (three citizens served before one's turn), see `sop`.
    sop_minutes: float | None = None

    @property
    def sop(self) -> float:
        """The wait the reports hold this service to: `sop_minutes`, or 3 x `minutes`."""
        return self.sop_minutes if self.sop_minutes is not None else 3 * self.minutes


@dataclass(frozen=True)
class CounterConfig:
    number: int
    services: tuple[str, ...]
    name: str | None = None
    spoken_name: str | None = None
    status: str = "open"
    #: This counter's own ISHOMA on Monday-Thursday (and Saturday); None: the office's
    #: `lunch`, taken in turns where `lunch_in_turns` says so. Friday keeps `lunch_friday`.
    lunch: TimeSpan | None = None

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
class SpecialHours:
    """`[[office.special_hours]]`: a date range (`start`..`end`, both included) with hours of
    its own (Ramadan). A weekday it does not name keeps its regular hours; `lunch` and
    `lunch_friday` are "regular" unless the range sets them (None: no break)."""

    name: str
    start: date
    end: date
    days: Mapping[int, TimeSpan | None] = field(default_factory=dict)
    lunch: TimeSpan | Literal["regular"] | None = "regular"
    lunch_friday: TimeSpan | Literal["regular"] | None = "regular"


@dataclass(frozen=True)
class HolidayConfig:
    """`[[holidays]]`: a local day off (`open` false), or a national holiday or cuti bersama on
    which this office serves all the same (`open` true)."""

    day: date
    name: str = ""
    open: bool = False


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
    #: Printed at the foot of every ticket ("Pengaduan: ..." and the SKM survey's address), so a
    #: citizen knows where to complain or rate the service (UU 25/2009, PermenPANRB 14/2017);
    #: empty: the line is left out.
    complaint_contact: str = ""
    survey_url: str = ""
    #: Each weekday's hours, Monday first (None: closed); None: Monday-Friday `opening` to
    #: `closing`, Saturday and Sunday closed. Read through `hours_of`.
    hours: tuple[TimeSpan | None, ...] | None = None
    special_hours: tuple[SpecialHours, ...] = ()
    #: Closed on Indonesia's national holidays and cuti bersama (the `holidays` package).
    national_holidays: bool = True
    #: Kiosks issue tickets this long before opening (citizens who come early queue up).
    tickets_before_opening_minutes: int = 30

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def lunch_on(self, weekday: int) -> tuple[time, time] | None:
        """The lunch break on a weekday (Monday 0): Friday has its own."""
        return self.lunch_friday if weekday == 4 else self.lunch

    def hours_of(self, weekday: int) -> TimeSpan | None:
        """The regular hours of a weekday (Monday 0), None when the office is closed that day."""
        if self.hours is not None:
            return self.hours[weekday]
        return (self.opening, self.closing) if weekday < 5 else None

    def special_on(self, day: date) -> SpecialHours | None:
        """The special-hours range `day` falls in, if any (ranges never overlap)."""
        return next((s for s in self.special_hours if s.start <= day <= s.end), None)


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
    #: Cookies only over HTTPS, always: set when every page is served over TLS. Without it a
    #: request that came over HTTPS (directly, or through a trusted proxy saying
    #: `X-Forwarded-Proto: https`) still gets Secure cookies, and the LAN's http pages work.
    secure_cookies: bool = False
    #: Reverse proxies whose `X-Forwarded-For` names the client (for the per-client limits).
    trusted_proxies: tuple[str, ...] = ()
    #: Who says the calls: the TV page (true) or the speaker nodes (false). None: the TV only
    #: when no speaker node is registered. Never both: the same call a second apart is heard
    #: as neither.
    tv_voice: bool | None = None


@dataclass(frozen=True)
class PrinterConfig:
    """An ESC/POS ticket printer attached to the hub (for the tablet kiosk page)."""

    device: str | None = None  # e.g. /dev/usb/lp0 (USB) or /dev/ttyUSB0 (serial)
    paper: int = 58  # mm: 58 (32 characters a line) or 80 (48)


@dataclass(frozen=True)
class NotifyConfig:
    """SMS and WhatsApp to the citizens who gave a number (docs/notifications.md).

    Off until a channel is set: `sms_smsdrc` (a gammu-smsd configuration with `service = files`:
    SMS through a GSM modem, no internet needed) and/or `apprise_url` (WhatsApp, Telegram and
    others through apprise, with `{to}` where the number goes).
    """

    sms_smsdrc: str | None = None
    apprise_url: str | None = None
    #: Tickets one phone number may follow in a day (a number is not a way to page someone).
    tickets_per_number: int = 3
    #: Times a ticket's number may be given or changed.
    changes_per_ticket: int = 3
    #: A message that could not leave for this long is dropped (it no longer helps anyone).
    give_up_minutes: int = 60
    #: Numbers are kept this long after closing (for the "tidak terlayani" messages), then
    #: destroyed with the day's key.
    keep_after_closing_minutes: int = 30

    @property
    def enabled(self) -> bool:
        return bool(self.sms_smsdrc or self.apprise_url)


#: The weights an office may compute its satisfaction index with: each of the nine elements
#: alike (1/9, exact), or as the regulation's annex prints it.
SURVEY_WEIGHTS: Final = ("1/9", "0.111", "0.11")


@dataclass(frozen=True)
class SurveyConfig:
    """The satisfaction survey (docs/survey.md): the weight of each element in the IKM.

    PermenPANRB 14/2017 means 1/9 (each element alike) and prints it rounded; an office whose
    inspectorate recomputes with the printed figure sets that, and every report says which
    weight was used."""

    weight: str = "1/9"


#: `datetime.time`, by a name that `BackupConfig.time` does not hide.
TimeOfDay = time


@dataclass(frozen=True)
class BackupConfig:
    """The daily backup of the database (docs/panduan.md, "Cadangan data").

    Off until `folder` is set (a folder on another disk, or a mounted USB disk): the hub then
    makes the day's backup at `time` (empty: 30 minutes after `[office] closing`), and at start
    when the newest is over a day old, and keeps the newest `keep_days`. `antrian backup` works without
    it, into `backup/` beside the database."""

    folder: str = ""
    keep_days: int = 14
    #: When the day's backup is made, local time; None: 30 minutes after closing.
    time: TimeOfDay | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.folder)


@dataclass(frozen=True)
class HomeAssistantConfig:
    """How Home Assistant learns of the office (docs/homeassistant.md).

    Per-entity discovery works on every Home Assistant from 2023 on, so it stays the default;
    device discovery (one message per device, Home Assistant 2024.11+) is for offices whose
    Home Assistant is newer and whose broker should carry fewer retained configs."""

    discovery: str = "entity"


@dataclass(frozen=True)
class RegencyConfig:
    """The link to the regency's central broker (docs/regency.md).

    Off by default. On, the hub publishes each commit's events (less anything personal) on
    `central/events`, keeps `central/head` retained and answers the centre's `central/resend`
    asks from its log, at most `resend_per_minute` of them a minute; the office broker's
    bridge (`antrian devices bridge`) carries them to the centre. The office runs the same
    with the link down: the centre catches up from the log."""

    enabled: bool = False
    resend_per_minute: int = 10


#: When the day-before reminder of a booking leaves, by default (immutable, so shared).
REMIND_DAY_BEFORE_AT: Final = TimeOfDay(15, 0)


@dataclass(frozen=True)
class BookingConfig:
    """Booking a time for another day (reservasi, docs/reservasi.md).

    Off by default. On, each open day of the next `days_ahead` days is cut into slots of
    `slot_minutes` from opening to closing (never on a holiday or a closed day, never across
    the day's shared break), and each slot takes at most `quota` bookings per service.
    `services` empty: every service may be booked. A booking checked in later than its
    slot's end plus `grace_minutes` loses its slot and becomes an ordinary ticket.

    A citizen who gives a number when booking (the notifications part on) is reminded on the
    day before at `remind_day_before_at` (None: not) and `remind_minutes_before` the slot (0:
    not). Bookings of days more than `keep_days` ago are deleted, once a day."""

    enabled: bool = False
    slot_minutes: int = 30
    quota: int = 2
    days_ahead: int = 14
    grace_minutes: int = 15
    services: tuple[str, ...] = ()
    remind_day_before_at: TimeOfDay | None = REMIND_DAY_BEFORE_AT
    remind_minutes_before: int = 60
    keep_days: int = 90


@dataclass(frozen=True)
class JoinConfig:
    """Taking a ticket from one's phone (ambil antrean dari HP, docs/ambil-dari-hp.md).

    Off by default. On, the page `/ambil` lets a citizen take a ticket of one of `services`
    (empty: all) from their phone. A phone holds one active ticket at a time, known by a code
    sent by SMS/WhatsApp (`verify = "otp"`), or by a token the page keeps on the phone when
    the office has no channel (`"device"`); `"auto"` takes the first when the notifications
    part has a channel. Phone tickets may be at most `share` of a service's tickets of the day
    (after the first `free`), and at most `per_service_per_minute` a minute per service. A
    phone ticket is called only once checked in (at a kiosk, with its code, or by an officer);
    one not checked in when its turn comes is passed over as a no-show."""

    enabled: bool = False
    verify: str = "auto"
    services: tuple[str, ...] = ()
    share: float = 0.5
    free: int = 10
    per_service_per_minute: int = 6
    code_minutes: int = 10
    codes_per_number: int = 5


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
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    survey: SurveyConfig = field(default_factory=SurveyConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    homeassistant: HomeAssistantConfig = field(default_factory=HomeAssistantConfig)
    regency: RegencyConfig = field(default_factory=RegencyConfig)
    booking: BookingConfig = field(default_factory=BookingConfig)
    join: JoinConfig = field(default_factory=JoinConfig)
    services: tuple[ServiceConfig, ...] = ()
    counters: tuple[CounterConfig, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()
    holidays: tuple[HolidayConfig, ...] = ()

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
# The file as written: declared tables, checked by msgspec, exported as a JSON Schema
# ---------------------------------------------------------------------------------------------
#
# Each table below is the TOML as an office writes it (times as "HH:MM" text, spans as
# "12:00-13:00", no nulls: a key left out takes its default). Its constraints are declared
# once and serve three readers: `parse_config` (the checks and the `key: what is wrong`
# messages), `config_schema` (editor completion and validation) and the tests. What one
# value cannot say alone (duplicates, a counter that exists, closing after opening) is
# checked by hand after the tables are read.

_CLOCK = r"([01]?[0-9]|2[0-3])[:.][0-5][0-9]"


def _bounds(lo: float, hi: float, **meta: Any) -> msgspec.Meta:  # noqa: ANN401
    return msgspec.Meta(ge=lo, le=hi, **meta)


def _printed(most: int, example: str, what: str) -> msgspec.Meta:
    """An `[office]` text printed at the foot of every ticket. Bounded: a kiosk board reads the
    whole `take_ticket` answer within 1 KiB."""
    return msgspec.Meta(
        max_length=most,
        examples=[example],
        description=f"{what}; dicetak di tiket, kosong = tanpa baris / printed on the ticket, empty: no line",
    )


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _span_text(span: tuple[time, time] | None) -> str:
    return "" if span is None else f"{_hhmm(span[0])}-{_hhmm(span[1])}"


Clock = Annotated[
    str,
    msgspec.Meta(pattern=f"^{_CLOCK}$", examples=["08:00"], extra={"error": 'must be a time like "08:00"'}),
]


def _span_meta(example: str, error: str) -> msgspec.Meta:
    """A span of the day as written, "12:00-13:00", or "" (none, or closed)."""
    return msgspec.Meta(
        pattern=rf"^\s*$|^\s*{_CLOCK}\s*-\s*{_CLOCK}\s*$", examples=[example, ""], extra={"error": error}
    )


Span = Annotated[str, _span_meta("12:00-13:00", 'must be a span like "12:00-13:00" (or "" for none)')]
Hours = Annotated[
    str, _span_meta("07:30-16:00", 'must be opening-closing like "07:30-16:00" (or "" for closed)')
]
Day = Annotated[
    date,
    msgspec.Meta(examples=["2026-12-03"], extra={"error": 'must be a date like "2026-12-03"'}),
]
Slug = Annotated[
    str,
    msgspec.Meta(
        pattern=_SLUG.pattern,
        examples=["kantor"],
        extra={"error": "use lower-case letters, digits, - or _ (at most 32)"},
    ),
]
Letter = Annotated[
    str, msgspec.Meta(pattern="^[A-Z]$", examples=["A"], extra={"error": "must be one capital letter A-Z"})
]


class _Table(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A TOML table: an unknown key is a typo, never silently ignored."""


class HoursTable(_Table):
    """[office.hours]: each weekday's hours; a day left out keeps its default (Monday-Friday
    `opening`-`closing`, Saturday and Sunday closed), "" closes it."""

    mon: Hours | UnsetType = UNSET
    tue: Hours | UnsetType = UNSET
    wed: Hours | UnsetType = UNSET
    thu: Hours | UnsetType = UNSET
    fri: Hours | UnsetType = UNSET
    sat: Hours | UnsetType = UNSET
    sun: Hours | UnsetType = UNSET


class SpecialHoursTable(HoursTable, kw_only=True):
    """[[office.special_hours]]: a date range with its own hours (Ramadan); a weekday left out
    keeps its regular hours, `lunch`/`lunch_friday` left out keep the office's."""

    from_: Annotated[Day, msgspec.Meta(description="hari pertama / first day")] = msgspec.field(name="from")
    to: Annotated[Day, msgspec.Meta(description="hari terakhir (termasuk) / last day (included)")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40, examples=["Ramadan"])]
    lunch: Span | UnsetType = UNSET
    lunch_friday: Span | UnsetType = UNSET


class HolidayTable(_Table):
    """[[holidays]]: a local day off, or `open = true` to serve on a listed national day."""

    date: Day
    name: Annotated[str, msgspec.Meta(max_length=60, examples=["Hari Jadi Kabupaten"])] = ""
    open: Annotated[
        bool,
        msgspec.Meta(
            description="true: kantor tetap buka pada hari libur/cuti bersama ini / true: the office "
            "serves on this listed holiday or cuti bersama"
        ),
    ] = False


class OfficeTable(_Table):
    """[office]: the office, its hours and its lunch break (ISHOMA)."""

    slug: Annotated[
        Slug, msgspec.Meta(description="bagian topik MQTT / MQTT topic part: antrian/<slug>/...")
    ] = OfficeConfig.slug
    name: str = OfficeConfig.name
    timezone: Annotated[
        str,
        msgspec.Meta(
            examples=["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"],
            description="WIB Asia/Jakarta, WITA Asia/Makassar, WIT Asia/Jayapura",
        ),
    ] = OfficeConfig.timezone
    opening: Clock = _hhmm(OfficeConfig.opening)
    closing: Annotated[
        Clock, msgspec.Meta(description="tiket yang belum dilayani kedaluwarsa / unserved tickets expire")
    ] = _hhmm(OfficeConfig.closing)
    language: Literal["id", "en"] = "id"
    public_url: Annotated[
        str,
        msgspec.Meta(
            description="alamat hub di LAN, untuk kode QR tiket / the hub's LAN address, for the "
            "ticket's QR code"
        ),
    ] = OfficeConfig.public_url
    lunch: Annotated[Span, msgspec.Meta(description='ISHOMA Senin-Kamis; "" = tanpa istirahat / none')] = (
        _span_text(OfficeConfig.lunch)
    )
    lunch_friday: Annotated[Span, msgspec.Meta(description="Jumat (sholat Jumat) / Friday")] = _span_text(
        OfficeConfig.lunch_friday
    )
    lunch_in_turns: bool = OfficeConfig.lunch_in_turns
    late_tickets: Literal["warn", "refuse"] = "warn"
    get_ready_ahead: Annotated[int, _bounds(0, 99)] = OfficeConfig.get_ready_ahead
    get_ready_minutes: Annotated[int, _bounds(0, 240)] = OfficeConfig.get_ready_minutes
    complaint_contact: Annotated[
        str, _printed(64, "WA 0812-3456-7890", 'kontak pengaduan, "Pengaduan: ..." / complaint contact')
    ] = OfficeConfig.complaint_contact
    survey_url: Annotated[
        str, _printed(80, "http://192.168.1.10:8080/skm", "alamat survei kepuasan (SKM) / survey address")
    ] = OfficeConfig.survey_url
    hours: HoursTable = msgspec.field(default_factory=HoursTable)
    special_hours: Annotated[
        list[SpecialHoursTable],
        msgspec.Meta(
            max_length=MAX_SPECIAL_RANGES,
            extra={"error": f"at most {MAX_SPECIAL_RANGES} ranges"},
        ),
    ] = msgspec.field(default_factory=list)
    national_holidays: Annotated[
        bool,
        msgspec.Meta(
            description="tutup pada libur nasional dan cuti bersama / closed on national holidays "
            "and cuti bersama"
        ),
    ] = OfficeConfig.national_holidays
    tickets_before_opening_minutes: Annotated[
        int,
        _bounds(
            0,
            240,
            description="kios memberi tiket sekian menit sebelum buka / kiosks issue tickets this "
            "long before opening",
        ),
    ] = OfficeConfig.tickets_before_opening_minutes


class MqttTable(_Table):
    """[mqtt]: the broker the hub connects to."""

    host: str = MqttConfig.host
    port: Annotated[int, _bounds(1, 65535)] = MqttConfig.port
    username: str | UnsetType = UNSET
    password: str | UnsetType = UNSET
    client_id: str = MqttConfig.client_id
    tls_ca: str | UnsetType = UNSET
    monitor_username: (
        Annotated[
            str,
            msgspec.Meta(
                description="akun baca-saja pemantau topik / the topic monitor's read-only account; "
                "not the hub's username"
            ),
        ]
        | UnsetType
    ) = UNSET
    monitor_password: str | UnsetType = UNSET


class QueueTable(_Table):
    """[queue]: calling order and the wait estimate."""

    priority_streak: Annotated[int, msgspec.Meta(ge=1)] = QueueConfig.priority_streak
    max_recalls: Annotated[int, _bounds(0, 5)] = QueueConfig.max_recalls
    ewma_alpha: Annotated[float, msgspec.Meta(gt=0, le=1)] = QueueConfig.ewma_alpha
    priority_share: Annotated[float, _bounds(0, 1)] = QueueConfig.priority_share
    priority_free: Annotated[int, _bounds(0, 9999)] = QueueConfig.priority_free


class AnnouncementTable(_Table):
    """[announcement]: the words of a spoken call."""

    prefix: str = Wording.prefix
    direction: str = Wording.direction
    counter_word: str = Wording.counter_word
    repeat: Annotated[int, _bounds(1, 4)] = Wording.repeat
    digit_mode: Annotated[bool, msgspec.Meta(description='true: "A nol satu dua"')] = Wording.digit_mode


class WebTable(_Table):
    """[web]: the hub's web pages and their limits (docs/web.md)."""

    enabled: bool = WebConfig.enabled
    host: str = WebConfig.host
    port: Annotated[int, _bounds(0, 65535)] = WebConfig.port
    max_streams: Annotated[int, _bounds(1, 100_000)] = WebConfig.max_streams
    max_streams_per_client: Annotated[int, _bounds(1, 100_000)] = WebConfig.max_streams_per_client
    request_timeout: Annotated[float, _bounds(1, 300)] = WebConfig.request_timeout
    tickets_per_minute_per_client: Annotated[int, _bounds(1, 600)] = WebConfig.tickets_per_minute_per_client
    tickets_per_minute: Annotated[int, _bounds(1, 6000)] = WebConfig.tickets_per_minute
    login_max_failures: Annotated[int, _bounds(1, 100)] = WebConfig.login_max_failures
    login_lockout_minutes: Annotated[int, _bounds(1, 1440)] = WebConfig.login_lockout_minutes
    login_delay: Annotated[float, _bounds(0, 60)] = WebConfig.login_delay
    secure_cookies: bool = WebConfig.secure_cookies
    trusted_proxies: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            examples=[["127.0.0.1"]], description="alamat IP reverse proxy / reverse proxy IP addresses"
        ),
    ] = ()
    tv_voice: (
        Annotated[
            bool,
            msgspec.Meta(
                description="TV yang menyuarakan panggilan (true) atau pengeras suara (false); bawaan: "
                "TV bila tidak ada perangkat speaker / the TV says the calls (true) or the speaker "
                "nodes (false); default: the TV when no speaker device is registered"
            ),
        ]
        | UnsetType
    ) = UNSET


class PrinterTable(_Table):
    """[printer]: an ESC/POS printer on the hub PC, for the tablet kiosk page."""

    device: Annotated[str, msgspec.Meta(examples=["/dev/usb/lp0", "/dev/ttyUSB0"])] | UnsetType = UNSET
    paper: Annotated[
        Literal[58, 80], msgspec.Meta(description="mm", extra={"error": "must be 58 or 80 (mm)"})
    ] = 58


class SurveyTable(_Table):
    """[survey]: the satisfaction survey (SKM) and its index (IKM)."""

    weight: Annotated[
        Literal["1/9", "0.111", "0.11"],
        msgspec.Meta(
            description="each element's weight in the IKM: 1/9 exact, or as the regulation prints it",
            extra={"error": "must be 1/9, 0.111 or 0.11"},
        ),
    ] = "1/9"


class BackupTable(_Table):
    """[backup]: the daily backup of the database (off until a folder is set)."""

    folder: Annotated[
        str,
        msgspec.Meta(
            examples=["/media/usb/antrian-backup", "/var/backups/antrian"],
            description="folder cadangan harian, kosong = mati / daily backup folder, empty: off",
        ),
    ] = ""
    keep_days: Annotated[int, _bounds(1, 3650, description="berapa hari disimpan / days kept")] = (
        BackupConfig.keep_days
    )
    time: Annotated[
        str,
        msgspec.Meta(
            pattern=rf"^\s*$|^{_CLOCK}$",
            examples=["17:00", ""],
            description="jam cadangan, kosong = 30 menit setelah tutup / time, empty: after closing",
            extra={"error": 'must be a time like "17:00" (or "" for after closing)'},
        ),
    ] = ""


class RegencyTable(_Table):
    """[regency]: the office's link to the regency's central broker (off by default)."""

    enabled: Annotated[
        bool,
        msgspec.Meta(description="kirim kejadian ke pusat kabupaten / send events to the regency's centre"),
    ] = RegencyConfig.enabled
    resend_per_minute: Annotated[
        int, _bounds(1, 60, description="permintaan kirim ulang per menit / resend asks served per minute")
    ] = RegencyConfig.resend_per_minute


class BookingTable(_Table):
    """[booking]: booking a time for another day (reservasi; off by default)."""

    enabled: Annotated[
        bool, msgspec.Meta(description="warga boleh memesan jam untuk hari lain / citizens may book a time")
    ] = BookingConfig.enabled
    slot_minutes: Annotated[
        int, _bounds(10, 240, description="panjang satu slot (menit) / minutes per slot")
    ] = BookingConfig.slot_minutes
    quota: Annotated[
        int, _bounds(1, 50, description="reservasi per slot per layanan / bookings per slot per service")
    ] = BookingConfig.quota
    days_ahead: Annotated[
        int, _bounds(1, 60, description="berapa hari ke depan boleh dipesan / days ahead that may be booked")
    ] = BookingConfig.days_ahead
    grace_minutes: Annotated[
        int, _bounds(0, 120, description="toleransi terlambat (menit) / minutes late still in the slot")
    ] = BookingConfig.grace_minutes
    services: Annotated[
        list[Annotated[str, msgspec.Meta(pattern="^[A-Z]$")]],
        msgspec.Meta(
            max_length=26,
            description="layanan yang boleh dipesan, kosong = semua / services to book, empty: all",
            extra={"error": "must be service letters A-Z"},
        ),
    ] = msgspec.field(default_factory=list)
    remind_day_before_at: Annotated[
        str,
        msgspec.Meta(
            pattern=rf"^\s*$|^{_CLOCK}$",
            examples=["15:00", ""],
            description="jam pengingat sehari sebelumnya, kosong = tanpa / day-before reminder time, "
            "empty: none",
            extra={"error": 'must be a time like "15:00" (or "" for no day-before reminder)'},
        ),
    ] = "15:00"
    remind_minutes_before: Annotated[
        int,
        _bounds(
            0, 180, description="pengingat sekian menit sebelum slot, 0 = tanpa / minutes before, 0: none"
        ),
    ] = BookingConfig.remind_minutes_before
    keep_days: Annotated[
        int, _bounds(7, 3650, description="reservasi disimpan sekian hari / days bookings are kept")
    ] = BookingConfig.keep_days


class JoinTable(_Table):
    """[join]: taking a ticket from one's phone (ambil antrean dari HP; off by default)."""

    enabled: Annotated[
        bool, msgspec.Meta(description="warga boleh ambil antrean dari HP / citizens may join from a phone")
    ] = JoinConfig.enabled
    verify: Annotated[
        Literal["auto", "otp", "device"],
        msgspec.Meta(description="bukti satu HP satu antrean / how one phone is known: otp, device, auto"),
    ] = "auto"
    services: Annotated[
        list[Annotated[str, msgspec.Meta(pattern="^[A-Z]$")]],
        msgspec.Meta(
            max_length=26,
            description="layanan yang boleh diambil dari HP, kosong = semua / services, empty: all",
            extra={"error": "must be service letters A-Z"},
        ),
    ] = msgspec.field(default_factory=list)
    share: Annotated[
        float, _bounds(0.0, 1.0, description="bagian antrean dari HP / share of phone tickets per service")
    ] = JoinConfig.share
    free: Annotated[
        int,
        _bounds(
            0, 1000, description="antrean HP pertama yang selalu boleh / first phone tickets always allowed"
        ),
    ] = JoinConfig.free
    per_service_per_minute: Annotated[
        int,
        _bounds(1, 120, description="antrean HP per layanan per menit / phone tickets per service a minute"),
    ] = JoinConfig.per_service_per_minute
    code_minutes: Annotated[
        int, _bounds(2, 30, description="masa berlaku kode SMS (menit) / minutes a sent code is valid")
    ] = JoinConfig.code_minutes
    codes_per_number: Annotated[
        int, _bounds(1, 20, description="kode per nomor per hari / codes sent to one number a day")
    ] = JoinConfig.codes_per_number


class HomeAssistantTable(_Table):
    """[homeassistant]: how Home Assistant discovers the office."""

    discovery: Annotated[
        Literal["entity", "device"],
        msgspec.Meta(
            description='"entity": every Home Assistant; "device": one message per device, Home '
            "Assistant 2024.11+",
            extra={"error": "must be entity or device"},
        ),
    ] = "entity"


class NotifyTable(_Table):
    """[notify]: SMS (a GSM modem through gammu-smsd) and WhatsApp (apprise) to citizens."""

    sms_smsdrc: Annotated[str, msgspec.Meta(examples=["/etc/gammu-smsdrc"])] | UnsetType = UNSET
    apprise_url: (
        Annotated[
            str,
            msgspec.Meta(
                pattern=r"\{to\}",
                examples=["whatsapp://TOKEN@PHONE_NUMBER_ID/{to}"],
                extra={"error": "must contain {to} where the citizen's number goes"},
            ),
        ]
        | UnsetType
    ) = UNSET
    tickets_per_number: Annotated[int, _bounds(1, 50)] = NotifyConfig.tickets_per_number
    changes_per_ticket: Annotated[int, _bounds(1, 20)] = NotifyConfig.changes_per_ticket
    give_up_minutes: Annotated[int, _bounds(1, 600)] = NotifyConfig.give_up_minutes
    keep_after_closing_minutes: Annotated[int, _bounds(0, 600)] = NotifyConfig.keep_after_closing_minutes


class ServiceTable(_Table):
    """[[services]]: one service, called by its letter."""

    letter: Letter
    name: Annotated[str, msgspec.Meta(min_length=1, examples=["Administrasi kependudukan"])]
    minutes: Annotated[float, _bounds(0.5, 240, description="lama layanan rata-rata / mean service time")] = (
        10.0
    )
    quota: Annotated[int, _bounds(1, 9999, description="kuota harian / daily quota")] | UnsetType = UNSET
    completion: Annotated[str, msgspec.Meta(examples=["1 hari kerja"])] | UnsetType = UNSET
    status: Literal["open", "paused"] = "open"
    sop_minutes: (
        Annotated[
            float,
            _bounds(
                1,
                480,
                description="waktu tunggu maksimal menurut standar pelayanan (SOP); "
                "bawaan 3 x minutes / longest wait by the service standard; default 3 x minutes",
            ),
        ]
        | UnsetType
    ) = UNSET


class CounterTable(_Table):
    """[[counters]]: one counter (loket) and the services it calls."""

    number: Annotated[int, _bounds(1, 99)]
    services: Annotated[tuple[Letter, ...], msgspec.Meta(examples=[["A", "B"]])]
    name: str | UnsetType = UNSET
    spoken_name: str | UnsetType = UNSET
    status: Literal["open", "break", "closed"] = "open"
    lunch: Annotated[
        Span,
        msgspec.Meta(
            description="ISHOMA loket ini (Senin-Kamis) / this counter's own lunch break (Monday-Thursday)"
        ),
    ] = ""


class DeviceTable(_Table):
    """[[devices]]: a device the hub serves; any other id is refused."""

    id: Slug
    role: Role
    services: (
        Annotated[
            tuple[Letter, ...],
            msgspec.Meta(
                description="kios: layanan tombolnya (bawaan semua) / kiosk: its services (default all)"
            ),
        ]
        | UnsetType
    ) = UNSET
    counter: (
        Annotated[
            int,
            msgspec.Meta(
                description="wajib untuk call_pad dan led_board / required for call_pad and led_board"
            ),
        ]
        | UnsetType
    ) = UNSET


class ConfigFile(_Table):
    """antrian.toml: every key may be left out (a typical kecamatan: services A-E, 3 counters)."""

    database: str = Config.database
    tts_cache: str = Config.tts_cache
    office: OfficeTable = msgspec.field(default_factory=OfficeTable)
    mqtt: MqttTable = msgspec.field(default_factory=MqttTable)
    queue: QueueTable = msgspec.field(default_factory=QueueTable)
    announcement: AnnouncementTable = msgspec.field(default_factory=AnnouncementTable)
    web: WebTable = msgspec.field(default_factory=WebTable)
    printer: PrinterTable = msgspec.field(default_factory=PrinterTable)
    notify: NotifyTable = msgspec.field(default_factory=NotifyTable)
    survey: SurveyTable = msgspec.field(default_factory=SurveyTable)
    backup: BackupTable = msgspec.field(default_factory=BackupTable)
    homeassistant: HomeAssistantTable = msgspec.field(default_factory=HomeAssistantTable)
    regency: RegencyTable = msgspec.field(default_factory=RegencyTable)
    booking: BookingTable = msgspec.field(default_factory=BookingTable)
    join: JoinTable = msgspec.field(default_factory=JoinTable)
    services: (
        Annotated[
            list[ServiceTable], msgspec.Meta(min_length=1, extra={"error": "at least one service is needed"})
        ]
        | UnsetType
    ) = UNSET
    counters: list[CounterTable] | UnsetType = UNSET
    devices: list[DeviceTable] = msgspec.field(default_factory=list)
    holidays: Annotated[
        list[HolidayTable],
        msgspec.Meta(max_length=MAX_LOCAL_HOLIDAYS, extra={"error": f"at most {MAX_LOCAL_HOLIDAYS} days"}),
    ] = msgspec.field(default_factory=list)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of antrian.toml as written, for editor completion (hub/antrian.schema.json)."""
    schema = msgspec.json.schema(ConfigFile)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "antrian.toml", **schema}


# ---------------------------------------------------------------------------------------------
# Messages: a msgspec error, phrased as today's `key: what is wrong`
# ---------------------------------------------------------------------------------------------

_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_FIELD = re.compile(r"(unknown|required) field `(?P<name>[^`]+)`")


def _message(error: msgspec.ValidationError, raw: Mapping[str, Any]) -> str:
    """Today's `services[2].letter: ...` from msgspec's "... - at `$.services[2].letter`"."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any text
    what, path = match["what"], (match["path"] or "").lstrip(".")
    field = _FIELD.search(what)
    if field is not None:
        key = f"{path}.{field['name']}" if path else field["name"]
        if what.startswith("Object contains unknown"):
            return f"{key}: unknown key (typo?)"
        return f"{key}: {_required(_walk(key, raw)[0])}"
    info, value = _walk(path, raw)
    return f"{path}: {_problem(info, value)}"


def _walk(path: str, raw: Any) -> tuple[inspect.Type, Any]:  # noqa: ANN401
    """The declared type at a dotted/indexed path, and the value written there (if any)."""
    info: inspect.Type = inspect.type_info(ConfigFile)
    value = raw
    for part in re.findall(r"[^.\[\]]+", path):
        info = _plain(info, keep_meta=False)
        if part.isdigit():
            assert isinstance(info, inspect.ListType | inspect.VarTupleType)
            info, value = info.item_type, value[int(part)] if isinstance(value, list) else None
        else:
            assert isinstance(info, inspect.StructType)
            info = next(f.type for f in info.fields if f.encode_name == part)
            value = value.get(part) if isinstance(value, Mapping) else None
    return info, value


def _plain(info: inspect.Type, *, keep_meta: bool) -> inspect.Type:
    """The type without its metadata (constraints stay; descriptions and messages go)."""
    return info.type if isinstance(info, Metadata) and not keep_meta else info


_WORDS: Final[dict[type, str]] = {
    inspect.IntType: "a whole number",
    inspect.FloatType: "a number",
    inspect.StrType: "text",
    inspect.BoolType: "true or false",
    inspect.ListType: "a list",
    inspect.VarTupleType: "a list",
    inspect.StructType: "a table",
}


def _problem(info: inspect.Type, value: Any) -> str:  # noqa: ANN401
    """What is wrong with `value` for the declared type `info`, in the file's own terms."""
    info = _plain(info, keep_meta=True)
    meta = info if isinstance(info, Metadata) else None
    plain = _plain(info, keep_meta=False)
    words = _WORDS.get(type(plain), "valid")
    if isinstance(plain, inspect.ListType) and isinstance(plain.item_type, inspect.StructType):
        words = "a list of tables"
    if isinstance(value, bool) and not isinstance(plain, inspect.BoolType | inspect.LiteralType):
        return f"must be {words}, not true/false"
    if not _is_kind(plain, value):
        return f"must be {words}, got {value!r}"
    if meta is not None and meta.extra and "error" in meta.extra:
        return f"{meta.extra['error']}, got {value!r}" if value else str(meta.extra["error"])
    if isinstance(plain, inspect.LiteralType):
        shown = [json.dumps(v) for v in plain.values]
        choice = " or ".join(shown) if len(shown) <= 2 else "one of " + ", ".join(shown)
        return f"must be {choice}, got {value!r}"
    if isinstance(plain, inspect.IntType | inspect.FloatType):
        if plain.gt is not None:
            return f"must be in ({plain.gt:g}, {plain.le:g}]"
        if plain.le is None:
            return f"must be at least {plain.ge:g}"
        return f"must be {plain.ge:g}..{plain.le:g}, got {value}"
    if value in ("", []):
        return _required(info)
    return f"must be {words} (see `antrian config schema`), got {value!r}"


def _required(info: inspect.Type) -> str:
    """A key that must be written, with an example of it when one is declared."""
    meta = _plain(info, keep_meta=True)
    schema = meta.extra_json_schema if isinstance(meta, Metadata) else None
    examples = (schema or {}).get("examples")
    return "required" + (f" (e.g. {json.dumps(examples[0])})" if examples else "")


def _is_kind(plain: inspect.Type, value: Any) -> bool:  # noqa: ANN401
    kinds: dict[type, type | tuple[type, ...]] = {
        inspect.IntType: int,
        inspect.FloatType: (int, float),
        inspect.StrType: str,
        inspect.BoolType: bool,
        inspect.ListType: list,
        inspect.VarTupleType: list,
        inspect.StructType: Mapping,
    }
    kind = kinds.get(type(plain))
    return kind is None or isinstance(value, kind)


# ---------------------------------------------------------------------------------------------
# From the file to the Config: what one value cannot say alone
# ---------------------------------------------------------------------------------------------


def _parse_clock(raw: str) -> time:
    """ "08:00" or "08.00" (already matched by the declared pattern) -> time."""
    hh, mm = raw.strip().replace(".", ":").split(":")
    return time(int(hh), int(mm))


def _span(raw: str, key: str) -> tuple[time, time] | None:
    if not raw.strip():
        return None
    start, end = (_parse_clock(part) for part in raw.split("-"))
    if end <= start:
        raise ConfigError(f"{key}: must end after it starts, got {raw!r}")
    return start, end


def _unset(value: Any) -> Any:  # noqa: ANN401
    return None if value is UNSET else value


def _office(t: OfficeTable) -> OfficeConfig:
    try:
        ZoneInfo(t.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"office.timezone: unknown time zone {t.timezone!r} (Asia/Jakarta?)") from None
    office = OfficeConfig(
        **{
            **asdict(t),
            "opening": _parse_clock(t.opening),
            "closing": _parse_clock(t.closing),
            "public_url": t.public_url.rstrip("/"),
            "lunch": _span(t.lunch, "office.lunch"),
            "lunch_friday": _span(t.lunch_friday, "office.lunch_friday"),
            "hours": None,
            "special_hours": (),
        }
    )
    if office.closing <= office.opening:
        raise ConfigError("office.closing: must be later than office.opening")
    if any(getattr(t.hours, day) is not UNSET for day in WEEKDAYS):
        office = replace(office, hours=_week(t.hours, "office.hours", default=office))
    specials = sorted(
        (_special(s, f"office.special_hours[{i}]") for i, s in enumerate(t.special_hours)),
        key=lambda s: s.start,
    )
    for before, after in itertools.pairwise(specials):
        if after.start <= before.end:
            raise ConfigError(
                f"office.special_hours: {after.name!r} ({after.start}..{after.end}) overlaps "
                f"{before.name!r} ({before.start}..{before.end}); ranges may not overlap"
            )
    return replace(office, special_hours=tuple(specials))


def _hours(raw: str, key: str) -> TimeSpan | None:
    """Opening hours "07:30-16:00" ("" closed): closing must come after opening."""
    if not raw.strip():
        return None
    start, end = (_parse_clock(part) for part in raw.split("-"))
    if end <= start:
        raise ConfigError(f"{key}: closing must be later than opening, got {raw!r}")
    return start, end


def _week(t: HoursTable, key: str, *, default: OfficeConfig) -> tuple[TimeSpan | None, ...]:
    """`[office.hours]`: the days written, the others as by default."""
    out: list[TimeSpan | None] = []
    for wd, day in enumerate(WEEKDAYS):
        raw = getattr(t, day)
        out.append(default.hours_of(wd) if raw is UNSET else _hours(raw, f"{key}.{day}"))
    return tuple(out)


def _special(t: SpecialHoursTable, key: str) -> SpecialHours:
    if t.to < t.from_:
        raise ConfigError(f"{key}.to: must not be before from ({t.from_}), got {t.to}")
    if (t.to - t.from_).days > 366:
        raise ConfigError(f"{key}.to: a range covers at most a year, got {t.from_}..{t.to}")
    days = {
        wd: _hours(getattr(t, day), f"{key}.{day}")
        for wd, day in enumerate(WEEKDAYS)
        if getattr(t, day) is not UNSET
    }
    lunch: TimeSpan | Literal["regular"] | None = "regular"
    friday: TimeSpan | Literal["regular"] | None = "regular"
    if t.lunch is not UNSET:
        lunch = _span(t.lunch, f"{key}.lunch")
    if t.lunch_friday is not UNSET:
        friday = _span(t.lunch_friday, f"{key}.lunch_friday")
    return SpecialHours(t.name, t.from_, t.to, days, lunch, friday)


def _holidays(tables: list[HolidayTable]) -> tuple[HolidayConfig, ...]:
    out: list[HolidayConfig] = []
    for i, t in enumerate(tables):
        if any(h.day == t.date for h in out):
            raise ConfigError(f"holidays[{i}].date: {t.date} is listed twice")
        if not t.open and not t.name.strip():
            raise ConfigError(f'holidays[{i}].name: required for a day off (e.g. "Hari Jadi Kabupaten")')
        out.append(HolidayConfig(t.date, t.name.strip(), t.open))
    return tuple(out)


def _mqtt(t: MqttTable) -> MqttConfig:
    cfg = MqttConfig(**{k: _unset(v) for k, v in asdict(t).items()})
    if cfg.monitor_username is not None and cfg.monitor_username == cfg.username:
        raise ConfigError(
            "mqtt.monitor_username: must differ from mqtt.username (the topic"
            " monitor would take over the hub's session)"
        )
    return cfg


def _web(t: WebTable) -> WebConfig:
    if t.max_streams_per_client > t.max_streams:
        raise ConfigError(
            f"web.max_streams_per_client: must be 1..{t.max_streams}, got {t.max_streams_per_client}"
        )
    for p in t.trusted_proxies:
        try:
            ipaddress.ip_address(p)
        except ValueError:
            raise ConfigError(f"web.trusted_proxies: not an IP address: {p!r}") from None
    return WebConfig(**{**asdict(t), "tv_voice": _unset(t.tv_voice)})


def _services(tables: list[ServiceTable]) -> tuple[ServiceConfig, ...]:
    out: list[ServiceConfig] = []
    for i, t in enumerate(tables):
        if any(s.letter == t.letter for s in out):
            raise ConfigError(f"services[{i}].letter: {t.letter} is used twice")
        out.append(
            ServiceConfig(
                t.letter,
                t.name,
                t.minutes,
                _unset(t.quota),
                _unset(t.completion),
                t.status,
                _unset(t.sop_minutes),
            )
        )
    return tuple(out)


def _letters(values: tuple[str, ...], letters: set[str], key: str) -> tuple[str, ...]:
    for v in values:
        if v not in letters:
            raise ConfigError(f"{key}: unknown service {v!r} (have {sorted(letters)})")
    return values


def _counters(tables: list[CounterTable], letters: set[str]) -> tuple[CounterConfig, ...]:
    out: list[CounterConfig] = []
    for i, t in enumerate(tables):
        if any(c.number == t.number for c in out):
            raise ConfigError(f"counters[{i}].number: counter {t.number} is declared twice")
        services = _letters(t.services, letters, f"counters[{i}].services")
        lunch = _span(t.lunch, f"counters[{i}].lunch")
        out.append(CounterConfig(t.number, services, _unset(t.name), _unset(t.spoken_name), t.status, lunch))
    return tuple(out)


def _devices(tables: list[DeviceTable], letters: set[str], counters: set[int]) -> tuple[DeviceConfig, ...]:
    out: list[DeviceConfig] = []
    for i, t in enumerate(tables):
        if any(d.id == t.id for d in out):
            raise ConfigError(f"devices[{i}].id: {t.id} is declared twice")
        services = _letters(_unset(t.services) or (), letters, f"devices[{i}].services")
        if t.role == "kiosk" and not services:
            services = tuple(sorted(letters))
        counter = _unset(t.counter)
        if t.role in ("call_pad", "led_board"):
            if counter is None:
                raise ConfigError(f"devices[{i}].counter: required for a {t.role}")
            if counter not in counters:
                raise ConfigError(f"devices[{i}].counter: no counter {counter} is configured")
        out.append(DeviceConfig(t.id, t.role, services, counter))
    return tuple(out)


def _booking(table: BookingTable, letters: set[str]) -> BookingConfig:
    unknown = sorted(set(table.services) - letters)
    if unknown:
        raise ConfigError(f"booking.services: no service {', '.join(unknown)} is configured")
    return BookingConfig(
        enabled=table.enabled,
        slot_minutes=table.slot_minutes,
        quota=table.quota,
        days_ahead=table.days_ahead,
        grace_minutes=table.grace_minutes,
        services=tuple(dict.fromkeys(table.services)),
        remind_day_before_at=(
            _parse_clock(table.remind_day_before_at) if table.remind_day_before_at.strip() else None
        ),
        remind_minutes_before=table.remind_minutes_before,
        keep_days=table.keep_days,
    )


def _join(table: JoinTable, letters: set[str], channel: bool) -> JoinConfig:
    unknown = sorted(set(table.services) - letters)
    if unknown:
        raise ConfigError(f"join.services: no service {', '.join(unknown)} is configured")
    if table.enabled and table.verify == "otp" and not channel:
        # said now, not by every citizen's phone at the first code
        raise ConfigError('join.verify = "otp" sends codes: set [notify] sms_smsdrc or apprise_url')
    return JoinConfig(
        enabled=table.enabled,
        verify=table.verify,
        services=tuple(dict.fromkeys(table.services)),
        share=table.share,
        free=table.free,
        per_service_per_minute=table.per_service_per_minute,
        code_minutes=table.code_minutes,
        codes_per_number=table.codes_per_number,
    )


def parse_config(raw: Mapping[str, Any]) -> Config:
    """A parsed TOML document -> Config, with defaults filled in and everything checked."""
    try:
        file = msgspec.convert(raw, ConfigFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(_message(exc, raw)) from None
    services = DEFAULT_SERVICES if file.services is UNSET else _services(file.services)
    letters = {s.letter for s in services}
    if file.counters is UNSET:
        counters = tuple(
            CounterConfig(c.number, tuple(s for s in c.services if s in letters) or tuple(sorted(letters)))
            for c in DEFAULT_COUNTERS
        )
    else:
        counters = _counters(file.counters, letters)
    return Config(
        office=_office(file.office),
        mqtt=_mqtt(file.mqtt),
        queue=QueueConfig(**asdict(file.queue)),
        wording=Wording(**asdict(file.announcement)),
        database=file.database,
        tts_cache=file.tts_cache,
        web=_web(file.web),
        printer=PrinterConfig(device=_unset(file.printer.device), paper=file.printer.paper),
        notify=NotifyConfig(**{k: _unset(v) for k, v in asdict(file.notify).items()}),
        survey=SurveyConfig(weight=file.survey.weight),
        backup=BackupConfig(
            folder=file.backup.folder.strip(),
            keep_days=file.backup.keep_days,
            time=_parse_clock(file.backup.time) if file.backup.time.strip() else None,
        ),
        homeassistant=HomeAssistantConfig(discovery=file.homeassistant.discovery),
        regency=RegencyConfig(enabled=file.regency.enabled, resend_per_minute=file.regency.resend_per_minute),
        booking=_booking(file.booking, letters),
        join=_join(file.join, letters, bool(file.notify.sms_smsdrc or file.notify.apprise_url)),
        services=services,
        counters=counters,
        devices=_devices(file.devices, letters, {c.number for c in counters}),
        holidays=_holidays(file.holidays),
    )


#: Where the office's configuration is looked for when no `-c FILE` is given, in this order.
CONFIG_ENV: Final = "ANTRIAN_CONFIG"
SYSTEM_CONFIG: Final = Path("/etc/antrian/antrian.toml")
LOCAL_CONFIG: Final = Path("antrian.toml")


def config_places() -> list[str]:
    """The places `find_config` looks at, as a person reads them (for the refusal)."""
    return ["-c FILE", f"${CONFIG_ENV}", str(SYSTEM_CONFIG), f"./{LOCAL_CONFIG}"]


def find_config(path: str | Path | None) -> Path | None:
    """The office's configuration file: `path` (`-c`), else `$ANTRIAN_CONFIG`, else
    /etc/antrian/antrian.toml if it exists, else ./antrian.toml if it exists; None when there is
    none, which a command that needs the office's database refuses (never a new database in
    whatever folder it was started from)."""
    if path:
        return Path(path)
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env)
    for candidate in (SYSTEM_CONFIG, LOCAL_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path | None) -> Config:
    """Read and check a TOML file; None gives the kecamatan defaults."""
    if path is None:
        return parse_config({})
    p = Path(path)
    try:
        raw = read_toml(p, MAX_CONFIG_BYTES)
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except TomlTooLarge:
        raise ConfigError(f"{p}: larger than {MAX_CONFIG_BYTES // 1024} KiB") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    cfg = parse_config(raw)
    # Relative paths are relative to the config file, not to wherever the service manager
    # happened to start the hub.
    db, cache = Path(cfg.database), Path(cfg.tts_cache)
    smsdrc = cfg.notify.sms_smsdrc
    if smsdrc is not None and not Path(smsdrc).is_absolute():
        cfg = replace(cfg, notify=replace(cfg.notify, sms_smsdrc=str(p.parent / smsdrc)))
    return replace(
        cfg,
        database=str(db if db.is_absolute() else p.parent / db),
        tts_cache=str(cache if cache.is_absolute() else p.parent / cache),
    )

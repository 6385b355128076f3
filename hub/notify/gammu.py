"""gammu-smsd's files backend, as the SMS channel (`antrian.notify.channels.SmsChannel`) uses it.

gammu-smsd drives the GSM modem; the hub only writes and reads files in its spool folders
(`[smsd] service = files`, see gammu-smsd-files(7)):

- outbox: one file a message. gammu-smsd sends the files in name order and moves each to the
  sent folder once the network took every part, or to the error folder when it gives up. The
  name carries the recipient; the form used here is
  ``OUT<priority><date>_<time>_<serial>_<recipient>_<note>.txt[d]``, where the note is the
  outbox message's key (so a second `send` of the same key finds the first file) and the
  trailing ``d`` asks for a delivery report. The content is the text in UTF-16 with a byte-order
  mark: without one gammu-smsd decodes the bytes by the locale it runs under, which for a system
  service is often plain ASCII.
- inbox: what the modem received. With ``deliveryreport = sms`` and ``inboxformat = detail``
  the network's delivery reports land here as SMS backup files with ``PDU = Status_Report``.

Settings the hub depends on, which `write_smsdrc` writes and `SmsdConfig.read` checks:
``transmitformat = auto`` (Gammu 1.42 defaults to ``7bit``, which would mangle every character
outside the GSM alphabet; ``auto`` sends UCS-2 only when the text needs it) and
``commtimeout = 1`` (the default 30 seconds between looks at an empty outbox would make a
"dipanggil" message late).
"""

from __future__ import annotations

import configparser
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

#: Priority letter of the hub's messages: gammu-smsd sends "A" first, so an operator can still
#: push a message of their own ahead of the queue's.
PRIORITY: Final = "B"
#: What a note may hold as it is; any other key is replaced by a digest of itself.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9-]{1,40}")
_OUT_NAME = re.compile(
    r"OUT(?P<prio>[A-Z])(?P<stamp>\d{8}_\d{6}_\d+)_(?P<to>\+?[0-9]+)_(?P<note>[A-Za-z0-9-]+)\.txt(?P<flags>[a-z]*)"
)
_IN_NAME = re.compile(r"IN\d{8}_\d{6}_\d+_(?P<sender>[^_]+)_\d+\.(txt|smsbackup)")
BOM_UTF16_BE: Final = b"\xfe\xff"
#: The states a network's status report takes (gammu's text for TP-Status).
REPORT_STATES: Final = {"Delivered": "delivered", "Failed": "failed"}


@dataclass(frozen=True)
class SmsdConfig:
    """What the hub reads from an smsdrc: the spool folders and the settings it relies on."""

    smsdrc: Path
    inbox: Path
    outbox: Path
    sent: Path
    error: Path
    delivery_reports: bool
    #: Seconds a delivery report may come after its message (gammu's DeliveryReportDelay).
    report_delay: int

    @classmethod
    def read(cls, smsdrc: Path) -> SmsdConfig:
        """Read `smsdrc`; ValueError says what in it would make the hub's messages fail."""
        ini = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            with smsdrc.open(encoding="utf-8") as f:
                ini.read_file(f)
        except (OSError, configparser.Error) as exc:
            raise ValueError(f"smsdrc {smsdrc}: {exc}") from exc
        if not ini.has_section("smsd"):
            raise ValueError(f"smsdrc {smsdrc}: no [smsd] section")
        smsd = {k: v.strip().strip('"') for k, v in ini.items("smsd")}
        if smsd.get("service", "").lower() != "files":
            raise ValueError(f"smsdrc {smsdrc}: the hub needs [smsd] service = files")
        if smsd.get("transmitformat", "7bit").lower() not in ("auto", "unicode"):
            raise ValueError(
                f"smsdrc {smsdrc}: set [smsd] transmitformat = auto (gammu's 7bit default drops "
                "every character outside the GSM alphabet)"
            )
        folders = {}
        for key in ("inboxpath", "outboxpath", "sentsmspath", "errorsmspath"):
            value = smsd.get(key, "")
            if not value or not Path(value).is_absolute():
                raise ValueError(f"smsdrc {smsdrc}: [smsd] {key} must be an absolute folder")
            folders[key] = Path(value)
        reports = smsd.get("deliveryreport", "no").lower() == "sms"
        if reports and smsd.get("inboxformat", "standard").lower() != "detail":
            raise ValueError(
                f"smsdrc {smsdrc}: deliveryreport = sms needs inboxformat = detail (a report must be "
                "told apart from a citizen's reply)"
            )
        return cls(
            smsdrc=smsdrc,
            inbox=folders["inboxpath"],
            outbox=folders["outboxpath"],
            sent=folders["sentsmspath"],
            error=folders["errorsmspath"],
            delivery_reports=reports,
            report_delay=int(smsd.get("deliveryreportdelay", "600")),
        )


def smsdrc_text(
    spool: Path,
    *,
    device: str,
    connection: str,
    model: str = "",
    logfile: Path | None = None,
    pin: str | None = None,
    delivery_reports: bool = True,
    debuglevel: int = 0,
    receivefrequency: int = 5,
) -> str:
    """An smsdrc for gammu-smsd with the files backend under `spool` (see the module's notes)."""
    lines = ["[gammu]", f"device = {device}", f"connection = {connection}"]
    if model:
        lines.append(f"model = {model}")
    lines += ["", "[smsd]", "service = files"]
    for key, sub in (
        ("inboxpath", "inbox"),
        ("outboxpath", "outbox"),
        ("sentsmspath", "sent"),
        ("errorsmspath", "error"),
    ):
        lines.append(f"{key} = {spool / sub}/")
    lines += [
        "transmitformat = auto",
        "outboxformat = unicode",
        "loopsleep = 1",
        "commtimeout = 1",
        f"receivefrequency = {receivefrequency}",
        "statusfrequency = 30",
        f"debuglevel = {debuglevel}",
    ]
    if delivery_reports:
        lines += ["deliveryreport = sms", "inboxformat = detail"]
    if logfile is not None:
        lines.append(f"logfile = {logfile}")
    if pin:
        lines.append(f"pin = {pin}")
    return "\n".join(lines) + "\n"


def write_smsdrc(path: Path, text: str) -> SmsdConfig:
    """Write an smsdrc (from `smsdrc_text`) to `path`, check it, and make its spool folders."""
    path.write_text(text, encoding="utf-8")
    cfg = SmsdConfig.read(path)
    for folder in (cfg.inbox, cfg.outbox, cfg.sent, cfg.error):
        folder.mkdir(parents=True, exist_ok=True)
    return cfg


def write_dummy_smsdrc(
    path: Path, spool: Path, *, logfile: Path | None = None, debuglevel: int = 0
) -> SmsdConfig:
    """An smsdrc for Gammu's dummy phone, a fake modem kept in the folder `spool/phone`: what
    the tests and the offline demo run gammu-smsd on. It looks for received messages (delivery
    reports) every second: a fake modem costs nothing to ask."""
    phone = spool / "phone"
    phone.mkdir(parents=True, exist_ok=True)
    text = smsdrc_text(
        spool,
        device=f"{phone}/",
        connection="none",
        model="dummy",
        logfile=logfile,
        debuglevel=debuglevel,
        receivefrequency=1,
    )
    return write_smsdrc(path, text)


@dataclass(frozen=True)
class OutName:
    """The parts of an outbox file's name the hub wrote."""

    name: str
    stamp: str
    to: str
    note: str

    @property
    def ref(self) -> str:
        """The message's reference: its name without the recipient (refs are stored and
        logged; numbers are not)."""
        return f"{self.stamp}_{self.note}"


def key_note(key: str) -> str:
    """The note part of a file name for an outbox key: the key itself when it is short and
    plain, else a digest of it (gammu splits the name at "_" and the extension at ".")."""
    if _PLAIN_KEY.fullmatch(key):
        return f"k{key}"
    return "h" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def out_name(to: str, key: str, when: datetime, *, report: bool) -> str:
    """The outbox file name for a message to `to` (E.164) written at `when` (UTC)."""
    stamp = when.astimezone(UTC).strftime("%Y%m%d_%H%M%S") + f"_{when.microsecond:06d}"
    return f"OUT{PRIORITY}{stamp}_{to}_{key_note(key)}.txt{'d' if report else ''}"


def parse_out_name(name: str) -> OutName | None:
    """The parts of an outbox file name of the hub's form, or None for any other file."""
    m = _OUT_NAME.fullmatch(name)
    if m is None:
        return None
    return OutName(name, m["stamp"], m["to"], m["note"])


def encode_text(text: str) -> bytes:
    """File content gammu-smsd reads as Unicode whatever its locale (see the module's notes)."""
    return BOM_UTF16_BE + text.encode("utf-16-be")


def decode_text(data: bytes) -> str:
    """The text of an outbox or sent file (UTF-16 with a byte-order mark, else UTF-8)."""
    if data[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return data.decode("utf-16")
    return data.decode("utf-8", errors="replace")


def write_atomically(folder: Path, name: str, data: bytes) -> None:
    """Put `data` into `folder/name` whole or not at all, and durably: gammu-smsd skips names
    starting with a dot, so it never reads the file half-written, and the rename is atomic."""
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.rename(tmp, folder / name)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    dirfd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


@dataclass(frozen=True)
class StatusReport:
    """A network's delivery report that gammu-smsd put into the inbox."""

    number: str
    state: str  # "delivered" | "failed"


def read_status_report(path: Path) -> StatusReport | None:
    """The delivery report in an inbox file (SMS backup format), or None when the file is a
    received message, a "Pending" report, or unreadable."""
    if _IN_NAME.fullmatch(path.name) is None:
        return None
    ini = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        ini.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return None
    for section in ini.sections():
        entry = ini[section]
        if entry.get("pdu", "").strip() != "Status_Report":
            continue
        hexes = "".join(entry[k].strip() for k in sorted(entry) if re.fullmatch(r"text\d\d", k))
        try:
            text = bytes.fromhex(hexes).decode("utf-16-be")
        except ValueError:
            return None
        state = REPORT_STATES.get(text.strip())
        number = entry.get("number", "").strip().strip('"')
        if state is None or not number:
            return None
        return StatusReport(number, state)
    return None


def same_number(a: str, b: str) -> bool:
    """Whether two spellings of a number are one subscriber's: networks write the number of a
    report as they like (+62812..., 62812..., 0812...); the last nine digits decide."""
    da, db = re.sub(r"\D", "", a), re.sub(r"\D", "", b)
    return len(da) >= 9 and len(db) >= 9 and da[-9:] == db[-9:]


@dataclass(frozen=True)
class MonitorStatus:
    """One line of `gammu-smsd-monitor --csv`: gammu-smsd's counters since it started."""

    imei: str
    sent: int
    received: int
    failed: int
    battery_percent: int
    signal_percent: int


def parse_monitor_csv(output: str) -> MonitorStatus | None:
    """The last status line of `gammu-smsd-monitor -C` (client;phone id;IMEI;IMSI;sent;
    received;failed;battery;signal; read from the end, as older versions lack the IMSI)."""
    for line in reversed(output.strip().splitlines()):
        fields = line.split(";")
        if len(fields) < 8:
            continue
        try:
            sent, received, failed, battery, signal = (int(x) for x in fields[-5:])
        except ValueError:
            continue
        imei = fields[-7] if len(fields) >= 9 else fields[-6]
        return MonitorStatus(imei.strip(), sent, received, failed, battery, signal)
    return None

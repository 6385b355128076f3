"""ESC/POS for 58 mm and 80 mm thermal printers, and the antrian ticket layout.

Shared: the ESP32 kiosk firmware prints with it (`import escpos`, copied onto the board) and so
does the hub's own printer (`antrian.printer`), so both print the same ticket. It must run on
MicroPython: see `hub/shared/__init__.py`.

Only commands every cheap ESC/POS printer knows: ESC @, ESC a (align), ESC E (bold), GS !
(character size), ESC d (feed), GS ( k (native QR, model 2), GS V (cut) and DLE EOT (real
time status). Text is sent as plain ASCII: code pages differ between printer brands, and
the ticket needs no accents.

The number is printed as large as the paper takes: many who take a ticket are older
citizens holding it at arm's length, and the 2x size of a default layout (about 6 mm) is
smaller than the 4-6x queue tickets usually carry. The font is 12 dots wide at normal size,
so a line is 32 (58 mm, 384 dots) or 48 (80 mm, 576 dots) columns, and `GS !` goes to 8x.

The ticket's words are the caller's (`words`, keyed like WORDS): the `ticket.` part of the
hub's catalogue (`antrian.i18n.device_words(lang)`), which the hub passes and provisioning
writes onto a kiosk board. A word the caller does not give is read from WORDS.
"""

ESC = 0x1B
GS = 0x1D
DLE = 0x10

#: Characters a line at the normal font: 58 mm paper (384 dots) and 80 mm paper (576 dots).
COLUMNS = {58: 32, 80: 48}
#: The largest character size of `GS !` (times the normal width and height).
MAX_SIZE = 8

#: The catalogue's Indonesian words (a test keeps them equal to `device_words("id")`), for a
#: caller that gives none: a board flashed before its words were written still prints a whole
#: ticket, in the office's language. Placeholders are `{name}`, as in the catalogue; `days` and
#: `months` are one word each, Monday first and January first, separated by spaces.
WORDS = {
    "sorry": "Mohon maaf",
    "number": "Nomor antrean",
    "priority": "PRIORITAS",
    "ahead": "Antrean di depan Anda: {n}",
    "call_unknown": "Perkiraan dipanggil: belum dapat diperkirakan",
    "call_soon": "Perkiraan dipanggil: segera",
    "call_heading": "Perkiraan dipanggil",
    "call_around": "sekitar pukul {when} {zone}",
    "not_today": "Kemungkinan tidak terlayani hari ini",
    "maybe_not_today": "Mungkin tidak sempat terlayani hari ini",
    "completion": "Perkiraan selesai: {completion}",
    "wait_call": "Harap menunggu panggilan / pantau layar",
    "survey": "Isi survei kepuasan (SKM):",
    "complaint": "Pengaduan: {contact}",
    "scan": "Pindai untuk melihat antrean",
    "valid_today": "Berlaku hari ini",
    "reprint": "(cetak ulang)",
    "days": "Senin Selasa Rabu Kamis Jumat Sabtu Minggu",
    "months": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
}
ZONES = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"}

#: DLE EOT 4: paper roll sensor. Bits 5 and 6 set = paper end; bits 2 and 3 = near end.
STATUS_PAPER = b"\x10\x04\x04"
PAPER_END = 0x60
PAPER_NEAR_END = 0x0C


def ascii_only(text):
    """Printer-safe text: anything outside printable ASCII becomes '?'."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def wrap(text, width):
    """`text` on lines of `width` columns: whole when it fits, else broken where it reads best:
    each side of "a / b" on lines of its own ("Harap menunggu panggilan" / "pantau layar"), a
    label apart from what follows its colon ("Perkiraan selesai:" / "1-5 hari kerja"), then
    word by word (a word longer than a line is cut), without a lone last word where the line
    above can give it company ("... terlayani" / "hari ini", not "... terlayani hari" / "ini")."""
    if len(text) <= width:
        return [text]
    lines = []  # type: list[str]
    line = ""
    kept = True  # may the last break move: not after a slash or a label's colon
    for word in text.split():
        if word == "/" or (line.endswith(":") and not lines):
            if line:
                lines.append(line)
            line = ""
            kept = False
            if word == "/":
                continue
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
            kept = True
    if line:
        lines.append(line)
    if kept and len(lines) > 1 and " " not in lines[-1] and " " in lines[-2]:
        head, last = lines[-2].rsplit(" ", 1)
        if len(last) + 1 + len(lines[-1]) <= width:
            lines[-2:] = [head, last + " " + lines[-1]]
    return lines


def word(words, key, **values):
    """The word `key` of `words` (WORDS where the caller has none) with `{name}` filled in.

    str.replace, not str.format: a translation with a stray brace prints as written instead
    of failing on the board in the middle of a ticket.
    """
    text = (words or WORDS).get(key) or WORDS[key]
    for name in values:
        text = text.replace("{%s}" % name, str(values[name]))
    return text


def weekday(y, m, d):
    """0 = Monday ... 6 = Sunday (Sakamoto's method; the device has no calendar)."""
    t = (0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4)
    if m < 3:
        y -= 1
    sunday0 = (y + y // 4 - y // 100 + y // 400 + t[m - 1] + d) % 7
    return (sunday0 + 6) % 7


def local_when(iso, words=None):
    """`2026-11-29T08:40:12+07:00` -> ("Minggu, 29 November 2026", "08.40 WIB").

    The hub sends local time with its offset; the device only reformats it, so the ticket
    shows the office's own clock even if the device has never synced one.
    """
    y, m, d = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
    zone = ZONES.get(iso[19:25], iso[19:25])
    days, months = word(words, "days").split(), word(words, "months").split()
    date = "%s, %d %s %d" % (days[weekday(y, m, d)], d, months[m - 1], y)
    return date, "%s.%s %s" % (iso[11:13], iso[14:16], zone)


class Job:
    """Builds one print job as bytes."""

    def __init__(self):
        self.buf = bytearray(b"\x1b@")  # ESC @: reset modes left over from a cut-off job

    def align(self, n):
        self.buf += bytes((ESC, 0x61, n))
        return self

    def bold(self, on):
        self.buf += bytes((ESC, 0x45, 1 if on else 0))
        return self

    def size(self, width, height):
        """GS ! : 1..8 times the normal width and height."""
        self.buf += bytes((GS, 0x21, (width - 1) << 4 | (height - 1)))
        return self

    def line(self, text=""):
        self.buf += ascii_only(text).encode() + b"\n"
        return self

    def text(self, text, cols):
        """`text` wrapped to `cols` columns (`wrap`), a line each."""
        for ln in wrap(text, cols):
            self.line(ln)
        return self

    def feed(self, n):
        self.buf += bytes((ESC, 0x64, n))
        return self

    def qr(self, data, module=6):
        """Native QR (GS ( k): model 2, module size in dots, error level M, store, print."""
        d = data.encode()
        n = len(d) + 3
        self.buf += bytes((GS, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0))
        self.buf += bytes((GS, 0x28, 0x6B, 3, 0, 0x31, 0x43, module))
        self.buf += bytes((GS, 0x28, 0x6B, 3, 0, 0x31, 0x45, 0x31))
        self.buf += bytes((GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, 0x50, 0x30)) + d
        self.buf += bytes((GS, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30))
        return self

    def cut(self):
        """GS V 66 n: feed to the cutter and cut (partial), so no ticket is left inside."""
        self.buf += bytes((GS, 0x56, 0x42, 3))
        return self


def call(j, t, zone, cols, words=None):
    """Print on `j` the estimated call in plain words, one sentence ("Perkiraan dipanggil sekitar pukul
    09.55 WIB"), over two lines where the paper is narrow: a window where it is uncertain
    ("sekitar pukul 09.40 - 10.05 WIB"), one time where it is not, nothing past closing (the
    warning says it). A clock time, never a "+-" on minutes: the ticket is read long after it
    was printed, when "+-25 menit" no longer says from when."""
    if t.get("served_today") == "no":
        return j
    if t.get("estimated_wait_min") is None:
        return j.text(word(words, "call_unknown"), cols)
    if t["estimated_wait_min"] <= 2:
        return j.text(word(words, "call_soon"), cols)
    if t.get("estimated_call_from"):
        when = "%s - %s" % (t["estimated_call_from"], t["estimated_call_to"])
    else:
        when = t.get("estimated_call_at") or ""
    heading, around = word(words, "call_heading"), word(words, "call_around", when=when, zone=zone)
    if len(heading) + 1 + len(around) > cols:
        j.line(heading)
        heading = ""
    return j.text((heading + " " + around).strip(), cols)


def refusal(text, paper=58, words=None):
    """A slip for a press the hub refused for a reason the citizen must read (no number)."""
    cols = COLUMNS.get(paper, 32)
    j = Job().align(1).bold(True).line(word(words, "sorry")).bold(False)
    return j.text(text, cols).feed(2).cut().buf


def ticket(t, paper=58, reprint=False, words=None):
    """The ticket of a `take_ticket` response as one ESC/POS job, in `words`' language."""
    cols = COLUMNS.get(paper, 32)
    j = Job().align(1)
    j.bold(True).text(t.get("office", ""), cols).bold(False)
    j.text(t.get("service_name", ""), cols).line(word(words, "number"))
    n = min(MAX_SIZE, cols // len(t["ticket"])) or 1  # as large as one line takes
    j.size(n, n).bold(True).line(t["ticket"]).size(1, 1).bold(False)
    if t.get("priority"):
        mark = word(words, "priority")
        n = 2 if len(mark) * 2 <= cols else 1
        j.bold(True).size(n, n).line(mark).size(1, 1).bold(False)
    if t.get("issued_at"):
        date, clock = local_when(t["issued_at"], words)
        zone = clock[6:]
        j.line(date).line(clock)
    else:
        zone = "WIB"
    j.line(word(words, "ahead", n=t.get("ahead", 0)))
    call(j, t, zone, cols, words)
    late = {"no": "not_today", "maybe": "maybe_not_today"}.get(t.get("served_today"))
    if late:
        j.bold(True).text(word(words, late), cols).bold(False)
    text = (t.get("completion") or "").strip()
    if text:
        # A duration ("1 hari kerja", "1-5 hari kerja") gets the label ("Perkiraan selesai: 1
        # hari kerja"); any other text is a sentence of the office's ("selesai hari ini"),
        # printed as written with a capital, never glued to the label.
        if "0" <= text[0] <= "9":
            text = word(words, "completion", completion=text)
        j.text(text[0].upper() + text[1:], cols)
    j.text(word(words, "wait_call"), cols)
    if t.get("status_url"):
        j.qr(t["status_url"], 6 if cols <= 32 else 8)
        j.line(word(words, "scan"))
    if t.get("survey_url"):
        j.line(word(words, "survey")).text(t["survey_url"], cols)
    if t.get("complaint_contact"):
        j.text(word(words, "complaint", contact=t["complaint_contact"]), cols)
    j.bold(True).line(word(words, "valid_today")).bold(False)
    if reprint:
        j.line(word(words, "reprint"))
    return j.feed(2).cut().buf

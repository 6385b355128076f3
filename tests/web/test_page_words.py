"""Every word the page scripts show comes from the catalogue (`web.` keys, handed to the page as
`BOOT.text`, read in the scripts as `T.key`), and every key a script asks for is in both
languages.

The scan is a small JavaScript lexer, not a parser: it finds every string and template literal
(skipping comments and regular expressions), and decides whether its text reaches a person. A
template with HTML tags is shown through innerHTML: its text between tags, and the values of
the attributes people read (title, aria-label, placeholder, alt), are shown; the rest of a tag
(class, id, data-*) is not. Any other literal is shown when it is written into textContent,
innerHTML, title and the like, passed to alert/confirm/Notification, or given as the `error`
or `message` of a result the page prints; or when it sits inside a `${...}` of a template at
a shown place. Text is "a word" when it still has a letter once `{placeholders}` and HTML
entities are taken out. A shown literal that is not a word in any language (a ticket code, a
symbol) goes in ALLOWED with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from antrian.contract import COMMAND_SCHEMAS
from antrian.i18n import CATALOGUE, LANGUAGES

STATIC = Path(__file__).resolve().parents[2] / "hub" / "web" / "static"
SCRIPTS = sorted(STATIC.glob("*.js"))

#: Shown literals that are no word of any language, by script: what they are.
ALLOWED: dict[str, dict[str, str]] = {
    "officer.js": {"A-012": "the placeholder of the ticket field is a ticket code, the same in any language"},
    "reservasi.js": {"reminder-change-channel": "the name of a group of radio buttons (an id), never shown"},
}

_SINK = re.compile(
    r"\.(?:textContent|innerText|innerHTML|outerHTML|title|placeholder|alt|ariaLabel)\s*\+?=(?!=)"
    r"|\b(?:alert|confirm|prompt|Notification)\s*\("
    r"|\b(?:error|message)\s*:"
)
#: A literal compared with, or looked for in a text, is read by the script, not written out.
_LOOKED_FOR_BEFORE = re.compile(
    r"(?:[!=]==?|\bcase|\.(?:replace|replaceAll|split|indexOf|includes|startsWith|endsWith)\()\s*$"
)
_LOOKED_FOR_AFTER = re.compile(r"^\s*(?:[!=]==?|in\b)")
_SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
#: A `${...}` inside a template's static text while the tags are read.
_HOLE = "\x00"
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}


@dataclass(frozen=True)
class Shown:
    """A piece of a script's static text that reaches the screen."""

    line: int
    text: str


def is_word(text: str) -> bool:
    """True when `text` has a letter once `{placeholders}` and `&entities;` are taken out."""
    rest = re.sub(r"\{\w+\}|&#?\w+;", "", text)
    return re.search(r"[^\W\d_]", rest) is not None


class Scan:
    """One pass over a script: `shown` collects the static text a person would read."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.shown: list[Shown] = []

    def line(self, at: int) -> int:
        return self.src.count("\n", 0, at) + 1

    def code(self, i: int, *, shown: bool, closing: str | None = None) -> int:
        """Read code from `i` until `closing` (a `}` of `${`) or the end; returns the index after."""
        depth = 0
        statement = ""  # the code of this statement so far, literals blanked
        last = ""  # the last significant character, to tell a regex from a division
        while i < len(self.src):
            c = self.src[i]
            if self.src.startswith("//", i):
                i = self.src.find("\n", i)
                i = len(self.src) if i < 0 else i
                continue
            if self.src.startswith("/*", i):
                i = self.src.index("*/", i) + 2
                continue
            if c in "\"'":
                end = self._string_end(i, c)
                text = self.src[i + 1 : end - 1]
                after = self.src[end : end + 8]
                if (shown or self._sinks(statement)) and not self._looked_for(statement, after):
                    self._show(i, text)
                statement += '""'
                last, i = '"', end
                continue
            if c == "`":
                i = self.template(i, shown=shown or self._sinks(statement))
                statement += "``"
                last = "`"
                continue
            if c == "/" and (last in _REGEX_BEFORE or re.search(r"\b(?:return|typeof)\s*$", statement)):
                i = self._regex_end(i)
                statement += "/./"
                last = "/"
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                if depth == 0 and closing == "}":
                    return i + 1
                depth -= 1
            if c in ";{}":
                statement = ""
            else:
                statement += c
            if not c.isspace():
                last = c
            i += 1
        return i

    def template(self, i: int, *, shown: bool) -> int:
        """Read the template literal at `i`; record what of it is shown; return the index after."""
        start = i
        i += 1
        chunks: list[tuple[int, str]] = []  # (where, static text) between the `${...}`s
        holes: list[int] = []  # where each `${` starts, to read it after the tags are known
        piece_start, piece = i, ""
        while self.src[i] != "`":
            if self.src[i] == "\\":
                piece += self.src[i : i + 2]
                i += 2
            elif self.src.startswith("${", i):
                chunks.append((piece_start, piece))
                holes.append(i + 2)
                i = self._skip_code(i + 2)
                piece_start, piece = i, ""
            else:
                piece += self.src[i]
                i += 1
        chunks.append((piece_start, piece))
        end = i + 1
        joined = _HOLE.join(text for _, text in chunks)
        html = re.search(r"<[A-Za-z/]", joined) is not None
        hole_shown = self._read_html(start, joined) if html else [shown] * len(holes)
        if not html and shown:
            for where, text in chunks:
                self._show(where, text)
        for hole, is_shown in zip(holes, hole_shown, strict=True):
            self.code(hole, shown=is_shown, closing="}")
        return end

    def _read_html(self, start: int, joined: str) -> list[bool]:
        """Record the shown text of an HTML template; say for each `${...}` whether it is shown."""
        holes: list[bool] = []
        for match in re.finditer(r"<[^>]*>|[^<]+", joined):
            part = match.group()
            if not part.startswith("<"):
                for text in part.split(_HOLE):
                    self._show(start, text)
                holes += [True] * part.count(_HOLE)
                continue
            # inside a tag: only the values of the attributes people read are shown
            for attr in re.finditer(r'([\w:-]+)\s*=\s*"([^"]*)"|' + _HOLE, part):
                if attr.group() == _HOLE:
                    holes.append(False)  # a hole between attributes writes attributes
                    continue
                is_read = attr.group(1).lower() in _SHOWN_ATTRIBUTES
                for text in attr.group(2).split(_HOLE):
                    if is_read:
                        self._show(start, text)
                holes += [is_read] * attr.group(2).count(_HOLE)
        return holes

    def _skip_code(self, i: int) -> int:
        """The index after the `}` closing a `${` (nested literals skipped, not recorded)."""
        quiet = Scan(self.src)
        return quiet.code(i, shown=False, closing="}")

    def _string_end(self, i: int, quote: str) -> int:
        i += 1
        while self.src[i] != quote:
            i += 2 if self.src[i] == "\\" else 1
        return i + 1

    def _regex_end(self, i: int) -> int:
        i += 1
        in_class = False
        while in_class or self.src[i] != "/":
            if self.src[i] == "\\":
                i += 1
            elif self.src[i] == "[":
                in_class = True
            elif self.src[i] == "]":
                in_class = False
            i += 1
        i += 1
        while self.src[i].isalpha():
            i += 1
        return i

    @staticmethod
    def _sinks(statement: str) -> bool:
        return _SINK.search(statement) is not None

    @staticmethod
    def _looked_for(before: str, after: str) -> bool:
        return bool(_LOOKED_FOR_BEFORE.search(before) or _LOOKED_FOR_AFTER.match(after))

    def _show(self, at: int, text: str) -> None:
        if is_word(text):
            self.shown.append(Shown(self.line(at), text.strip()))


def shown_words(script: Path) -> list[Shown]:
    """The static text of `script` a person would read, minus what ALLOWED says is no word."""
    scan = Scan(script.read_text(encoding="utf-8"))
    scan.code(0, shown=False)
    allowed = ALLOWED.get(script.name, {})
    return [s for s in scan.shown if s.text not in allowed]


def keys_used(source: str) -> set[str]:
    """The `T.key` and `T["key"]` a script reads."""
    return set(re.findall(r"\bT\.(\w+)", source)) | set(re.findall(r"\bT\[\"(\w+)\"\]", source))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_page_script_shows_no_word_of_its_own_every_word_comes_from_the_catalogue(script):
    assert shown_words(script) == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_words_key_a_page_script_reads_is_in_both_languages(script):
    used = keys_used(script.read_text(encoding="utf-8"))
    assert used, "a page script that reads no words: the scan no longer finds them"
    for lang in LANGUAGES:
        assert sorted(k for k in used if f"web.{k}" not in CATALOGUE[lang]) == [], lang


def test_the_statuses_a_page_looks_up_by_name_are_in_both_languages():
    """`T[counter.status]` and `T[v.status]` read a key named after a status of the contract."""
    statuses = {
        *(COMMAND_SCHEMAS["counter_status"]["status"].choices or ()),
        *(COMMAND_SCHEMAS["service_status"]["status"].choices or ()),
    }
    assert statuses >= {"open", "break", "closed", "paused"}
    for lang in LANGUAGES:
        assert sorted(s for s in statuses if f"web.{s}" not in CATALOGUE[lang]) == [], lang


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('el.textContent = "Silakan tunggu";', ["Silakan tunggu"]),
        ('el.textContent = ok ? T.done : "Gagal";', ["Gagal"]),
        ('box.innerHTML = `<p class="x y" id="z">${esc(T.a)} Nomor Anda</p>`;', ["Nomor Anda"]),
        ('box.innerHTML = `<b title="Tutup">${n}</b>`;', ["Tutup"]),
        ('box.innerHTML = `<i>${flag ? " (baru)" : ""}</i>`;', ["(baru)"]),
        ('return { status: "error", error: `HTTP ${code}` };', ["HTTP"]),
        ('new Notification("Giliran Anda");', ["Giliran Anda"]),
        # not shown: class names, ids, comparisons, URLs, keys, regular expressions, comments
        ('el.className = `card state-${s}`; el.id = "ticket";', []),
        ('el.textContent = r.status === "ok" ? T.done : T.error;', []),
        ('live(`/events/ticket/${t}`, { state: render }); if ("Notification" in window) x();', []),
        ('box.innerHTML = `<span class="chip${p ? " prio" : ""}">${esc(t)}</span>`;', []),
        ('el.textContent = s.replace(/"[a-z]+"/g, "{n}"); // "Kata"\n/* "Kata" */', []),
        ('el.textContent = when.replace("T", " ");', []),
        ("el.textContent = `${T.done_ok}: ${r.ticket}`;", []),
    ],
)
def test_the_scan_finds_a_shown_literal_and_passes_markup_and_code(source, expected):
    scan = Scan(source)
    scan.code(0, shown=False)
    assert [s.text for s in scan.shown] == expected

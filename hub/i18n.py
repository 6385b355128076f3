"""Every user-facing word of the hub, in Bahasa Indonesia (default) and English: one catalogue.

Code raises, prints and logs with message keys; people read the office's language. The texts
live in gettext catalogues, `hub/locale/<lang>/LC_MESSAGES/antrian.po` (`id` first, `en`
complete), because that is the form translators and their tools (Poedit, Weblate, Babel)
know: the msgid is the key the code asks for, the msgstr its text. Keys are stable: the
hub's error keys are sent as `code` in error responses so a device can react without parsing
prose. The other parts keep their words under a prefix: `web.` (the pages, which get them
without the prefix, see `texts`), `voice.`, `devices.`, `demo.`; `board.` is what the LED
boards and the call pads show; `ticket.` is the printed ticket (`antrian.shared.escpos`, printed
by the hub and by the ESP32 kiosk, which gets them as `device_words`); `cli.` is the help of
the command lines.

The command lines speak the office's language: Indonesian, unless the environment asks for
English, by `ANTRIAN_LANG=en` or, without `ANTRIAN_LANG`, by a locale whose language is English
(`LC_ALL`, `LC_MESSAGES` or `LANG`, the first one set: `LANG=en_US.UTF-8`). `ANTRIAN_LANG=id`
keeps Indonesian on a machine installed in English. The help (`antrian --help`) follows that
choice (`default_lang`), and so do the messages of the commands with a `--lang` (tts, speaker,
devices, demo), which overrides it.

Why the .po files are read here, at import, instead of compiled to .mo for `gettext`: the
catalogue is a few hundred short lines (read in about a millisecond), and reading the source
means there is no build step and no compiled copy in the repository that can drift from what
a translator edited; the subset of the format read here is the one the tools write (comments,
flags, msgid/msgstr over several quoted lines). A fuzzy entry is left out, as `msgfmt` does,
and a malformed file fails loudly with its line. The placeholders are `str.format` fields
(`{service}`), the same in both languages (a test checks it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

LANGUAGES: Final = ("id", "en")
LOCALE_DIR: Final = Path(__file__).parent / "locale"
DOMAIN: Final = "antrian"

_ESCAPES: Final = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_QUOTED: Final = re.compile(r'"((?:[^"\\]|\\.)*)"\s*$')


class CatalogueError(ValueError):
    """A .po file the reader cannot take (its path and line are in the message)."""


def catalogue_path(lang: str) -> Path:
    """Where the catalogue of `lang` is, in the layout gettext tools expect."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalogue_paths(lang: str) -> list[Path]:
    """The catalogue of `lang` and its parts: `antrian.po`, then every other `.po` beside it
    by name (`officer.po`, `reports.po`, ...). One file per part of the hub keeps the words of
    a page with the page's own work; each part is a plain .po that gettext tools take."""
    main = catalogue_path(lang)
    return [main, *sorted(p for p in main.parent.glob("*.po") if p != main)]


def read_catalogue(lang: str) -> dict[str, str]:
    """Every text of `lang` from all its parts; a key in two parts is refused."""
    merged: dict[str, str] = {}
    for path in catalogue_paths(lang):
        part = read_po(path)
        twice = sorted(set(part) & set(merged))
        if twice:
            raise CatalogueError(f"{path}: keys already in another part: {', '.join(twice[:5])}")
        merged.update(part)
    return merged


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of one .po file, without its header entry and its fuzzy entries."""
    messages: dict[str, str] = {}
    fields: dict[str, str] = {}
    current = ""
    fuzzy = False

    def finish() -> None:
        nonlocal fields, current, fuzzy
        if "msgid" in fields and fields["msgid"] and not fuzzy:
            messages[fields["msgid"]] = fields.get("msgstr", "")
        fields, current, fuzzy = {}, "", False

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        where = f"{path}:{number}"
        if not stripped:
            continue
        if stripped.startswith("#"):
            if current == "msgstr":
                finish()
            if stripped.startswith("#,") and "fuzzy" in stripped[2:].replace(",", " ").split():
                fuzzy = True
            continue
        keyword, _, rest = stripped.partition(" ")
        if keyword in ("msgctxt", "msgid_plural") or keyword.startswith("msgstr["):
            raise CatalogueError(f"{where}: {keyword} is not used in this catalogue")
        if keyword in ("msgid", "msgstr"):
            if keyword == "msgid" and current == "msgstr":
                finish()
            if keyword in fields:
                raise CatalogueError(f"{where}: a second {keyword} in one entry")
            current, fields[keyword] = keyword, ""
        elif stripped.startswith('"') and current:
            rest = stripped
        else:
            raise CatalogueError(f"{where}: cannot read {line!r}")
        fields[current] += _unquote(rest, where)
    finish()
    return messages


def _unquote(text: str, where: str) -> str:
    match = _QUOTED.match(text)
    if match is None:
        raise CatalogueError(f"{where}: expected a quoted string, got {text!r}")

    def escape(m: re.Match[str]) -> str:
        if m.group(1) not in _ESCAPES:
            raise CatalogueError(f"{where}: unknown escape \\{m.group(1)}")
        return _ESCAPES[m.group(1)]

    return re.sub(r"\\(.)", escape, match.group(1))


CATALOGUE: Final[dict[str, dict[str, str]]] = {lang: read_catalogue(lang) for lang in LANGUAGES}


def t(key: str, lang: str = "id", **params: object) -> str:
    """The message `key` in `lang` ("id" or "en") with `params` filled in.

    An unknown language reads Indonesian, the office's language; an unknown key is returned
    as it is and a text whose placeholders are not all given is returned unfilled, so a
    wording mistake shows up on a screen as a visible slip, never as a crash of the hub.
    """
    text = CATALOGUE.get(lang, CATALOGUE["id"]).get(key) or CATALOGUE["id"].get(key)
    if text is None:
        return key
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def texts(lang: str, prefix: str) -> dict[str, str]:
    """Every text under `prefix` in one language, keyed without the prefix (for page scripts)."""
    table = CATALOGUE.get(lang, CATALOGUE["id"])
    return {
        key.removeprefix(prefix): table.get(key) or text
        for key, text in CATALOGUE["id"].items()
        if key.startswith(prefix)
    }


def device_words(lang: str) -> dict[str, str]:
    """The words a kiosk board prints on its tickets, in one language, keyed as escpos reads them.

    The board cannot read this catalogue (MicroPython, no .po reader, no room for both
    languages), so provisioning writes these onto it and the firmware hands them to
    `escpos.ticket` and `escpos.refusal`; the hub hands the same words to the same functions,
    so a ticket reads alike whichever machine printed it. Plain ASCII (a test checks it): the
    printers are sent ASCII only.
    """
    return texts(lang, "ticket.")


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """The command lines' language: `ANTRIAN_LANG` if it names a known language, else English
    where the locale's language is English (the first set of LC_ALL, LC_MESSAGES, LANG, as
    POSIX orders them), else Indonesian, the office's language (also for `C` and `POSIX`)."""
    env = os.environ if environ is None else environ
    chosen = env.get("ANTRIAN_LANG", "").strip().lower()[:2]
    if chosen in LANGUAGES:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return "en" if env[name].lower().startswith("en") else "id"
    return "id"

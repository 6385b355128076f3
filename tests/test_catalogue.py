"""The one message catalogue (`hub/locale/`, read by `antrian.i18n`): complete in both languages,
the same placeholders in both, read as GNU gettext reads it."""

from __future__ import annotations

import gettext
import re
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from antrian import i18n
from antrian.i18n import CATALOGUE, LANGUAGES, CatalogueError, catalogue_paths, read_po, t, texts
from antrian.web.text import texts as page_texts

ROOT = Path(__file__).resolve().parents[1]


def placeholders(text: str) -> list[tuple[str, str]]:
    return sorted(
        (name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name is not None
    )


def test_every_key_has_an_indonesian_and_an_english_text():
    assert set(CATALOGUE["id"]) == set(CATALOGUE["en"])
    for lang in LANGUAGES:
        empty = [key for key, text in CATALOGUE[lang].items() if not text.strip()]
        assert not empty, f"{lang}: {empty}"


def test_a_message_has_the_same_placeholders_in_both_languages():
    differ = {
        key: (placeholders(text), placeholders(CATALOGUE["en"][key]))
        for key, text in CATALOGUE["id"].items()
        if placeholders(text) != placeholders(CATALOGUE["en"][key])
    }
    assert not differ


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (apt: gettext) is not installed")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_gnu_gettext_compiles_each_catalogue_to_the_texts_the_hub_reads(lang, tmp_path):
    read: dict[str, str] = {}
    for path in catalogue_paths(lang):  # antrian.po and its parts, each a catalogue of its own
        compiled = tmp_path / f"{path.stem}.mo"
        proc = subprocess.run(
            ["msgfmt", "--check", "-o", str(compiled), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        with compiled.open("rb") as f:
            translations = gettext.GNUTranslations(f)
        keys = read_po(path)
        read |= {key: translations.gettext(key) for key in keys}
    assert read == CATALOGUE[lang]


def test_an_entry_over_several_lines_with_escapes_reads_as_one_text_and_fuzzy_ones_are_left_out(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        '# a translator\'s comment\nmsgid ""\nmsgstr ""\n"Language: id\\n"\n\n'
        '#. a developer\'s note\nmsgid "greeting"\nmsgstr ""\n"Selamat \\"datang\\", "\n"{name}\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "unsure"\nmsgstr "belum pasti"\n\n'
        'msgid "plain"\nmsgstr "biasa"\n',
        encoding="utf-8",
    )
    assert read_po(po) == {"greeting": 'Selamat "datang", {name}\n', "plain": "biasa"}


@pytest.mark.parametrize(
    "body",
    [
        'msgid "a"\nmsgstr "b\n',
        'msgid "a"\nmsgstr "\\q"\n',
        'msgid "a"\nmsgstr[0] "b"\n',
        'msgid "a"\nmsgid "b"\n',
    ],
)
def test_a_broken_catalogue_is_refused_with_its_line(tmp_path, body):
    po = tmp_path / "broken.po"
    po.write_text(body, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"broken\.po:2"):
        read_po(po)


def test_a_message_is_filled_in_the_chosen_language_and_indonesian_otherwise():
    assert t("unknown_counter", "en", counter=3) == "There is no counter 3"
    assert t("unknown_counter", "id", counter=3) == "Loket 3 tidak ada"
    assert t("unknown_counter", "jv", counter=3) == "Loket 3 tidak ada"


def test_a_wording_slip_shows_as_text_never_as_a_crash():
    assert t("no.such.key", "en") == "no.such.key"
    assert t("unknown_counter", "en") == "There is no counter {counter}"


def test_the_pages_get_the_web_part_of_the_catalogue_keyed_without_its_prefix():
    for lang in LANGUAGES:
        pages = page_texts(lang)
        assert pages == texts(lang, "web.")
        assert pages["now_serving"] == t("web.now_serving", lang)
        assert set(pages) == set(page_texts("id"))
    assert page_texts("en")["now_serving"] == "Now serving"


def test_no_module_of_the_hub_keeps_a_message_table_of_its_own():
    table = re.compile(r"^(?:[A-Z_]*MESSAGES|[A-Z_]*TEXTS?)\s*(?::[^=]*)?=\s*\{", re.MULTILINE)
    own = [
        str(path.relative_to(ROOT)) for path in (ROOT / "hub").rglob("*.py") if table.search(path.read_text())
    ]
    assert not own


def test_a_key_in_two_parts_of_a_catalogue_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "id" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "antrian.po").write_text('msgid "web.x"\nmsgstr "satu"\n', encoding="utf-8")
    (folder / "reports.po").write_text('msgid "web.y"\nmsgstr "dua"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n.read_catalogue("id") == {"web.x": "satu", "web.y": "dua"}
    (folder / "survey.po").write_text('msgid "web.x"\nmsgstr "lagi"\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"survey\.po: keys already in another part: web\.x"):
        i18n.read_catalogue("id")

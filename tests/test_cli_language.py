"""The command lines speak the office's language: Indonesian, or English where the environment
asks for it, with every help text (argparse's own words too) from the catalogue."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from antrian.cli import build_parser
from antrian.i18n import CATALOGUE, LANGUAGES, default_lang, t

LOCALE_VARIABLES = ("ANTRIAN_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def help_of(*command: str, **environment: str) -> str:
    """The real `antrian ... --help`, run as its own process in the given environment."""
    env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARIABLES}
    env.update(environment, COLUMNS="500")  # one line per help text, as the catalogue has it
    proc = subprocess.run(
        [sys.executable, "-m", "antrian.cli", *command, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return proc.stdout


def titles(help_text: str) -> list[str]:
    """The section titles of a help text ("options:" on a line of its own)."""
    return re.findall(r"^(\S[^:\n]*):$", help_text, re.MULTILINE)


@pytest.mark.parametrize(
    ("environment", "lang"),
    [
        ({"LANG": "C.UTF-8"}, "id"),
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"ANTRIAN_LANG": "en"}, "en"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "ANTRIAN_LANG": "id"}, "id"),
    ],
)
def test_antrian_help_is_in_indonesian_unless_the_environment_asks_for_english(environment, lang):
    other = "en" if lang == "id" else "id"
    main = help_of(**environment)
    assert main.startswith(t("cli.usage", lang) + "antrian")
    for key in ("cli.description", "cli.run", "cli.tts", "cli.devices", "cli.help"):
        assert t(key, lang) in main
        assert t(key, other) not in main
    assert titles(main) == [t("cli.positionals", lang), t("cli.options", lang)]

    # a subcommand's help, with options shared from a parent parser, reads in the same language
    add = help_of("devices", "add", **environment)
    assert add.startswith(t("cli.usage", lang) + "antrian devices add")
    for key in ("cli.devices_id", "cli.devices_role", "cli.devices_dir", "cli.lang", "cli.help"):
        assert t(key, lang) in add
        assert t(key, other) not in add
    # the options shared from the parent parser are not put under a second title
    assert titles(add) == [t("cli.positionals", lang), t("cli.options", lang)]


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """`parser` and every subcommand's parser under it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


def helps(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every help text a person reads on `parser --help`."""
    if parser.description:
        yield parser.description
    for action in parser._actions:
        if action.help not in (None, argparse.SUPPRESS):
            yield str(action.help)
        if isinstance(action, argparse._SubParsersAction):
            yield from (str(a.help) for a in action._choices_actions)


def catalogue_pattern(text: str) -> str:
    """A catalogue text as a pattern, its {placeholders} standing for any filled-in value."""
    return "".join(".+" if i % 2 else re.escape(part) for i, part in enumerate(re.split(r"\{\w+\}", text)))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_help_text_of_every_command_comes_from_the_catalogue(lang, monkeypatch):
    monkeypatch.setenv("ANTRIAN_LANG", lang)
    known = re.compile(
        "|".join(catalogue_pattern(text) for key, text in CATALOGUE[lang].items() if key.startswith("cli."))
    )
    commands = list(parsers(build_parser()))
    assert len(commands) > 15, "every subcommand is walked"
    for parser in commands:
        foreign = [text for text in helps(parser) if not known.fullmatch(text)]
        assert foreign == [], parser.prog
        assert t("cli.usage", lang) in parser.format_help()  # argparse can render each one


@pytest.mark.parametrize(
    ("environment", "lang"),
    [
        ({}, "id"),
        ({"LANG": "C"}, "id"),
        ({"LANG": "POSIX"}, "id"),
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en"}, "en"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "id_ID.UTF-8"}, "en"),
        ({"LC_ALL": "C.UTF-8", "LANG": "en_US.UTF-8"}, "id"),
        ({"ANTRIAN_LANG": "en"}, "en"),
        ({"ANTRIAN_LANG": "EN_us", "LANG": "id_ID.UTF-8"}, "en"),
        ({"ANTRIAN_LANG": "id", "LC_ALL": "en_US.UTF-8"}, "id"),
        ({"ANTRIAN_LANG": "fr", "LANG": "en_US.UTF-8"}, "en"),
        ({"ANTRIAN_LANG": "fr"}, "id"),
    ],
)
def test_the_command_lines_language_is_antrian_lang_then_the_locale_then_indonesian(environment, lang):
    assert default_lang(environment) == lang

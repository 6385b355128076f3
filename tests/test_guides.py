"""The office's guides (README, docs/panduan.md, docs/operasional-harian.md) stay true to the
program: an IT officer types their commands as printed, so every `antrian ...` line in their
shell blocks must be one the real command line accepts, and every link must lead somewhere.
A renamed option or a moved heading then fails here rather than on an office's PC."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from antrian.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
GUIDES = [ROOT / "README.md", ROOT / "docs" / "panduan.md", ROOT / "docs" / "operasional-harian.md"]
#: Guides checked for their links and the unit's name only.
MORE_GUIDES = [ROOT / "docs" / "pasang.md", ROOT / "docs" / "ambil-dari-hp.md"]
#: The steps a new office ticks off, as the guide's own list counts them.
NEW_OFFICE_STEPS = 12


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def antrian_commands(text: str) -> list[list[str]]:
    """Every `antrian` command in the shell blocks, as argv after `antrian`, without `sudo`
    and comments, continuation lines joined and `a && b` taken apart."""
    found: list[list[str]] = []
    for block in shell_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words[:1] == ["sudo"]:
                    words = words[3:] if words[1:2] == ["-u"] else words[1:]
                if words and words[0] == "antrian":
                    found.append(words[1:])
    return found


def heading_anchors(path: Path) -> set[str]:
    """The anchors a markdown viewer gives the headings (GitHub's rule)."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#+\s+(.*)$", line)
        if m and not line.startswith("#!"):
            title = re.sub(r"[`*_]", "", m.group(1).strip().lower())
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_antrian_command_in_the_guide_is_accepted_by_the_command_line(guide: Path) -> None:
    commands = antrian_commands(guide.read_text(encoding="utf-8"))
    assert commands, f"{guide.name}: no antrian command found"
    parser = build_parser()
    refused = []
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit:
            refused.append(" ".join(argv))
    assert refused == []


@pytest.mark.parametrize("guide", [*GUIDES, *MORE_GUIDES], ids=lambda p: p.name)
def test_every_link_of_the_guide_leads_to_a_file_and_heading_that_exist(guide: Path) -> None:
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", guide.read_text(encoding="utf-8")):
        if link.startswith(("http://", "https://")):
            continue
        target, _, anchor = link.partition("#")
        path = (guide.parent / target).resolve() if target else guide
        missing_heading = anchor and path.suffix == ".md" and anchor not in heading_anchors(path)
        if not path.exists() or missing_heading:
            broken.append(link)
    assert broken == []


def test_the_new_office_list_counts_its_steps_and_each_has_its_section() -> None:
    text = (ROOT / "docs" / "panduan.md").read_text(encoding="utf-8")
    listed = re.findall(r"^- \[ \] (\d+)\. \[[^\]]+\]\(#([^)]+)\)", text, flags=re.M)
    assert [int(n) for n, _ in listed] == list(range(1, NEW_OFFICE_STEPS + 1))
    sections = re.findall(r"^## (\d+)\. ", text, flags=re.M)
    assert [int(n) for n in sections] == list(range(1, NEW_OFFICE_STEPS + 1))
    anchors = heading_anchors(ROOT / "docs" / "panduan.md")
    assert [a for _, a in listed if a not in anchors] == []
    assert "Dua belas langkah" in text


def test_the_guides_name_the_installed_unit_never_the_old_one() -> None:
    """The unit `antrian install` writes is antrian-hub; `systemctl stop antrian` stops nothing."""
    old = re.compile(r"(systemctl \w+|journalctl -u) antrian(?![-\w])")
    for guide in [*GUIDES, *MORE_GUIDES]:
        assert old.findall(guide.read_text(encoding="utf-8")) == [], guide.name


def test_the_command_finder_reads_shell_blocks_as_an_officer_types_them() -> None:
    text = (
        "```sh\nsudo -u antrian antrian users add ani --role admin   # admin\n"
        "sudo antrian devices add pad-1 --role call_pad \\\n     --counter 1\n"
        "sudoedit x && sudo antrian config check x\ncd a && mpremote reset\n```\n"
    )
    assert antrian_commands(text) == [
        ["users", "add", "ani", "--role", "admin"],
        ["devices", "add", "pad-1", "--role", "call_pad", "--counter", "1"],
        ["config", "check", "x"],
    ]

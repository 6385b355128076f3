"""The import package `antrian` is the folder `hub/`: every sub-package is declared, nothing
imports the folder's own name, and the type checker sees the same tree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE_RUN = "-m " + "hub."  # running the folder name as a module (spelled to not match itself)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_sub_package_of_hub_is_declared():
    found = {"antrian"} | {
        "antrian." + ".".join(p.parent.relative_to(ROOT / "hub").parts)
        for p in (ROOT / "hub").rglob("__init__.py")
        if p.parent != ROOT / "hub"
    }
    assert set(PROJECT["tool"]["setuptools"]["packages"]) == found
    assert PROJECT["tool"]["setuptools"]["package-dir"] == {"antrian": "hub"}


def test_nothing_imports_the_folder_name():
    bad = []
    for path in [
        *(ROOT / "hub").rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "bench").glob("*.py"),
    ]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"\s*(from hub[ .]|import hub\b)", line) or MODULE_RUN in line:
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert bad == []


def test_the_type_checker_reads_the_same_folder():
    link = ROOT / "src" / "antrian"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "hub").resolve()

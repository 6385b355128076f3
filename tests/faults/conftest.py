"""The fault scenarios live in `bench/faults.py` (long runs, the table); tests run them short."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("antrian_bench_faults", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def faults() -> ModuleType:
    return _load()

"""Benchmark: what the ticket's QR code costs the kiosk route, per ticket.

    .venv/bin/python bench/bench_qr.py [--quick] [--before GIT-REF]

`POST /api/ticket` (the tablet kiosk) answers with the ticket's status link drawn as an inline
SVG QR code (`antrian.web.qr.svg`). Drawing it is pure Python work: wherever it runs (the event
loop, a thread holding the interpreter lock, or a worker process), it is time a ticket waits
for. This measures that work alone, for links shaped as the route makes them (the hub's LAN
address and a fresh 22-character token), and for a long one near the size limit.

`--before REF` also measures `hub/web/qr.py` as it was at an older commit (read with
`git show`, loaded from a temporary folder), so one run prints before and after side by side.
Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from antrian.web import qr  # noqa: E402

TOKEN_CHARS = string.ascii_letters + string.digits + "-_"


def links(n: int) -> list[str]:
    """Status links as the kiosk route builds them (token_urlsafe(16): 22 characters)."""
    rng = random.Random(10)
    return ["http://192.168.1.10:8080/t/" + "".join(rng.choices(TOKEN_CHARS, k=22)) for _ in range(n)]


def old_module(ref: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{ref}:hub/web/qr.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="qr-before-")) / "qr_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("qr_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(versions: list[tuple[str, Callable[[str], str]]], texts: list[str]) -> list[list[float]]:
    """Milliseconds per drawing, per version. The versions take turns on each text, so a busy
    moment of the machine falls on all of them alike."""
    for text in texts[:5]:
        for _, draw in versions:
            draw(text)  # warm-up
    times: list[list[float]] = [[] for _ in versions]
    for text in texts:
        for i, (_, draw) in enumerate(versions):
            t0 = time.perf_counter()
            out = draw(text)
            times[i].append((time.perf_counter() - t0) * 1000)
            assert out.startswith("<svg")
    return times


def summary(times: list[float]) -> tuple[str, str, str]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered):.2f} ms",
        f"p99 {p99:.2f} ms",
        f"mean {statistics.fmean(ordered):.2f} ms",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer tickets (a smoke run)")
    ap.add_argument("--before", metavar="GIT-REF", help="also measure hub/web/qr.py of this commit")
    args = ap.parse_args()
    n = 20 if args.quick else 300
    status = links(n)
    long = ["http://kantor.local:8080/t/" + "x" * 150] * max(5, n // 10)
    versions: list[tuple[str, Callable[[str], str]]] = []
    if args.before:
        versions.append((f"before ({args.before})", old_module(args.before).svg))
    versions.append(("now (segno)" if hasattr(qr, "segno") else "now", qr.svg))
    rows = []
    for what, texts in (("status link (49 chars)", status), ("long link (177 chars)", long)):
        for (label, _), times in zip(versions, measure(versions, texts), strict=True):
            rows.append((label, what, *summary(times)))
    print(f"QR code of one kiosk ticket (antrian.web.qr.svg), {n} tickets, one core:")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()

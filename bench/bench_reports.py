"""Benchmark: how long a month's report takes, for a busy office.

    .venv/bin/python bench/bench_reports.py [--quick] [--per-day N]

A month (November 2026: 21 working days) of N tickets a day (3,000 by default: a big city
office, far above a kecamatan's 50-300) is written to a real event log by the queue's own rules
(`tests.kit.office_month`: a counter for every 50 tickets a day, so the day is served), then
the report is made as the hub and `antrian report` make it: the figures read from the log day by day through a
read-only connection (`from_log`), and the PDF, XLSX and CSV of its tables. Each step is timed
three times (the median is printed) with the peak memory the figures take, and how late the
event loop's timers fire while the figures are computed in a thread, as the hub does.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from antrian.config import parse_config  # noqa: E402
from antrian.reports.extension import render  # noqa: E402
from antrian.reports.figures import from_log, parse_period  # noqa: E402
from antrian.store import EventStore  # noqa: E402
from tests.kit.office_month import write_month  # noqa: E402

MONTH = "2026-11"


def timed(fn, runs: int = 3):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


async def loop_lag(work) -> list[float]:
    """How late a 1 ms timer fires on the event loop while `work` runs in a thread (as the hub
    runs a report beside its MQTT requests): the delay a request would see, sorted, in ms."""
    lags: list[float] = []
    task = asyncio.ensure_future(asyncio.to_thread(work))
    while not task.done():
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append((time.perf_counter() - t0) * 1000 - 1)
    await task
    return sorted(lags)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a small month (a smoke run)")
    ap.add_argument("--per-day", type=int, default=3000)
    args = ap.parse_args()
    per_day = 200 if args.quick else args.per_day
    # one counter for every 50 tickets a day: about what keeps up with ~9-minute services
    counters = [
        {"number": n, "services": ["A", "B", "C", "D", "E"]} for n in range(1, max(3, per_day // 50) + 1)
    ]
    cfg = parse_config({"office": {"name": "Kantor Kecamatan Winongan"}, "counters": counters})
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "antrian.db")
        store = EventStore(db, synchronous="OFF")
        t0 = time.perf_counter()
        days, events = write_month(store, cfg, MONTH, per_day)
        store.close()
        print(
            f"month written: {days} days x {per_day} tickets/day, {events:,} events "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        period = parse_period("month", MONTH)
        seconds, report = timed(lambda: from_log(db, cfg, period))
        print(f"figures of the month from the log (read + compute): {seconds * 1000:.0f} ms")
        tracemalloc.start()
        from_log(db, cfg, period)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"figures' peak memory: {peak / 1e6:.1f} MB")
        for fmt in ("pdf", "xlsx", "csv"):
            seconds, body = timed(lambda fmt=fmt: render(report, cfg, fmt, "id"))
            print(f"{fmt} of the month: {seconds * 1000:.0f} ms, {len(body) / 1024:.0f} KB")
        lags = asyncio.run(loop_lag(lambda: from_log(db, cfg, period)))
        print(
            f"event loop while the hub computes it in a thread: lag p50 {lags[len(lags) // 2]:.1f} ms, "
            f"p99 {lags[int(len(lags) * 0.99)]:.1f} ms, max {lags[-1]:.1f} ms ({len(lags)} ticks)"
        )
        o = report.office
        print(
            f"(the month: {o.issued:,} issued, {o.served:,} served, wait mean {o.wait_mean:.1f} min, "
            f"p90 {o.wait_p90:.1f} min)"
        )


if __name__ == "__main__":
    main()

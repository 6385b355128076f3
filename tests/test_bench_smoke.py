"""The benchmark still runs and prints every figure (its numbers are not judged here)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_run_prints(script: str, rows: Iterable[str]) -> str:
    """Run `bench/<script> --quick`; it must succeed and print every one of `rows`. Its output."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in rows:
        assert row in proc.stdout, f"{row!r} missing from:\n{proc.stdout}"
    return proc.stdout


def test_hub_benchmark_runs_and_prints_every_figure():
    out = quick_run_prints(
        "bench_hub.py",
        (
            "raw broker QoS 1 round trip",
            "bare aiomqtt responder",
            "take_ticket steady 100/s",
            "take_ticket flat out",
            "call_next flat out",
            "hub resident memory",
            "rebuild with a year of history",
            "hub process start to `online`",
        ),
    )
    assert "x raw" in out  # every latency is compared with the raw round trip


def test_wait_estimate_benchmark_runs_and_prints_every_figure():
    quick_run_prints(
        "bench_eta.py",
        (
            "issue    classic",
            "issue    before",
            "issue    new",
            "re-read  new",
            "never called",
            "targets:",
            "full recompute",
            "a rush of",
        ),
    )


def test_notification_benchmark_runs_and_prints_every_figure():
    quick_run_prints(
        "bench_notify.py",
        (
            "hub: event commit -> file in gammu's outbox",
            "hub worker:",
            "bare SmsChannel.send loop:",
            "sms: send -> gammu-smsd's sent folder",
            "apprise: ten at a time",
        ),
    )


def test_report_benchmark_runs_and_prints_every_figure():
    quick_run_prints(
        "bench_reports.py",
        (
            "month written:",
            "figures of the month from the log",
            "figures' peak memory",
            "pdf of the month",
            "xlsx of the month",
            "csv of the month",
            "event loop while the hub computes it in a thread",
        ),
    )


def test_central_benchmark_runs_and_prints_every_figure():
    out = quick_run_prints(
        "bench_central.py",
        (
            "busy-morning rate:",
            "busy morning (",
            "morning rush 10x (",
            "flat out through the bridges:",
            "flat out straight onto the central broker",
            "caught up",
            "lag p99, busy morning",
            "ingest throughput, flat out",
            "catch-up,",
        ),
    )
    assert "x that" in out  # the bridged throughput is compared with the bare central broker


def test_phone_tickets_benchmark_runs_and_prints_every_figure():
    out = quick_run_prints(
        "bench_join.py",
        (
            "raw broker QoS 1 round trip",
            "bare aiomqtt responder",
            "HTTP kiosk page POST /api/ticket",
            "HTTP phone page POST /api/ambil",
            "MQTT take_ticket, kiosk device",
            "MQTT take_ticket, hub/request no actor",
            "MQTT take_ticket, hub/request phone:<n>",
            "no actor, queue growing: first 50 / last 50",
            "phone:<n>, queue growing: first 50 / last 50",
            "hub resident memory",
            "call_next, K=0",
            "call_next passing over K=10",
            "call_next passing over K=100",
            "call_next passing over K=500",
        ),
    )
    assert "x kiosk" in out  # the phone page is compared with the kiosk page
    assert "x no actor" in out  # a phone's take_ticket with the same request without an actor
    assert "x K=0" in out  # each pass-over with the call that passes over nothing

"""Voice fixtures: one real espeak-ng clip cache per run, a real hub HTTP server, WAV probes."""

from __future__ import annotations

import asyncio
import shutil
import wave
from array import array
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from antrian.net import free_port
from antrian.voice.cache import BuildReport, build_cache, default_engines, office_clip_texts

COUNTER_NAME = "loket pengambilan dokumen"

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@dataclass
class BuiltCache:
    root: Path
    report: BuildReport


@pytest.fixture(scope="session")
def built_cache(tmp_path_factory: pytest.TempPathFactory) -> BuiltCache:
    """The whole cache of a default office plus one counter name, built by espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    root = tmp_path_factory.mktemp("tts_cache")
    texts = office_clip_texts(counter_names=[COUNTER_NAME])
    report = build_cache(root, texts, default_engines(root, ["espeak-ng"]))
    return BuiltCache(root, report)


@pytest.fixture
def cache_copy(built_cache: BuiltCache, tmp_path: Path) -> Path:
    """A private copy of the built cache that a test may change."""
    dest = tmp_path / "tts_cache"
    shutil.copytree(built_cache.root, dest)
    return dest


def read_samples(path: Path) -> tuple[array[int], int]:
    """Samples and rate of a mono 16-bit WAV file, read with the `wave` module."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        samples = array("h")
        samples.frombytes(w.readframes(w.getnframes()))
        return samples, w.getframerate()


def silent_runs(samples: array[int], rate: int, min_ms: int = 60) -> list[float]:
    """Lengths (ms) of stretches of digital silence at least `min_ms` long."""
    runs: list[float] = []
    count = 0
    for s in [*samples, 1]:
        if s == 0:
            count += 1
            continue
        if count * 1000 / rate >= min_ms:
            runs.append(count * 1000 / rate)
        count = 0
    return runs


@dataclass
class Hub:
    url: str
    hits: Counter[str]


@asynccontextmanager
async def hub_server(cache_root: Path, **kwargs: object) -> AsyncIterator[Hub]:
    """The real `audio_routes` on a real aiohttp server on a free port, counting requests."""
    from antrian.voice.http import audio_routes

    hits: Counter[str] = Counter()

    @web.middleware
    async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
        hits[request.path] += 1
        return await handler(request)

    app = web.Application(middlewares=[count])
    app.add_routes(audio_routes(cache_root, **kwargs))  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield Hub(f"http://127.0.0.1:{port}", hits)
    finally:
        await runner.cleanup()


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` until true; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def out_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "played"
    d.mkdir()
    return d

"""HTTP routes the hub mounts: single clips for speaker nodes, joined calls for browsers.

- `GET /audio/clip/{clip_id}.wav`: one clip from the hub's cache. A speaker node that lacks a
  clip (a counter name added after it was set up) fetches it here once and keeps it.
- `GET /audio/call.wav?ticket=A-012&counter=3`: the whole announcement as one WAV, for the
  waiting-room page where there is no speaker node. `&clips=chime,pause.300,...` instead
  plays exactly the clip ids the hub sent in a `play` message.

Everything is rendered from the local cache: no internet, and a call is ready in milliseconds.

The routes are anonymous (a TV in the waiting room fetches them), so what one request may ask
for is bounded before anything is rendered: `MAX_CLIPS` clips, pauses of `MAX_PAUSE_MS` each,
`MAX_SECONDS` of audio in all (~2.6 MB of WAV). A real call, said four times, is well inside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from aiohttp import web

from antrian.announce import Wording, build
from antrian.contract import parse_ticket_code
from antrian.voice import audio
from antrian.voice.cache import ClipCache, valid_clip_id

#: Most clips a `clips=` query may list (a call said four times is ~50).
MAX_CLIPS: Final = 64
#: Longest `pause.<ms>` clip (the grammar uses 300 and 800 ms).
MAX_PAUSE_MS: Final = 2000
#: Longest announcement one request may make (a call said four times is ~25 s).
MAX_SECONDS: Final = 60


def _too_long(cache: ClipCache, clips: Sequence[str], gap_ms: int) -> str | None:
    """Why these clips make too much audio to render, or None. Pauses are checked by their
    id (nothing allocated); spoken clips by their length in the cache, plus a gap each."""
    total = 0.0
    for c in clips:
        ms = audio.pause_ms(c)
        if ms is not None and ms > MAX_PAUSE_MS:
            return f"{c[:40]}: a pause may last at most {MAX_PAUSE_MS} ms"
        total += ms / 1000 if ms is not None else cache.load(c).duration + gap_ms / 1000
    if total > MAX_SECONDS:
        return f"the announcement would last {total:.0f} s, at most {MAX_SECONDS} s"
    return None


def audio_routes(
    cache_dir: Path,
    wording: Wording = Wording(),  # noqa: B008 - frozen dataclass
    counter_names: Mapping[int, str] | Callable[[], Mapping[int, str]] | None = None,
    gap_ms: int = audio.DEFAULT_GAP_MS,
) -> web.RouteTableDef:
    """The audio routes over the cache in `cache_dir`, ready for `app.add_routes(...)`.

    `counter_names` maps a counter number to its spoken name ("loket pengambilan dokumen");
    pass a callable to follow configuration changes without remounting.
    """
    cache = ClipCache(cache_dir)
    routes = web.RouteTableDef()

    def names() -> Mapping[int, str]:
        if callable(counter_names):
            return counter_names()
        return counter_names or {}

    @routes.get("/audio/clip/{clip_id}.wav")
    async def clip(request: web.Request) -> web.StreamResponse:
        clip_id = request.match_info["clip_id"]
        if not valid_clip_id(clip_id):
            raise web.HTTPBadRequest(text="invalid clip id")
        path = cache.path(clip_id)
        if not path.is_file():
            raise web.HTTPNotFound(text=f"no clip {clip_id} in the cache")
        return web.FileResponse(path, headers={"Content-Type": "audio/wav"})

    @routes.get("/audio/call.wav")
    async def call(request: web.Request) -> web.Response:
        query = request.rel_url.query
        if "clips" in query:
            clips = [c for c in query["clips"].split(",") if c]
            if not clips or len(clips) > MAX_CLIPS:
                raise web.HTTPBadRequest(text=f"clips: 1..{MAX_CLIPS} clip ids")
        else:
            parsed = parse_ticket_code(query.get("ticket", ""))
            try:
                counter = int(query.get("counter", ""))
            except ValueError:
                counter = -1
            if parsed is None or not 1 <= counter <= 999:
                raise web.HTTPBadRequest(text="need ticket=A-012 and counter=1..999, or clips=")
            letter, number = parsed
            clips = list(
                build(letter, number, counter, counter_name=names().get(counter), wording=wording).clips
            )
        bad = [c for c in clips if not cache.has(c)]
        if bad:
            raise web.HTTPNotFound(text=f"clips not in the cache: {', '.join(bad[:5])[:200]}")
        refusal = _too_long(cache, clips, gap_ms)
        if refusal is not None:
            raise web.HTTPBadRequest(text=refusal)
        pcm, _ = cache.render(clips, gap_ms)
        return web.Response(
            body=audio.wav_bytes(pcm),
            content_type="audio/wav",
            headers={"Cache-Control": "no-store"},
        )

    return routes

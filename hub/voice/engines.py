"""Where a clip's sound comes from, best first: the office's own voice pack, gTTS, espeak-ng.

Each engine turns (clip id, words) into raw WAV bytes. It also names itself precisely
(`identity`), because the cache manifest keys every clip on its text *and* the exact engine and
voice that spoke it: a rebuild then redoes only what changed, and a clip made offline by
espeak-ng is upgraded once gTTS becomes reachable.

Two kinds of failure: `EngineUnavailable` (no internet, binary missing) means the engine is
useless for this whole build, so the builder says so once and moves to the next engine;
`EngineError` is about one clip only.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final, Protocol

from antrian.voice.audio import chime, wav_bytes

#: Where Debian's mbrola voices live; `mb-id1` needs `id1` there.
MBROLA_DIR: Final = Path("/usr/share/mbrola")


class EngineError(RuntimeError):
    """This engine could not make this one clip."""


class EngineUnavailable(EngineError):
    """This engine cannot make any clip right now (offline, not installed)."""


class Engine(Protocol):
    """A voice source. `identity` changes whenever its output for the same text would."""

    name: str

    def identity(self, clip_id: str) -> str: ...

    def has(self, clip_id: str) -> bool: ...

    def render(self, clip_id: str, text: str) -> bytes: ...


class VoicePackEngine:
    """Recordings an office drops into a folder: `<clip id>.wav`, e.g. `number.dua.wav`.

    A person's voice beats any synthesiser, so this engine comes first; it only offers the
    clips it has a file for, and its identity is the file's hash, so re-recording one word
    rebuilds that word only.
    """

    name = "voice_pack"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, clip_id: str) -> Path:
        return self.folder / f"{clip_id}.wav"

    def has(self, clip_id: str) -> bool:
        return self._path(clip_id).is_file()

    def identity(self, clip_id: str) -> str:
        digest = hashlib.sha256(self._path(clip_id).read_bytes()).hexdigest()[:16]
        return f"voice_pack:{digest}"

    def render(self, clip_id: str, text: str) -> bytes:
        del text  # the recording is the text
        try:
            return self._path(clip_id).read_bytes()
        except OSError as exc:
            raise EngineError(f"cannot read {self._path(clip_id).name}: {exc}") from None


class ChimeEngine:
    """The built-in chime: a synthesised ding-dong, used where no voice pack has one."""

    name = "chime"

    def has(self, clip_id: str) -> bool:
        return clip_id == "chime"

    def identity(self, clip_id: str) -> str:
        del clip_id
        return "chime:v1"

    def render(self, clip_id: str, text: str) -> bytes:
        del clip_id, text
        return wav_bytes(chime())


def _spoken(clip_id: str) -> bool:
    """Clips a synthesiser should speak: not the chime, not a pause."""
    return clip_id != "chime" and not clip_id.startswith("pause.")


def _mp3_to_wav(mp3: bytes) -> bytes:
    """Decode gTTS's MP3 with sox (Debian needs `libsox-fmt-mp3`) or ffmpeg."""
    if shutil.which("sox"):
        cmd = ["sox", "-t", "mp3", "-", "-t", "wav", "-b", "16", "-c", "1", "-"]
    elif shutil.which("ffmpeg"):
        cmd = ["ffmpeg", "-loglevel", "error", "-i", "-", "-f", "wav", "-ac", "1", "-"]
    else:
        raise EngineUnavailable("no MP3 decoder: install sox with libsox-fmt-mp3, or ffmpeg")
    proc = subprocess.run(cmd, input=mp3, capture_output=True, check=False, timeout=30)  # noqa: S603
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode(errors="replace").strip()[-200:]
        raise EngineUnavailable(f"cannot decode MP3 ({err}); install libsox-fmt-mp3 or ffmpeg")
    return proc.stdout


class GttsEngine:
    """Google Translate's voice via gTTS, `lang="id"`: the most natural, but online only.

    Used once, at build time, while the office has internet; the cache keeps the result so a
    call never waits on the network. `tld` picks the Google domain (`co.id` is the
    Indonesian one).
    """

    name = "gtts"

    def __init__(self, lang: str = "id", tld: str = "co.id", timeout: float = 10.0) -> None:
        self.lang = lang
        self.tld = tld
        self.timeout = timeout

    def has(self, clip_id: str) -> bool:
        return _spoken(clip_id)

    def identity(self, clip_id: str) -> str:
        del clip_id
        return f"gtts:{self.lang}"

    def render(self, clip_id: str, text: str) -> bytes:
        del clip_id
        try:
            from gtts import gTTS
            from gtts.tts import gTTSError
        except ImportError:  # optional (`[tts]`): espeak-ng and voice packs need no package
            raise EngineUnavailable("gTTS is not installed (pip install 'antrian[tts]')") from None
        buf = io.BytesIO()
        try:
            gTTS(text, lang=self.lang, tld=self.tld, timeout=self.timeout).write_to_fp(buf)
        except gTTSError as exc:
            raise EngineUnavailable(f"gTTS failed: {str(exc).splitlines()[0][:160]}") from None
        except (OSError, ValueError) as exc:
            raise EngineUnavailable(f"gTTS failed: {exc}") from None
        return _mp3_to_wav(buf.getvalue())


def default_espeak_voice() -> str:
    """`mb-id1` (mbrola, clearer) where Debian's mbrola-id1 is installed, else `id`."""
    return "mb-id1" if (MBROLA_DIR / "id1").exists() else "id"


class EspeakEngine:
    """espeak-ng: offline, robotic, always there. The fallback that makes calls never fail."""

    name = "espeak-ng"

    def __init__(self, voice: str | None = None, speed: int = 150) -> None:
        self.binary = shutil.which("espeak-ng")
        self.voice = voice or default_espeak_voice()
        self.speed = speed
        self._version: str | None = None

    def _check(self) -> str:
        if self.binary is None:
            raise EngineUnavailable("espeak-ng is not installed (apt-get install espeak-ng)")
        return self.binary

    def has(self, clip_id: str) -> bool:
        return _spoken(clip_id)

    def identity(self, clip_id: str) -> str:
        del clip_id
        if self._version is None:
            out = ""
            if self.binary:
                proc = subprocess.run(  # noqa: S603 - fixed argv
                    [self.binary, "--version"], capture_output=True, check=False, text=True
                )
                out = proc.stdout.split("Data")[0].split(":")[-1].strip()
            self._version = out or "unknown"
        return f"espeak-ng:{self._version}:{self.voice}:{self.speed}"

    def render(self, clip_id: str, text: str) -> bytes:
        del clip_id
        binary = self._check()
        # `-w` and not `--stdout`: espeak-ng writes a bogus WAV length to a pipe.
        with tempfile.TemporaryDirectory(prefix="antrian-espeak-") as tmp:
            out = Path(tmp) / "clip.wav"
            proc = subprocess.run(  # noqa: S603 - fixed argv, text is one argument
                [binary, "-v", self.voice, "-s", str(self.speed), "-w", str(out), "--", text],
                capture_output=True,
                check=False,
                timeout=30,
            )
            if proc.returncode != 0 or not out.exists():
                err = proc.stderr.decode(errors="replace").strip()[:200]
                if "voice" in err.lower() or "mbrola" in err.lower():
                    raise EngineUnavailable(f"espeak-ng voice {self.voice!r} failed: {err}")
                raise EngineError(f"espeak-ng failed: {err}")
            return out.read_bytes()


ENGINE_NAMES: Final = ("voice_pack", "gtts", "espeak-ng")

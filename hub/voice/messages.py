"""What the voice commands tell people, in Bahasa Indonesia (default) and English.

Kecamatan staff read these; the officer who set up the machine may prefer English. Pick with
`--lang en` or `ANTRIAN_LANG=en`. Log lines for developers stay in English.
"""

from __future__ import annotations

import os
from typing import Final

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "id": {
        "engine_unavailable": "Mesin suara {engine} tidak dapat dipakai ({reason}). "
        "Klip dibuat dengan mesin berikutnya: {fallback}.",
        "clip_failed": "Klip {clip} gagal dibuat dengan {engine}: {reason}",
        "clip_missing": "Klip {clip} tidak dapat dibuat dengan mesin mana pun.",
        "build_done": "Cache suara siap di {root}: {total} klip, {built} dibuat ulang, "
        "{reused} tidak berubah, {removed} dihapus, {failed} gagal ({seconds:.1f} detik).",
        "engines_used": "Sumber suara: {summary}.",
        "none": "tidak ada",
        "say_done": "Pengumuman ditulis ke {path} ({seconds:.1f} detik audio).",
        "speaker_start": "Speaker {speaker} terhubung ke broker {host}:{port}, menunggu panggilan.",
        "speaker_expired": "Pengumuman {call} sudah kedaluwarsa, tidak diputar.",
    },
    "en": {
        "engine_unavailable": "Voice engine {engine} is unavailable ({reason}). "
        "Clips are made with the next engine: {fallback}.",
        "clip_failed": "Clip {clip} failed with {engine}: {reason}",
        "clip_missing": "Clip {clip} could not be made by any engine.",
        "build_done": "Voice cache ready in {root}: {total} clips, {built} rebuilt, "
        "{reused} unchanged, {removed} removed, {failed} failed ({seconds:.1f} s).",
        "engines_used": "Voice sources: {summary}.",
        "none": "none",
        "say_done": "Announcement written to {path} ({seconds:.1f} s of audio).",
        "speaker_start": "Speaker {speaker} connected to broker {host}:{port}, waiting for calls.",
        "speaker_expired": "Announcement {call} has expired and is not played.",
    },
}


def default_lang() -> str:
    """`ANTRIAN_LANG` if it names a known language, else Indonesian."""
    lang = os.environ.get("ANTRIAN_LANG", "id").lower()[:2]
    return lang if lang in MESSAGES else "id"


def t(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang` (falls back to Indonesian), filled with `values`."""
    table = MESSAGES.get(lang, MESSAGES["id"])
    return table.get(key, MESSAGES["id"][key]).format(**values)

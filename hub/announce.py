"""What the waiting room hears: the Indonesian calling grammar as text and as ordered clip ids.

    announcement := chime, pause 300 ms, call, { pause 800 ms, call }   (call repeated R times)
    call         := "Nomor antrean", letter, number, ", silakan menuju", destination
    destination  := "loket", words(k)   or a configured name ("loket pengambilan dokumen")

Calls are built from a small set of short clips (the 18 number words, the letters, a few
phrases) so that a speaker can play any call from its local cache, offline and at once. This
module only decides *which* clips in *which* order; the audio lives in `tts_cache/`.

Clip ids are stable file stems: `chime`, `phrase.nomor_antrean`, `letter.a`, `number.dua`,
`name.<slug>` and pauses `pause.300` / `pause.800` (silence, not files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

_UNITS: Final = (
    "nol",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
)

#: Every word `number_words` can produce for 0..9999: the clips a cache needs for numbers.
NUMBER_WORDS: Final = (
    *_UNITS,
    "sepuluh",
    "sebelas",
    "belas",
    "puluh",
    "seratus",
    "ratus",
    "seribu",
    "ribu",
)

LETTER_NAMES: Final = {
    "A": "a",
    "B": "be",
    "C": "ce",
    "D": "de",
    "E": "e",
    "F": "ef",
    "G": "ge",
    "H": "ha",
    "I": "i",
    "J": "je",
    "K": "ka",
    "L": "el",
    "M": "em",
    "N": "en",
    "O": "o",
    "P": "pe",
    "Q": "ki",
    "R": "er",
    "S": "es",
    "T": "te",
    "U": "u",
    "V": "ve",
    "W": "we",
    "X": "eks",
    "Y": "ye",
    "Z": "zet",
}

CHIME: Final = "chime"
PAUSE_AFTER_CHIME: Final = "pause.300"
PAUSE_BETWEEN_CALLS: Final = "pause.800"


def number_words(n: int) -> list[str]:
    """Indonesian words for 0..9999 (KBBI): 12 -> dua belas, 1001 -> seribu satu.

    The range is every ticket number the hub can issue (`MAX_TICKET_NUMBER`) and every counter.
    """
    if not 0 <= n <= 9999:
        raise ValueError(f"number out of range 0..9999: {n}")
    if n < 10:
        return [_UNITS[n]]
    words: list[str] = []
    thousands, n = divmod(n, 1000)
    if thousands == 1:
        words.append("seribu")
    elif thousands > 1:
        words += [_UNITS[thousands], "ribu"]
    if n == 0:
        return words
    if n < 10:
        return [*words, _UNITS[n]]
    hundreds, rest = divmod(n, 100)
    if hundreds == 1:
        words.append("seratus")
    elif hundreds > 1:
        words += [_UNITS[hundreds], "ratus"]
    tens, units = divmod(rest, 10)
    if tens == 1:
        words += ["sepuluh"] if units == 0 else ["sebelas"] if units == 1 else [_UNITS[units], "belas"]
    else:
        if tens > 1:
            words += [_UNITS[tens], "puluh"]
        if units:
            words.append(_UNITS[units])
    return words


def digit_words(n: int, width: int = 3) -> list[str]:
    """Digit mode: 12 -> nol satu dua."""
    return [_UNITS[int(d)] for d in f"{n:0{width}d}"]


def slug(text: str) -> str:
    """A clip-id-safe form of a phrase: lower case, words joined by `_`."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Wording:
    """The configurable words of a call. Defaults are the KBBI forms."""

    prefix: str = "Nomor antrean"
    direction: str = "silakan menuju"
    counter_word: str = "loket"
    repeat: int = 2
    digit_mode: bool = False


@dataclass(frozen=True)
class Announcement:
    """One call as the speaker receives it: the spoken text and the ordered clip ids."""

    text: str
    clips: tuple[str, ...]


def destination(counter: int, name: str | None, wording: Wording) -> tuple[str, list[str]]:
    """Text and clips of where to go: "loket tiga", or a configured name."""
    if name:
        return name, [f"name.{slug(name)}"]
    words = number_words(counter)
    return (
        f"{wording.counter_word} {' '.join(words)}",
        [f"phrase.{slug(wording.counter_word)}", *(f"number.{w}" for w in words)],
    )


def build(
    letter: str,
    number: int,
    counter: int,
    *,
    counter_name: str | None = None,
    wording: Wording = Wording(),
) -> Announcement:
    """The announcement for ticket `letter`-`number` called to `counter`.

    `counter_name` is the spoken destination where the office configured one
    ("loket pengambilan dokumen"); otherwise "loket" and the counter's number in words.
    """
    words = digit_words(number) if wording.digit_mode else number_words(number)
    dest_text, dest_clips = destination(counter, counter_name, wording)
    call_text = f"{wording.prefix} {letter} {' '.join(words)}, {wording.direction} {dest_text}"
    call_clips = [
        f"phrase.{slug(wording.prefix)}",
        f"letter.{letter.lower()}",
        *(f"number.{w}" for w in words),
        f"phrase.{slug(wording.direction)}",
        *dest_clips,
    ]
    clips: list[str] = [CHIME, PAUSE_AFTER_CHIME]
    for i in range(max(1, wording.repeat)):
        if i:
            clips.append(PAUSE_BETWEEN_CALLS)
        clips += call_clips
    return Announcement(text=call_text[0].upper() + call_text[1:], clips=tuple(clips))


def clip_texts(wording: Wording, counter_names: list[str]) -> dict[str, str]:
    """Every clip an office can need, id -> the words to say. Used to fill the cache."""
    texts: dict[str, str] = {
        f"phrase.{slug(wording.prefix)}": wording.prefix,
        f"phrase.{slug(wording.direction)}": wording.direction,
        f"phrase.{slug(wording.counter_word)}": wording.counter_word,
    }
    texts.update({f"letter.{k.lower()}": v for k, v in LETTER_NAMES.items()})
    texts.update({f"number.{w}": w for w in NUMBER_WORDS})
    texts.update({f"name.{slug(n)}": n for n in counter_names if n})
    return texts


def split(clips: Sequence[str]) -> tuple[bool, list[tuple[str, ...]]]:
    """An announcement's clips -> (whether it opens with the chime, each repetition of the call).

    What a speaker may shorten without knowing the words: the chime and the repetitions are
    the grammar's own frame (`build`), so a backlog can be said once each, without a chime,
    and stay a well-formed call. Clips that do not follow the grammar come back as one part.
    """
    rest = list(clips)
    chime = bool(rest) and rest[0] == CHIME
    if chime:
        rest = rest[2:] if rest[1:2] == [PAUSE_AFTER_CHIME] else rest[1:]
    parts: list[tuple[str, ...]] = []
    current: list[str] = []
    for clip in rest:
        if clip == PAUSE_BETWEEN_CALLS:
            parts.append(tuple(current))
            current = []
        else:
            current.append(clip)
    parts.append(tuple(current))
    if len(set(parts)) != 1 or not parts[0]:
        return chime, [tuple(rest)] if rest else []
    return chime, parts


def joined(calls: Sequence[Sequence[str]], *, chime: bool) -> tuple[str, ...]:
    """Several calls as one announcement: `chime` first if asked, the calls apart by the pause
    the grammar puts between repetitions ("A-012 loket satu; B-003 loket dua")."""
    clips: list[str] = [CHIME, PAUSE_AFTER_CHIME] if chime else []
    for i, call in enumerate(calls):
        if i:
            clips.append(PAUSE_BETWEEN_CALLS)
        clips += call
    return tuple(clips)

"""How many SMS a message costs: GSM 7-bit when every character allows it, UCS-2 otherwise.

An operator bills each part of a long SMS, and one character outside the GSM 03.38 alphabet
(a curly quote pasted from a word processor, an emoji, a name in Arabic script) turns the whole
message into UCS-2, where a part holds 70 characters instead of 160. The office's message
templates are written to stay in one GSM 7-bit part; `sms_parts` is what the admin page, the
configuration check and the tests use to hold them to it. gammu-smsd decides the same way when
it sends (`transmitformat = auto`: 7-bit if the text survives the round trip through the GSM
alphabet, else UCS-2), and a test checks that the two agree.

Rules (3GPP TS 23.038 and 23.040):
- GSM 7-bit: 160 septets in one SMS; a multipart message carries a 6-byte header, leaving 153
  septets a part. Characters of the extension table (``^ { } \\ [ ~ ] | €`` and form feed) take
  two septets (escape + character) and are never split across parts.
- UCS-2: 70 UTF-16 code units in one SMS, 67 a part when split; a character outside the Basic
  Multilingual Plane (most emoji) takes two units and is never split.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

#: The GSM 03.38 default alphabet (one septet each), without the escape code 0x1B.
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: escape + character, two septets each.
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7: Final = 160
PART_GSM7: Final = 153
SINGLE_UCS2: Final = 70
PART_UCS2: Final = 67


class SmsParts(NamedTuple):
    """The encoding a message goes out in and how many SMS it takes (0 for an empty text)."""

    encoding: Literal["gsm7", "ucs2"]
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` has a place in the GSM 7-bit alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(units: list[int], single: int, part: int) -> int:
    """Parts needed for characters of the given widths: one if all fit, else greedy parts that
    never split a character."""
    if sum(units) <= single:
        return 1 if units else 0
    parts, used = 1, 0
    for width in units:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return parts


def sms_parts(text: str) -> SmsParts:
    """The encoding and the number of SMS `text` is sent as (see the module's rules)."""
    if is_gsm7(text):
        return SmsParts(
            "gsm7", _pack([2 if ch in GSM7_EXTENSION else 1 for ch in text], SINGLE_GSM7, PART_GSM7)
        )
    widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SmsParts("ucs2", _pack(widths, SINGLE_UCS2, PART_UCS2))

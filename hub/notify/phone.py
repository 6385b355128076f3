"""A citizen's phone number: checked, written one way (E.164) and never shown whole.

Only Indonesian mobile numbers are taken: an SMS or a WhatsApp message reaches nothing else,
and a number the office cannot reach is better refused at the kiosk than lost at the call.
People write them as `0812-3456-7890`, `+62 812 3456 7890`, `62812...` or `812...`; all
become E.164, `+6281234567890` (`+62`, then 9 to 12 digits starting with 8).
"""

from __future__ import annotations

import re
from typing import Final

#: What may be typed around the digits: spaces, dots, dashes, brackets.
_SEPARATORS: Final = re.compile(r"[\s.\-()/]")
#: An Indonesian mobile number after the country code: 8, then 8 to 11 digits (operators'
#: numbers are 10 to 13 digits written with the leading 0).
_MOBILE: Final = re.compile(r"8[1-9][0-9]{7,10}")
#: More than this many characters is not a phone number, whatever it holds.
MAX_INPUT: Final = 32


class PhoneError(ValueError):
    """Not a number the office can send to; `key` is the catalogue message to show."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def normalise(raw: str) -> str:
    """The E.164 form (`+628...`) of an Indonesian mobile number, or PhoneError."""
    if not isinstance(raw, str) or not raw.strip():
        raise PhoneError("phone_missing")
    if len(raw) > MAX_INPUT:
        raise PhoneError("phone_invalid")
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("62"):
            raise PhoneError("phone_not_indonesian")
    if not digits.isdecimal() or not digits.isascii():
        raise PhoneError("phone_invalid")
    if digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    if not _MOBILE.fullmatch(national):
        # a landline (021 ...) cannot take an SMS: say so rather than "invalid"
        landline = not national.startswith("8") and 8 <= len(national) <= 11
        raise PhoneError("phone_not_mobile" if landline else "phone_invalid")
    return "+62" + national


def mask(e164: str) -> str:
    """What logs and the admin page may show: `+62812****7890` (operator prefix and last four)."""
    if len(e164) < 10:
        return "+62****"
    return e164[:6] + "*" * (len(e164) - 10) + e164[-4:]

"""Decode the ESC/POS byte stream a kiosk sent to its printer, for assertions.

Understands the commands the firmware uses (and fails loudly on anything else, so a
firmware change that emits an unknown command shows up in the tests): ESC @, ESC a, ESC E,
GS !, ESC d, LF, GS ( k (QR), GS V (cut), DLE EOT (status query).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Line:
    text: str
    width: int = 1  # character width multiplier (GS !)
    height: int = 1
    bold: bool = False
    align: int = 0


@dataclass
class Ticket:
    """One job: from ESC @ to its cut."""

    lines: list[Line] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    qr_printed: int = 0
    cut: bool = False

    def texts(self) -> list[str]:
        return [ln.text for ln in self.lines]

    def find(self, text: str) -> Line:
        for ln in self.lines:
            if ln.text == text:
                return ln
        raise AssertionError(f"{text!r} not printed; lines: {self.texts()}")


class DecodeError(ValueError):
    pass


def decode(stream: bytes) -> list[Ticket]:
    """Split a printer stream into tickets (each ended by a cut)."""
    tickets: list[Ticket] = []
    cur = Ticket()
    width = height = 1
    bold = False
    align = 0
    text = bytearray()
    qr_data: bytes | None = None
    i = 0
    n = len(stream)
    while i < n:
        b = stream[i]
        if b == 0x0A:
            cur.lines.append(Line(text.decode("ascii"), width, height, bold, align))
            text.clear()
            i += 1
        elif b == 0x1B:
            cmd = stream[i + 1]
            if cmd == 0x40:  # ESC @
                width = height = 1
                bold = False
                align = 0
                i += 2
            elif cmd == 0x61:
                align = stream[i + 2]
                i += 3
            elif cmd == 0x45:
                bold = bool(stream[i + 2])
                i += 3
            elif cmd == 0x64:
                i += 3
            else:
                raise DecodeError(f"unknown ESC {cmd:#x} at {i}")
        elif b == 0x1D:
            cmd = stream[i + 1]
            if cmd == 0x21:  # GS ! n
                v = stream[i + 2]
                width, height = (v >> 4) + 1, (v & 0x0F) + 1
                i += 3
            elif cmd == 0x28 and stream[i + 2] == 0x6B:  # GS ( k pL pH cn fn ...
                plen = stream[i + 3] | stream[i + 4] << 8
                body = stream[i + 5 : i + 5 + plen]
                if body[0] != 0x31:
                    raise DecodeError("GS ( k: not a QR function")
                fn = body[1]
                if fn == 0x50:
                    qr_data = bytes(body[3:])
                elif fn == 0x51:
                    if qr_data is None:
                        raise DecodeError("QR print without stored data")
                    cur.qr.append(qr_data.decode())
                    cur.qr_printed += 1
                i += 5 + plen
            elif cmd == 0x56:  # GS V m [n]
                m = stream[i + 2]
                i += 4 if m in (65, 66) else 3
                cur.cut = True
                tickets.append(cur)
                cur = Ticket()
            else:
                raise DecodeError(f"unknown GS {cmd:#x} at {i}")
        elif b == 0x10 and stream[i + 1] == 0x04:
            i += 3
        elif 0x20 <= b < 0x7F:
            text.append(b)
            i += 1
        else:
            raise DecodeError(f"unexpected byte {b:#x} at {i}")
    if cur.lines or cur.qr:
        tickets.append(cur)
    return tickets

"""The ticket's QR code (its status link) as an inline SVG, encoded by segno.

Why inline SVG: the kiosk page runs on an office LAN with no internet (no CDN script), and the
code arrives inside the ticket's JSON answer, so it needs no image route and no second request.
Why these settings: a regular QR code (phones' camera apps do not read Micro QR) at error
correction level M or better (segno raises the level when the same size allows, which helps
with a smudged tablet screen), with the standard quiet zone of 4 modules on a white square so
it scans whatever the page's colours.
"""

from __future__ import annotations

import re
from typing import Final

import segno

#: Largest symbol drawn: version 10 (57 x 57 modules) holds 213 bytes at level M, several times
#: a status link (~60 bytes). Beyond it the modules get too small for the 200 px kiosk card.
MAX_VERSION: Final = 10
_PATH: Final = re.compile(r"<path [^>]*/>")


def code(text: str) -> segno.QRCode:
    """The QR symbol of `text`; ValueError when it would be larger than `MAX_VERSION`."""
    try:
        symbol = segno.make_qr(text, error="m")
    except segno.DataOverflowError as exc:
        raise ValueError(f"text too long for a QR code ({len(text)} characters)") from exc
    if int(symbol.version) > MAX_VERSION:
        raise ValueError(f"text too long for a QR code ({len(text)} characters, version {symbol.version})")
    return symbol


def svg(text: str, *, border: int = 4) -> str:
    """The QR code of `text` as an inline SVG: black on a white square, one path for the dark
    modules, sized by its container (a viewBox, no width or height)."""
    symbol = code(text)
    n = symbol.symbol_size(border=border)[0]
    drawn = symbol.svg_inline(border=border, omitsize=True, svgclass=None, lineclass=None)
    path = _PATH.search(drawn)
    if path is None:  # segno always draws the dark modules as one path
        raise RuntimeError("segno drew no path")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '
        f'shape-rendering="crispEdges" role="img" aria-label="QR">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>{path.group(0)}</svg>'
    )

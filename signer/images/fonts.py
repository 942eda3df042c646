"""The bundled font: glyph metrics for layout, outlines for SVG, Pillow fonts for PNG."""

from __future__ import annotations

import functools
import io
import threading
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

#: Bundled subset of Noto Sans CJK SC (OFL 1.1, see ``signer/fonts/OFL.txt``).
FONT_PATH = Path(__file__).parent.parent / "fonts" / "LiangBadgeSansSC-Regular.otf"


def font_covers(text: str) -> bool:
    """Tell whether the bundled font has a glyph for every character of ``text``."""
    cmap = font_metrics().cmap
    return all(ord(char) in cmap for char in text)


@dataclass(frozen=True)
class _Metrics:
    """What layout needs from the font, as plain dicts (safe to share between threads)."""

    cmap: dict[int, str]
    advances: dict[str, int]
    units_per_em: int


def _load_font() -> TTFont:
    """Load the bundled font with every table decompiled up front."""
    # Read into memory so no file handle stays open for the process lifetime.
    font = TTFont(io.BytesIO(FONT_PATH.read_bytes()))
    # fontTools decompiles tables lazily on first access, and that is not thread-safe: two
    # threads touching a fresh font's ``hmtx`` at once saw a half-built table (KeyError, a 500
    # on a fresh worker's first concurrent renders). Nothing is left to decompile later.
    font.ensureDecompiled()
    return font


@functools.cache
def font_metrics() -> _Metrics:
    """Return the bundled font's cmap, advances and units per em (built once, then read-only)."""
    font = _load_font()
    return _Metrics(cmap=dict(font.getBestCmap()),
                    advances={name: int(adv) for name, (adv, _lsb) in font["hmtx"].metrics.items()},
                    units_per_em=int(font["head"].unitsPerEm))


_local = threading.local()


def thread_font() -> TTFont:
    """Return this thread's own font object (glyph outlines are drawn from it, never shared)."""
    font: TTFont | None = getattr(_local, "font", None)
    if font is None:
        font = _local.font = _load_font()
    return font


def glyph_name(char: str) -> str:
    """Map a character to a glyph, falling back to the .notdef box when missing."""
    return font_metrics().cmap.get(ord(char), ".notdef")


def advance(text: str, size: float) -> float:
    """Return the width of ``text`` at ``size`` in design units (no kerning)."""
    metrics = font_metrics()
    cmap, advances = metrics.cmap, metrics.advances
    units = sum(advances[cmap.get(ord(ch), ".notdef")] for ch in text)
    return units * size / metrics.units_per_em


def pil_font(px: int) -> ImageFont.FreeTypeFont:
    """Return this thread's Pillow font at a pixel size (basic layout: no raqm variance)."""
    fonts: dict[int, ImageFont.FreeTypeFont] | None = getattr(_local, "pil_fonts", None)
    if fonts is None:
        fonts = _local.pil_fonts = {}
    font = fonts.get(px)
    if font is None:
        font = fonts[px] = ImageFont.truetype(str(FONT_PATH), px, layout_engine=ImageFont.Layout.BASIC)
    return font

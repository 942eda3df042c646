"""Text coverage masks from kept glyphs: each glyph rasterised once per size, then placed.

FreeType's rasterising was most of the cost of drawing a badge's static layer (three text
runs, about 0.4 ms for ``m``), and the same few thousand characters come back on every badge.
A run is put together here from glyph masks kept per (pixel size, character, fraction of the
start position), each placed at its pen position and blended as Pillow draws a bitmap. The
bundled font has no kerning table and its hinted advances are whole pixels, so the pen moves
as it does in Pillow's basic layout; tests compare the result with Pillow drawing the whole
string.
"""

from __future__ import annotations

import functools
import math

from PIL import Image, ImageDraw

from signer.images.fonts import pil_font

Glyph = tuple[int, int, Image.Image | None, float]  # x and y from the pen's whole pixel, mask, advance
Box = tuple[int, int, int, int]


@functools.lru_cache(maxsize=8192)
def glyph(px: int, char: str, fx: float, fy: float) -> Glyph:
    """Return one glyph at ``px`` pixels with the pen at a whole pixel plus (``fx``, ``fy``)."""
    font = pil_font(px)
    side = 4 * px + 4
    origin_x, origin_y = px + 2, 2 * px + 2  # room for any bearing, ascent and descent
    scratch = Image.new("L", (side, side), 0)
    ImageDraw.Draw(scratch).text((origin_x + fx, origin_y + fy), char, font=font, fill=255, anchor="ls")
    box = scratch.getbbox()
    advance = font.getlength(char)
    if box is None:  # a space
        return 0, 0, None, advance
    return box[0] - origin_x, box[1] - origin_y, scratch.crop(box), advance


def run_layout(text: str, px: int, x: float, y: float) -> tuple[list[tuple[int, int, Image.Image]], Box | None]:
    """Return where each glyph of ``text`` goes (baseline start at ``x``, ``y``) and the run's ink box.

    ``None`` when the pen would not stay at the same fraction of a pixel (an advance that is not
    a whole pixel): the caller then draws the string with Pillow.
    """
    fx, ix = math.modf(x)
    fy, iy = math.modf(y)
    pen = 0.0
    placed: list[tuple[int, int, Image.Image]] = []
    left = top = math.inf
    right = bottom = -math.inf
    for char in text:
        dx, dy, mask, advance = glyph(px, char, fx, fy)
        if mask is not None:
            gx, gy = int(ix + pen) + dx, int(iy) + dy
            placed.append((gx, gy, mask))
            left, top = min(left, gx), min(top, gy)
            right, bottom = max(right, gx + mask.width), max(bottom, gy + mask.height)
        if advance != int(advance):
            return [], None
        pen += advance
    if not placed:
        return [], (0, 0, 0, 0)
    return placed, (int(left), int(top), int(right), int(bottom))


def paint_run(canvas: Image.Image, placed: list[tuple[int, int, Image.Image]], at: tuple[int, int] = (0, 0)) -> None:
    """Blend white through each glyph's mask onto ``canvas`` ("L"), shifted by ``-at``, in order."""
    for gx, gy, mask in placed:
        x, y = gx - at[0], gy - at[1]
        canvas.paste(255, (x, y, x + mask.width, y + mask.height), mask)

"""Drawing the layout's primitives (rectangles, polygons, lines, text, rotated groups) with Pillow.

The shared frames and the revoked band are drawn with these once per process, supersampled;
what a request composes never goes through here.
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageDraw

from signer.images.fonts import pil_font
from signer.images.layout import BOLD_STROKE, Line, Poly, Rect, Rotated, Text


def draw_item(canvas: Image.Image, item: Any, k: float) -> None:
    """Draw one primitive onto a Pillow canvas at ``k`` pixels per design unit."""
    draw = ImageDraw.Draw(canvas)
    if isinstance(item, Rect):
        box = (item.x * k, item.y * k, (item.x + item.w) * k - 1, (item.y + item.h) * k - 1)
        if item.radius:
            draw.rounded_rectangle(box, radius=item.radius * k, fill=item.fill)
        else:
            draw.rectangle(box, fill=item.fill)
    elif isinstance(item, Poly):
        draw.polygon([(x * k, y * k) for x, y in item.points], fill=item.fill)
    elif isinstance(item, Line):
        draw.line(
            (item.x1 * k, item.y1 * k, item.x2 * k, item.y2 * k),
            fill=item.stroke,
            width=max(1, round(item.width * k)),
        )
    elif isinstance(item, Text):
        px = max(1, round(item.size * k))
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[item.anchor]
        stroke = round(item.size * k * BOLD_STROKE) if item.bold else 0
        draw.text(
            (item.x * k, item.y * k),
            item.text,
            font=pil_font(px),
            fill=item.fill,
            anchor=anchor,
            stroke_width=stroke,
            stroke_fill=item.fill,
        )
    elif isinstance(item, Rotated):
        # Draw the group flat on its own layer, turn it, then blend it in.
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        for child in item.items:
            draw_item(layer, child, k)
        layer = layer.rotate(
            -item.angle, resample=Image.Resampling.BICUBIC, center=(item.cx * k, item.cy * k)
        )
        if item.opacity < 1:
            alpha = layer.getchannel("A").point(_opacity_table(item.opacity))
            layer.putalpha(alpha)
        canvas.alpha_composite(layer)
    else:  # pragma: no cover - programming error
        raise TypeError(f"unknown primitive {item!r}")


def _opacity_table(opacity: float) -> list[int]:
    """Return a lookup table scaling an alpha channel by ``opacity``."""
    return [round(value * opacity) for value in range(256)]

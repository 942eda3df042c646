"""The SVG back end: text as glyph outlines, so the card renders without any installed CJK font."""

from __future__ import annotations

import functools
import json
from typing import Any
from xml.sax.saxutils import escape

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen

from signer.baking import bake_svg
from signer.errors import InvalidRenderRequest
from signer.images.fonts import advance, font_metrics, glyph_name, thread_font
from signer.images.layout import (
    BOLD_STROKE,
    DESIGN_HEIGHT,
    DESIGN_WIDTH,
    INK,
    LAYOUT_VERSION,
    LEFT,
    MUTED,
    REVOKED_BAND,
    STATE_WORDS,
    STRIKE_Y,
    BadgeFace,
    Line,
    Poly,
    Qr,
    Rect,
    Rotated,
    Text,
    clip,
    date_item,
    date_text,
    face_items,
    frame_items,
    revoked_items,
    theme_of,
)
from signer.qr import qr_svg_fragment


def draw_static_svg(face: BadgeFace) -> bytes:
    """Draw the state-free part of a badge as SVG markup (colours left as placeholders)."""
    texts, qr, strike = face_items(face)
    body = "".join(_svg_text(item) for item in texts)
    body += qr_svg_fragment(qr.text, x=qr.x, y=qr.y, size=qr.size)
    return json.dumps({"v": LAYOUT_VERSION, "strike": strike, "body": body}, ensure_ascii=False).encode("utf-8")


def compose_svg(face: BadgeFace, *, credential: str, static: bytes) -> bytes:
    """Put the live state and date on a badge's static SVG layer; return the baked SVG."""
    theme = theme_of(face.status)
    try:
        layer = json.loads(static)
        body, strike = str(layer["body"]), float(layer["strike"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRenderRequest("static layer is damaged", reason="bad_layer") from exc
    shop, badge_id = clip(face.shop_name), clip(face.badge_id)
    text = f"党员网商 · {shop} · {STATE_WORDS[face.status]} · {badge_id}"
    label = escape(text)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{DESIGN_WIDTH}"'
        f' height="{DESIGN_HEIGHT}" viewBox="0 0 {DESIGN_WIDTH} {DESIGN_HEIGHT}"'
        f' role="img" aria-label="{escape(text, {chr(34): "&quot;"})}">'
        f"<title>{label}</title>",
        _frame_svg(face.status),
        body.replace(INK, theme.ink).replace(MUTED, theme.muted),
        _date_svg(date_text(face.checked_on), face.status),
    ]
    if face.status == "revoked":
        parts.append(_svg_item(Line(LEFT, STRIKE_Y, LEFT + strike, STRIKE_Y, REVOKED_BAND, 3)))
        parts.append(_revoked_svg())
    parts.append("</svg>\n")
    return bake_svg("".join(parts).encode("utf-8"), credential)


@functools.lru_cache(maxsize=16)
def _frame_svg(status: str) -> str:
    """Return the SVG markup every badge of ``status`` shares."""
    return "".join(_svg_item(item) for item in frame_items(status))


@functools.lru_cache(maxsize=32)
def _date_svg(text: str, status: str) -> str:
    return _svg_text(date_item(text, theme_of(status).muted))


@functools.cache
def _revoked_svg() -> str:
    return "".join(_svg_item(item) for item in revoked_items())


def _svg_item(item: Any) -> str:
    """Render one primitive as SVG markup."""
    if isinstance(item, Rect):
        radius = f' rx="{_n(item.radius)}"' if item.radius else ""
        return (
            f'<rect x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.w)}"'
            f' height="{_n(item.h)}"{radius} fill="{item.fill}"/>'
        )
    if isinstance(item, Poly):
        first, *rest = item.points
        d = f"M{_n(first[0])} {_n(first[1])}" + "".join(f"L{_n(x)} {_n(y)}" for x, y in rest)
        return f'<path d="{d}Z" fill="{item.fill}"/>'
    if isinstance(item, Line):
        return (
            f'<path d="M{_n(item.x1)} {_n(item.y1)}L{_n(item.x2)} {_n(item.y2)}"'
            f' stroke="{item.stroke}" stroke-width="{_n(item.width)}" stroke-linecap="round"/>'
        )
    if isinstance(item, Text):
        return _svg_text(item)
    if isinstance(item, Qr):
        return qr_svg_fragment(item.text, x=item.x, y=item.y, size=item.size)
    if isinstance(item, Rotated):
        inner = "".join(_svg_item(child) for child in item.items)
        return (
            f'<g transform="rotate({_n(item.angle)} {_n(item.cx)} {_n(item.cy)})"'
            f' opacity="{_n(item.opacity)}">{inner}</g>'
        )
    raise TypeError(f"unknown primitive {item!r}")  # pragma: no cover - programming error


def _svg_text(item: Text) -> str:
    """Render a text run as one path of glyph outlines."""
    width = advance(item.text, item.size)
    x = item.x - {"start": 0.0, "middle": width / 2, "end": width}[item.anchor]
    metrics = font_metrics()
    scale = item.size / metrics.units_per_em
    glyphs = thread_font().getGlyphSet()
    pen = SVGPathPen(glyphs, ntos=_n)
    for char in item.text:
        name = glyph_name(char)
        # Font units are y-up; flip onto the baseline in y-down SVG space.
        glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, x, item.y)))
        x += metrics.advances[name] * scale
    d = pen.getCommands()
    if not d:
        return ""
    bold = ""
    if item.bold:
        bold = (
            f' stroke="{item.fill}" stroke-width="{_n(item.size * BOLD_STROKE)}"'
            ' stroke-linejoin="round"'
        )
    return f'<path d="{d}" fill="{item.fill}"{bold}/>'


def _n(value: float) -> str:
    """Format a number with at most two decimals, deterministically."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text

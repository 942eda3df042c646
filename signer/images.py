"""Badge images: the card a shop shows, in SVG and PNG, with the credential baked in.

One layout, described once as a list of drawing primitives in design units
(a 640 x 400 card), is rendered by two back ends: SVG (text drawn as glyph
outlines, so it renders without any installed CJK font) and Pillow (the same
bundled font). Both are deterministic: the same face and credential give the
same bytes, so callers may cache by content hash.
"""

from __future__ import annotations

import functools
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from signer.baking import bake_png, bake_svg
from signer.errors import InvalidRenderRequest
from signer.qr import QUIET_ZONE, qr_image, qr_matrix, qr_svg_fragment

_logger = logging.getLogger(__name__)

#: Bundled subset of Noto Sans CJK SC (OFL 1.1, see ``signer/fonts/OFL.txt``).
FONT_PATH = Path(__file__).with_name("fonts") / "LiangBadgeSansSC-Regular.otf"

#: Design size of the card; every coordinate below is in these units.
DESIGN_WIDTH = 640
DESIGN_HEIGHT = 400

#: PNG sizes offered, as (width, height) in pixels. ``s`` keeps QR modules at
#: two pixels or more for verify URLs up to QR version 7 (~120 characters).
SIZES: dict[str, tuple[int, int]] = {"s": (320, 200), "m": (480, 300), "l": (800, 500)}

#: Word shown for each public state.
STATE_WORDS: dict[str, str] = {
    "valid": "有效",
    "expired": "已过期",
    "not_yet_valid": "尚未生效",
    "suspended": "已暂停",
    "revoked": "已撤销",
}

_PLATFORM_LABELS = {
    "taobao": "淘宝",
    "tmall": "天猫",
    "1688": "1688",
    "jd": "京东",
    "pinduoduo": "拼多多",
    "douyin": "抖音",
    "wechat": "微信",
    "independent": "独立站",
    "other": "其他平台",
}

# Pillow draws shapes without anti-aliasing; drawing at 3x and reducing gives
# smooth edges. The QR code is pasted afterwards, pixel-aligned and crisp.
_SUPERSAMPLE = 3
# Pillow's pen positions can drift a fraction of a pixel from the font-unit
# advance sum; keep a small margin so fitted text never touches its limit.
_FIT_MARGIN = 0.97
_BOLD_STROKE = 0.035  # synthetic bold: outline stroke as a fraction of the size
_MAX_FIELD_CHARS = 200  # longer input is cut before measuring (bounded work)


@dataclass(frozen=True)
class BadgeFace:
    """What a badge image shows."""

    badge_id: str
    shop_name: str
    branch_name: str
    platform: str
    status: str
    checked_on: str
    verify_url: str


@dataclass(frozen=True)
class _Theme:
    """Colours for one badge state."""

    primary: str  # header band and frame
    accent: str  # title and emblem
    body: str  # card body background
    ink: str  # main text
    muted: str  # secondary text
    pill: str  # state pill background
    pill_ink: str  # state word


_THEMES: dict[str, _Theme] = {
    # State colours follow the one colour language (docs/colours.md): valid #1b7a3a,
    # warning #8a4b00 (expired, not yet valid), suspended #3d5a80, revoked #a51d1d.
    # A valid badge keeps the party-red frame; its state pill says "valid" in green.
    "valid": _Theme("#a8141c", "#f4c244", "#fffaf0", "#3b1d18", "#7a5a50", "#ffffff", "#1b7a3a"),
    "expired": _Theme("#8a4b00", "#f6e3c8", "#fbf6ef", "#33261a", "#6e5a47", "#ffffff", "#8a4b00"),
    "not_yet_valid": _Theme(
        "#8a4b00", "#f6e3c8", "#fbf6ef", "#33261a", "#6e5a47", "#ffffff", "#8a4b00"
    ),
    "suspended": _Theme(
        "#3d5a80", "#dbe3ee", "#f4f6f9", "#22313f", "#56687c", "#ffffff", "#3d5a80"
    ),
    "revoked": _Theme("#595959", "#cfcfcf", "#ececec", "#4a4a4a", "#5e5e5e", "#a51d1d", "#ffffff"),
}

_REVOKED_BAND = "#a51d1d"


# ------------------------------------------------------------- primitives


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    radius: float = 0.0


@dataclass(frozen=True)
class _Poly:
    points: tuple[tuple[float, float], ...]
    fill: str


@dataclass(frozen=True)
class _Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    fill: str
    bold: bool = False
    anchor: str = "start"  # start | middle | end


@dataclass(frozen=True)
class _Qr:
    x: float
    y: float
    size: float
    text: str


@dataclass(frozen=True)
class _Rotated:
    angle: float  # degrees, clockwise on screen (SVG convention)
    cx: float
    cy: float
    opacity: float
    items: tuple[Any, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------ public


def render_badge_svg(face: BadgeFace, *, credential: str) -> bytes:
    """Render the badge as SVG with ``credential`` baked in."""
    svg = _render_svg(face, _layout(face))
    return bake_svg(svg, credential)


def render_badge_png(face: BadgeFace, *, size: str, credential: str) -> bytes:
    """Render the badge as PNG of size ``s``, ``m`` or ``l`` with ``credential`` baked in."""
    dims = SIZES.get(size)
    if dims is None:
        raise InvalidRenderRequest(f"unknown badge size {size!r}", reason="bad_size")
    png = _render_png(face, _layout(face), dims)
    return bake_png(png, credential)


def font_covers(text: str) -> bool:
    """Tell whether the bundled font has a glyph for every character of ``text``."""
    cmap = _font().getBestCmap()
    return all(ord(char) in cmap for char in text)


# ------------------------------------------------------------------ layout


def _layout(face: BadgeFace) -> list[Any]:
    """Describe the whole card as drawing primitives in design units."""
    theme = _THEMES.get(face.status)
    if theme is None:
        raise InvalidRenderRequest(f"unknown badge status {face.status!r}", reason="bad_status")
    w, h = DESIGN_WIDTH, DESIGN_HEIGHT
    band = 88.0
    frame = 4.0
    items: list[Any] = [
        _Rect(0, 0, w, h, theme.primary, radius=22),
        _Rect(frame, band, w - 2 * frame, h - band - frame, theme.body, radius=18),
        # Square off the body's top corners where it meets the band.
        _Rect(frame, band, w - 2 * frame, 20, theme.body),
    ]
    items += _emblem(x=26, y=14, size=60, theme=theme)
    items.append(_Text(100, 60, "党员网商", 38, theme.accent, bold=True))

    word = STATE_WORDS[face.status]
    pill_size = 26.0
    pill_w = _advance(word, pill_size) + 36
    items.append(_Rect(w - 24 - pill_w, 22, pill_w, 44, theme.pill, radius=22))
    items.append(_Text(w - 24 - pill_w / 2, 53, word, pill_size, theme.pill_ink, True, "middle"))

    # Left column: who the shop is.
    left, col_w = 32.0, 340.0
    name_size, name = _fit_shrinking(_clip(face.shop_name), col_w, sizes=(34, 32, 30, 28, 26))
    items.append(_Text(left, 146, name, name_size, theme.ink, bold=True))
    platform = _PLATFORM_LABELS.get(face.platform, face.platform)
    affiliation = f"{_clip(face.branch_name)} · {platform}店铺"
    items.append(_Text(left, 186, _fit(affiliation, 22, col_w), 22, theme.muted))
    items.append(_Text(left, 238, "徽章编号", 18, theme.muted))
    items.append(_Text(left, 272, _fit(_clip(face.badge_id), 28, col_w), 28, theme.ink, bold=True))
    items.append(_Line(left, 306, left + col_w, 306, theme.muted, 1))
    checked = f"最近核验 {_clip(face.checked_on)}"
    items.append(_Text(left, 344, _fit(checked, 20, col_w), 20, theme.muted))

    # Right column: the QR code shoppers scan.
    qr_x, qr_y, qr_size = 394.0, 102.0, 222.0
    items.append(_Qr(qr_x, qr_y, qr_size, face.verify_url))
    items.append(_Text(qr_x + qr_size / 2, 358, "扫码验证", 22, theme.ink, True, "middle"))

    if face.status == "revoked":
        name_w = _advance(name, name_size)
        items.append(_Line(left, 135, left + name_w, 135, _REVOKED_BAND, 3))
        band_items = (
            _Rect(left - 16, 206, col_w + 32, 64, _REVOKED_BAND),
            _Text(left + col_w / 2, 251, "已撤销", 40, "#ffffff", True, "middle"),
        )
        items.append(_Rotated(-10, left + col_w / 2, 238, 0.9, band_items))
    return items


def _emblem(*, x: float, y: float, size: float, theme: _Theme) -> list[Any]:
    """Draw the badge's own mark: a plain shield holding a five-pointed star."""
    top, bottom = y, y + size
    left, right = x + size * 0.08, x + size * 0.92
    shoulder = y + size * 0.52
    cx = x + size / 2
    points = [(left, top + size * 0.08), (cx, top), (right, top + size * 0.08), (right, shoulder)]
    # The lower edge is a curve sampled into straight segments so both back
    # ends draw exactly the same outline.
    steps = 12
    for i in range(1, steps + 1):
        t = i / steps
        points.append(_quad((right, shoulder), (right, bottom - size * 0.12), (cx, bottom), t))
    for i in range(1, steps + 1):
        t = i / steps
        points.append(_quad((cx, bottom), (left, bottom - size * 0.12), (left, shoulder), t))
    star = _star(cx, y + size * 0.47, size * 0.27, size * 0.11)
    return [_Poly(_rounded(points), theme.accent), _Poly(star, theme.primary)]


def _quad(
    p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], t: float
) -> tuple[float, float]:
    """Return the point at ``t`` on a quadratic Bezier curve."""
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    return (a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1])


def _star(cx: float, cy: float, outer: float, inner: float) -> tuple[tuple[float, float], ...]:
    """Return the ten corners of an upright five-pointed star."""
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return _rounded(points)


def _rounded(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Round coordinates so float noise never changes the output bytes."""
    return tuple((round(px, 3), round(py, 3)) for px, py in points)


def _clip(text: str) -> str:
    """Cut absurdly long input before measuring it, and drop control characters."""
    return "".join(ch for ch in text[:_MAX_FIELD_CHARS] if ch.isprintable())


def _fit(text: str, size: float, max_width: float) -> str:
    """Return ``text``, cut with an ellipsis if it is wider than ``max_width``."""
    limit = max_width * _FIT_MARGIN
    if _advance(text, size) <= limit:
        return text
    for end in range(len(text) - 1, 0, -1):
        candidate = text[:end].rstrip() + "…"
        if _advance(candidate, size) <= limit:
            return candidate
    return "…"


def _fit_shrinking(text: str, max_width: float, *, sizes: tuple[float, ...]) -> tuple[float, str]:
    """Pick the largest size at which ``text`` fits, else cut it at the smallest."""
    for size in sizes:
        if _advance(text, size) <= max_width * _FIT_MARGIN:
            return size, text
    return sizes[-1], _fit(text, sizes[-1], max_width)


# ------------------------------------------------------------------- fonts


@functools.cache
def _font() -> TTFont:
    """Load the bundled font once (fontTools, for outlines and metrics)."""
    # Read into memory so no file handle stays open for the process lifetime.
    return TTFont(io.BytesIO(FONT_PATH.read_bytes()))


@functools.cache
def _units_per_em() -> int:
    """Return the bundled font's units per em."""
    return int(_font()["head"].unitsPerEm)


def _glyph_name(char: str) -> str:
    """Map a character to a glyph, falling back to the .notdef box when missing."""
    return _font().getBestCmap().get(ord(char), ".notdef")


def _advance(text: str, size: float) -> float:
    """Return the width of ``text`` at ``size`` in design units (no kerning)."""
    hmtx = _font()["hmtx"]
    units = sum(hmtx[_glyph_name(ch)][0] for ch in text)
    return units * size / _units_per_em()


@functools.lru_cache(maxsize=64)
def _pil_font(px: int) -> ImageFont.FreeTypeFont:
    """Load the bundled font for Pillow at a pixel size (basic layout: no raqm variance)."""
    return ImageFont.truetype(str(FONT_PATH), px, layout_engine=ImageFont.Layout.BASIC)


# --------------------------------------------------------------------- SVG


def _render_svg(face: BadgeFace, items: list[Any]) -> bytes:
    """Render primitives as a standalone SVG document."""
    shop, badge_id = _clip(face.shop_name), _clip(face.badge_id)
    label = escape(f"党员网商 · {shop} · {STATE_WORDS[face.status]} · {badge_id}")
    body = "".join(_svg_item(item) for item in items)
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{DESIGN_WIDTH}"'
        f' height="{DESIGN_HEIGHT}" viewBox="0 0 {DESIGN_WIDTH} {DESIGN_HEIGHT}"'
        f' role="img" aria-label="{escape(label, {chr(34): "&quot;"})}">'
        f"<title>{label}</title>{body}</svg>\n"
    )
    return svg.encode("utf-8")


def _svg_item(item: Any) -> str:
    """Render one primitive as SVG markup."""
    if isinstance(item, _Rect):
        radius = f' rx="{_n(item.radius)}"' if item.radius else ""
        return (
            f'<rect x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.w)}"'
            f' height="{_n(item.h)}"{radius} fill="{item.fill}"/>'
        )
    if isinstance(item, _Poly):
        first, *rest = item.points
        d = f"M{_n(first[0])} {_n(first[1])}" + "".join(f"L{_n(x)} {_n(y)}" for x, y in rest)
        return f'<path d="{d}Z" fill="{item.fill}"/>'
    if isinstance(item, _Line):
        return (
            f'<path d="M{_n(item.x1)} {_n(item.y1)}L{_n(item.x2)} {_n(item.y2)}"'
            f' stroke="{item.stroke}" stroke-width="{_n(item.width)}" stroke-linecap="round"/>'
        )
    if isinstance(item, _Text):
        return _svg_text(item)
    if isinstance(item, _Qr):
        return qr_svg_fragment(item.text, x=item.x, y=item.y, size=item.size)
    if isinstance(item, _Rotated):
        inner = "".join(_svg_item(child) for child in item.items)
        return (
            f'<g transform="rotate({_n(item.angle)} {_n(item.cx)} {_n(item.cy)})"'
            f' opacity="{_n(item.opacity)}">{inner}</g>'
        )
    raise TypeError(f"unknown primitive {item!r}")  # pragma: no cover - programming error


def _svg_text(item: _Text) -> str:
    """Render a text run as one path of glyph outlines."""
    width = _advance(item.text, item.size)
    x = item.x - {"start": 0.0, "middle": width / 2, "end": width}[item.anchor]
    scale = item.size / _units_per_em()
    glyphs = _font().getGlyphSet()
    hmtx = _font()["hmtx"]
    pen = SVGPathPen(glyphs, ntos=_n)
    for char in item.text:
        name = _glyph_name(char)
        # Font units are y-up; flip onto the baseline in y-down SVG space.
        glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, x, item.y)))
        x += hmtx[name][0] * scale
    d = pen.getCommands()
    if not d:
        return ""
    bold = ""
    if item.bold:
        bold = (
            f' stroke="{item.fill}" stroke-width="{_n(item.size * _BOLD_STROKE)}"'
            ' stroke-linejoin="round"'
        )
    return f'<path d="{d}" fill="{item.fill}"{bold}/>'


def _n(value: float) -> str:
    """Format a number with at most two decimals, deterministically."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# --------------------------------------------------------------------- PNG


def _render_png(face: BadgeFace, items: list[Any], dims: tuple[int, int]) -> bytes:
    """Render primitives as an RGBA PNG of ``dims`` pixels."""
    width, height = dims
    scale = width / DESIGN_WIDTH
    big = (width * _SUPERSAMPLE, height * _SUPERSAMPLE)
    canvas = Image.new("RGBA", big, (0, 0, 0, 0))
    qr_items: list[_Qr] = []
    for item in items:
        if isinstance(item, _Qr):
            qr_items.append(item)
        else:
            _pil_item(canvas, item, scale * _SUPERSAMPLE)
    image = canvas.resize(dims, Image.Resampling.LANCZOS)
    for qr in qr_items:
        _paste_qr(image, qr, scale)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=9)
    _logger.debug("rendered %s badge png %dx%d", face.status, width, height)
    return out.getvalue()


def _pil_item(canvas: Image.Image, item: Any, k: float) -> None:
    """Draw one primitive onto a Pillow canvas at ``k`` pixels per design unit."""
    draw = ImageDraw.Draw(canvas)
    if isinstance(item, _Rect):
        box = (item.x * k, item.y * k, (item.x + item.w) * k - 1, (item.y + item.h) * k - 1)
        if item.radius:
            draw.rounded_rectangle(box, radius=item.radius * k, fill=item.fill)
        else:
            draw.rectangle(box, fill=item.fill)
    elif isinstance(item, _Poly):
        draw.polygon([(x * k, y * k) for x, y in item.points], fill=item.fill)
    elif isinstance(item, _Line):
        draw.line(
            (item.x1 * k, item.y1 * k, item.x2 * k, item.y2 * k),
            fill=item.stroke,
            width=max(1, round(item.width * k)),
        )
    elif isinstance(item, _Text):
        px = max(1, round(item.size * k))
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[item.anchor]
        stroke = round(item.size * k * _BOLD_STROKE) if item.bold else 0
        draw.text(
            (item.x * k, item.y * k),
            item.text,
            font=_pil_font(px),
            fill=item.fill,
            anchor=anchor,
            stroke_width=stroke,
            stroke_fill=item.fill,
        )
    elif isinstance(item, _Rotated):
        # Draw the group flat on its own layer, turn it, then blend it in.
        layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        for child in item.items:
            _pil_item(layer, child, k)
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


def _paste_qr(image: Image.Image, qr: _Qr, scale: float) -> None:
    """Paste the QR code with whole-pixel modules, centred in its box."""
    matrix = qr_matrix(qr.text)
    total = len(matrix) + 2 * QUIET_ZONE
    box = math.floor(qr.size * scale)
    module = box // total
    if module < 1:
        raise InvalidRenderRequest("verify URL too long for this size", reason="text_too_long")
    code = qr_image(matrix, scale=module).convert("RGBA")
    offset = (box - code.width) // 2
    # The white box behind keeps the quiet zone even when modules do not fill it.
    left, top = round(qr.x * scale), round(qr.y * scale)
    ImageDraw.Draw(image).rectangle((left, top, left + box - 1, top + box - 1), fill="#ffffff")
    image.paste(code, (left + offset, top + offset))


__all__ = [
    "DESIGN_HEIGHT",
    "DESIGN_WIDTH",
    "FONT_PATH",
    "SIZES",
    "STATE_WORDS",
    "BadgeFace",
    "font_covers",
    "render_badge_png",
    "render_badge_svg",
]

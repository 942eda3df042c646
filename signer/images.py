"""Badge images: the card a shop shows, in SVG and PNG, with the credential baked in.

One layout, described once as a list of drawing primitives in design units
(a 640 x 400 card), is rendered by two back ends: SVG (text drawn as glyph
outlines, so it renders without any installed CJK font) and Pillow (the same
bundled font). Both are deterministic: the same face and credential give the
same bytes, so callers may cache by content hash.

Images are composed, not drawn, per request. The card is split in layers:

* the *frame* of each state and size (band, body, emblem, title, state pill,
  fixed labels): the same for every badge, drawn once per process;
* the badge's *static layer* (shop name, branch and platform, badge number,
  QR code): drawn once per badge by :func:`draw_static_png` /
  :func:`draw_static_svg` into bytes a caller may keep anywhere (database,
  disk) under :func:`static_layer_key`; it holds no state colour, so a state
  change never redraws it;
* what moves (state colours, the check date, the revoked overlay): put on per
  request by :func:`compose_png` / :func:`compose_svg`, with the live
  credential baked in.

PNG output is palette-indexed against a fixed palette per state (a nearest-
colour mapping, no per-image quantisation search), which keeps an ``m`` image
near 12 KB and the composition around a millisecond.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import math
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from signer.baking import bake_png, bake_svg
from signer.errors import InvalidRenderRequest
from signer.qr import qr_mask, qr_svg_fragment

_logger = logging.getLogger(__name__)

#: Bundled subset of Noto Sans CJK SC (OFL 1.1, see ``signer/fonts/OFL.txt``).
FONT_PATH = Path(__file__).with_name("fonts") / "LiangBadgeSansSC-Regular.otf"

#: Version of the drawing: part of every static layer's key, so a layout change redraws them.
LAYOUT_VERSION = "3"

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


class LayerStore(Protocol):
    """Somewhere static layers are kept: ``get_or_draw`` returns the stored bytes or draws and keeps them."""

    def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """Return the layer stored under ``key``, calling ``draw`` (once) when there is none."""
        ...  # pragma: no cover - protocol


def static_layer_key(face: BadgeFace, *, kind: str, credential: str) -> str:
    """Return the content key of a badge's static layer of ``kind`` (``svg``, ``png-s``, ``png-m``, ``png-l``).

    The key covers everything the layer shows (number, shop, branch, platform, verify URL),
    the layout version and the credential it goes out with: a renamed shop or a re-signed
    credential names a new layer, so a kept layer is never stale. State and date are not in
    it: they are put on per request.
    """
    parts = [LAYOUT_VERSION, kind, face.badge_id, face.shop_name, face.branch_name, face.platform,
             face.verify_url, hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()]
    return hashlib.sha256(json.dumps(parts).encode("ascii")).hexdigest()


def render_badge_svg(face: BadgeFace, *, credential: str, layers: LayerStore | None = None) -> bytes:
    """Render the badge as SVG with ``credential`` baked in (its static layer from ``layers`` when given)."""
    _theme(face.status)
    static = _static(layers, static_layer_key(face, kind="svg", credential=credential),
                     lambda: draw_static_svg(face))
    try:
        return compose_svg(face, credential=credential, static=static)
    except InvalidRenderRequest as exc:
        if exc.reason != "bad_layer" or layers is None:
            raise
        # A kept layer that does not read back (damaged storage) must not break the image.
        _logger.warning("kept svg layer of %s is damaged; drawn again", face.badge_id)
        return compose_svg(face, credential=credential, static=draw_static_svg(face))


def render_badge_png(face: BadgeFace, *, size: str, credential: str, layers: LayerStore | None = None) -> bytes:
    """Render the badge as PNG of size ``s``, ``m`` or ``l`` with ``credential`` baked in."""
    _dims(size)
    _theme(face.status)
    static = _static(layers, static_layer_key(face, kind=f"png-{size}", credential=credential),
                     lambda: draw_static_png(face, size=size))
    try:
        return compose_png(face, size=size, credential=credential, static=static)
    except InvalidRenderRequest as exc:
        if exc.reason != "bad_layer" or layers is None:
            raise
        _logger.warning("kept png-%s layer of %s is damaged; drawn again", size, face.badge_id)
        return compose_png(face, size=size, credential=credential, static=draw_static_png(face, size=size))


def draw_static_png(face: BadgeFace, *, size: str) -> bytes:
    """Draw the state-free part of a badge for one PNG size: text coverage masks and QR modules.

    The bytes are a one-line JSON header (where each part goes, the name's width) and the
    zlib-compressed pixels of the masks cropped to their ink, then the QR modules one pixel
    each: a few kilobytes, cheap to inflate.
    """
    dims = _dims(size)
    scale = dims[0] / DESIGN_WIDTH
    texts, qr, strike = _face_items(face)
    masks = {_INK: Image.new("L", dims, 0), _MUTED: Image.new("L", dims, 0)}
    for item in texts:
        _mask_text(masks[item.fill], item, scale)
    header: dict[str, Any] = {"v": LAYOUT_VERSION, "size": size, "strike": strike}
    pixels = bytearray()
    for role, name in ((_INK, "ink"), (_MUTED, "muted")):
        box = masks[role].getbbox()
        header[name] = list(box) if box else None
        if box:
            pixels += masks[role].crop(box).tobytes()
    modules = qr_mask(qr.text)
    total = modules.width
    qr_box = math.floor(qr.size * scale)
    module = qr_box // total
    if module < 1:
        raise InvalidRenderRequest("verify URL too long for this size", reason="text_too_long")
    offset = (qr_box - total * module) // 2
    header["qr"] = [round(qr.x * scale) + offset, round(qr.y * scale) + offset, module, total]
    pixels += modules.tobytes()
    return json.dumps(header).encode("ascii") + b"\n" + zlib.compress(bytes(pixels), 1)


def draw_static_svg(face: BadgeFace) -> bytes:
    """Draw the state-free part of a badge as SVG markup (colours left as placeholders)."""
    texts, qr, strike = _face_items(face)
    body = "".join(_svg_text(item) for item in texts)
    body += qr_svg_fragment(qr.text, x=qr.x, y=qr.y, size=qr.size)
    return json.dumps({"v": LAYOUT_VERSION, "strike": strike, "body": body}, ensure_ascii=False).encode("utf-8")


def compose_png(face: BadgeFace, *, size: str, credential: str, static: bytes) -> bytes:
    """Put the live state and date on a badge's static PNG layer; return the baked, palette PNG."""
    dims = _dims(size)
    theme = _theme(face.status)
    masks, strike = _open_static_png(static, size)
    scale = dims[0] / DESIGN_WIDTH
    canvas = _frame_png(face.status, size).copy()
    for colour, (box, mask) in zip((_rgb(theme.ink), _rgb(theme.muted), (0, 0, 0)), masks, strict=True):
        if mask is not None:
            canvas.paste(colour, box, mask)
    date_at, date = _date_mask(_date_text(face.checked_on), size)
    canvas.paste(_rgb(theme.muted), date_at, date)
    if face.status == "revoked":
        y = round(_STRIKE_Y * scale)
        ImageDraw.Draw(canvas).line((round(_LEFT * scale), y, round((_LEFT + strike) * scale), y),
                                    fill=_REVOKED_BAND, width=max(1, round(3 * scale)))
        band_box, band, alpha = _revoked_band(size)
        canvas.paste(band, band_box, alpha)
    indexed = canvas.quantize(palette=_palette_image(face.status), dither=Image.Dither.NONE)
    indexed.putpalette(_palette(face.status))
    for at, corner, corner_mask in _corners(size):
        indexed.paste(corner, at, corner_mask)
    out = io.BytesIO()
    indexed.save(out, format="PNG", transparency=_ALPHA, compress_level=_PNG_LEVEL)
    return bake_png(out.getvalue(), credential)


def compose_svg(face: BadgeFace, *, credential: str, static: bytes) -> bytes:
    """Put the live state and date on a badge's static SVG layer; return the baked SVG."""
    theme = _theme(face.status)
    try:
        layer = json.loads(static)
        body, strike = str(layer["body"]), float(layer["strike"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRenderRequest("static layer is damaged", reason="bad_layer") from exc
    shop, badge_id = _clip(face.shop_name), _clip(face.badge_id)
    text = f"党员网商 · {shop} · {STATE_WORDS[face.status]} · {badge_id}"
    label = escape(text)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{DESIGN_WIDTH}"'
        f' height="{DESIGN_HEIGHT}" viewBox="0 0 {DESIGN_WIDTH} {DESIGN_HEIGHT}"'
        f' role="img" aria-label="{escape(text, {chr(34): "&quot;"})}">'
        f"<title>{label}</title>",
        _frame_svg(face.status),
        body.replace(_INK, theme.ink).replace(_MUTED, theme.muted),
        _date_svg(_date_text(face.checked_on), face.status),
    ]
    if face.status == "revoked":
        parts.append(_svg_item(_Line(_LEFT, _STRIKE_Y, _LEFT + strike, _STRIKE_Y, _REVOKED_BAND, 3)))
        parts.append(_revoked_svg())
    parts.append("</svg>\n")
    return bake_svg("".join(parts).encode("utf-8"), credential)


def font_covers(text: str) -> bool:
    """Tell whether the bundled font has a glyph for every character of ``text``."""
    cmap = _metrics().cmap
    return all(ord(char) in cmap for char in text)


def _static(layers: LayerStore | None, key: str, draw: Callable[[], bytes]) -> bytes:
    return draw() if layers is None else layers.get_or_draw(key, draw)


def _dims(size: str) -> tuple[int, int]:
    dims = SIZES.get(size)
    if dims is None:
        raise InvalidRenderRequest(f"unknown badge size {size!r}", reason="bad_size")
    return dims


def _theme(status: str) -> _Theme:
    theme = _THEMES.get(status)
    if theme is None:
        raise InvalidRenderRequest(f"unknown badge status {status!r}", reason="bad_status")
    return theme


# ------------------------------------------------------------------ layout

# Placeholder colours of the static layer: the state decides them per request.
_INK = "%INK%"
_MUTED = "%MUTED%"
_LEFT, _COL_W = 32.0, 340.0
_STRIKE_Y = 135.0
_QR_X, _QR_Y, _QR_SIZE = 394.0, 102.0, 222.0


def _frame_items(status: str) -> list[Any]:
    """Describe what every badge of a state shows alike: frame, emblem, title, state pill, labels."""
    theme = _theme(status)
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
    word = STATE_WORDS[status]
    pill_size = 26.0
    pill_w = _advance(word, pill_size) + 36
    items.append(_Rect(w - 24 - pill_w, 22, pill_w, 44, theme.pill, radius=22))
    items.append(_Text(w - 24 - pill_w / 2, 53, word, pill_size, theme.pill_ink, True, "middle"))
    items.append(_Text(_LEFT, 238, "徽章编号", 18, theme.muted))
    items.append(_Line(_LEFT, 306, _LEFT + _COL_W, 306, theme.muted, 1))
    items.append(_Text(_QR_X + _QR_SIZE / 2, 358, "扫码验证", 22, theme.ink, True, "middle"))
    return items


def _face_items(face: BadgeFace) -> tuple[list[_Text], _Qr, float]:
    """Describe what only this badge shows: its texts (placeholder colours), QR code, name width."""
    name_size, name = _fit_shrinking(_clip(face.shop_name), _COL_W, sizes=(34, 32, 30, 28, 26))
    platform = _PLATFORM_LABELS.get(face.platform, face.platform)
    affiliation = f"{_clip(face.branch_name)} · {platform}店铺"
    texts = [
        _Text(_LEFT, 146, name, name_size, _INK, bold=True),
        _Text(_LEFT, 186, _fit(affiliation, 22, _COL_W), 22, _MUTED),
        _Text(_LEFT, 272, _fit(_clip(face.badge_id), 28, _COL_W), 28, _INK, bold=True),
    ]
    return texts, _Qr(_QR_X, _QR_Y, _QR_SIZE, face.verify_url), round(_advance(name, name_size), 2)


def _date_text(checked_on: str) -> str:
    return _fit(f"最近核验 {_clip(checked_on)}", 20, _COL_W)


def _date_item(text: str, fill: str) -> _Text:
    return _Text(_LEFT, 344, text, 20, fill)


def _revoked_items() -> list[Any]:
    """The diagonal band across the left column of a revoked badge."""
    band_items = (
        _Rect(_LEFT - 16, 206, _COL_W + 32, 64, _REVOKED_BAND),
        _Text(_LEFT + _COL_W / 2, 251, "已撤销", 40, "#ffffff", True, "middle"),
    )
    return [_Rotated(-10, _LEFT + _COL_W / 2, 238, 0.9, band_items)]


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
def _metrics() -> _Metrics:
    """Return the bundled font's cmap, advances and units per em (built once, then read-only)."""
    font = _load_font()
    return _Metrics(cmap=dict(font.getBestCmap()),
                    advances={name: int(adv) for name, (adv, _lsb) in font["hmtx"].metrics.items()},
                    units_per_em=int(font["head"].unitsPerEm))


_local = threading.local()


def _thread_font() -> TTFont:
    """Return this thread's own font object (glyph outlines are drawn from it, never shared)."""
    font: TTFont | None = getattr(_local, "font", None)
    if font is None:
        font = _local.font = _load_font()
    return font


def _glyph_name(char: str) -> str:
    """Map a character to a glyph, falling back to the .notdef box when missing."""
    return _metrics().cmap.get(ord(char), ".notdef")


def _advance(text: str, size: float) -> float:
    """Return the width of ``text`` at ``size`` in design units (no kerning)."""
    metrics = _metrics()
    cmap, advances = metrics.cmap, metrics.advances
    units = sum(advances[cmap.get(ord(ch), ".notdef")] for ch in text)
    return units * size / metrics.units_per_em


def _pil_font(px: int) -> ImageFont.FreeTypeFont:
    """Return this thread's Pillow font at a pixel size (basic layout: no raqm variance)."""
    fonts: dict[int, ImageFont.FreeTypeFont] | None = getattr(_local, "pil_fonts", None)
    if fonts is None:
        fonts = _local.pil_fonts = {}
    font = fonts.get(px)
    if font is None:
        font = fonts[px] = ImageFont.truetype(str(FONT_PATH), px, layout_engine=ImageFont.Layout.BASIC)
    return font


# --------------------------------------------------------------------- SVG


@functools.lru_cache(maxsize=16)
def _frame_svg(status: str) -> str:
    """Return the SVG markup every badge of ``status`` shares."""
    return "".join(_svg_item(item) for item in _frame_items(status))


@functools.lru_cache(maxsize=32)
def _date_svg(text: str, status: str) -> str:
    return _svg_text(_date_item(text, _theme(status).muted))


@functools.cache
def _revoked_svg() -> str:
    return "".join(_svg_item(item) for item in _revoked_items())


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
    metrics = _metrics()
    scale = item.size / metrics.units_per_em
    glyphs = _thread_font().getGlyphSet()
    pen = SVGPathPen(glyphs, ntos=_n)
    for char in item.text:
        name = _glyph_name(char)
        # Font units are y-up; flip onto the baseline in y-down SVG space.
        glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, x, item.y)))
        x += metrics.advances[name] * scale
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

# zlib level for the per-request PNG: palette data compresses well even at low effort;
# level 3 costs a tenth of level 9 for a file within 20 % of its size.
_PNG_LEVEL = 3
# Palette layout: opaque colours first, then eight levels of transparency for the card's
# rounded corners at fixed indices, the same for every state.
_CORNER_BASE = 248
_CORNER_LEVELS = 8
_ALPHA = bytes([255] * _CORNER_BASE + [round(i * 255 / (_CORNER_LEVELS - 1)) for i in range(_CORNER_LEVELS)])
_BLEND_STEPS = 16


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    """Return ``a`` covered by ``b`` at opacity ``t``."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


@functools.cache
def _palette(status: str) -> tuple[int, ...]:
    """Return the fixed palette of a state: its colours and the blends antialiasing makes of them."""
    theme = _theme(status)
    primary, accent, body, ink, muted, pill, pill_ink = (
        _rgb(c) for c in (theme.primary, theme.accent, theme.body, theme.ink, theme.muted, theme.pill,
                          theme.pill_ink))
    white, black, revoked = (255, 255, 255), (0, 0, 0), _rgb(_REVOKED_BAND)
    band = _mix(body, revoked, 0.9)
    band_text = _mix(body, white, 0.9)
    pairs = [(primary, body), (primary, accent), (primary, pill), (pill, pill_ink), (body, ink), (body, muted),
             (body, band), (band, band_text), (body, revoked), (ink, revoked), (ink, band)]
    colours: dict[tuple[int, int, int], None] = dict.fromkeys(
        [primary, accent, body, ink, muted, pill, pill_ink, white, black, revoked, band, band_text])
    for a, b in pairs:
        for step in range(1, _BLEND_STEPS):
            colours.setdefault(_mix(a, b, step / _BLEND_STEPS))
    opaque = list(colours)
    if len(opaque) > _CORNER_BASE:  # pragma: no cover - a theme edit that needs a smaller blend table
        raise AssertionError(f"palette of {status} has {len(opaque)} colours")
    # Padding repeats the first colour: nearest-colour search keeps the first of equals, so the
    # padding and the corner entries are never picked for an opaque pixel.
    opaque += [opaque[0]] * (_CORNER_BASE - len(opaque))
    flat = [channel for colour in opaque for channel in colour]
    return tuple(flat + list(primary) * _CORNER_LEVELS)


@functools.cache
def _palette_image(status: str) -> Image.Image:
    image = Image.new("P", (1, 1))
    image.putpalette(_palette(status))
    return image


def _frame_rgba(status: str, size: str) -> Image.Image:
    """Draw the shared frame of a state at one size (supersampled: smooth edges)."""
    width, height = dims = _dims(size)
    k = width / DESIGN_WIDTH * _SUPERSAMPLE
    canvas = Image.new("RGBA", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), (0, 0, 0, 0))
    for item in _frame_items(status):
        _pil_item(canvas, item, k)
    return canvas.resize(dims, Image.Resampling.LANCZOS)


@functools.lru_cache(maxsize=16)
def _frame_png(status: str, size: str) -> Image.Image:
    """Return the shared frame of a state at one size, opaque RGB, QR box included."""
    rgba = _frame_rgba(status, size)
    canvas = Image.new("RGB", rgba.size, _theme(status).primary)
    canvas.paste(rgba, None, rgba.getchannel("A"))
    scale = rgba.width / DESIGN_WIDTH
    left, top, box = round(_QR_X * scale), round(_QR_Y * scale), math.floor(_QR_SIZE * scale)
    # The white box behind keeps the quiet zone even when modules do not fill it.
    ImageDraw.Draw(canvas).rectangle((left, top, left + box - 1, top + box - 1), fill="#ffffff")
    return canvas


@functools.lru_cache(maxsize=4)
def _corners(size: str) -> tuple[tuple[tuple[int, int], Image.Image, Image.Image], ...]:
    """Return the four rounded corners: where each goes, its palette indices of transparency, its mask."""
    alpha = _frame_rgba("valid", size).getchannel("A")
    levels = alpha.point([_CORNER_BASE + round(v * (_CORNER_LEVELS - 1) / 255) for v in range(256)])
    indices = Image.new("P", alpha.size)
    indices.putpalette(_palette("valid"))
    indices.frombytes(levels.tobytes())
    where = alpha.point([255 if v < 255 else 0 for v in range(256)]).convert("1", dither=Image.Dither.NONE)
    # Only the corners are not opaque: paste four small squares instead of the whole card.
    width, height = alpha.size
    side = math.ceil(22 * width / DESIGN_WIDTH) + 2
    patches = []
    for x, y in ((0, 0), (width - side, 0), (0, height - side), (width - side, height - side)):
        box = (x, y, x + side, y + side)
        patches.append(((x, y), indices.crop(box), where.crop(box)))
    return tuple(patches)


@functools.lru_cache(maxsize=32)
def _date_mask(text: str, size: str) -> tuple[tuple[int, int], Image.Image]:
    """Return where the check date goes and its coverage mask (shared by every badge that day)."""
    dims = _dims(size)
    mask = Image.new("L", dims, 0)
    _mask_text(mask, _date_item(text, _MUTED), dims[0] / DESIGN_WIDTH)
    box = mask.getbbox() or (0, 0, 1, 1)
    return (box[0], box[1]), mask.crop(box)


@functools.lru_cache(maxsize=4)
def _revoked_band(size: str) -> tuple[tuple[int, int, int, int], Image.Image, Image.Image]:
    """Return the revoked band's colours and coverage at one size."""
    width, height = dims = _dims(size)
    canvas = Image.new("RGBA", (width * _SUPERSAMPLE, height * _SUPERSAMPLE), (0, 0, 0, 0))
    for item in _revoked_items():
        _pil_item(canvas, item, width / DESIGN_WIDTH * _SUPERSAMPLE)
    band = canvas.resize(dims, Image.Resampling.LANCZOS)
    box = band.getchannel("A").getbbox() or (0, 0, 1, 1)
    band = band.crop(box)
    return box, band.convert("RGB"), band.getchannel("A")


def _mask_text(mask: Image.Image, item: _Text, scale: float) -> None:
    """Draw a text run's coverage into an "L" mask at ``scale`` pixels per design unit."""
    px = max(1, round(item.size * scale))
    anchor = {"start": "ls", "middle": "ms", "end": "rs"}[item.anchor]
    stroke = round(item.size * scale * _BOLD_STROKE) if item.bold else 0
    at = (item.x * scale, item.y * scale)
    if not stroke:
        ImageDraw.Draw(mask).text(at, item.text, font=_pil_font(px), fill=255, anchor=anchor)
        return
    # Synthetic bold by dilating the plain glyphs (a max filter over the text's box): the same
    # look as FreeType's outline stroker at these widths, for a quarter of its cost.
    layer = Image.new("L", mask.size, 0)
    ImageDraw.Draw(layer).text(at, item.text, font=_pil_font(px), fill=255, anchor=anchor)
    found = layer.getbbox()
    if found is None:
        return
    box = (max(0, found[0] - stroke), max(0, found[1] - stroke), min(mask.width, found[2] + stroke),
           min(mask.height, found[3] + stroke))
    bold = layer.crop(box).filter(ImageFilter.MaxFilter(2 * stroke + 1))
    mask.paste(ImageChops.lighter(mask.crop(box), bold), box)


_Masks = list[tuple[tuple[int, int], Image.Image | None]]
_MAX_LAYER_PIXELS = 4 * 800 * 500  # far above any real layer: refuse to inflate a bomb


def _open_static_png(static: bytes, size: str) -> tuple[_Masks, float]:
    """Return where (top-left) and what (coverage mask) ink text, muted text and QR modules are, and the name width."""
    try:
        head, _, packed = static.partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("v") != LAYOUT_VERSION or header.get("size") != size:
            raise ValueError("layer of another layout or size")
        pixels = zlib.decompressobj().decompress(packed, _MAX_LAYER_PIXELS)
        masks: _Masks = []
        pos = 0
        for name in ("ink", "muted"):
            box = header[name]
            if box is None:
                masks.append(((0, 0), None))
                continue
            x0, y0, x1, y1 = (int(v) for v in box)
            count = (x1 - x0) * (y1 - y0)
            masks.append(((x0, y0), Image.frombytes("L", (x1 - x0, y1 - y0), pixels[pos:pos + count])))
            pos += count
        x, y, module, total = (int(v) for v in header["qr"])
        modules = Image.frombytes("L", (total, total), pixels[pos:pos + total * total])
        if pos + total * total != len(pixels) or module < 1:
            raise ValueError("layer pixels do not match its header")
        masks.append(((x, y), modules.resize((total * module, total * module), Image.Resampling.NEAREST)))
        return masks, float(header["strike"])
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise InvalidRenderRequest("static layer is damaged", reason="bad_layer") from exc


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


__all__ = [
    "DESIGN_HEIGHT",
    "DESIGN_WIDTH",
    "FONT_PATH",
    "LAYOUT_VERSION",
    "SIZES",
    "STATE_WORDS",
    "BadgeFace",
    "LayerStore",
    "compose_png",
    "compose_svg",
    "draw_static_png",
    "draw_static_svg",
    "font_covers",
    "render_badge_png",
    "render_badge_svg",
    "static_layer_key",
]

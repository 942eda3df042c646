"""The card's layout: sizes, state colours, and the drawing primitives both back ends render."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from signer.errors import InvalidRenderRequest
from signer.images.fonts import advance

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
SUPERSAMPLE = 3
# Pillow's pen positions can drift a fraction of a pixel from the font-unit
# advance sum; keep a small margin so fitted text never touches its limit.
_FIT_MARGIN = 0.97
BOLD_STROKE = 0.035  # synthetic bold: outline stroke as a fraction of the size
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

REVOKED_BAND = "#a51d1d"


# ------------------------------------------------------------- primitives


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    radius: float = 0.0


@dataclass(frozen=True)
class Poly:
    points: tuple[tuple[float, float], ...]
    fill: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    fill: str
    bold: bool = False
    anchor: str = "start"  # start | middle | end


@dataclass(frozen=True)
class Qr:
    x: float
    y: float
    size: float
    text: str


@dataclass(frozen=True)
class Rotated:
    angle: float  # degrees, clockwise on screen (SVG convention)
    cx: float
    cy: float
    opacity: float
    items: tuple[Any, ...] = field(default_factory=tuple)


def dims_of(size: str) -> tuple[int, int]:
    dims = SIZES.get(size)
    if dims is None:
        raise InvalidRenderRequest(f"unknown badge size {size!r}", reason="bad_size")
    return dims


def theme_of(status: str) -> _Theme:
    theme = _THEMES.get(status)
    if theme is None:
        raise InvalidRenderRequest(f"unknown badge status {status!r}", reason="bad_status")
    return theme



# ------------------------------------------------------------------ layout

# Placeholder colours of the static layer: the state decides them per request.
INK = "%INK%"
MUTED = "%MUTED%"
LEFT, _COL_W = 32.0, 340.0
STRIKE_Y = 135.0
QR_X, QR_Y, QR_SIZE = 394.0, 102.0, 222.0


def frame_items(status: str) -> list[Any]:
    """Describe what every badge of a state shows alike: frame, emblem, title, state pill, labels."""
    theme = theme_of(status)
    w, h = DESIGN_WIDTH, DESIGN_HEIGHT
    band = 88.0
    frame = 4.0
    items: list[Any] = [
        Rect(0, 0, w, h, theme.primary, radius=22),
        Rect(frame, band, w - 2 * frame, h - band - frame, theme.body, radius=18),
        # Square off the body's top corners where it meets the band.
        Rect(frame, band, w - 2 * frame, 20, theme.body),
    ]
    items += _emblem(x=26, y=14, size=60, theme=theme)
    items.append(Text(100, 60, "党员网商", 38, theme.accent, bold=True))
    word = STATE_WORDS[status]
    pill_size = 26.0
    pill_w = advance(word, pill_size) + 36
    items.append(Rect(w - 24 - pill_w, 22, pill_w, 44, theme.pill, radius=22))
    items.append(Text(w - 24 - pill_w / 2, 53, word, pill_size, theme.pill_ink, True, "middle"))
    items.append(Text(LEFT, 238, "徽章编号", 18, theme.muted))
    items.append(Line(LEFT, 306, LEFT + _COL_W, 306, theme.muted, 1))
    items.append(Text(QR_X + QR_SIZE / 2, 358, "扫码验证", 22, theme.ink, True, "middle"))
    return items


def face_items(face: BadgeFace) -> tuple[list[Text], Qr, float]:
    """Describe what only this badge shows: its texts (placeholder colours), QR code, name width."""
    name_size, name = _fit_shrinking(clip(face.shop_name), _COL_W, sizes=(34, 32, 30, 28, 26))
    platform = _PLATFORM_LABELS.get(face.platform, face.platform)
    affiliation = f"{clip(face.branch_name)} · {platform}店铺"
    texts = [
        Text(LEFT, 146, name, name_size, INK, bold=True),
        Text(LEFT, 186, _fit(affiliation, 22, _COL_W), 22, MUTED),
        Text(LEFT, 272, _fit(clip(face.badge_id), 28, _COL_W), 28, INK, bold=True),
    ]
    return texts, Qr(QR_X, QR_Y, QR_SIZE, face.verify_url), round(advance(name, name_size), 2)


def date_text(checked_on: str) -> str:
    return _fit(f"最近核验 {clip(checked_on)}", 20, _COL_W)


def date_item(text: str, fill: str) -> Text:
    return Text(LEFT, 344, text, 20, fill)


def revoked_items() -> list[Any]:
    """The diagonal band across the left column of a revoked badge."""
    band_items = (
        Rect(LEFT - 16, 206, _COL_W + 32, 64, REVOKED_BAND),
        Text(LEFT + _COL_W / 2, 251, "已撤销", 40, "#ffffff", True, "middle"),
    )
    return [Rotated(-10, LEFT + _COL_W / 2, 238, 0.9, band_items)]


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
    return [Poly(_rounded(points), theme.accent), Poly(star, theme.primary)]


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


def clip(text: str) -> str:
    """Cut absurdly long input before measuring it, and drop control characters."""
    return "".join(ch for ch in text[:_MAX_FIELD_CHARS] if ch.isprintable())


def _fit(text: str, size: float, max_width: float) -> str:
    """Return ``text``, cut with an ellipsis if it is wider than ``max_width``."""
    limit = max_width * _FIT_MARGIN
    if advance(text, size) <= limit:
        return text
    for end in range(len(text) - 1, 0, -1):
        candidate = text[:end].rstrip() + "…"
        if advance(candidate, size) <= limit:
            return candidate
    return "…"


def _fit_shrinking(text: str, max_width: float, *, sizes: tuple[float, ...]) -> tuple[float, str]:
    """Pick the largest size at which ``text`` fits, else cut it at the smallest."""
    for size in sizes:
        if advance(text, size) <= max_width * _FIT_MARGIN:
            return size, text
    return sizes[-1], _fit(text, sizes[-1], max_width)

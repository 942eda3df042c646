"""The Pillow back end: a palette PNG per state, composed from kept masks in about a millisecond."""

from __future__ import annotations

import functools
import json
import math
from typing import Any

from PIL import Image, ImageChops, ImageDraw
from zlib_ng import zlib_ng

from signer.errors import InvalidRenderRequest
from signer.images.fonts import pil_font
from signer.images.glyphs import Box, paint_run, run_layout
from signer.images.layout import (
    BOLD_STROKE,
    DESIGN_WIDTH,
    INK,
    LAYOUT_VERSION,
    LEFT,
    MUTED,
    QR_SIZE,
    QR_X,
    QR_Y,
    REVOKED_BAND,
    STRIKE_Y,
    SUPERSAMPLE,
    BadgeFace,
    Text,
    date_item,
    date_text,
    dims_of,
    face_items,
    frame_items,
    revoked_items,
    theme_of,
)
from signer.images.pildraw import draw_item
from signer.images.pngfile import write_framed_png, write_palette_png
from signer.images.pnglayer import OPENED, Masks, open_static_png
from signer.qr import qr_mask

# Palette layout: opaque colours first, then eight levels of transparency for the card's
# rounded corners at fixed indices, the same for every state.
_CORNER_BASE = 248
_CORNER_LEVELS = 8
_ALPHA = bytes([255] * _CORNER_BASE + [round(i * 255 / (_CORNER_LEVELS - 1)) for i in range(_CORNER_LEVELS)])
_BLEND_STEPS = 16


def draw_static_png(face: BadgeFace, *, size: str) -> bytes:
    """Draw the state-free part of a badge for one PNG size: text coverage masks and QR modules.

    The bytes are a one-line JSON header (where each part goes, the name's width) and the
    zlib-compressed pixels of the masks cropped to their ink, then the QR modules one pixel
    each: a few kilobytes, cheap to inflate.
    """
    dims = dims_of(size)
    scale = dims[0] / DESIGN_WIDTH
    texts, qr, strike = face_items(face)
    masks = {INK: Image.new("L", dims, 0), MUTED: Image.new("L", dims, 0)}
    for item in texts:
        _mask_text(masks[item.fill], item, scale)
    header: dict[str, Any] = {"v": LAYOUT_VERSION, "size": size, "strike": strike}
    pixels = bytearray()
    for role, name in ((INK, "ink"), (MUTED, "muted")):
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
    layer = json.dumps(header).encode("ascii") + b"\n" + zlib_ng.compress(bytes(pixels), 1)
    # The first image of a badge is composed from these very masks: keep them with the bytes
    # rather than inflate what was just deflated.
    parsed: Masks = [((box[0], box[1]), masks[role].crop(box)) if (box := header[name]) else ((0, 0), None)
                      for role, name in ((INK, "ink"), (MUTED, "muted"))]
    parsed.append(((header["qr"][0], header["qr"][1]),
                   modules.resize((total * module, total * module), Image.Resampling.NEAREST)))
    OPENED.put(layer, size, (parsed, float(strike)))
    return layer


def compose_png(face: BadgeFace, *, size: str, credential: str, static: bytes) -> bytes:
    """Put the live state and date on a badge's static PNG layer; return the baked, palette PNG."""
    opened = OPENED.get(static, size)
    if opened is None:
        opened = open_static_png(static, size)
        OPENED.put(static, size, opened)
    masks, strike = opened
    # Every mask lies on one colour of the frame (text on the card's body, the QR code in its
    # white box) and no two overlap: a pixel's palette index is a function of its coverage
    # alone, and a table maps it. The same pixels as blending in colour, then quantising
    # (tests compare the two), at less than half the cost.
    theme = theme_of(face.status)
    body = _rgb(theme.body)
    canvas = _frame_indices(face.status, size).copy()
    for (at, mask), colour in zip(masks[:2], (_rgb(theme.ink), _rgb(theme.muted)), strict=True):
        if mask is not None:  # +1: the canvas starts with PNG's filter-type column
            canvas.paste(mask.point(_coverage_table(face.status, body, colour)), (at[0] + 1, at[1]),
                         mask.point(_COVERED))
    # The QR modules are fully dark or not at all: their mask pastes one index as it is.
    (qr_x, qr_y), modules = masks[2]
    if modules is not None:
        canvas.paste(_coverage_table(face.status, _WHITE, _BLACK)[255], (qr_x + 1, qr_y), modules)
    date_at, date, covered = _date_tile(date_text(face.checked_on), size, face.status)
    canvas.paste(date, (date_at[0] + 1, date_at[1]), covered)
    if face.status == "revoked":
        # The strike and the band cross the text: their region is blended in colour and quantised.
        region = _overlay_region(size, strike)
        if region is None:
            return _compose_rgb(face, size, masks, strike, credential)
        patch = _colour_region(face, size, masks, strike, region).quantize(
            palette=_palette_image(face.status), dither=Image.Dither.NONE)
        canvas.paste(Image.frombytes("L", patch.size, patch.tobytes()), (region[0] + 1, region[1]))
    return write_framed_png(canvas, palette=_palette(face.status), alpha=_ALPHA, credential=credential)


def _compose_rgb(face: BadgeFace, size: str, masks: Masks, strike: float, credential: str) -> bytes:
    """Compose the whole card in colour, then quantise it to the state's palette (the reference)."""
    canvas = _colour_region(face, size, masks, strike, (0, 0, *dims_of(size)))
    indexed = canvas.quantize(palette=_palette_image(face.status), dither=Image.Dither.NONE)
    indexed.putpalette(_palette(face.status))
    for at, corner, corner_mask in _corners(size):
        indexed.paste(corner, at, corner_mask)
    return write_palette_png(indexed, palette=_palette(face.status), alpha=_ALPHA, credential=credential)


def _colour_region(face: BadgeFace, size: str, masks: Masks, strike: float, region: Box) -> Image.Image:
    """Return ``region`` of the card composed in colour: frame, text, QR code, date, revoked overlay."""
    theme = theme_of(face.status)
    x0, y0 = region[0], region[1]
    canvas = _frame_png(face.status, size).crop(region)
    for colour, ((x, y), mask) in zip((_rgb(theme.ink), _rgb(theme.muted), _BLACK), masks, strict=True):
        if mask is not None:  # Pillow clips what falls outside the region
            canvas.paste(colour, (x - x0, y - y0), mask)
    (x, y), date = _date_mask(date_text(face.checked_on), size)
    canvas.paste(_rgb(theme.muted), (x - x0, y - y0), date)
    if face.status == "revoked":
        scale = dims_of(size)[0] / DESIGN_WIDTH
        line_y = round(STRIKE_Y * scale) - y0
        ImageDraw.Draw(canvas).line((round(LEFT * scale) - x0, line_y, round((LEFT + strike) * scale) - x0, line_y),
                                    fill=REVOKED_BAND, width=max(1, round(3 * scale)))
        band_box, band, alpha = _revoked_band(size)
        canvas.paste(band, (band_box[0] - x0, band_box[1] - y0), alpha)
    return canvas


def _overlay_region(size: str, strike: float) -> Box | None:
    """Return the box the revoked overlay may touch, or None when it reaches a rounded corner."""
    width, height = dims_of(size)
    scale = width / DESIGN_WIDTH
    y, half = round(STRIKE_Y * scale), max(1, round(3 * scale))
    band = _revoked_band(size)[0]
    region = (max(0, min(band[0], round(LEFT * scale) - half)), max(0, min(band[1], y - half - 1)),
              min(width, max(band[2], round((LEFT + strike) * scale) + half + 1)), min(height, max(band[3], y + half + 2)))
    for (cx, cy), corner, _ in _corners(size):
        if cx < region[2] and region[0] < cx + corner.width and cy < region[3] and region[1] < cy + corner.height:
            return None
    return region


_WHITE, _BLACK = (255, 255, 255), (0, 0, 0)
_COVERED = [0] + [255] * 255  # a mask's pixels with any coverage


@functools.lru_cache(maxsize=16)
def _frame_indices(status: str, size: str) -> Image.Image:
    """Return the frame of a state at one size as palette indices ("L"), corners in, after a zero column."""
    indexed = _frame_png(status, size).quantize(palette=_palette_image(status), dither=Image.Dither.NONE)
    for at, corner, corner_mask in _corners(size):
        indexed.paste(corner, at, corner_mask)
    width, height = indexed.size
    framed = Image.new("L", (width + 1, height), 0)  # the zero column: filter type 0 before each row
    framed.paste(Image.frombytes("L", indexed.size, indexed.tobytes()), (1, 0))
    return framed


@functools.lru_cache(maxsize=64)
def _date_tile(text: str, size: str, status: str) -> tuple[tuple[int, int], Image.Image, Image.Image]:
    """Return where the check date goes, its palette indices and where it covers (the same for a whole day)."""
    at, mask = _date_mask(text, size)
    theme = theme_of(status)
    return at, mask.point(_coverage_table(status, _rgb(theme.body), _rgb(theme.muted))), mask.point(_COVERED)


@functools.lru_cache(maxsize=64)
def _coverage_table(status: str, background: tuple[int, int, int], colour: tuple[int, int, int]) -> list[int]:
    """Return the palette index of ``colour`` over ``background`` at each coverage 0-255, as compose in colour has it."""
    strip = Image.new("RGB", (256, 1), background)
    strip.paste(colour, (0, 0), Image.frombytes("L", (256, 1), bytes(range(256))))
    return list(strip.quantize(palette=_palette_image(status), dither=Image.Dither.NONE).tobytes())


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    """Return ``a`` covered by ``b`` at opacity ``t``."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


@functools.cache
def _palette(status: str) -> tuple[int, ...]:
    """Return the fixed palette of a state: its colours and the blends antialiasing makes of them."""
    theme = theme_of(status)
    primary, accent, body, ink, muted, pill, pill_ink = (
        _rgb(c) for c in (theme.primary, theme.accent, theme.body, theme.ink, theme.muted, theme.pill,
                          theme.pill_ink))
    white, black, revoked = (255, 255, 255), (0, 0, 0), _rgb(REVOKED_BAND)
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
    width, height = dims = dims_of(size)
    k = width / DESIGN_WIDTH * SUPERSAMPLE
    canvas = Image.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (0, 0, 0, 0))
    for item in frame_items(status):
        draw_item(canvas, item, k)
    return canvas.resize(dims, Image.Resampling.LANCZOS)


@functools.lru_cache(maxsize=16)
def _frame_png(status: str, size: str) -> Image.Image:
    """Return the shared frame of a state at one size, opaque RGB, QR box included."""
    rgba = _frame_rgba(status, size)
    canvas = Image.new("RGB", rgba.size, theme_of(status).primary)
    canvas.paste(rgba, None, rgba.getchannel("A"))
    scale = rgba.width / DESIGN_WIDTH
    left, top, box = round(QR_X * scale), round(QR_Y * scale), math.floor(QR_SIZE * scale)
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
    dims = dims_of(size)
    mask = Image.new("L", dims, 0)
    _mask_text(mask, date_item(text, MUTED), dims[0] / DESIGN_WIDTH)
    box = mask.getbbox() or (0, 0, 1, 1)
    return (box[0], box[1]), mask.crop(box)


@functools.lru_cache(maxsize=4)
def _revoked_band(size: str) -> tuple[tuple[int, int, int, int], Image.Image, Image.Image]:
    """Return the revoked band's colours and coverage at one size."""
    width, height = dims = dims_of(size)
    canvas = Image.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (0, 0, 0, 0))
    for item in revoked_items():
        draw_item(canvas, item, width / DESIGN_WIDTH * SUPERSAMPLE)
    band = canvas.resize(dims, Image.Resampling.LANCZOS)
    box = band.getchannel("A").getbbox() or (0, 0, 1, 1)
    band = band.crop(box)
    return box, band.convert("RGB"), band.getchannel("A")


def _mask_text(mask: Image.Image, item: Text, scale: float) -> None:
    """Draw a text run's coverage into an "L" mask at ``scale`` pixels per design unit."""
    px = max(1, round(item.size * scale))
    stroke = round(item.size * scale * BOLD_STROKE) if item.bold else 0
    at = (item.x * scale, item.y * scale)
    # Kept glyphs, placed (the same pixels as Pillow drawing the string, at a fraction of the
    # cost); Pillow itself for a centred or right-aligned run, or an advance of a fraction.
    placed, box = run_layout(item.text, px, *at) if item.anchor == "start" else ([], None)
    if box is None:
        _mask_text_drawn(mask, item, px, stroke, at)
        return
    if not stroke:
        paint_run(mask, placed)
        return
    if not placed:
        return
    grown = _grown(box, stroke, mask.size)
    plain = Image.new("L", (grown[2] - grown[0], grown[3] - grown[1]), 0)
    paint_run(plain, placed, (grown[0], grown[1]))
    _paste_bold(mask, grown, plain, stroke)


def _mask_text_drawn(mask: Image.Image, item: Text, px: int, stroke: int, at: tuple[float, float]) -> None:
    """Draw a text run's coverage with Pillow drawing the whole string."""
    anchor = {"start": "ls", "middle": "ms", "end": "rs"}[item.anchor]
    if not stroke:
        ImageDraw.Draw(mask).text(at, item.text, font=pil_font(px), fill=255, anchor=anchor)
        return
    layer = Image.new("L", mask.size, 0)
    ImageDraw.Draw(layer).text(at, item.text, font=pil_font(px), fill=255, anchor=anchor)
    found = layer.getbbox()
    if found is None:
        return
    grown = _grown(found, stroke, mask.size)
    _paste_bold(mask, grown, layer.crop(grown), stroke)


def _grown(box: Box, stroke: int, size: tuple[int, int]) -> Box:
    """Return ``box`` grown by ``stroke`` on every side, within an image of ``size``."""
    return (max(0, box[0] - stroke), max(0, box[1] - stroke), min(size[0], box[2] + stroke),
            min(size[1], box[3] + stroke))


def _paste_bold(mask: Image.Image, box: Box, plain: Image.Image, stroke: int) -> None:
    """Add the plain coverage ``plain`` of ``box``, made bold, to ``mask``.

    Synthetic bold by dilating the plain glyphs (a max filter over the text's box): the same
    look as FreeType's outline stroker at these widths, for a quarter of its cost.
    """
    mask.paste(ImageChops.lighter(mask.crop(box), _dilate(plain, stroke)), box)


def _dilate(image: Image.Image, radius: int) -> Image.Image:
    """Return ``image`` dilated by a (2r+1)-pixel square, outside taken as 0.

    The same pixels as ``ImageFilter.MaxFilter(2r+1)`` on a box with a ``radius`` margin of 0
    (as :func:`_mask_text` crops it), done as a row pass and a column pass of maxima over shifted
    copies: 4r cheap ``lighter`` calls instead of a (2r+1)² rank filter.
    """
    width, height = image.size
    padded = Image.new("L", (width + 2 * radius, height + 2 * radius), 0)
    padded.paste(image, (radius, radius))
    rows = padded.crop((0, 0, width, height + 2 * radius))
    for dx in range(1, 2 * radius + 1):
        rows = ImageChops.lighter(rows, padded.crop((dx, 0, dx + width, height + 2 * radius)))
    out = rows.crop((0, 0, width, height))
    for dy in range(1, 2 * radius + 1):
        out = ImageChops.lighter(out, rows.crop((0, dy, width, dy + height)))
    return out

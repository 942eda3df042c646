"""QR codes for badge verification URLs, as a matrix, SVG or PNG.

The matrix is built with the smallest QR version that holds the text, so the
modules stay as large as possible when the code is printed or shown small.
Output is deterministic: the same text gives the same bytes.
"""

from __future__ import annotations

import io
import logging

import qrcode
import qrcode.constants
import qrcode.exceptions
import zxingcpp
from PIL import Image

from signer.errors import InvalidRenderRequest

_logger = logging.getLogger(__name__)

_ECC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}

#: Quiet zone the QR specification asks for, in modules.
QUIET_ZONE = 4

# Bounds against absurd requests (a 40-version code at scale 64 is ~11k px).
_MAX_SCALE = 64
_MAX_QUIET_ZONE = 16

Matrix = list[list[bool]]


def qr_matrix(text: str, *, ecc: str = "M") -> Matrix:
    """Return the QR modules for ``text`` (True = dark), without quiet zone."""
    level = _ECC_LEVELS.get(ecc)
    if level is None:
        raise InvalidRenderRequest(f"unknown error correction level {ecc!r}", reason="bad_ecc")
    if _ZXING_WRITER:
        return _zxing_matrix(text, ecc)
    code = qrcode.QRCode(version=None, error_correction=level, border=0)
    code.add_data(text)
    try:
        code.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:
        raise InvalidRenderRequest("text too long for a QR code", reason="text_too_long") from exc
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


# zxing-cpp (already here to read codes) also writes them, in C++: ~0.2 ms where the pure-Python
# encoder's mask search takes ~4 ms, which was most of a badge image's first drawing. Both pick
# the smallest version and the mask the specification's penalty rules prefer.
_ZXING_WRITER = hasattr(zxingcpp, "create_barcode")


def _zxing_modules(text: str, ecc: str) -> tuple[int, bytes]:
    """Return (modules per side, one byte per module: 0 dark, 255 light) from zxing-cpp."""
    try:
        code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ecc)
        image = memoryview(code.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    except (ValueError, RuntimeError) as exc:  # zxing-cpp reports "too long" as a plain error
        raise InvalidRenderRequest("text too long for a QR code", reason="text_too_long") from exc
    shape = image.shape or (0, 0)  # a 2-D buffer: (rows, columns)
    return int(shape[1]), image.tobytes()


def _zxing_matrix(text: str, ecc: str) -> Matrix:
    width, pixels = _zxing_modules(text, ecc)
    return [[pixels[y * width + x] == 0 for x in range(width)] for y in range(width)]


def qr_mask(text: str, *, ecc: str = "M", quiet_zone: int = QUIET_ZONE) -> Image.Image:
    """Return the QR code as an "L" image, one pixel per module, dark modules 255, quiet zone included."""
    _check_quiet_zone(quiet_zone)
    if ecc not in _ECC_LEVELS:
        raise InvalidRenderRequest(f"unknown error correction level {ecc!r}", reason="bad_ecc")
    if _ZXING_WRITER:
        width, pixels = _zxing_modules(text, ecc)
        modules = Image.frombytes("L", (width, width), pixels).point([255 - v for v in range(256)])
    else:
        matrix = qr_matrix(text, ecc=ecc)
        width = len(matrix)
        modules = Image.frombytes("L", (width, width), bytes(255 if c else 0 for row in matrix for c in row))
    total = width + 2 * quiet_zone
    mask = Image.new("L", (total, total), 0)
    mask.paste(modules, (quiet_zone, quiet_zone))
    return mask


def qr_version(matrix: Matrix) -> int:
    """Return the QR version (1-40) of a matrix built by :func:`qr_matrix`."""
    return (len(matrix) - 17) // 4


def qr_path_data(matrix: Matrix, *, offset: int = 0) -> str:
    """Return SVG path data drawing the dark modules as 1x1 unit squares."""
    parts: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        width = len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            run = x - start
            # One subpath per horizontal run keeps the path short and gap-free.
            parts.append(f"M{start + offset} {y + offset}h{run}v1h-{run}z")
    return "".join(parts)


def qr_svg(text: str, *, ecc: str = "M", quiet_zone: int = QUIET_ZONE, module_px: int = 8) -> bytes:
    """Render ``text`` as a standalone SVG QR code with a viewBox in modules."""
    _check_quiet_zone(quiet_zone)
    if not 1 <= module_px <= _MAX_SCALE:
        raise InvalidRenderRequest("module size out of range", reason="bad_scale")
    matrix = qr_matrix(text, ecc=ecc)
    total = len(matrix) + 2 * quiet_zone
    px = total * module_px
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{px}" height="{px}"'
        f' viewBox="0 0 {total} {total}" shape-rendering="crispEdges">'
        f'<rect width="{total}" height="{total}" fill="#ffffff"/>'
        f'<path fill="#000000" d="{qr_path_data(matrix, offset=quiet_zone)}"/>'
        "</svg>\n"
    )
    return svg.encode("utf-8")


def qr_png(text: str, *, ecc: str = "M", scale: int = 8, quiet_zone: int = QUIET_ZONE) -> bytes:
    """Render ``text`` as a 1-bit PNG QR code, each module ``scale`` pixels wide."""
    _check_quiet_zone(quiet_zone)
    if not 1 <= scale <= _MAX_SCALE:
        raise InvalidRenderRequest("scale out of range", reason="bad_scale")
    image = qr_image(qr_matrix(text, ecc=ecc), scale=scale, quiet_zone=quiet_zone)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=9)
    return out.getvalue()


def qr_image(matrix: Matrix, *, scale: int, quiet_zone: int = QUIET_ZONE) -> Image.Image:
    """Return a mode-"1" Pillow image of ``matrix`` scaled by an integer factor."""
    size = len(matrix) + 2 * quiet_zone
    small = Image.new("1", (size, size), 1)
    small.putdata(
        [
            0 if _dark(matrix, x - quiet_zone, y - quiet_zone) else 1
            for y in range(size)
            for x in range(size)
        ]
    )
    # Nearest-neighbour at an integer factor keeps every module a crisp square.
    return small.resize((size * scale, size * scale), Image.Resampling.NEAREST)


def qr_svg_fragment(
    text: str,
    *,
    x: float,
    y: float,
    size: float,
    ecc: str = "M",
    quiet_zone: int = QUIET_ZONE,
    dark: str = "#000000",
    light: str = "#ffffff",
) -> str:
    """Return an SVG ``<g>`` drawing the QR code, quiet zone included, in a ``size`` square."""
    _check_quiet_zone(quiet_zone)
    matrix = qr_matrix(text, ecc=ecc)
    total = len(matrix) + 2 * quiet_zone
    unit = size / total
    return (
        f'<g transform="translate({_num(x)} {_num(y)}) scale({_num(unit)})"'
        ' shape-rendering="crispEdges">'
        f'<rect width="{total}" height="{total}" fill="{light}"/>'
        f'<path fill="{dark}" d="{qr_path_data(matrix, offset=quiet_zone)}"/>'
        "</g>"
    )


def _dark(matrix: Matrix, x: int, y: int) -> bool:
    """Tell whether the module at (x, y) is dark; outside the matrix is light."""
    n = len(matrix)
    return 0 <= x < n and 0 <= y < n and matrix[y][x]


def _check_quiet_zone(quiet_zone: int) -> None:
    """Refuse a quiet zone outside the supported range."""
    if not 0 <= quiet_zone <= _MAX_QUIET_ZONE:
        raise InvalidRenderRequest("quiet zone out of range", reason="bad_quiet_zone")


def _num(value: float) -> str:
    """Format a coordinate compactly and deterministically (at most 4 decimals)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text

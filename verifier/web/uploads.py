"""Safe handling of images uploaded by shoppers and shop owners.

Everything here treats the bytes as hostile: the kind is decided by magic
bytes only, dimensions are checked before any pixel is decoded, and every
Pillow, zxing or XML failure is translated into :class:`InvalidImage`.
"""

from __future__ import annotations

import io
import logging
import re
import struct

from PIL import Image, ImageOps

from signer.errors import InvalidImage

_logger = logging.getLogger(__name__)

#: Default caps; callers with stricter limits (complaint evidence) pass their own.
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 12 * 1024 * 1024
#: Complaint evidence: a JPEG photo is decoded at a reduced scale, so a phone's 48 MP photo is
#: fine; a PNG or WebP is decoded whole, so it may hold at most a long phone screenshot's pixels.
EVIDENCE_JPEG_MAX_PIXELS = 64_000_000
EVIDENCE_LOSSLESS_MAX_PIXELS = 16_000_000

_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
_EVIDENCE_KINDS = frozenset({"jpeg", "png", "webp"})

# An XML declaration or an SVG doctype is enough to call it SVG: the
# hardened XML parser in signer.baking then refuses entities and checks that
# the root really is <svg>. Comments before a bare <svg> are allowed within a
# bounded window so sniffing never scans megabytes.
_SVG_SNIFF_BYTES = 4096
_SVG_PROLOGUE = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?\s*
        (?:<\?xml[\s?]
          |<!DOCTYPE\s+svg[\s>\[]
          |(?:<!--.*?-->\s*)*<svg[\s>/])""",
    re.VERBOSE | re.DOTALL,
)

def sniff_kind(data: bytes) -> str:
    """Return the image kind named by the magic bytes of ``data``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if _SVG_PROLOGUE.match(data[:_SVG_SNIFF_BYTES]):
        return "svg"
    raise InvalidImage("The file is not a PNG, JPEG, WebP, GIF or SVG image.", reason="not_an_image")


def open_raster(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Image.Image:
    """Decode a raster image fully and safely, with its EXIF orientation applied."""
    check_size(data, max_bytes=max_bytes)
    kind = sniff_kind(data)
    if kind not in _PILLOW_FORMATS:
        raise InvalidImage(f"A {kind.upper()} image is not accepted here.", reason="unsupported_format")
    image = open_header(data, kind=kind, max_pixels=max_pixels)
    try:
        image.load()
        # exif_transpose reads the (attacker-supplied) EXIF block, so it is
        # inside the same translation net as the decode.
        transposed = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise InvalidImage("The image is too large to decode.", reason="bomb") from exc
    except (OSError, EOFError, SyntaxError, ValueError, struct.error, IndexError) as exc:
        raise InvalidImage("The image file is truncated or corrupt.", reason="truncated") from exc
    finally:
        image.close()
    return transposed


def reencode_evidence(data: bytes, *, max_side: int = 2048) -> tuple[bytes, str]:
    """Re-encode complaint evidence as a metadata-free JPEG no larger than ``max_side``.

    The work is bounded before any pixel is decoded: the header says how many pixels there are,
    a JPEG is decoded at a reduced DCT scale (``Image.draft``) just large enough for ``max_side``,
    and a lossless picture (PNG, WebP), which can only be decoded whole, may hold at most
    ``EVIDENCE_LOSSLESS_MAX_PIXELS``. A 150 KB picture of 6200 x 6200 pixels cost a worker
    seconds and half a gigabyte decoded whole; now it costs a reduced decode, or a 400.
    """
    check_size(data, max_bytes=DEFAULT_MAX_BYTES)
    kind = sniff_kind(data)
    if kind not in _EVIDENCE_KINDS:
        raise InvalidImage("Evidence must be a JPEG, PNG or WebP photo.", reason="unsupported_format")
    image = open_header(data, kind=kind,
                        max_pixels=EVIDENCE_JPEG_MAX_PIXELS if kind == "jpeg" else EVIDENCE_LOSSLESS_MAX_PIXELS)
    try:
        width, height = image.size
        if kind == "jpeg" and max(width, height) > max_side:
            scale = max_side / max(width, height)
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB",
                        (max(1, int(width * scale)), max(1, int(height * scale))))
        image.load()
        transposed = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise InvalidImage("The image is too large to decode.", reason="bomb") from exc
    except (OSError, EOFError, SyntaxError, ValueError, struct.error, IndexError) as exc:
        raise InvalidImage("The image file is truncated or corrupt.", reason="truncated") from exc
    finally:
        image.close()
    longest = max(transposed.size)
    if longest > 2 * max_side:  # a cheap box reduction first: LANCZOS then works on a few megapixels
        transposed = transposed.reduce(longest // (2 * max_side) + 1)
    rgb = flatten_to_rgb(transposed)
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A brand-new image from raw pixels carries no info dict at all, so no
    # EXIF/GPS, ICC, XMP or comment can ride along into the saved file.
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    try:
        clean.save(out, format="JPEG", quality=85, optimize=True)
    except (OSError, ValueError) as exc:
        raise InvalidImage("The image could not be re-encoded.", reason="invalid") from exc
    return out.getvalue(), "image/jpeg"


def check_size(data: bytes, *, max_bytes: int) -> None:
    """Refuse ``data`` longer than ``max_bytes`` (before anything is decoded)."""
    """Refuse uploads over the byte cap before any parsing."""
    if len(data) > max_bytes:
        raise InvalidImage(f"The file is larger than {max_bytes} bytes.", reason="too_large")


def open_header(data: bytes, *, kind: str, max_pixels: int) -> Image.Image:
    """Open an image's header only, refusing one over ``max_pixels`` before any pixel is decoded."""
    """Open ``data`` lazily (header only) and refuse bombs before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives as an exception when warnings are errors
        # (the test suite); both mean "too many pixels".
        raise InvalidImage("The image has too many pixels.", reason="bomb") from exc
    except (EOFError, struct.error) as exc:
        raise InvalidImage("The image file is truncated.", reason="truncated") from exc
    except (OSError, SyntaxError, ValueError, IndexError) as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else "not_an_image"
        raise InvalidImage("The image header cannot be read.", reason=reason) from exc
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        image.close()
        raise InvalidImage(f"The image has too many pixels ({width}x{height}).", reason="bomb")
    return image


def flatten_to_rgb(image: Image.Image) -> Image.Image:
    """Return ``image`` as RGB, transparency flattened onto white."""
    """Return an RGB copy, putting any transparency on white (not black)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # High bit-depth greyscale: scale to 8 bits instead of clipping.
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    return image.convert("RGB")



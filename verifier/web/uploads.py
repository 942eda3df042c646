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
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from signer.errors import InvalidImage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_logger = logging.getLogger(__name__)

#: Default caps; callers with stricter limits (complaint evidence) pass their own.
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 12 * 1024 * 1024
#: Complaint evidence: a JPEG photo is decoded at a reduced scale, so a phone's 48 MP photo is
#: fine; a PNG or WebP is decoded whole, so it may hold at most a long phone screenshot's pixels.
EVIDENCE_JPEG_MAX_PIXELS = 64_000_000
EVIDENCE_LOSSLESS_MAX_PIXELS = 16_000_000
#: QR scanning of lossless pictures (PNG, WebP): they decode at full size, so fewer pixels are
#: accepted than for JPEG photos, which decode at a reduced scale (``Image.draft``).
QR_MAX_PIXELS = 20_000_000
#: Pictures are scanned at no more than about this many pixels (a QR code in a phone photo or a
#: long screenshot stays far above zxing's ~2 px per module).
QR_SCAN_PIXELS = 6_000_000

_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
_EVIDENCE_KINDS = frozenset({"jpeg", "png", "webp"})
_QR_KINDS = frozenset({"jpeg", "png", "webp"})

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

# Sizes chosen for QR scanning: zxing needs a module to be at least ~2 px
# wide, and gains nothing from more than ~2000 px on the longer side.
_QR_DOWNSCALE_SIDE = 1600
_QR_UPSCALE_BELOW = 400
_QR_UPSCALE_FACTOR = 3
# Only QR codes: other symbologies are noise here and cost decode time.
_QR_FORMATS = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
# The costlier filters run on at most this many pixels per side, so a 40 MP
# photo cannot make one scan take seconds.
_QR_FILTER_SIDE = 2400

_ID_SEGMENT = r"[0-9A-Za-z-]{1,40}"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Printable ASCII without space, backslash, double quote or angle brackets, which
# browsers "fix up"; anything else in a QR text is a sign of a crafted URL.
_URL_CHARS = re.compile(r"\A[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]^_`a-z{|}~]+\Z")


@dataclass(frozen=True)
class UploadFindings:
    """What an uploaded picture or baked badge carries."""

    kind: str  # png | jpeg | webp | gif | svg
    credential: str | None  # baked OB3 credential (PNG iTXt / SVG), if any
    qr_texts: tuple[str, ...]  # QR code texts found in the picture (raster only)


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
    _check_size(data, max_bytes=max_bytes)
    kind = sniff_kind(data)
    if kind not in _PILLOW_FORMATS:
        raise InvalidImage(f"A {kind.upper()} image is not accepted here.", reason="unsupported_format")
    image = _open_header(data, kind=kind, max_pixels=max_pixels)
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
    _check_size(data, max_bytes=DEFAULT_MAX_BYTES)
    kind = sniff_kind(data)
    if kind not in _EVIDENCE_KINDS:
        raise InvalidImage("Evidence must be a JPEG, PNG or WebP photo.", reason="unsupported_format")
    image = _open_header(data, kind=kind,
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
    rgb = _flatten_to_rgb(transposed)
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


def extract_from_upload(data: bytes, *, max_bytes: int) -> UploadFindings:
    """Return the baked credential and QR texts carried by an uploaded image."""
    _check_size(data, max_bytes=max_bytes)
    kind = sniff_kind(data)
    if kind == "svg":
        from signer.baking import extract_svg

        # SVG is never rasterised: only the baked credential counts.
        return UploadFindings(kind=kind, credential=extract_svg(data), qr_texts=())
    if kind not in _QR_KINDS:
        raise InvalidImage(f"A {kind.upper()} image is not accepted here.", reason="unsupported_format")
    credential = None
    if kind == "png":
        from signer.baking import extract_png

        credential = extract_png(data)
    # Scanned even when a credential is baked in: a picture may show one badge's QR code while
    # carrying another badge's credential, and the shopper sees (and scans) the QR code.
    return UploadFindings(kind=kind, credential=credential, qr_texts=_scan_qr(data, max_bytes=max_bytes))


def classify_verify_url(text: str, *, public_url: str) -> str | None:
    """Return the badge id if ``text`` is one of this service's verify URLs, else None."""
    origin = _origin(public_url)
    if origin is None:
        raise ValueError(f"LIANG_PUBLIC_URL is not an absolute http(s) URL: {public_url!r}")
    scheme, canonical_netlocs, base_path = origin
    candidate = text.strip()
    # Refuse anything a browser would silently rewrite (backslashes, tabs,
    # non-ASCII look-alikes) instead of trying to predict the rewrite.
    if not _URL_CHARS.match(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() != scheme or parts.netloc.lower() not in canonical_netlocs:
        return None
    match = re.fullmatch(re.escape(base_path) + r"/v/(" + _ID_SEGMENT + r")/?", parts.path)
    return match.group(1) if match else None


def _check_size(data: bytes, *, max_bytes: int) -> None:
    """Refuse uploads over the byte cap before any parsing."""
    if len(data) > max_bytes:
        raise InvalidImage(f"The file is larger than {max_bytes} bytes.", reason="too_large")


def _open_header(data: bytes, *, kind: str, max_pixels: int) -> Image.Image:
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


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
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


def _scan_qr(data: bytes, *, max_bytes: int) -> tuple[str, ...]:
    """Decode QR codes trying a bounded series of image variants."""
    _check_size(data, max_bytes=max_bytes)
    kind = sniff_kind(data)
    if kind not in _QR_KINDS:
        raise InvalidImage("QR codes are read from JPEG, PNG or WebP pictures only.", reason="unsupported_format")
    grey = _flatten_to_rgb(_open_for_scan(data, kind=kind)).convert("L")
    for name, variant in _qr_variants(grey):
        try:
            results = zxingcpp.read_barcodes(variant, formats=_QR_FORMATS)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise InvalidImage("The picture could not be scanned for QR codes.", reason="invalid") from exc
        texts = tuple(dict.fromkeys(r.text for r in results if r.text))
        if texts:
            _logger.debug("QR code found in variant %s", name)
            return texts
    return ()


def _open_for_scan(data: bytes, *, kind: str) -> Image.Image:
    """Decode a picture for QR scanning at reduced size: JPEG via ``draft`` (DCT scaling, cheap),
    others under a lower pixel cap, then ``reduce`` to about ``QR_SCAN_PIXELS``."""
    image = _open_header(data, kind=kind, max_pixels=DEFAULT_MAX_PIXELS if kind == "jpeg" else QR_MAX_PIXELS)
    try:
        width, height = image.size
        if kind == "jpeg" and width * height > QR_SCAN_PIXELS:
            scale = (QR_SCAN_PIXELS / (width * height)) ** 0.5
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
    pixels = transposed.width * transposed.height
    if pixels > QR_SCAN_PIXELS:
        factor = int((pixels / QR_SCAN_PIXELS) ** 0.5 + 0.999)
        if factor > 1:
            transposed = transposed.reduce(factor)
    return transposed


def _qr_variants(grey: Image.Image) -> Iterator[tuple[str, Image.Image]]:
    """Yield at most eight image variants, cheapest first, built lazily."""
    longest = max(grey.size)
    work = grey if longest <= _QR_FILTER_SIDE else _scaled(grey, _QR_FILTER_SIDE / longest)
    steps: list[tuple[str, Callable[[], Image.Image]]] = [
        ("as_is", lambda: grey),
        ("autocontrast", lambda: ImageOps.autocontrast(grey, cutoff=1)),
    ]
    if longest > _QR_DOWNSCALE_SIDE:
        steps.append(
            ("downscaled", lambda: _scaled(ImageOps.autocontrast(grey, cutoff=1), _QR_DOWNSCALE_SIDE / longest))
        )
    if longest < _QR_UPSCALE_BELOW:
        steps.append(("upscaled", lambda: _scaled(grey, _QR_UPSCALE_FACTOR)))
    steps += [
        ("sharpened", lambda: ImageOps.autocontrast(work, cutoff=1).filter(ImageFilter.UnsharpMask(2, 150, 3))),
        ("binarised", lambda: _binarised(work)),
        ("smoothed_binarised", lambda: _binarised(work.filter(ImageFilter.MedianFilter(3)))),
        ("rotated_45", lambda: work.rotate(45, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)),
    ]
    for name, build in steps:
        yield name, build()


def _scaled(image: Image.Image, factor: float) -> Image.Image:
    """Return ``image`` resized by ``factor`` (at least 1x1)."""
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _binarised(grey: Image.Image) -> Image.Image:
    """Return a black-and-white copy thresholded with Otsu's method."""
    histogram = grey.histogram()
    total = sum(histogram)
    weighted_total = sum(i * h for i, h in enumerate(histogram))
    best_threshold, best_variance = 128, -1.0
    weight_low = 0
    sum_low = 0
    for threshold, count in enumerate(histogram):
        weight_low += count
        if weight_low == 0 or weight_low == total:
            continue
        sum_low += threshold * count
        weight_high = total - weight_low
        mean_low = sum_low / weight_low
        mean_high = (weighted_total - sum_low) / weight_high
        variance = weight_low * weight_high * (mean_low - mean_high) ** 2
        if variance > best_variance:
            best_threshold, best_variance = threshold, variance
    return grey.point(lambda v: 255 if v > best_threshold else 0)


def _origin(public_url: str) -> tuple[str, frozenset[str], str] | None:
    """Return scheme, accepted netloc spellings and base path of the public URL."""
    try:
        parts = urlsplit(public_url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if ":" in host:  # IPv6 literal: urlsplit dropped the brackets
        host = f"[{host}]"
    default = _DEFAULT_PORTS[scheme]
    effective = default if port is None else port
    netlocs = {f"{host}:{effective}"}
    if effective == default:
        netlocs.add(host)
    return scheme, frozenset(netlocs), parts.path.rstrip("/")

"""What a picture shows: the baked credential and the QR codes in an uploaded image, and whether a
QR text is one of this service's verify URLs.

The bytes are hostile: ``verifier.web.uploads`` sniffs the kind by magic bytes and checks the
dimensions before any pixel is decoded; every Pillow, zxing or XML failure becomes
:class:`InvalidImage`. Used by the picture verification (``picture.py``) and ``liang verify``.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from signer.baking import extract_png, extract_svg
from signer.errors import InvalidImage
from verifier.web.uploads import DEFAULT_MAX_PIXELS, check_size, flatten_to_rgb, open_header, sniff_kind

_logger = logging.getLogger(__name__)

#: QR scanning of lossless pictures (PNG, WebP): they decode at full size, so fewer pixels are
#: accepted than for JPEG photos, which decode at a reduced scale (``Image.draft``).
QR_MAX_PIXELS = 20_000_000
#: Pictures are scanned at no more than about this many pixels (a QR code in a phone photo or a
#: long screenshot stays far above zxing's ~2 px per module).
QR_SCAN_PIXELS = 6_000_000

_QR_KINDS = frozenset({"jpeg", "png", "webp"})

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


def extract_from_upload(data: bytes, *, max_bytes: int) -> UploadFindings:
    """Return the baked credential and QR texts carried by an uploaded image."""
    check_size(data, max_bytes=max_bytes)
    kind = sniff_kind(data)
    if kind == "svg":
        # SVG is never rasterised: only the baked credential counts.
        return UploadFindings(kind=kind, credential=extract_svg(data), qr_texts=())
    if kind not in _QR_KINDS:
        raise InvalidImage(f"A {kind.upper()} image is not accepted here.", reason="unsupported_format")
    credential = None
    if kind == "png":
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


def _scan_qr(data: bytes, *, max_bytes: int) -> tuple[str, ...]:
    """Decode QR codes trying a bounded series of image variants."""
    check_size(data, max_bytes=max_bytes)
    kind = sniff_kind(data)
    if kind not in _QR_KINDS:
        raise InvalidImage("QR codes are read from JPEG, PNG or WebP pictures only.", reason="unsupported_format")
    grey = flatten_to_rgb(_open_for_scan(data, kind=kind)).convert("L")
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
    image = open_header(data, kind=kind, max_pixels=DEFAULT_MAX_PIXELS if kind == "jpeg" else QR_MAX_PIXELS)
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

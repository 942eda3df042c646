"""Tests for verifier.web.uploads: sniffing, safe decoding, QR scanning, URL checks."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
import qrcode
from PIL import ExifTags, Image, ImageDraw, ImageFilter

from signer import baking
from signer.errors import BadgeError, InvalidImage
from verifier.verification import scan
from verifier.verification.scan import UploadFindings, classify_verify_url, extract_from_upload
from verifier.web import uploads
from verifier.web.uploads import open_raster, reencode_evidence, sniff_kind

PUBLIC = "http://127.0.0.1:8000"
VERIFY_URL = f"{PUBLIC}/v/7K3M-9QX2-HT4B"


# --------------------------------------------------------------------------- helpers


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def _qr_image(text: str = VERIFY_URL, *, box_size: int = 8) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _busy_background(size: tuple[int, int] = (1600, 1200), seed: int = 7) -> Image.Image:
    rng = random.Random(seed)  # noqa: S311 - deterministic test scenery, not security
    background = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(background)
    for _ in range(300):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(10, 250), y0 + rng.randrange(10, 250)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = rng.choice(("rect", "ellipse", "line"))
        if shape == "rect":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randrange(1, 8))
    noise = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(background, noise, 0.25)


def _photo_with_qr() -> bytes:
    """Build a photo-like JPEG: a tilted, slightly blurred QR on a noisy scene."""
    qr = _qr_image(box_size=6).rotate(20, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    qr = qr.filter(ImageFilter.GaussianBlur(1.0))
    scene = _busy_background()
    scene.paste(qr, (520, 330))
    return _encode(scene, "JPEG", quality=70)


def _png_header_only(width: int, height: int) -> bytes:
    """Return a tiny PNG whose IHDR claims the given size (pixel data is bogus)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _jpeg_with_exif(orientation: int = 1) -> bytes:
    """Return a 200x100 JPEG, left half red and right half blue, with camera and GPS EXIF."""
    image = Image.new("RGB", (200, 100), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 100, 100))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 17.0)
    return _encode(image, "JPEG", quality=95, exif=exif, comment=b"shot at home")


@pytest.fixture(scope="module")
def qr_png() -> bytes:
    try:
        from signer.qr import qr_png as make_qr_png
    except ImportError:
        return _encode(_qr_image(), "PNG")
    return make_qr_png(VERIFY_URL)


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    return _photo_with_qr()


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n rest", "png"),
        (b"\xff\xd8\xff\xe0 rest", "jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a rest", "gif"),
        (b"GIF87a rest", "gif"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n  <svg>', "svg"),
        (b"<?xml version='1.0'?><!-- made by hand --><!DOCTYPE svg><svg\n>", "svg"),
        (b"<!-- made by hand -->\n<svg/>", "svg"),
        (b"<!DOCTYPE svg [<!ENTITY a 'x'>]><svg>&a;</svg>", "svg"),
    ],
)
def test_sniff_kind_reads_magic_bytes(data: bytes, kind: str) -> None:
    assert sniff_kind(data) == kind


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"just some text, not a picture", id="text"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", id="pdf"),
        pytest.param(b"", id="empty"),
        pytest.param(b"<html><body><svg></svg></body></html>", id="html-with-svg"),
        pytest.param(b"RIFF\x10\x00\x00\x00WAVEfmt ", id="riff-wave"),
        pytest.param(b"PK\x03\x04 zip named evidence.png", id="zip"),
    ],
)
def test_sniff_kind_refuses_non_images(data: bytes) -> None:
    with pytest.raises(InvalidImage, match="not a PNG") as info:
        sniff_kind(data)
    assert info.value.reason == "not_an_image"
    assert isinstance(info.value, BadgeError)


# --------------------------------------------------------------------------- open_raster


def test_open_raster_decodes_png(qr_png: bytes) -> None:
    image = open_raster(qr_png)
    assert image.width > 100
    assert image.height == image.width


def test_open_raster_refuses_pdf_named_like_an_image() -> None:
    # The caller never passes a filename or content type; only bytes count.
    with pytest.raises(InvalidImage, match="not a PNG") as info:
        open_raster(b"%PDF-1.4\n" + b"0" * 200)
    assert info.value.reason == "not_an_image"


def test_open_raster_refuses_wrong_magic() -> None:
    # PNG signature in front of a JPEG body: sniffed as PNG, and Pillow is
    # only allowed to try the PNG decoder, which refuses it.
    jpeg = _encode(Image.new("RGB", (32, 32), "green"), "JPEG")
    with pytest.raises(InvalidImage, match="header") as info:
        open_raster(b"\x89PNG\r\n\x1a\n" + jpeg)
    assert info.value.reason == "not_an_image"
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_open_raster_refuses_truncated_file(fmt: str) -> None:
    image = _busy_background((300, 200))
    data = _encode(image, fmt)
    with pytest.raises(InvalidImage, match="truncated") as info:
        open_raster(data[: len(data) // 2])
    assert info.value.reason == "truncated"


def test_open_raster_refuses_header_claiming_huge_size() -> None:
    # 10^10 pixels: past Pillow's own hard limit, still translated.
    with pytest.raises(InvalidImage, match="too many pixels") as info:
        open_raster(_png_header_only(100_000, 100_000))
    assert info.value.reason == "bomb"


def test_open_raster_refuses_bomb_between_pillow_warning_and_error_limits() -> None:
    # 10^8 pixels: Pillow warns (or raises, when warnings are errors); we refuse.
    with pytest.warns(Image.DecompressionBombWarning):
        with pytest.raises(InvalidImage, match="too many pixels") as info:
            open_raster(_png_header_only(10_000, 10_000))
    assert info.value.reason == "bomb"


def test_open_raster_refuses_real_bomb_before_decoding() -> None:
    # A genuine 1-bit PNG of 49 MP compresses to a few KB.
    data = _encode(Image.new("1", (7000, 7000)), "PNG")
    assert len(data) < 100_000
    with pytest.raises(InvalidImage, match="7000x7000") as info:
        open_raster(data)
    assert info.value.reason == "bomb"


def test_open_raster_honours_max_pixels(qr_png: bytes) -> None:
    with pytest.raises(InvalidImage, match="too many pixels") as info:
        open_raster(qr_png, max_pixels=100)
    assert info.value.reason == "bomb"


def test_open_raster_refuses_oversize_bytes(qr_png: bytes) -> None:
    with pytest.raises(InvalidImage, match="larger than 100 bytes") as info:
        open_raster(qr_png, max_bytes=100)
    assert info.value.reason == "too_large"


def test_open_raster_refuses_svg() -> None:
    with pytest.raises(InvalidImage, match="SVG") as info:
        open_raster(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert info.value.reason == "unsupported_format"


def test_open_raster_leaves_pillow_global_limit_alone(qr_png: bytes) -> None:
    before = Image.MAX_IMAGE_PIXELS
    open_raster(qr_png, max_pixels=10**12)
    with pytest.raises(InvalidImage):
        open_raster(_png_header_only(100_000, 100_000))
    assert Image.MAX_IMAGE_PIXELS == before


def test_open_raster_applies_exif_orientation() -> None:
    image = open_raster(_jpeg_with_exif(orientation=6))
    # Orientation 6 means "rotate 90° clockwise to display": the red left
    # half ends up on top.
    assert image.size == (100, 200)
    red, _green, blue = image.convert("RGB").getpixel((50, 30))
    assert red > 200 and blue < 60


# --------------------------------------------------------------------------- evidence


def test_reencode_evidence_strips_exif_gps_and_comment() -> None:
    original = _jpeg_with_exif()
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" in original and b"PhoneMaker" in original

    data, content_type = reencode_evidence(original)

    assert content_type == "image/jpeg"
    assert sniff_kind(data) == "jpeg"
    after = Image.open(io.BytesIO(data))
    assert not after.getexif()
    assert not after.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "icc_profile" not in after.info and "xmp" not in after.info and "comment" not in after.info
    for marker in (b"Exif", b"PhoneMaker", b"shot at home", b"http://ns.adobe.com/xap", b"ICC_PROFILE"):
        assert marker not in data


def test_reencode_evidence_strips_png_metadata_and_flattens_alpha() -> None:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    icc = b"\0" * 128  # any bytes: Pillow stores them verbatim
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    data = _encode(image, "PNG", exif=exif, icc_profile=icc)
    assert b"PhoneMaker" in data

    out, _ = reencode_evidence(data)

    assert b"PhoneMaker" not in out and b"ICC_PROFILE" not in out
    after = Image.open(io.BytesIO(out))
    assert after.mode == "RGB"
    # Transparency becomes white, not black.
    assert min(after.getpixel((32, 32))) > 240


def test_reencode_evidence_applies_orientation() -> None:
    data, _ = reencode_evidence(_jpeg_with_exif(orientation=6))
    after = Image.open(io.BytesIO(data))
    assert after.size == (100, 200)
    red, _green, blue = after.getpixel((50, 30))
    assert red > 200 and blue < 60
    red, _green, blue = after.getpixel((50, 170))
    assert blue > 200 and red < 60


def test_reencode_evidence_downscales_longer_side() -> None:
    data = _encode(Image.new("RGB", (3000, 1000), "white"), "WEBP")
    out, _ = reencode_evidence(data, max_side=600)
    assert Image.open(io.BytesIO(out)).size == (600, 200)


def test_reencode_evidence_handles_16_bit_png() -> None:
    image = Image.new("I;16", (40, 40), 65535)
    out, _ = reencode_evidence(_encode(image, "PNG"))
    assert min(Image.open(io.BytesIO(out)).getpixel((5, 5))) > 240


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "unsupported_format", id="svg"),
        pytest.param(_encode(Image.new("P", (8, 8)), "GIF"), "unsupported_format", id="gif"),
        pytest.param(b"hello world", "not_an_image", id="text"),
        pytest.param(_png_header_only(100_000, 100_000), "bomb", id="bomb"),
    ],
)
def test_reencode_evidence_refuses(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidImage) as info:
        reencode_evidence(data)
    assert info.value.reason == reason


def test_reencode_evidence_refuses_truncated_jpeg() -> None:
    data = _encode(_busy_background((300, 200)), "JPEG")
    with pytest.raises(InvalidImage, match="truncated") as info:
        reencode_evidence(data[: len(data) // 2])
    assert info.value.reason == "truncated"


# --------------------------------------------------------------------------- QR scanning


def _qr_texts(data: bytes) -> list[str]:
    """Return the QR texts an upload carries, as the picture-verify page and `liang verify` read them."""
    return list(extract_from_upload(data, max_bytes=uploads.DEFAULT_MAX_BYTES).qr_texts)


def test_scan_qr_in_clean_png(qr_png: bytes) -> None:
    assert _qr_texts(qr_png) == [VERIFY_URL]


def test_scan_qr_in_photo(photo_jpeg: bytes) -> None:
    assert _qr_texts(photo_jpeg) == [VERIFY_URL]


def test_scan_qr_in_webp_screenshot() -> None:
    screen = Image.new("RGB", (750, 1334), (245, 245, 245))
    draw = ImageDraw.Draw(screen)
    for row in range(0, 1300, 40):
        draw.rectangle((30, row + 10, 30 + (row * 7) % 600, row + 24), fill=(90, 90, 90))
    screen.paste(_qr_image(box_size=5), (200, 500))
    assert _qr_texts(_encode(screen, "WEBP", quality=80)) == [VERIFY_URL]


def test_scan_qr_in_tiny_image() -> None:
    tiny = _qr_image(box_size=8).resize((90, 90), Image.Resampling.BILINEAR)
    assert _qr_texts(_encode(tiny, "PNG")) == [VERIFY_URL]


def test_scan_qr_on_transparent_png() -> None:
    # Black modules on a transparent background must not turn black-on-black.
    qr = _qr_image().convert("L")
    rgba = Image.new("RGBA", qr.size, (0, 0, 0, 0))
    rgba.putalpha(qr.point(lambda v: 255 - v))
    assert _qr_texts(_encode(rgba, "PNG")) == [VERIFY_URL]


def test_scan_qr_deduplicates() -> None:
    qr = _qr_image()
    sheet = Image.new("RGB", (qr.width * 2 + 40, qr.height), "white")
    sheet.paste(qr, (0, 0))
    sheet.paste(qr, (qr.width + 40, 0))
    assert _qr_texts(_encode(sheet, "PNG")) == [VERIFY_URL]


def test_scan_qr_without_qr_is_empty() -> None:
    assert _qr_texts(_encode(_busy_background(), "JPEG", quality=70)) == []


def test_scan_qr_tries_a_bounded_number_of_variants(monkeypatch: pytest.MonkeyPatch) -> None:
    import zxingcpp

    calls: list[tuple[int, int]] = []
    real = zxingcpp.read_barcodes

    def counting(image: Image.Image, **kwargs: object) -> list[object]:
        calls.append(image.size)
        return real(image, **kwargs)

    monkeypatch.setattr(zxingcpp, "read_barcodes", counting)
    assert _qr_texts(_encode(Image.new("RGB", (200, 100), "grey"), "PNG")) == []
    assert 1 < len(calls) <= 8


def test_scan_qr_refuses_gif() -> None:
    with pytest.raises(InvalidImage, match="GIF image is not accepted") as info:
        _qr_texts(_encode(Image.new("P", (8, 8)), "GIF"))
    assert info.value.reason == "unsupported_format"


# --------------------------------------------------------------------------- extract_from_upload


def test_extract_from_upload_jpeg_scans_qr(photo_jpeg: bytes) -> None:
    findings = extract_from_upload(photo_jpeg, max_bytes=5 * 1024 * 1024)
    assert findings == UploadFindings(kind="jpeg", credential=None, qr_texts=(VERIFY_URL,))


def test_extract_from_upload_refuses_oversize(photo_jpeg: bytes) -> None:
    with pytest.raises(InvalidImage, match="larger than") as info:
        extract_from_upload(photo_jpeg, max_bytes=1024)
    assert info.value.reason == "too_large"


def test_extract_from_upload_refuses_non_image() -> None:
    with pytest.raises(InvalidImage) as info:
        extract_from_upload(b"%PDF-1.7 not a picture", max_bytes=1024)
    assert info.value.reason == "not_an_image"


def test_extract_from_upload_png_without_credential_scans_qr(qr_png: bytes) -> None:
    findings = extract_from_upload(qr_png, max_bytes=1024 * 1024)
    assert findings == UploadFindings(kind="png", credential=None, qr_texts=(VERIFY_URL,))


def test_extract_from_upload_png_with_credential_also_scans_qr(monkeypatch: pytest.MonkeyPatch,
                                                               qr_png: bytes) -> None:
    # Both are read: a picture may show one badge's QR code and carry another's credential (issue 14 item 11).
    monkeypatch.setattr(scan, "extract_png", lambda data: "header.payload.sig")
    monkeypatch.setattr(scan, "_scan_qr", lambda data, max_bytes: ("qr text",))
    findings = extract_from_upload(qr_png, max_bytes=1024 * 1024)
    assert findings == UploadFindings(kind="png", credential="header.payload.sig", qr_texts=("qr text",))


def test_extract_from_upload_reads_baked_png(qr_png: bytes) -> None:
    baked = baking.bake_png(qr_png, "header.payload.sig")
    findings = extract_from_upload(baked, max_bytes=1024 * 1024)
    assert findings.credential == "header.payload.sig" and findings.kind == "png"
    assert findings.qr_texts == extract_from_upload(qr_png, max_bytes=1024 * 1024).qr_texts != ()


def test_extract_from_upload_svg_never_scans_qr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "extract_svg", lambda data: "header.payload.sig")
    monkeypatch.setattr(scan, "_scan_qr", pytest.fail)
    findings = extract_from_upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", max_bytes=1024)
    assert findings == UploadFindings(kind="svg", credential="header.payload.sig", qr_texts=())


def test_extract_from_upload_xml_that_is_not_svg() -> None:
    with pytest.raises(InvalidImage) as info:
        extract_from_upload(b'<?xml version="1.0"?><html/>', max_bytes=1024)
    assert info.value.reason == "not_an_image"


def test_extract_from_upload_svg_entity_bomb_is_unsafe() -> None:
    svg = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>'
    )
    with pytest.raises(InvalidImage) as info:
        extract_from_upload(svg, max_bytes=1024)
    assert info.value.reason == "unsafe_xml"


# --------------------------------------------------------------------------- classify_verify_url


@pytest.mark.parametrize(
    ("text", "public_url", "expected"),
    [
        (VERIFY_URL, PUBLIC, "7K3M-9QX2-HT4B"),
        (VERIFY_URL + "/", PUBLIC, "7K3M-9QX2-HT4B"),
        (VERIFY_URL + "?lang=en", PUBLIC, "7K3M-9QX2-HT4B"),
        (VERIFY_URL + "#top", PUBLIC, "7K3M-9QX2-HT4B"),
        ("  " + VERIFY_URL + "\n", PUBLIC, "7K3M-9QX2-HT4B"),
        ("HTTP://127.0.0.1:8000/v/7k3m9qx2ht4b", PUBLIC + "/", "7k3m9qx2ht4b"),
        ("https://Liang.Example.org/v/ABCD", "https://liang.example.org", "ABCD"),
        ("https://liang.example.org:443/v/ABCD", "https://liang.example.org", "ABCD"),
        ("https://liang.example.org/v/ABCD", "https://liang.example.org:443/", "ABCD"),
        ("http://example.org/badges/v/ABCD", "http://example.org/badges/", "ABCD"),
        ("http://[::1]:8000/v/ABCD", "http://[::1]:8000", "ABCD"),
    ],
)
def test_classify_verify_url_accepts_own_urls(text: str, public_url: str, expected: str) -> None:
    assert classify_verify_url(text, public_url=public_url) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("http://evil.com/v/7K3M-9QX2-HT4B", id="other-host"),
        pytest.param("http://127.0.0.1:8001/v/7K3M-9QX2-HT4B", id="other-port"),
        pytest.param("http://127.0.0.1/v/7K3M-9QX2-HT4B", id="default-port"),
        pytest.param("https://127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="https-vs-http"),
        pytest.param("ftp://127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="other-scheme"),
        pytest.param("javascript://127.0.0.1:8000/v/x%0aalert(1)", id="javascript"),
        pytest.param("http://127.0.0.1:8000@evil.com/v/7K3M-9QX2-HT4B", id="userinfo-origin-as-user"),
        pytest.param("http://user@127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="userinfo"),
        pytest.param("http://127.0.0.1.evil.com:8000/v/7K3M-9QX2-HT4B", id="suffix-host"),
        pytest.param("http://127.0.0.1:8000.evil.com/v/7K3M-9QX2-HT4B", id="port-suffix-host"),
        pytest.param("http://evil.com/127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="origin-in-path"),
        pytest.param("http://evil.com/?u=http://127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="origin-in-query"),
        pytest.param("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B/../../x", id="dot-dot"),
        pytest.param("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B/kit", id="extra-segment"),
        pytest.param("http://127.0.0.1:8000/x/v/7K3M-9QX2-HT4B", id="path-prefix"),
        pytest.param("http://127.0.0.1:8000//v/7K3M-9QX2-HT4B", id="double-slash"),
        pytest.param("//127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="scheme-relative"),
        pytest.param("http:/127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="one-slash"),
        pytest.param("/v/7K3M-9QX2-HT4B", id="relative"),
        pytest.param("7K3M-9QX2-HT4B", id="bare-id"),
        pytest.param("http://127.0.0.1:8000/v%2F7K3M-9QX2-HT4B", id="encoded-slash"),
        pytest.param("http://127.0.0.1:8000/v/7K3M%2D9QX2-HT4B", id="encoded-id"),
        pytest.param("http://127.0.0.1:8000/v/..%2F..%2Fx", id="encoded-dot-dot"),
        pytest.param("http:\\\\127.0.0.1:8000\\v\\7K3M-9QX2-HT4B", id="backslashes"),
        pytest.param("http://evil.com\\@127.0.0.1:8000/v/7K3M-9QX2-HT4B", id="backslash-userinfo"),
        pytest.param("http://127.0.0.1:8000\\.evil.com/v/7K3M-9QX2-HT4B", id="backslash-host"),
        pytest.param("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B;x=1", id="path-params"),
        pytest.param("http://127.0.0.1:8000/V/7K3M-9QX2-HT4B", id="uppercase-v"),
        pytest.param("http://127.0.0.1:8000/v/", id="empty-id"),
        pytest.param("http://127.0.0.1:8000/v/" + "A" * 41, id="id-too-long"),
        pytest.param("http://127.0.0.1:8000/v/7K3M_9QX2", id="id-bad-char"),
        pytest.param("http://127.0.0.1:08000/v/7K3M-9QX2-HT4B", id="zero-padded-port"),
        pytest.param("http://127.0.0.1:/v/7K3M-9QX2-HT4B", id="empty-port"),
        pytest.param("http://127.0.0.1.:8000/v/7K3M-9QX2-HT4B", id="trailing-dot"),
        pytest.param("http://0x7f.0.0.1:8000/v/7K3M-9QX2-HT4B", id="hex-ip"),
        pytest.param("http://127.0.0.1:8000/v/7K3M\t-9QX2-HT4B", id="tab"),
        pytest.param("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B\u200b", id="zero-width"),
        pytest.param("http://１２７.0.0.1:8000/v/7K3M-9QX2-HT4B", id="fullwidth-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_classify_verify_url_refuses_phishing(text: str) -> None:
    assert classify_verify_url(text, public_url=PUBLIC) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("https://xn--lang-zwa.example.org/v/ABCD", id="punycode-lookalike"),
        pytest.param("https://liang.example.org.xn--fiqs8s/v/ABCD", id="punycode-suffix"),
        pytest.param("https://liаng.example.org/v/ABCD", id="cyrillic-a"),
        pytest.param("https://liang.example.org/v/ABCD/..", id="dot-dot-after-id"),
        pytest.param("https://liang.example.org/v/./ABCD", id="dot-segment"),
        pytest.param("https://liang-example.org/v/ABCD", id="hyphen-host"),
        pytest.param("https://example.org/v/ABCD", id="parent-domain"),
        pytest.param("https://www.liang.example.org/v/ABCD", id="subdomain"),
    ],
)
def test_classify_verify_url_refuses_lookalikes_of_https_origin(text: str) -> None:
    assert classify_verify_url(text, public_url="https://liang.example.org") is None


def test_classify_verify_url_requires_base_path() -> None:
    public = "https://example.org/liang"
    assert classify_verify_url("https://example.org/liang/v/ABCD", public_url=public) == "ABCD"
    assert classify_verify_url("https://example.org/v/ABCD", public_url=public) is None
    assert classify_verify_url("https://example.org/liangx/v/ABCD", public_url=public) is None


def test_classify_verify_url_rejects_broken_configuration() -> None:
    with pytest.raises(ValueError, match="LIANG_PUBLIC_URL"):
        classify_verify_url(VERIFY_URL, public_url="127.0.0.1:8000")

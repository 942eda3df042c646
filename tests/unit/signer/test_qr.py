"""QR codes: smallest version, exact decoding, crisp module-aligned output."""

from __future__ import annotations

import io

import defusedxml.ElementTree as SafeET
import pytest
import zxingcpp
from PIL import Image

from signer.errors import InvalidRenderRequest
from signer.qr import qr_matrix, qr_png, qr_svg, qr_svg_fragment, qr_version

URLS = [
    "http://127.0.0.1:8000/v/7K3M-9QX2-HT4B",
    "https://liang.example.cn/v/0000-0000-0000",
    "https://verify.wangshang-dangwei.example.org/v/ZZZZ-YYYY-XXXX",
    "http://localhost/v/ABCD-EFGH-JKMN?lang=zh-Hant",
    "https://例子.中国/v/7K3M-9QX2-HT4B",
]


def _decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_exact_text(url: str) -> None:
    assert _decode(qr_png(url)) == [url]


@pytest.mark.parametrize("ecc", ["M", "Q"])
def test_png_decodes_at_each_ecc(ecc: str) -> None:
    assert _decode(qr_png(URLS[0], ecc=ecc, scale=3)) == [URLS[0]]


def test_short_url_uses_small_version() -> None:
    matrix = qr_matrix("http://127.0.0.1:8000/v/7K3M-9QX2-HT4B")
    assert qr_version(matrix) <= 3
    assert len(matrix) == 17 + 4 * qr_version(matrix)
    assert all(len(row) == len(matrix) for row in matrix)


def test_higher_ecc_needs_larger_version() -> None:
    text = "https://liang.example.cn/v/7K3M-9QX2-HT4B"
    assert qr_version(qr_matrix(text, ecc="Q")) > qr_version(qr_matrix(text, ecc="M"))


def test_matrix_has_no_quiet_zone() -> None:
    matrix = qr_matrix("x")
    # A finder pattern sits in the very corner when there is no quiet zone.
    assert matrix[0][:7] == [True] * 7
    assert matrix[6][:7] == [True] * 7


def test_png_is_module_aligned_and_bilevel() -> None:
    matrix = qr_matrix(URLS[0])
    png = qr_png(URLS[0], scale=5, quiet_zone=4)
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "1"
        assert image.size == ((len(matrix) + 8) * 5,) * 2
        # Top-left module of the finder pattern is a solid 5x5 black block
        # starting exactly after the 4-module quiet zone.
        block = {image.getpixel((20 + dx, 20 + dy)) for dx in range(5) for dy in range(5)}
        assert block == {0}
        assert image.getpixel((19, 19)) == 255


def test_png_is_deterministic() -> None:
    assert qr_png(URLS[1]) == qr_png(URLS[1])


def test_svg_structure() -> None:
    svg = qr_svg(URLS[0], module_px=4)
    root = SafeET.fromstring(svg)
    matrix = qr_matrix(URLS[0])
    total = len(matrix) + 8
    assert root.get("viewBox") == f"0 0 {total} {total}"
    assert root.get("shape-rendering") == "crispEdges"
    assert root.get("width") == str(total * 4)
    paths = root.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) == 1
    # The first dark run is the finder pattern's top row, offset by the quiet zone.
    assert paths[0].get("d", "").startswith("M4 4h7v1h-7z")


def test_svg_fragment_fits_requested_square() -> None:
    fragment = qr_svg_fragment(URLS[0], x=10, y=20.5, size=80)
    group = SafeET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{fragment}</svg>')[0]
    assert group.tag == "{http://www.w3.org/2000/svg}g"
    total = len(qr_matrix(URLS[0])) + 8
    transform = group.get("transform", "")
    assert transform.startswith("translate(10 20.5) scale(")
    scale = float(transform.removeprefix("translate(10 20.5) scale(").rstrip(")"))
    assert scale * total == pytest.approx(80, abs=0.01)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: qr_matrix("x", ecc="Z"), "bad_ecc"),
        (lambda: qr_png("x", scale=0), "bad_scale"),
        (lambda: qr_svg("x", quiet_zone=-1), "bad_quiet_zone"),
        (lambda: qr_matrix("x" * 5000), "text_too_long"),
    ],
)
def test_bad_parameters_raise_domain_error(call, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRenderRequest, match=r"\w") as info:
        call()
    assert info.value.reason == reason
    assert info.value.code == "invalid_request"


@pytest.mark.parametrize("zxing_writer", [True, False])
def test_mask_matches_matrix_and_decodes(monkeypatch: pytest.MonkeyPatch, zxing_writer: bool) -> None:
    import signer.qr as qr

    monkeypatch.setattr(qr, "_ZXING_WRITER", zxing_writer)
    url = "https://liang.example.cn/v/7K3M-9QX2-HT4B"
    mask = qr.qr_mask(url)
    matrix = qr.qr_matrix(url)
    assert mask.size == (len(matrix) + 8, len(matrix) + 8)
    assert [[mask.getpixel((x + 4, y + 4)) == 255 for x in range(len(matrix))] for y in range(len(matrix))] == matrix
    picture = Image.eval(mask, lambda v: 255 - v).resize((mask.width * 4, mask.height * 4), Image.Resampling.NEAREST)
    assert [r.text for r in zxingcpp.read_barcodes(picture)] == [url]


def test_text_too_long_is_a_domain_error_for_the_mask() -> None:
    from signer.qr import qr_mask

    with pytest.raises(InvalidRenderRequest, match="too long") as info:
        qr_mask("x" * 5000)
    assert info.value.reason == "text_too_long"

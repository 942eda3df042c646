"""Badge images: scannable, baked, deterministic, state-coloured, CJK-capable."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as SafeET
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image

from signer.baking import OB_NAMESPACE, extract_png, extract_svg
from signer.errors import InvalidRenderRequest
from signer.images import (
    FONT_PATH,
    SIZES,
    STATE_WORDS,
    BadgeFace,
    font_covers,
    render_badge_png,
    render_badge_svg,
)
from signer.qr import qr_matrix, qr_path_data

JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDAifQ.c2lnbmF0dXJl"
FACE = BadgeFace(
    badge_id="7K3M-9QX2-HT4B",
    shop_name="老张家手工茶叶",
    branch_name="第一支部",
    platform="taobao",
    status="valid",
    checked_on="2026-11-25",
    verify_url="http://127.0.0.1:8000/v/7K3M-9QX2-HT4B",
)
URLS = [
    "http://127.0.0.1:8000/v/7K3M-9QX2-HT4B",
    "https://liang.example.cn/v/0000-1111-2222",
    "https://verify.wangshang-dangwei.example.org.cn/v/ZZZZ-YYYY-XXXX",
]


def _decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        return [result.text for result in zxingcpp.read_barcodes(image.convert("RGBA"))]


def _pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA").tobytes()


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("url", URLS)
def test_png_qr_decodes_to_verify_url(size: str, url: str) -> None:
    face = dataclasses.replace(FACE, verify_url=url)
    assert _decode(render_badge_png(face, size=size, credential=JWS)) == [url]


@pytest.mark.parametrize("status", sorted(STATE_WORDS))
def test_png_qr_decodes_in_every_state(status: str) -> None:
    face = dataclasses.replace(FACE, status=status)
    assert _decode(render_badge_png(face, size="s", credential=JWS)) == [FACE.verify_url]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_png_has_declared_size_and_baked_credential(size: str) -> None:
    png = render_badge_png(FACE, size=size, credential=JWS)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == SIZES[size]
    assert extract_png(png) == JWS


def test_sizes_grow() -> None:
    widths = [SIZES[name][0] for name in ("s", "m", "l")]
    assert widths == sorted(widths)
    assert len(set(widths)) == 3


def test_unknown_size_is_a_domain_error() -> None:
    with pytest.raises(InvalidRenderRequest, match="unknown badge size") as info:
        render_badge_png(FACE, size="xl", credential=JWS)
    assert info.value.reason == "bad_size"


def test_unknown_status_is_a_domain_error() -> None:
    face = dataclasses.replace(FACE, status="pending")
    with pytest.raises(InvalidRenderRequest, match="unknown badge status") as info:
        render_badge_svg(face, credential=JWS)
    assert info.value.reason == "bad_status"


def test_svg_is_baked_and_well_formed() -> None:
    svg = render_badge_svg(FACE, credential=JWS)
    root = SafeET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root[0].tag == f"{{{OB_NAMESPACE}}}credential"
    assert extract_svg(svg) == JWS


def test_svg_needs_no_installed_font() -> None:
    svg = render_badge_svg(FACE, credential=JWS)
    # Text is drawn as outlines: no <text> elements, no font references.
    assert b"<text" not in svg
    assert b"font-family" not in svg
    assert "老张家手工茶叶".encode() in svg  # only in the accessible title


def test_svg_embeds_qr_of_verify_url() -> None:
    svg = render_badge_svg(FACE, credential=JWS)
    modules = qr_path_data(qr_matrix(FACE.verify_url), offset=4)
    assert f'd="{modules}"'.encode() in svg


@pytest.mark.parametrize("render", ["svg", "png"])
def test_rendering_is_deterministic(render: str) -> None:
    def once() -> bytes:
        if render == "svg":
            return render_badge_svg(FACE, credential=JWS)
        return render_badge_png(FACE, size="m", credential=JWS)

    assert hashlib.sha256(once()).digest() == hashlib.sha256(once()).digest()


@pytest.mark.parametrize("render", ["svg", "png"])
def test_each_state_looks_different(render: str) -> None:
    seen = set()
    for status in STATE_WORDS:
        face = dataclasses.replace(FACE, status=status)
        if render == "svg":
            seen.add(render_badge_svg(face, credential=JWS))
        else:
            seen.add(_pixels(render_badge_png(face, size="s", credential=JWS)))
    assert len(seen) == len(STATE_WORDS)


def test_valid_badge_is_red_and_revoked_is_grey() -> None:
    def header_colour(status: str) -> tuple[int, ...]:
        face = dataclasses.replace(FACE, status=status)
        with Image.open(io.BytesIO(render_badge_png(face, size="l", credential=JWS))) as image:
            return image.convert("RGBA").convert("RGB").getpixel((400, 8))  # type: ignore[return-value]

    red, green, blue = header_colour("valid")
    assert red > 150 and green < 60 and blue < 60
    grey = header_colour("revoked")
    assert max(grey) - min(grey) < 10


@pytest.mark.parametrize("size", sorted(SIZES))
def test_long_shop_name_stays_in_its_column(size: str) -> None:
    long_face = dataclasses.replace(FACE, shop_name="特别长的店铺名称" * 20 + "WWWWWWWW")
    width, height = SIZES[size]
    k = width / 640
    with Image.open(io.BytesIO(render_badge_png(long_face, size=size, credential=JWS))) as image:
        rgb = image.convert("RGBA").convert("RGB")
        # The gutter between the text column (ends at 372) and the QR box
        # (starts at 394), across the shop-name line, is plain background.
        row = range(round(110 * k), round(152 * k))
        gutter = range(round(378 * k), round(392 * k))
        colours = {rgb.getpixel((x, y)) for x in gutter for y in row}
    assert colours == {(0xFF, 0xFA, 0xF0)}


def _drawing(svg: bytes) -> bytes:
    """Return the SVG without its title and label, which carry the full name."""
    root = SafeET.fromstring(svg)
    root.attrib.pop("aria-label")
    root.remove(root.find("{http://www.w3.org/2000/svg}title"))  # type: ignore[arg-type]
    return ET.tostring(root)


def test_long_shop_name_is_cut_in_svg() -> None:
    long = dataclasses.replace(FACE, shop_name="特别长的店铺名称" * 5)
    longer = dataclasses.replace(FACE, shop_name="特别长的店铺名称" * 5 + "还有更多")
    short = dataclasses.replace(FACE, shop_name="特别长")
    drawn = _drawing(render_badge_svg(long, credential=JWS))
    # Past the column width, extra characters no longer change the drawing.
    assert drawn == _drawing(render_badge_svg(longer, credential=JWS))
    assert drawn != _drawing(render_badge_svg(short, credential=JWS))


def test_control_characters_never_break_the_svg() -> None:
    face = dataclasses.replace(FACE, shop_name="店\x00\x1b铺\ud800", badge_id="7K3M\x07")
    assert extract_svg(render_badge_svg(face, credential=JWS)) == JWS


def test_font_is_bundled_and_covers_the_badge_words() -> None:
    assert FONT_PATH.is_file()
    assert (FONT_PATH.parent / "OFL.txt").is_file()
    words = "党员网商最近核验扫码验证徽章编号第一支部淘宝店铺" + "".join(STATE_WORDS.values())
    assert font_covers(words + "0123456789ABCDEFGHJKMNPQRSTVWXYZ-…·")
    font = TTFont(io.BytesIO(FONT_PATH.read_bytes()))
    cmap = font.getBestCmap()
    assert len(cmap) > 7000  # GB2312 plus ASCII
    assert ord("党") in cmap
    assert not font_covers("\ue000")


def test_cjk_glyphs_render_unlike_the_missing_glyph_box() -> None:
    cjk = dataclasses.replace(FACE, shop_name="党员网商")
    missing = dataclasses.replace(FACE, shop_name="\ue000\ue001\ue002\ue003")
    other = dataclasses.replace(FACE, shop_name="网商党员")
    cjk_px = _pixels(render_badge_png(cjk, size="l", credential=JWS))
    missing_px = _pixels(render_badge_png(missing, size="l", credential=JWS))
    other_px = _pixels(render_badge_png(other, size="l", credential=JWS))
    assert cjk_px != missing_px
    # Different characters give different pixels, so glyphs really are drawn.
    assert cjk_px != other_px


def test_missing_characters_do_not_crash() -> None:
    face = dataclasses.replace(FACE, shop_name="𠀀𪚥 shop \U0001f600", branch_name="\x00\t支部")
    assert extract_svg(render_badge_svg(face, credential=JWS)) == JWS
    assert extract_png(render_badge_png(face, size="s", credential=JWS)) == JWS

"""Badge images by composition: a state-free static layer, the live state and date put on per request."""

from __future__ import annotations

import dataclasses
import datetime
import io
import threading
from collections.abc import Callable

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from signer.baking import extract_png, extract_svg
from signer.errors import InvalidRenderRequest
from signer.images import (
    SIZES,
    STATE_WORDS,
    compose_png,
    compose_svg,
    draw_static_png,
    draw_static_svg,
    fonts,
    layout,
    png,
    render_badge_png,
    render_badge_svg,
    static_layer_key,
    svg,
)
from tests.unit.signer.test_images import FACE, JWS

OTHER_JWS = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwMDEifQ.b3RoZXI"


class DictStore:
    """A layer store in a dict, counting draws."""

    def __init__(self) -> None:
        self.layers: dict[str, bytes] = {}
        self.draws = 0

    def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
        if key not in self.layers:
            self.draws += 1
            self.layers[key] = draw()
        return self.layers[key]


def _rgba(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA")


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("status", sorted(STATE_WORDS))
def test_layer_drawn_in_one_state_composes_every_state_exactly(size: str, status: str) -> None:
    # The layer is drawn while the badge is valid and kept; after a state change the very
    # next image is composed from it and must equal a fresh drawing of the new state.
    store = DictStore()
    render_badge_png(FACE, size=size, credential=JWS, layers=store)
    now = dataclasses.replace(FACE, status=status, checked_on="2026-12-01")
    composed = render_badge_png(now, size=size, credential=JWS, layers=store)
    assert store.draws == 1
    fresh = render_badge_png(now, size=size, credential=JWS)
    assert _rgba(composed).tobytes() == _rgba(fresh).tobytes()
    assert composed == fresh


@pytest.mark.parametrize("status", sorted(STATE_WORDS))
def test_svg_layer_composes_every_state_exactly(status: str) -> None:
    store = DictStore()
    render_badge_svg(FACE, credential=JWS, layers=store)
    now = dataclasses.replace(FACE, status=status)
    assert render_badge_svg(now, credential=JWS, layers=store) == render_badge_svg(now, credential=JWS)
    assert store.draws == 1


def test_state_pill_and_revoked_band_show_after_a_change() -> None:
    # Outside truth: colours sampled from the picture, not from the code's own tables.
    store = DictStore()
    k = SIZES["l"][0] / 640

    def pixel(status: str, x: float, y: float) -> tuple[int, ...]:
        png = render_badge_png(dataclasses.replace(FACE, status=status), size="l", credential=JWS, layers=store)
        return _rgba(png).getpixel((round(x * k), round(y * k)))  # type: ignore[return-value]

    # The frame carries the state (docs/colours.md): party red when valid, slate when suspended.
    assert pixel("valid", 320, 6)[:3] == (0xA8, 0x14, 0x1C)
    assert pixel("suspended", 320, 6)[:3] == (0x3D, 0x5A, 0x80)
    red, green, blue, _ = pixel("revoked", 560, 30)  # the revoked pill is red, the valid one white
    assert red > 150 and green < 60 and blue < 60 and min(pixel("valid", 560, 30)[:3]) > 240
    # The revoked band crosses the left column where a valid badge shows plain card body.
    assert pixel("valid", 200, 215)[:3] == (0xFF, 0xFA, 0xF0)
    red, green, blue, _ = pixel("revoked", 200, 215)
    assert red > 120 and green < 60 and blue < 60


@pytest.mark.parametrize("status", sorted(STATE_WORDS))
def test_size_m_is_a_compact_palette_png(status: str) -> None:
    long = dataclasses.replace(FACE, status=status, shop_name="特别长的店铺名称WWW" * 10,
                               branch_name="第一百二十三支部" * 5)
    png = render_badge_png(long, size="m", credential=JWS)
    assert len(png) - len(JWS) <= 20 * 1024
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "P"
        assert image.size == SIZES["m"]


def test_corners_stay_transparent_and_antialiased() -> None:
    alpha = _rgba(render_badge_png(FACE, size="m", credential=JWS)).getchannel("A")
    assert alpha.getpixel((0, 0)) == 0
    assert alpha.getpixel((240, 150)) == 255
    corner = {alpha.getpixel((x, y)) for x in range(12) for y in range(12)}
    assert len(corner - {0, 255}) >= 3  # partly transparent edge pixels, not a jagged cut-out


def test_baked_credential_is_the_one_given_not_the_layers() -> None:
    store = DictStore()
    render_badge_png(FACE, size="s", credential=JWS, layers=store)
    render_badge_svg(FACE, credential=JWS, layers=store)
    assert extract_png(render_badge_png(FACE, size="s", credential=OTHER_JWS, layers=store)) == OTHER_JWS
    assert extract_svg(render_badge_svg(FACE, credential=OTHER_JWS, layers=store)) == OTHER_JWS


@pytest.mark.parametrize(("change", "new_key"), [
    ({"shop_name": "老李家茶叶"}, True),
    ({"branch_name": "第二支部"}, True),
    ({"platform": "jd"}, True),
    ({"verify_url": "https://liang.example.cn/v/7K3M-9QX2-HT4B"}, True),
    ({"status": "revoked"}, False),
    ({"checked_on": "2027-01-01"}, False),
])
def test_layer_key_follows_what_the_layer_shows(change: dict[str, str], new_key: bool) -> None:
    before = static_layer_key(FACE, kind="png-m", credential=JWS)
    after = static_layer_key(dataclasses.replace(FACE, **change), kind="png-m", credential=JWS)
    assert (before != after) is new_key


def test_layer_key_follows_resigning_and_kind() -> None:
    key = static_layer_key(FACE, kind="png-m", credential=JWS)
    assert static_layer_key(FACE, kind="png-m", credential=OTHER_JWS) != key
    assert static_layer_key(FACE, kind="png-s", credential=JWS) != key


def test_layer_of_another_size_is_refused() -> None:
    with pytest.raises(InvalidRenderRequest, match="static layer is damaged") as info:
        compose_png(FACE, size="m", credential=JWS, static=draw_static_png(FACE, size="s"))
    assert info.value.reason == "bad_layer"


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("status", ["valid", "revoked"])
def test_first_image_from_the_drawn_masks_equals_one_from_the_kept_bytes(size: str, status: str) -> None:
    # The first image of a badge reuses the masks just drawn; a worker that reads the same
    # layer back from the database (a new bytes object) must compose exactly the same image.
    face = dataclasses.replace(FACE, status=status)
    drawn = draw_static_png(face, size=size)
    first = compose_png(face, size=size, credential=JWS, static=drawn)
    kept = bytes(bytearray(drawn))
    assert kept is not drawn
    assert compose_png(face, size=size, credential=JWS, static=kept) == first


def test_a_layer_parsed_for_one_size_is_refused_for_another() -> None:
    static = draw_static_png(FACE, size="s")
    compose_png(FACE, size="s", credential=JWS, static=static)  # opened and remembered as size s
    with pytest.raises(InvalidRenderRequest, match="static layer is damaged"):
        compose_png(FACE, size="m", credential=JWS, static=static)


@pytest.mark.parametrize("static", [b"", b"{}\n", b'{"v": "3"}\nxx', b"\xff\xfe", b"[1]"])
def test_damaged_layer_is_a_domain_error(static: bytes) -> None:
    with pytest.raises(InvalidRenderRequest, match="static layer is damaged"):
        compose_png(FACE, size="m", credential=JWS, static=static)
    with pytest.raises(InvalidRenderRequest, match="static layer is damaged"):
        compose_svg(FACE, credential=JWS, static=static)


def test_truncated_layer_pixels_are_refused() -> None:
    static = draw_static_png(FACE, size="m")
    head, _, packed = static.partition(b"\n")
    import zlib

    short = head + b"\n" + zlib.compress(zlib.decompress(packed)[:-10])
    with pytest.raises(InvalidRenderRequest, match="static layer is damaged"):
        compose_png(FACE, size="m", credential=JWS, static=short)


def test_static_layers_are_small() -> None:
    for size in SIZES:
        assert len(draw_static_png(FACE, size=size)) < 16 * 1024
    assert len(draw_static_svg(FACE)) < 32 * 1024


def test_concurrent_first_renders_on_a_fresh_font() -> None:
    # Issue 14 item 13: fresh workers answered 500 on their first concurrent renders (KeyError
    # in fontTools' lazily decompiled hmtx of one shared TTFont). Forget every cached font and
    # drawing, then render from many threads at once.
    for module in (fonts, layout, png, svg):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
    fonts._local = threading.local()
    threads = 16
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    results: list[tuple[bytes, bytes]] = []

    def work(n: int) -> None:
        face = dataclasses.replace(FACE, shop_name=f"并发测试店铺{n % 4}", status=sorted(STATE_WORDS)[n % 5])
        barrier.wait()
        try:
            results.append((render_badge_svg(face, credential=JWS),
                            render_badge_png(face, size="s", credential=JWS)))
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert len(results) == threads
    with Image.open(io.BytesIO(results[0][1])) as image:
        assert [r.text for r in zxingcpp.read_barcodes(image.convert("RGBA"))] == [FACE.verify_url]


def test_a_damaged_kept_layer_is_drawn_again() -> None:
    class Broken:
        def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
            return b'{"v": "3"}\ngarbage'

    png = render_badge_png(FACE, size="s", credential=JWS, layers=Broken())
    assert png == render_badge_png(FACE, size="s", credential=JWS)
    svg = render_badge_svg(FACE, credential=JWS, layers=Broken())
    assert svg == render_badge_svg(FACE, credential=JWS)


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_bold_dilation_gives_the_rank_filters_pixels(radius: int) -> None:
    # The synthetic bold is a row pass and a column pass of maxima: on a box with a margin of
    # zeros (as the text's box is cropped) it must give exactly MaxFilter's pixels.
    from PIL import ImageDraw, ImageFilter

    for width, height, text, px in ((300, 60, "义乌小商品老张家", 34), (40, 30, "店", 20), (120, 50, "7K3M-9QX2", 28)):
        image = Image.new("L", (width, height), 0)
        ImageDraw.Draw(image).text((radius + 2, radius + 2), text, font=fonts.pil_font(px), fill=255)
        inner = image.crop((radius, radius, width - radius, height - radius))
        boxed = Image.new("L", (width, height), 0)
        boxed.paste(inner, (radius, radius))
        assert png._dilate(boxed, radius).tobytes() == boxed.filter(ImageFilter.MaxFilter(2 * radius + 1)).tobytes()


_NAMES = st.text(alphabet=st.sampled_from("老张家手工茶叶义乌小商品店铺ÄgyptenWwi &<>'\"·—0123456789"), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(shop=_NAMES, branch=_NAMES, platform=st.sampled_from(["taobao", "tmall", "jd", "1688", "weidian"]),
       status=st.sampled_from(sorted(STATE_WORDS)), size=st.sampled_from(sorted(SIZES)),
       day=st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2030, 12, 31)))
def test_composing_in_palette_indices_gives_the_bytes_of_composing_in_colour(shop, branch, platform, status, size,
                                                                            day) -> None:
    # The fast path maps each mask's coverage to palette indices by a table, which is right only
    # while every mask lies on one colour of the frame and no two overlap, and blends only the
    # revoked overlay's region in colour; the colour path (the whole card blended, then
    # quantised) is the reference it must equal, byte for byte.
    face = dataclasses.replace(FACE, shop_name=shop, branch_name=branch, platform=platform, status=status,
                               checked_on=day.isoformat())
    static = draw_static_png(face, size=size)
    masks, strike = png.open_static_png(static, size)
    assert compose_png(face, size=size, credential=JWS, static=static) == png._compose_rgb(
        face, size, masks, strike, JWS)


def test_a_revoked_overlay_reaching_a_corner_is_composed_whole_in_colour(monkeypatch) -> None:
    # The overlay's region is pasted over the frame's indices, corners included; a band that
    # reached a rounded corner would lose it, so such a region composes the whole card.
    face = dataclasses.replace(FACE, status="revoked")
    static = draw_static_png(face, size="m")
    width, height = png.dims_of("m")
    _, band, alpha = png._revoked_band("m")
    monkeypatch.setattr(png, "_revoked_band", lambda size: ((0, 0, band.width, band.height), band, alpha))
    masks, strike = png.open_static_png(static, "m")
    assert png._overlay_region("m", strike) is None
    assert compose_png(face, size="m", credential=JWS, static=static) == png._compose_rgb(
        face, "m", masks, strike, JWS)

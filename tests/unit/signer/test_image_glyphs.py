"""signer.images.glyphs: text runs from kept glyphs give the pixels of Pillow drawing the string."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from signer.images import SIZES, draw_static_png, glyphs, png
from signer.images.fonts import pil_font
from tests.unit.signer.test_images import FACE

# CJK, Latin pairs whose glyphs overlap (AV, Wa, fj), marks, a space, and characters the
# bundled font lacks (drawn as its .notdef box).
_TEXT = st.text(alphabet=st.sampled_from("老张家手工茶叶义乌小商品店铺第一支部ÄAVWwafjgy ·—-&<>0123456789😀𠀋"),
                min_size=0, max_size=24)


def _drawn(text: str, px: int, x: float, y: float) -> Image.Image:
    canvas = Image.new("L", (480, 120), 0)
    ImageDraw.Draw(canvas).text((x, y), text, font=pil_font(px), fill=255, anchor="ls")
    return canvas


@settings(max_examples=150, deadline=None)
@given(text=_TEXT, px=st.sampled_from([11, 14, 15, 16, 21, 22, 28, 35, 38]),
       x=st.sampled_from([0.0, 16.0, 24.5, 32.25]), y=st.sampled_from([40.0, 73.5, 90.75]))
def test_a_run_of_kept_glyphs_has_the_pixels_of_the_drawn_string(text, px, x, y) -> None:
    placed, box = glyphs.run_layout(text, px, x, y)
    assert box is not None  # the bundled font's advances are whole pixels at every size we use
    canvas = Image.new("L", (480, 120), 0)
    glyphs.paint_run(canvas, placed)
    assert ImageChops.difference(canvas, _drawn(text, px, x, y)).getbbox() is None


def test_the_ink_box_is_the_drawn_strings() -> None:
    placed, box = glyphs.run_layout("AVWa 义乌", 22, 24.5, 73.5)
    assert box == _drawn("AVWa 义乌", 22, 24.5, 73.5).getbbox()


def test_a_run_of_spaces_places_nothing() -> None:
    assert glyphs.run_layout("   ", 22, 10.0, 50.0) == ([], (0, 0, 0, 0))


def test_an_advance_of_a_fraction_of_a_pixel_gives_the_run_back_to_pillow(monkeypatch) -> None:
    whole = glyphs.glyph(22, "义", 0.0, 0.0)
    monkeypatch.setattr(glyphs, "glyph", lambda px, char, fx, fy: (*whole[:3], 21.5))
    assert glyphs.run_layout("义乌", 22, 10.0, 50.0) == ([], None)


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("shop", ["老张家手工茶叶", "AVAVAVA Wafer fjord", "店 铺 😀"])
def test_a_static_layer_from_kept_glyphs_equals_one_from_drawn_strings(monkeypatch, size, shop) -> None:
    face = dataclasses.replace(FACE, shop_name=shop)
    kept = draw_static_png(face, size=size)
    monkeypatch.setattr(png, "run_layout", lambda *args: ([], None))  # every run drawn by Pillow
    assert draw_static_png(face, size=size) == kept

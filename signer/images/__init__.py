"""Badge images: the card a shop shows, in SVG and PNG, with the credential baked in.

One layout, described once as a list of drawing primitives in design units
(a 640 x 400 card), is rendered by two back ends: SVG (text drawn as glyph
outlines, so it renders without any installed CJK font) and Pillow (the same
bundled font). Both are deterministic: the same face and credential give the
same bytes, so callers may cache by content hash.

Images are composed, not drawn, per request. The card is split in layers:

* the *frame* of each state and size (band, body, emblem, title, state pill,
  fixed labels): the same for every badge, drawn once per process;
* the badge's *static layer* (shop name, branch and platform, badge number,
  QR code): drawn once per badge by :func:`draw_static_png` /
  :func:`draw_static_svg` into bytes a caller may keep anywhere (database,
  disk) under :func:`static_layer_key`; it holds no state colour, so a state
  change never redraws it;
* what moves (state colours, the check date, the revoked overlay): put on per
  request by :func:`compose_png` / :func:`compose_svg`, with the live
  credential baked in.

PNG output is palette-indexed against a fixed palette per state (a nearest-
colour mapping, no per-image quantisation search), which keeps an ``m`` image
near 15 KB. A request's image is composed in palette indices directly: the frame
is quantised once per state and size, and each mask's coverage maps to indices
through a table (about 0.35 ms for ``m``); only the revoked overlay's region is
blended in colour and quantised.

The modules: ``layout`` (sizes, colours, what the card shows), ``fonts`` (the bundled font),
``glyphs`` (PNG text runs put together from glyphs rasterised once),
``svg`` and ``png`` (the two back ends: draw a static layer, compose a request's image),
``pildraw`` (the layout's primitives drawn with Pillow), ``pngfile`` (the PNG file itself),
``pnglayer`` (a kept PNG layer opened into masks) and
``layers`` (render from a kept layer). Callers import from here.
"""

from __future__ import annotations

from signer.images.fonts import FONT_PATH, font_covers
from signer.images.layers import LayerStore, render_badge_png, render_badge_svg, static_layer_key
from signer.images.layout import DESIGN_HEIGHT, DESIGN_WIDTH, LAYOUT_VERSION, SIZES, STATE_WORDS, BadgeFace
from signer.images.png import compose_png, draw_static_png
from signer.images.svg import compose_svg, draw_static_svg

__all__ = [
    "DESIGN_HEIGHT",
    "DESIGN_WIDTH",
    "FONT_PATH",
    "LAYOUT_VERSION",
    "SIZES",
    "STATE_WORDS",
    "BadgeFace",
    "LayerStore",
    "compose_png",
    "compose_svg",
    "draw_static_png",
    "draw_static_svg",
    "font_covers",
    "render_badge_png",
    "render_badge_svg",
    "static_layer_key",
]

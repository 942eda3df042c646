"""Render a badge image from its kept static layer, or draw the layer when there is none."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Protocol

from signer.errors import InvalidRenderRequest
from signer.images.layout import LAYOUT_VERSION, BadgeFace, dims_of, theme_of
from signer.images.png import compose_png, draw_static_png
from signer.images.svg import compose_svg, draw_static_svg

_logger = logging.getLogger(__name__)


class LayerStore(Protocol):
    """Somewhere static layers are kept: ``get_or_draw`` returns the stored bytes or draws and keeps them."""

    def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """Return the layer stored under ``key``, calling ``draw`` (once) when there is none."""
        ...  # pragma: no cover - protocol


def static_layer_key(face: BadgeFace, *, kind: str, credential: str) -> str:
    """Return the content key of a badge's static layer of ``kind`` (``svg``, ``png-s``, ``png-m``, ``png-l``).

    The key covers everything the layer shows (number, shop, branch, platform, verify URL),
    the layout version and the credential it goes out with: a renamed shop or a re-signed
    credential names a new layer, so a kept layer is never stale. State and date are not in
    it: they are put on per request.
    """
    parts = [LAYOUT_VERSION, kind, face.badge_id, face.shop_name, face.branch_name, face.platform,
             face.verify_url, hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()]
    return hashlib.sha256(json.dumps(parts).encode("ascii")).hexdigest()


def render_badge_svg(face: BadgeFace, *, credential: str, layers: LayerStore | None = None) -> bytes:
    """Render the badge as SVG with ``credential`` baked in (its static layer from ``layers`` when given)."""
    theme_of(face.status)
    static = _static(layers, static_layer_key(face, kind="svg", credential=credential),
                     lambda: draw_static_svg(face))
    try:
        return compose_svg(face, credential=credential, static=static)
    except InvalidRenderRequest as exc:
        if exc.reason != "bad_layer" or layers is None:
            raise
        # A kept layer that does not read back (damaged storage) must not break the image.
        _logger.warning("kept svg layer of %s is damaged; drawn again", face.badge_id)
        return compose_svg(face, credential=credential, static=draw_static_svg(face))


def render_badge_png(face: BadgeFace, *, size: str, credential: str, layers: LayerStore | None = None) -> bytes:
    """Render the badge as PNG of size ``s``, ``m`` or ``l`` with ``credential`` baked in."""
    dims_of(size)
    theme_of(face.status)
    static = _static(layers, static_layer_key(face, kind=f"png-{size}", credential=credential),
                     lambda: draw_static_png(face, size=size))
    try:
        return compose_png(face, size=size, credential=credential, static=static)
    except InvalidRenderRequest as exc:
        if exc.reason != "bad_layer" or layers is None:
            raise
        _logger.warning("kept png-%s layer of %s is damaged; drawn again", size, face.badge_id)
        return compose_png(face, size=size, credential=credential, static=draw_static_png(face, size=size))



def _static(layers: LayerStore | None, key: str, draw: Callable[[], bytes]) -> bytes:
    return draw() if layers is None else layers.get_or_draw(key, draw)

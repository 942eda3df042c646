"""A badge's kept PNG layer opened: where its ink and muted text and its QR modules go, as masks.

The layer's bytes are what ``png.draw_static_png`` wrote (a JSON header line, then the masks'
pixels deflated); opening them is an inflate and a few crops, and the masks of the layers
composed most recently are kept, found by the identity of the bytes.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict

from PIL import Image

from signer.errors import InvalidRenderRequest
from signer.images.layout import LAYOUT_VERSION

Masks = list[tuple[tuple[int, int], Image.Image | None]]


class Opened:
    """The masks of the layers composed most recently, found by the identity of their bytes.

    A kept layer is immutable bytes, and the layer store hands out the same object while it
    holds it: so the object, not its content, is the key (no hashing of kilobytes), and the
    entry keeps the object alive so that its identity is never reused for another.
    """

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict[int, tuple[bytes, str, tuple[Masks, float]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, layer: bytes, size: str) -> tuple[Masks, float] | None:
        with self._lock:
            found = self._items.get(id(layer))
            if found is None or found[0] is not layer or found[1] != size:
                return None
            self._items.move_to_end(id(layer))
            return found[2]

    def put(self, layer: bytes, size: str, opened: tuple[Masks, float]) -> None:
        with self._lock:
            self._items[id(layer)] = (layer, size, opened)
            self._items.move_to_end(id(layer))
            while len(self._items) > self._entries:
                self._items.popitem(last=False)


# Opened masks are a few hundred kilobytes at most (size l): 64 bound them at a few megabytes.
OPENED = Opened(64)
_MAX_LAYER_PIXELS = 4 * 800 * 500  # far above any real layer: refuse to inflate a bomb


def open_static_png(static: bytes, size: str) -> tuple[Masks, float]:
    """Return where (top-left) and what (coverage mask) ink text, muted text and QR modules are, and the name width."""
    try:
        head, _, packed = static.partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("v") != LAYOUT_VERSION or header.get("size") != size:
            raise ValueError("layer of another layout or size")
        pixels = zlib.decompressobj().decompress(packed, _MAX_LAYER_PIXELS)
        masks: Masks = []
        pos = 0
        for name in ("ink", "muted"):
            box = header[name]
            if box is None:
                masks.append(((0, 0), None))
                continue
            x0, y0, x1, y1 = (int(v) for v in box)
            count = (x1 - x0) * (y1 - y0)
            masks.append(((x0, y0), Image.frombytes("L", (x1 - x0, y1 - y0), pixels[pos:pos + count])))
            pos += count
        x, y, module, total = (int(v) for v in header["qr"])
        modules = Image.frombytes("L", (total, total), pixels[pos:pos + total * total])
        if pos + total * total != len(pixels) or module < 1:
            raise ValueError("layer pixels do not match its header")
        masks.append(((x, y), modules.resize((total * module, total * module), Image.Resampling.NEAREST)))
        return masks, float(header["strike"])
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise InvalidRenderRequest("static layer is damaged", reason="bad_layer") from exc

"""C2SP tlog-tiles: tile coordinates and paths, tile data from stored hashes, verified tile reading,
and the entry bundle codec.

A tile ``(level L, index N, width W)`` of height ``H`` (8 for C2SP, so 256 hashes) holds the
stored hashes at tree level ``L*H`` with indexes ``N*2**H .. N*2**H + W - 1``: level 0 holds leaf
hashes, level 1 the roots of full level-0 tiles, and so on. A tile narrower than ``2**H`` is
*partial* (``.p/<W>``) and only exists at the right edge of a tree. Entry bundles (level ``-1``
here, ``tile/entries/...`` on the wire) hold the records whose leaf hashes fill the level-0 tile
of the same index and width.

How a log serves them (see ``/work/helpers/tlog-interface.md``): keep the stored hashes of
:mod:`signer.tlog.merkle` in a table; after a checkpoint of size ``s`` is signed, the tiles to
publish are :func:`new_tiles` ``(old_s, s)``; each tile's bytes are :func:`read_tile_data` and
each bundle's :func:`encode_bundle` of the records ``[N*256, N*256 + W)``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from signer.tlog.errors import MalformedLogData, TileError
from signer.tlog.merkle import (
    HASH_SIZE,
    HashReader,
    node_hash,
    split_stored_hash_index,
    stored_hash_index,
    subtree_stored_indexes,
)

#: C2SP tlog-tiles height: 256 hashes (8,192 bytes) in a full tile.
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
#: The "level" of entry bundles (Go calls them data tiles: ``tile/<H>/data/...``).
ENTRIES_LEVEL = -1
#: Largest record an entry bundle can carry (big-endian uint16 length prefix).
MAX_ENTRY_SIZE = 0xFFFF


@dataclass(frozen=True, order=True)
class Tile:
    """A tile (or, at ``level == -1``, an entry bundle) of ``width`` hashes of height ``height``."""

    level: int
    n: int
    width: int
    height: int = TILE_HEIGHT

    @property
    def full(self) -> bool:
        """Whether the tile has all ``2**height`` hashes."""
        return self.width == 1 << self.height

    @property
    def start(self) -> int:
        """Index of the first record the tile spans (its *start index*)."""
        return self.n << (self.height * (max(self.level, 0) + 1))

    def path(self) -> str:
        """Return the C2SP path, ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (height 8 only)."""
        if self.height != TILE_HEIGHT:
            raise MalformedLogData("C2SP tile paths have height 8")
        level = "entries" if self.level == ENTRIES_LEVEL else str(self.level)
        return f"tile/{level}/{_encode_n(self.n)}{'' if self.full else f'.p/{self.width}'}"

    def go_path(self) -> str:
        """Return Go sumdb's path, ``tile/<H>/<L|data>/<N>[.p/<W>]``."""
        level = "data" if self.level == ENTRIES_LEVEL else str(self.level)
        return f"tile/{self.height}/{level}/{_encode_n(self.n)}{'' if self.full else f'.p/{self.width}'}"

    def for_entries(self) -> Tile:
        """Return the entry bundle that matches this level-0 tile."""
        if self.level != 0:
            raise MalformedLogData("only level-0 tiles have entry bundles")
        return Tile(ENTRIES_LEVEL, self.n, self.width, self.height)


def _encode_n(n: int) -> str:
    text = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        text = f"x{n % 1000:03d}/" + text
    return text


_C2SP_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")
_GO_PATH = re.compile(r"tile/([1-9][0-9]?)/(data|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,9}))?")


def _parse(level_text: str, n_text: str, width_text: str | None, height: int, path: str, entries: str) -> Tile:
    level = ENTRIES_LEVEL if level_text == entries else int(level_text)
    if level > 63:
        raise MalformedLogData(f"malformed tile path {path!r}")
    n = int(n_text.replace("x", "").replace("/", ""))
    width = int(width_text) if width_text is not None else 1 << height
    if not 1 <= width <= 1 << height or (width_text is not None and width == 1 << height):
        raise MalformedLogData(f"malformed tile path {path!r}")
    tile = Tile(level, n, width, height)
    if _encode_n(n) != n_text:  # one spelling per index: no "x000/001" for 1
        raise MalformedLogData(f"malformed tile path {path!r}")
    return tile


def parse_tile_path(path: str) -> Tile:
    """Parse a C2SP path (``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``); refuse any other spelling."""
    m = _C2SP_PATH.fullmatch(path) if isinstance(path, str) else None
    if not m:
        raise MalformedLogData(f"malformed tile path {path!r}")
    return _parse(m.group(1), m.group(2), m.group(3), TILE_HEIGHT, path, "entries")


def parse_go_tile_path(path: str) -> Tile:
    """Parse a Go sumdb path (``tile/<H>/<L|data>/<N>[.p/<W>]``, height 1 to 30)."""
    m = _GO_PATH.fullmatch(path) if isinstance(path, str) else None
    if not m or not 1 <= int(m.group(1)) <= 30:
        raise MalformedLogData(f"malformed tile path {path!r}")
    return _parse(m.group(2), m.group(3), m.group(4), int(m.group(1)), path, "data")


def tile_for_index(height: int, index: int) -> Tile:
    """Return the narrowest tile that holds (or lets one compute) the stored hash ``index``."""
    level, n = split_stored_hash_index(index)
    tile_level = level // height
    level -= tile_level * height  # height of the hash inside its tile
    first = n << level  # first tile hash under it
    tile_n = first >> height
    width = ((n + 1) << level) - (tile_n << height)
    return Tile(tile_level, tile_n, width, height)


def hash_from_tile(tile: Tile, data: bytes, index: int) -> bytes:
    """Return the stored hash ``index`` computed from the tile's ``data``; raise :class:`TileError` if it is not there."""
    if tile.level < 0 or len(data) < tile.width * HASH_SIZE:
        raise TileError(f"tile {tile} has no hash {index}")
    level, n = split_stored_hash_index(index)
    tile_level = level // tile.height
    if tile_level != tile.level:
        raise TileError(f"tile {tile} has no hash {index}")
    level -= tile_level * tile.height
    lo = (n << level) - (tile.n << tile.height)
    hi = ((n + 1) << level) - (tile.n << tile.height)
    if lo < 0 or hi > tile.width:
        raise TileError(f"tile {tile} has no hash {index}")
    return _full_subtree_hash(data[lo * HASH_SIZE:hi * HASH_SIZE])


def _full_subtree_hash(data: bytes) -> bytes:
    hashes = [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def tile_hash(data: bytes) -> bytes:
    """Return the Merkle hash of a full tile's hashes (the hash its parent tile holds for it)."""
    if not data or len(data) % HASH_SIZE or (len(data) // HASH_SIZE) & (len(data) // HASH_SIZE - 1):
        raise TileError("a tile hash needs a power-of-two number of hashes")
    return _full_subtree_hash(data)


def read_tile_data(tile: Tile, reader: HashReader) -> bytes:
    """Return a hash tile's bytes: its ``width`` stored hashes at level ``L*H``, concatenated."""
    if tile.level < 0:
        raise TileError("entry bundles are not read from stored hashes")
    level = tile.level * tile.height
    start = tile.n << tile.height
    indexes = [stored_hash_index(level, start + i) for i in range(tile.width)]
    hashes = list(reader.read_hashes(indexes))
    if len(hashes) != len(indexes) or any(len(h) != HASH_SIZE for h in hashes):
        raise TileError(f"stored hashes for tile {tile} are missing")
    return b"".join(hashes)


def new_tiles(height: int, old_size: int, new_size: int) -> list[Tile]:
    """Return the hash tiles a tree growing from ``old_size`` to ``new_size`` adds (full and the new partials).

    Size 0 has no tiles; ``new_tiles(h, s, s)`` is empty. Entry bundles are the level-0 tiles' twins
    (:meth:`Tile.for_entries`).
    """
    tiles: list[Tile] = []
    level = 0
    while new_size >> (height * level) > 0:
        old_n = old_size >> (height * level)
        new_n = new_size >> (height * level)
        if old_n != new_n:
            for n in range(old_n >> height, new_n >> height):
                tiles.append(Tile(level, n, 1 << height, height))
            n = new_n >> height
            width = new_n - (n << height)
            if width > 0:
                tiles.append(Tile(level, n, width, height))
        level += 1
    return tiles


def tiles_for_size(size: int, height: int = TILE_HEIGHT) -> list[Tile]:
    """Return every hash tile of a tree of ``size`` (full ones and the partial right edge)."""
    return new_tiles(height, 0, size)


def tile_parent(tile: Tile, k: int, size: int) -> Tile | None:
    """Return the ``k``-th ancestor tile of ``tile`` in a tree of ``size``, as wide as that tree allows."""
    level = tile.level + k
    n = tile.n >> (k * tile.height)
    width = 1 << tile.height
    limit = size >> (level * tile.height)
    if (n << tile.height) + width >= limit:
        if (n << tile.height) >= limit:
            return None
        width = limit - (n << tile.height)
    return Tile(level, n, width, tile.height)


class TileHashReader:
    """Read stored hashes of a signed tree from fetched tiles, checking every tile against the root.

    ``fetch(tile)`` returns the tile's bytes (HTTP, files, a cache). The tiles on the tree's right
    edge are checked by recomputing ``root`` from them; every other tile by its hash in its parent
    tile, up to an edge tile. Any mismatch raises :class:`TileError` ("downloaded inconsistent tile"):
    a tampered tile can never produce a hash. ``read_hashes`` serves :func:`prove_tree`,
    :func:`prove_record` and :func:`tree_hash` for any size up to ``size``.
    """

    def __init__(self, size: int, root: bytes, fetch: Callable[[Tile], bytes], *, height: int = TILE_HEIGHT) -> None:
        self.size = size
        self.root = root
        self.height = height
        self._fetch = fetch
        self._verified: dict[Tile, bytes] = {}
        self._edge_checked = False

    def _get(self, tile: Tile) -> bytes:
        data = self._fetch(tile)
        if not isinstance(data, bytes) or len(data) != tile.width * HASH_SIZE:
            raise TileError(f"tile {tile.path() if tile.height == TILE_HEIGHT else tile} has the wrong size")
        return data

    def _check_edge(self) -> None:
        if self._edge_checked:
            return
        if self.size == 0:
            raise TileError("an empty tree has no tiles")
        indexes = subtree_stored_indexes(0, self.size)
        tiles: dict[Tile, bytes] = {}
        hashes = []
        for x in indexes:
            tile = tile_parent(tile_for_index(self.height, x), 0, self.size)
            assert tile is not None  # noqa: S101 - the index lies inside the tree
            if tile not in tiles:
                tiles[tile] = self._get(tile)
            hashes.append(hash_from_tile(tile, tiles[tile], x))
        h = hashes[-1]
        for left in reversed(hashes[:-1]):
            h = node_hash(left, h)
        if h != self.root:
            raise TileError("downloaded inconsistent tile: the tiles do not give the signed root")
        self._verified.update(tiles)
        self._edge_checked = True

    def _tile(self, tile: Tile) -> bytes:
        if tile in self._verified:
            return self._verified[tile]
        parent = tile_parent(tile, 1, self.size)
        if parent is None or not tile.full:
            raise TileError(f"tile {tile} is outside the tree of size {self.size}")
        parent_data = self._tile(parent)
        want = hash_from_tile(parent, parent_data, stored_hash_index(parent.level * self.height, tile.n))
        data = self._get(tile)
        if tile_hash(data) != want:
            raise TileError("downloaded inconsistent tile: a tile does not match its parent")
        self._verified[tile] = data
        return data

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, each from a tile checked against the signed root."""
        self._check_edge()
        limit = stored_hash_index(0, self.size)
        out = []
        for x in indexes:
            if not 0 <= x < limit:
                raise TileError(f"stored hash {x} is not in the tree of size {self.size}")
            tile = tile_parent(tile_for_index(self.height, x), 0, self.size)
            if tile is None:
                raise TileError(f"stored hash {x} is not in the tree of size {self.size}")
            out.append(hash_from_tile(tile, self._tile(tile), x))
        return out

    def read_tile(self, tile: Tile) -> bytes:
        """Return a hash tile's bytes once checked against the signed root."""
        self._check_edge()
        return self._tile(tile)


# Entry bundles ---------------------------------------------------------------------------------


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Return an entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise MalformedLogData(f"an entry of {len(entry)} bytes does not fit a bundle (at most {MAX_ENTRY_SIZE})")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def decode_bundle(data: bytes, *, count: int | None = None) -> list[bytes]:
    """Return the entries of a bundle; refuse a truncated one, trailing bytes or the wrong ``count``."""
    entries = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise MalformedLogData("entry bundle ends inside a length prefix")
        (size,) = struct.unpack_from(">H", data, i)
        i += 2
        if i + size > len(data):
            raise MalformedLogData("entry bundle ends inside an entry")
        entries.append(bytes(data[i:i + size]))
        i += size
        if len(entries) > TILE_WIDTH:
            raise MalformedLogData("entry bundle has more than 256 entries")
    if count is not None and len(entries) != count:
        raise MalformedLogData(f"entry bundle has {len(entries)} entries, expected {count}")
    return entries

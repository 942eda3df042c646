"""Stored hashes, tiles and bundles: Go sumdb/tlog's tree and tile tests, and the C2SP tlog-tiles examples."""

from __future__ import annotations

import re

import pytest

from signer.tlog import (
    EMPTY_ROOT,
    MalformedLogData,
    MemoryHashStore,
    ProofError,
    Tile,
    TileError,
    TileHashReader,
    check_record,
    check_tree,
    decode_bundle,
    encode_bundle,
    hash_from_tile,
    leaf_hash,
    new_tiles,
    parse_go_tile_path,
    parse_tile_path,
    prove_record,
    prove_tree,
    read_tile_data,
    record_count,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes,
    tile_for_index,
    tiles_for_size,
    tree_hash,
)
from tests.unit.signer.tlog.vectors import go_function, read


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_tree_like_go_sumdb() -> None:
    """Go's TestTree: 100 records, height-2 tiles, every proof from storage and from verified tiles."""
    height = 2
    store = MemoryHashStore()
    trees: list[bytes] = []
    leaves: list[bytes] = []
    tiles: dict[Tile, bytes] = {}
    for i in range(100):
        data = f"leaf {i}".encode()
        hashes = stored_hashes(i, data, store)
        leaves.append(leaf_hash(data))
        old_count = len(store.hashes)
        store.hashes.extend(hashes)
        assert stored_hash_count(i + 1) == len(store.hashes)
        assert record_count(len(store.hashes)) == i + 1
        th = tree_hash(i + 1, store)

        for tile in new_tiles(height, i, i + 1):
            data_t = read_tile_data(tile, store)
            old = Tile(tile.level, tile.n, tile.width - 1, height)
            old_data = tiles.get(old, b"")
            assert len(old_data) == len(data_t) - 32 and data_t.startswith(old_data), "tile must extend its prefix"
            tiles[tile] = data_t
        for tile in new_tiles(height, 0, i + 1) + new_tiles(height, i // 2, i + 1):
            assert tiles[tile] == read_tile_data(tile, store)

        for j in range(old_count, len(store.hashes)):
            tile = tile_for_index(height, j)
            assert tile in tiles, f"tile_for_index({height}, {j}) not yet stored"
            assert hash_from_tile(tile, tiles[tile], j) == store.hashes[j]
        trees.append(th)

        for j in range(i + 1):
            p = prove_record(i + 1, j, store)
            check_record(p, i + 1, th, j, leaves[j])
            for k in range(len(p)):
                bad = list(p)
                bad[k] = _flip(bad[k])
                with pytest.raises(ProofError):
                    check_record(bad, i + 1, th, j, leaves[j])

        reader = TileHashReader(i + 1, th, tiles.__getitem__, height=height)
        for j in range(i + 1):
            assert reader.read_hashes([stored_hash_index(0, j)]) == [leaves[j]]
            check_record(prove_record(i + 1, j, reader), i + 1, th, j, leaves[j])
        with pytest.raises(TileError):
            reader.read_hashes([(i + 1) * 2])
        for j in range(i + 1):
            assert tree_hash(j + 1, reader) == trees[j]
            p = prove_tree(i + 1, j + 1, reader)
            check_tree(p, i + 1, th, j + 1, trees[j])
            for k in range(len(p)):
                bad = list(p)
                bad[k] = _flip(bad[k])
                with pytest.raises(ProofError):
                    check_tree(bad, i + 1, th, j + 1, trees[j])


def test_split_stored_hash_index_inverts() -> None:
    for level in range(10):
        for n in range(100):
            assert split_stored_hash_index(stored_hash_index(level, n)) == (level, n)


def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert tree_hash(0, MemoryHashStore()) == EMPTY_ROOT
    assert new_tiles(8, 0, 0) == []


def test_size_edges_are_refused() -> None:
    store = MemoryHashStore()
    store.append_record(b"only")
    assert prove_record(1, 0, store) == []  # size 1: the root is the leaf hash
    assert prove_tree(1, 1, store) == []
    for call in (lambda: prove_record(0, 0, store), lambda: prove_record(1, 1, store),
                 lambda: prove_tree(1, 0, store), lambda: prove_tree(1, 2, store)):
        with pytest.raises(ProofError):
            call()
    with pytest.raises(ProofError):  # no negative index wraps around to the end
        store.read_hashes([-1])
    with pytest.raises(ProofError):  # the empty tree proves nothing (Go's CheckTree)
        check_tree([], 1, tree_hash(1, store), 0, EMPTY_ROOT)


def test_new_tiles_cases_of_tile_test_go() -> None:
    body = go_function(read("golang-mod/sumdb/tlog/tile_test.go"), "TestNewTilesForSize")
    cases = [tuple(int(x) for x in m) for m in re.findall(r"\{(\d+), (\d+), (\d+)\}", body)]
    assert len(cases) == 7
    height = int(re.search(r"NewTiles\((\d+), tt\.old, tt\.new\)", body).group(1))
    for old, new, want in cases:
        assert len(new_tiles(height, old, new)) == want, (old, new)


def _go_tile_paths() -> list[tuple[str, tuple[int, int, int, int]]]:
    body = read("golang-mod/sumdb/tlog/tlog_test.go")
    block = re.search(r"var tilePaths = \[\]struct \{.*?\n\}\{(.*?)\n\}\n", body, re.S).group(1)
    rows = re.findall(r'\{"([^"]+)", Tile\{([^}]*)\}\}', block)
    out = []
    for path, fields in rows:
        values = tuple(int(x) for x in fields.split(",")) if fields.strip() else (0, 0, 0, 0)
        out.append((path, values))
    return out


def test_tile_paths_of_tlog_test_go() -> None:
    cases = _go_tile_paths()
    assert len(cases) == 8
    for path, (h, level, n, width) in cases:
        if h == 0:  # Tile{}: the path must be refused
            with pytest.raises(MalformedLogData):
                parse_go_tile_path(path)
            continue
        tile = Tile(level, n, width, h)
        assert tile.go_path() == path
        assert parse_go_tile_path(path) == tile


def test_c2sp_tile_paths() -> None:
    spec = " ".join(read("c2sp/tlog-tiles.md").split())
    index, encoded = re.search(r"index (\d[\d,]*) will be encoded as `([^`]+)`", spec).groups()
    tile = Tile(0, int(index.replace(",", "")), 256)
    assert tile.path() == f"tile/0/{encoded}"
    assert parse_tile_path(f"tile/0/{encoded}") == tile
    assert Tile(2, 5, 17).path() == "tile/2/005.p/17"
    assert Tile(-1, 1000, 256).path() == "tile/entries/x001/000"
    assert parse_tile_path("tile/entries/x001/000.p/3") == Tile(-1, 1000, 3)
    for bad in ("tile/0/1", "tile/0/x000/001", "tile/0/001.p/0", "tile/0/001.p/256", "tile/0/001.p/07",
                "tile/64/000", "tile/01/000", "tile/0/001/", "tile/8/0/001", "tile/entries/x001", "tile/-1/000",
                "../tile/0/000", "tile/0/000.p/", "tile/data/000"):
        with pytest.raises(MalformedLogData):
            parse_tile_path(bad)


def _count(word: str) -> int:
    return {"a": 1, "one": 1}.get(word) or int(word.replace(",", ""))


def test_layout_examples_of_tlog_tiles_md() -> None:
    """The spec's 70,000- and 256-entry trees, read from its own sentences."""
    spec = " ".join(read("c2sp/tlog-tiles.md").split())
    sentence = re.search(r"a tree of size ([\d,]+) will be represented by (.*?)\. Note that a tree of size "
                         r"([\d,]+) will be represented by (.*?)\.", spec)
    assert sentence, "layout example not found in tlog-tiles.md"
    for size_text, description in ((sentence.group(1), sentence.group(2)), (sentence.group(3), sentence.group(4))):
        size = int(size_text.replace(",", ""))
        want: list[tuple[int, int, int]] = []  # (level, count, width)
        for count, kind, level, width in re.findall(
                r"(\d[\d,]*|one|a) (full|partial) level (\d) tiles?(?: of width (\d+))?", description):
            want.append((int(level), _count(count), 256 if kind == "full" else int(width)))
        assert want, description
        got: dict[tuple[int, int], int] = {}
        for tile in tiles_for_size(size):
            got[(tile.level, tile.width)] = got.get((tile.level, tile.width), 0) + 1
        assert got == {(level, width): count for level, count, width in want}, size
        # and each partial tile's width is floor(s / 256**l) mod 256, as the spec defines it
        for tile in tiles_for_size(size):
            if not tile.full:
                assert tile.width == (size // 256 ** tile.level) % 256


def test_tile_reader_refuses_tampered_tiles() -> None:
    store = MemoryHashStore()
    for i in range(70_000 // 100):  # 700 records: two full level-0 tiles and a partial one
        store.append_record(f"entry {i}".encode())
    size = 700
    root = tree_hash(size, store)
    served = {tile: read_tile_data(tile, store) for tile in tiles_for_size(size)}
    assert set(served) == {Tile(0, 0, 256), Tile(0, 1, 256), Tile(0, 2, 188), Tile(1, 0, 2)}
    reader = TileHashReader(size, root, served.__getitem__)
    assert reader.read_hashes([stored_hash_index(0, 3)]) == [leaf_hash(b"entry 3")]

    for victim in served:
        tampered = dict(served)
        tampered[victim] = _flip(served[victim][:32]) + served[victim][32:]
        reader = TileHashReader(size, root, tampered.__getitem__)
        with pytest.raises(TileError):
            for x in range(size):
                reader.read_hashes([stored_hash_index(0, x)])
    short = dict(served)
    short[Tile(0, 0, 256)] = served[Tile(0, 0, 256)][:-32]
    with pytest.raises(TileError):
        TileHashReader(size, root, short.__getitem__).read_hashes([stored_hash_index(0, 0)])
    with pytest.raises(TileError):  # a root the tiles do not give
        TileHashReader(size, _flip(root), served.__getitem__).read_hashes([0])


def test_entry_bundles() -> None:
    entries = [b"", b"a", b"x" * 300, bytes(range(256))]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a" and data[5:7] == b"\x01\x2c"
    assert decode_bundle(data) == entries
    assert decode_bundle(data, count=4) == entries
    for bad in (data[:-1], data + b"\x00", b"\x00", b"\x00\x05abc"):
        with pytest.raises(MalformedLogData):
            decode_bundle(bad)
    with pytest.raises(MalformedLogData):
        decode_bundle(data, count=3)
    with pytest.raises(MalformedLogData):
        encode_bundle([b"x" * 65536])

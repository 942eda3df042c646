"""RFC 6962 hashing and proofs against transparency-dev/merkle's vectors (every case, wantErr refused)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from signer.tlog import (
    EMPTY_ROOT,
    MemoryHashStore,
    ProofError,
    leaf_hash,
    node_hash,
    prove_record,
    prove_tree,
    root_from_leaf_hashes,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.unit.signer.tlog.vectors import read, tlog_dir


def _cases(kind: str) -> list[Path]:
    files = sorted((tlog_dir() / "merkle" / "testdata" / kind).rglob("*.json"))
    if not files:
        pytest.fail(f"no {kind} vectors under {tlog_dir()}", pytrace=False)
    return files


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _ids(files: list[Path]) -> list[str]:
    return [f"{f.parent.name}/{f.stem}" for f in files]


def test_every_vector_is_read() -> None:
    # 98 + 98 cases in the copy the README describes; a lost folder must not pass quietly.
    assert len(_cases("inclusion")) == 98
    assert len(_cases("consistency")) == 98


def _inclusion_files() -> list[Path]:
    try:
        return _cases("inclusion")
    except pytest.fail.Exception:
        return [Path("missing-vectors")]


def _consistency_files() -> list[Path]:
    try:
        return _cases("consistency")
    except pytest.fail.Exception:
        return [Path("missing-vectors")]


@pytest.mark.parametrize("path", _inclusion_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_vector(path: Path) -> None:
    if not path.is_file():
        tlog_dir()
        pytest.fail(f"inclusion vector missing: {path}", pytrace=False)
    case = json.loads(path.read_text())
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), [_b64(p) for p in case["proof"] or []],
            _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _consistency_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_consistency_vector(path: Path) -> None:
    if not path.is_file():
        tlog_dir()
        pytest.fail(f"consistency vector missing: {path}", pytrace=False)
    case = json.loads(path.read_text())
    args = (case["size1"], case["size2"], [_b64(p) for p in case["proof"] or []], _b64(case["root1"]),
            _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _go_hex_lists(source: str, func: str) -> list[list[bytes]]:
    """Return the hd("...") values of a Go func, grouped by innermost ``{...}`` block (or one group)."""
    body = re.search(rf"func {func}\(\).*?\n}}\n", source, re.S)
    assert body, f"{func} not found in constants.go"
    groups = re.findall(r"\{((?:\s*hd\(\"[0-9a-f]*\"\),?)+\s*)\}", body.group(0))
    if not groups:
        groups = [body.group(0)]
    return [[bytes.fromhex(h) for h in re.findall(r'hd\("([0-9a-f]*)"\)', g)] for g in groups]


def test_constants_roots_and_node_hashes_for_sizes_0_to_8() -> None:
    source = read("merkle/testonly/constants.go")
    (leaves,) = _go_hex_lists(source, "LeafInputs")
    assert len(leaves) == 8
    (roots_tail,) = _go_hex_lists(source, "RootHashes")
    empty = bytes.fromhex(re.search(r'func EmptyRootHash\(\).*?hd\("([0-9a-f]+)"\)', source, re.S).group(1))
    roots = [empty, *roots_tail]  # RootHashes() starts with EmptyRootHash()
    assert len(roots) == 9
    assert EMPTY_ROOT == empty
    levels = _go_hex_lists(source, "NodeHashes")
    assert [len(level) for level in levels] == [8, 4, 2, 1]

    store = MemoryHashStore()
    assert tree_hash(0, store) == roots[0]
    for size in range(1, 9):
        store.append_record(leaves[size - 1])
        assert tree_hash(size, store) == roots[size], size
        assert root_from_leaf_hashes([leaf_hash(x) for x in leaves[:size]]) == roots[size]
    assert [leaf_hash(x) for x in leaves] == levels[0]
    for level in range(1, 4):
        below = levels[level - 1]
        assert [node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(levels[level]))] == levels[level]

    # Our own proofs for every (index, size) and (old, new) over these 8 leaves verify against the roots.
    for size in range(1, 9):
        for index in range(size):
            verify_inclusion(index, size, leaf_hash(leaves[index]), prove_record(size, index, store), roots[size])
        for old in range(1, size + 1):
            verify_consistency(old, size, prove_tree(size, old, store), roots[old], roots[size])


def test_rfc6962_hasher_vectors() -> None:
    source = read("merkle/rfc6962/rfc6962_test.go")
    want = dict(re.findall(r'desc:\s*"([^"]+)",\s*want:\s*"([0-9a-f]{64})"', source))
    assert set(want) == {"RFC6962 Empty", "RFC6962 Empty Leaf", "RFC6962 Leaf", "RFC6962 Node"}
    leaf_input = re.search(r'leafHash := hasher\.HashLeaf\(\[\]byte\("([^"]*)"\)\)', source).group(1)
    left, right = re.search(r'HashChildren\(\[\]byte\("([^"]*)"\), \[\]byte\("([^"]*)"\)\)', source).groups()
    assert EMPTY_ROOT.hex() == want["RFC6962 Empty"]
    assert leaf_hash(b"").hex() == want["RFC6962 Empty Leaf"]
    assert leaf_hash(leaf_input.encode()).hex() == want["RFC6962 Leaf"]
    assert node_hash(left.encode(), right.encode()).hex() == want["RFC6962 Node"]
    # the prefixes make a leaf and a node over the same bytes differ (second-preimage resistance)
    h1, h2 = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(h1, h2) != leaf_hash(h1 + h2)
    assert node_hash(h1, h2) != node_hash(h2, h1)

"""RFC 6962 Merkle trees in the "stored hashes" model (written against the vectors, by hand).

Hashing is RFC 6962 §2.1: a leaf is ``SHA-256(0x00 || data)``, an interior node
``SHA-256(0x01 || left || right)``, the empty tree ``SHA-256("")``.

Storage follows the model of Go's ``golang.org/x/mod/sumdb/tlog`` (Crosby and Wallach's dense
post-order numbering): every complete subtree's hash gets one *stored hash index*;
appending record ``n`` stores its leaf hash and the hashes of the subtrees it completes
(:func:`stored_hashes`, at most ``1 + log2 n`` of them, two on average), reading at most
``log2 n`` earlier hashes. Tree hashes, inclusion and consistency proofs are then computed
from stored hashes alone (:func:`tree_hash`, :func:`prove_record`, :func:`prove_tree`), so a
database table ``index -> hash`` is all a log needs, and the C2SP tiles are slices of it
(:mod:`signer.tlog.tiles`).

Size-0 / size-1 conventions (the vectors of transparency-dev/merkle and Go's tlog agree on these):

* the tree of size 0 has the RFC 6962 empty hash ``SHA-256("")`` (not Go's old all-zero hash);
* a tree of size 0 has no records, so no inclusion proof exists for it;
* in a tree of size 1 the root is the leaf hash and the inclusion proof is empty;
* a consistency proof needs ``1 <= old <= new``: from size 0 nothing is proved and the call is
  refused (C2SP tlog-witness treats old size 0 as "no proof needed" itself, see the witness);
* equal sizes need an empty proof and equal roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from signer.tlog.errors import MalformedLogData, ProofError

HASH_SIZE = 32
#: RFC 6962's hash of the empty tree, ``SHA-256("")``.
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: Largest tree size we accept anywhere (sizes are uint64 on the wire, int64 in Go).
MAX_TREE_SIZE = (1 << 63) - 1


class HashReader(Protocol):
    """Something that returns stored hashes by stored hash index (a table, a list, verified tiles)."""

    def read_hashes(self, indexes: Sequence[int]) -> Sequence[bytes]:
        """Return the hashes at ``indexes`` (same length and order), or raise :class:`LogError`."""
        ...


class MemoryHashStore:
    """A list of stored hashes in index order: the in-memory twin of a ``log_hashes`` table."""

    def __init__(self, hashes: Sequence[bytes] = ()) -> None:
        self.hashes: list[bytes] = list(hashes)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``."""
        if any(not 0 <= i < len(self.hashes) for i in indexes):
            raise ProofError("stored hash not present", reason="bad_sizes")
        return [self.hashes[i] for i in indexes]

    def append_record(self, data: bytes) -> int:
        """Append a record, store its hashes, and return its index (the tree size before it)."""
        n = record_count(len(self.hashes))
        self.hashes.extend(stored_hashes(n, data, self))
        return n


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)`` of a record."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of a whole list of leaf hashes (RFC 6962 MTH; size 0: ``SHA-256("")``)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    # Fold pairwise; an odd node at the right edge is carried up unchanged (RFC 6962's split at
    # the largest power of two gives the same tree).
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _maxpow2(n: int) -> tuple[int, int]:
    """Return ``(k, l)``: the largest power of two ``k = 2**l`` strictly below ``n`` (``n >= 2``)."""
    level = (n - 1).bit_length() - 1
    return 1 << level, level


def _check_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_TREE_SIZE:
        raise ProofError(f"{what} out of range: {value!r}", reason="bad_sizes")


def stored_hash_index(level: int, n: int) -> int:
    """Return the stored hash index of the ``n``-th hash at tree ``level`` (level 0: leaves)."""
    for _ in range(level):
        n = 2 * n + 1
    i = 0
    while n > 0:
        i += n
        n >>= 1
    return i + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Return ``(level, n)`` for a stored hash index (inverse of :func:`stored_hash_index`)."""
    n = index // 2
    index_n = stored_hash_index(0, n)
    while True:
        # Record n+1 adds one leaf hash plus one hash per subtree it completes.
        x = index_n + 1 + _trailing_zeros(n + 1)
        if x > index:
            break
        n += 1
        index_n = x
    level = index - index_n
    return level, n >> level


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def stored_hash_count(size: int) -> int:
    """Return how many stored hashes a tree of ``size`` records has (0 for size 0)."""
    if size == 0:
        return 0
    count = stored_hash_index(0, size - 1) + 1
    i = size - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def record_count(hash_count: int) -> int:
    """Return the tree size whose stored hashes number exactly ``hash_count`` (inverse of the above)."""
    if hash_count == 0:
        return 0
    level, n = split_stored_hash_index(hash_count - 1)
    size = (n + 1) << level
    if stored_hash_count(size) != hash_count:
        raise MalformedLogData(f"{hash_count} stored hashes is no whole tree")
    return size


def stored_hashes(n: int, data: bytes, reader: HashReader) -> list[bytes]:
    """Return the hashes to store (from index ``stored_hash_index(0, n)`` on) when appending record ``n``."""
    return stored_hashes_for_record_hash(n, leaf_hash(data), reader)


def stored_hashes_for_record_hash(n: int, record_hash: bytes, reader: HashReader) -> list[bytes]:
    """Like :func:`stored_hashes`, given the record's leaf hash instead of its data."""
    _check_size(n, "record index")
    _check_hash(record_hash, "record hash")
    completed = _trailing_zeros(n + 1)
    # Each trailing 1 bit of n completes a subtree whose left sibling is already stored.
    indexes = [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(completed))]
    old = _read(reader, indexes)
    hashes = [record_hash]
    h = record_hash
    for i in range(completed):
        h = node_hash(old[completed - 1 - i], h)
        hashes.append(h)
    return hashes


def _read(reader: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = list(reader.read_hashes(indexes))
    if len(hashes) != len(indexes):
        raise ProofError(f"asked for {len(indexes)} stored hashes, got {len(hashes)}", reason="bad_sizes")
    for h in hashes:
        _check_hash(h, "stored hash")
    return hashes


def _check_hash(h: object, what: str) -> None:
    if not isinstance(h, bytes) or len(h) != HASH_SIZE:
        raise MalformedLogData(f"{what} is not a {HASH_SIZE}-byte hash")


def _subtree_indexes(lo: int, hi: int, need: list[int]) -> list[int]:
    while lo < hi:
        k, level = _maxpow2(hi - lo + 1)
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def _subtree_hash(lo: int, hi: int, hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    count = 0
    while lo < hi:
        k, _ = _maxpow2(hi - lo + 1)
        count += 1
        lo += k
    h = hashes[count - 1]
    for i in range(count - 2, -1, -1):
        h = node_hash(hashes[i], h)
    return h, hashes[count:]


def tree_hash(size: int, reader: HashReader) -> bytes:
    """Return the root hash of the tree of ``size`` records from stored hashes.

    Size 0 is the RFC 6962 empty hash ``SHA-256("")``; size 1 is the one leaf hash.
    """
    _check_size(size, "tree size")
    if size == 0:
        return EMPTY_ROOT
    indexes = _subtree_indexes(0, size, [])
    h, rest = _subtree_hash(0, size, _read(reader, indexes))
    assert not rest  # noqa: S101 - index arithmetic invariant
    return h


def subtree_stored_indexes(lo: int, hi: int) -> list[int]:
    """Return the stored hash indexes :func:`tree_hash` reads for records ``[lo, hi)``."""
    return _subtree_indexes(lo, hi, [])

"""RFC 6962 inclusion and consistency proofs, made from stored hashes and checked against roots.

Conventions (the transparency-dev/merkle vectors and Go's ``CheckRecord`` / ``CheckTree`` agree):

* inclusion needs ``0 <= index < size``: a tree of size 0 contains nothing; in a tree of size 1 the
  proof is empty and the root is the leaf hash;
* consistency needs ``1 <= old <= new``: a proof from the empty tree proves nothing and is refused
  (the C2SP witness protocol accepts old size 0 without a proof, and says so in its own code);
  equal sizes need an empty proof and equal roots.
"""

from __future__ import annotations

from collections.abc import Sequence

from signer.tlog.errors import ProofError
from signer.tlog.merkle import (
    HASH_SIZE,
    HashReader,
    _check_size,
    _maxpow2,
    _read,
    _subtree_hash,
    _subtree_indexes,
    node_hash,
)

# Inclusion ("record") proofs -------------------------------------------------------------------


def _leaf_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if lo + 1 == hi:
        return need
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        _leaf_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _leaf_proof_indexes(lo + k, hi, n, need)
    return need


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if lo + 1 == hi:
        return [], hashes
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        proof, hashes = _leaf_proof(lo, lo + k, n, hashes)
        th, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        th, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _leaf_proof(lo + k, hi, n, hashes)
    return [*proof, th], hashes


def prove_record(size: int, index: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 6962 inclusion proof (audit path, leaf's sibling first) of record ``index``.

    Needs ``0 <= index < size``: a tree of size 0 has no record; in a tree of size 1 the proof is empty.
    """
    _check_size(size, "tree size")
    _check_size(index, "record index")
    if index >= size:
        raise ProofError(f"record {index} is not in a tree of size {size}", reason="bad_sizes")
    indexes = _leaf_proof_indexes(0, size, index, [])
    proof, rest = _leaf_proof(0, size, index, _read(reader, indexes))
    assert not rest  # noqa: S101 - index arithmetic invariant
    return proof


def _run_record_proof(proof: Sequence[bytes], lo: int, hi: int, n: int, h: bytes) -> bytes:
    if lo + 1 == hi:
        if proof:
            raise ProofError("inclusion proof has extra hashes", reason="bad_proof")
        return h
    if not proof:
        raise ProofError("inclusion proof is too short", reason="bad_proof")
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        return node_hash(_run_record_proof(proof[:-1], lo, lo + k, n, h), proof[-1])
    return node_hash(proof[-1], _run_record_proof(proof[:-1], lo + k, hi, n, h))


def check_record(proof: Sequence[bytes], size: int, root: bytes, index: int, record_hash: bytes) -> None:
    """Verify that ``proof`` shows record ``index`` with leaf hash ``record_hash`` in the tree (``size``, ``root``).

    Go's argument order (``CheckRecord``). Needs ``0 <= index < size``; size 1: empty proof and
    ``root == record_hash``. Raises :class:`ProofError`, returns nothing.
    """
    verify_inclusion(index, size, record_hash, proof, root)


def verify_inclusion(index: int, size: int, record_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Verify an RFC 6962 inclusion proof (transparency-dev's argument order); raise :class:`ProofError`.

    Needs ``0 <= index < size`` (a tree of size 0 contains nothing); size 1: the proof must be
    empty and the root equal the leaf hash. The leaf hash, the root and every proof element must
    be 32-byte hashes. (Consistency with equal sizes only compares the roots, see below.)
    """
    _check_size(size, "tree size")
    _check_size(index, "record index")
    if index >= size:
        raise ProofError(f"record {index} is not in a tree of size {size}", reason="bad_sizes")
    for h in proof:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError("inclusion proof element is not a 32-byte hash", reason="bad_proof")
    if not isinstance(record_hash, bytes) or len(record_hash) != HASH_SIZE:
        raise ProofError("the leaf hash is not a 32-byte hash", reason="bad_proof")
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise ProofError("the root is not a 32-byte hash", reason="bad_proof")
    # An audit path is at most 63 hashes for sizes below 2**63; refuse before recursing.
    if len(proof) > 64:
        raise ProofError("inclusion proof is too long", reason="bad_proof")
    computed = _run_record_proof(list(proof), 0, size, index, record_hash)
    if computed != root:
        raise ProofError("inclusion proof does not lead to the root", reason="bad_proof")


# Consistency ("tree") proofs -------------------------------------------------------------------


def _tree_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if n == hi:
        if lo == 0:
            return need
        return _subtree_indexes(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        _tree_proof_indexes(lo, lo + k, n, need)
        _subtree_indexes(lo + k, hi, need)
    else:
        _subtree_indexes(lo, lo + k, need)
        _tree_proof_indexes(lo + k, hi, n, need)
    return need


def _tree_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if n == hi:
        if lo == 0:
            return [], hashes
        th, hashes = _subtree_hash(lo, hi, hashes)
        return [th], hashes
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        proof, hashes = _tree_proof(lo, lo + k, n, hashes)
        th, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        th, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _tree_proof(lo + k, hi, n, hashes)
    return [*proof, th], hashes


def prove_tree(size: int, old_size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 6962 consistency proof from the tree of ``old_size`` to the tree of ``size``.

    Needs ``1 <= old_size <= size`` (Go's ``ProveTree``): nothing is proved from size 0, and equal
    sizes give an empty proof.
    """
    _check_size(size, "tree size")
    _check_size(old_size, "old tree size")
    if not 1 <= old_size <= size:
        raise ProofError(f"no consistency proof from size {old_size} to size {size}", reason="bad_sizes")
    indexes = _tree_proof_indexes(0, size, old_size, [])
    proof, rest = _tree_proof(0, size, old_size, _read(reader, indexes))
    assert not rest  # noqa: S101 - index arithmetic invariant
    return proof


def check_tree(proof: Sequence[bytes], size: int, root: bytes, old_size: int, old_root: bytes) -> None:
    """Verify that the tree (``old_size``, ``old_root``) is a prefix of (``size``, ``root``); Go's order.

    Same conventions as :func:`verify_consistency`. Raises :class:`ProofError`.
    """
    verify_consistency(old_size, size, proof, old_root, root)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Verify an RFC 6962 consistency proof (transparency-dev's argument order); raise :class:`ProofError`.

    Conventions (those of the transparency-dev/merkle vectors and Go's ``CheckTree``):
    ``size1 == 0`` is refused, even with ``size2 == 0`` (a proof from the empty tree proves
    nothing; callers that accept any tree after an empty one, like a witness at old size 0, say so
    themselves); ``size1 == size2`` needs an empty proof and ``root1 == root2``; otherwise the proof
    must be non-empty, 32-byte hashes, and lead to both roots.
    """
    _check_size(size1, "old tree size")
    _check_size(size2, "tree size")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing", reason="bad_sizes")
    if size2 < size1:
        raise ProofError(f"tree size {size2} is smaller than old size {size1}", reason="bad_sizes")
    if not isinstance(root1, bytes) or not isinstance(root2, bytes):
        raise ProofError("roots must be bytes", reason="bad_proof")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty consistency proof", reason="bad_proof")
        if root1 != root2:
            raise ProofError("equal sizes but different roots", reason="root_mismatch")
        return
    if not proof:
        raise ProofError("empty consistency proof", reason="bad_proof")
    for h in proof:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError("consistency proof element is not a 32-byte hash", reason="bad_proof")
    if len(proof) > 128:
        raise ProofError("consistency proof is too long", reason="bad_proof")
    got1, got2 = _run_tree_proof(list(proof), 0, size2, size1, root1)
    if got1 != root1 or got2 != root2:
        raise ProofError("consistency proof does not lead to both roots", reason="bad_proof")


def _run_tree_proof(proof: list[bytes], lo: int, hi: int, n: int, old: bytes) -> tuple[bytes, bytes]:
    """Return the (old subtree, new subtree) hashes the proof implies for records ``[lo, hi)``."""
    if n == hi:
        if lo == 0:
            if proof:
                raise ProofError("consistency proof has extra hashes", reason="bad_proof")
            return old, old
        if len(proof) != 1:
            raise ProofError("consistency proof has the wrong length", reason="bad_proof")
        return proof[0], proof[0]
    if not proof:
        raise ProofError("consistency proof is too short", reason="bad_proof")
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        old_h, new_h = _run_tree_proof(proof[:-1], lo, lo + k, n, old)
        return old_h, node_hash(new_h, proof[-1])
    old_h, new_h = _run_tree_proof(proof[:-1], lo + k, hi, n, old)
    return node_hash(proof[-1], old_h), node_hash(proof[-1], new_h)

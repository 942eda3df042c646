"""C2SP tlog-proof: the offline text form of "entry N is in this (cosigned) checkpoint".

::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <N>
    <base64 hash>            (the inclusion proof, leaf's sibling first; none for a tree of size 1)
    ...
    <empty line>
    <the signed checkpoint, verbatim>
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signer.tlog.errors import MalformedLogData, MalformedNote
from signer.tlog.merkle import HASH_SIZE, MAX_TREE_SIZE
from signer.tlog.note import b64decode, b64encode

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"index (0|[1-9][0-9]{0,18})")


@dataclass(frozen=True)
class TlogProof:
    """An entry index, its inclusion proof, the signed checkpoint (bytes as served) and optional extra data."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None


def format_proof(proof: TlogProof) -> str:
    """Return the tlog-proof text of ``proof``."""
    if not 0 <= proof.index <= MAX_TREE_SIZE or any(len(h) != HASH_SIZE for h in proof.proof):
        raise MalformedLogData("a tlog-proof needs an index and 32-byte hashes")
    lines = [HEADER]
    if proof.extra is not None:
        lines.append(f"extra {b64encode(proof.extra)}")
    lines.append(f"index {proof.index}")
    lines.extend(b64encode(h) for h in proof.proof)
    return "\n".join(lines) + "\n\n" + proof.checkpoint.decode("utf-8")


def parse_proof(text: str) -> TlogProof:
    """Parse a tlog-proof text strictly (the checkpoint is returned unverified: open it with the log's key)."""
    if not isinstance(text, str):
        raise MalformedLogData("a tlog-proof is text")
    head, sep, checkpoint = text.partition("\n\n")
    if not sep or not checkpoint:
        raise MalformedLogData("a tlog-proof needs an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise MalformedLogData("not a c2sp.org/tlog-proof@v1")
    i = 1
    extra = None
    try:
        if i < len(lines) and lines[i].startswith("extra "):
            extra = b64decode(lines[i][len("extra "):])
            i += 1
        if i >= len(lines) or not (m := _INDEX.fullmatch(lines[i])):
            raise MalformedLogData("a tlog-proof needs an index line")
        hashes = tuple(b64decode(line) for line in lines[i + 1:])
    except MalformedNote as exc:
        raise MalformedLogData("malformed base64 in a tlog-proof") from exc
    if any(len(h) != HASH_SIZE for h in hashes):
        raise MalformedLogData("a tlog-proof hash is not 32 bytes")
    index = int(m.group(1))
    if index > MAX_TREE_SIZE:
        raise MalformedLogData("tlog-proof index out of range")
    return TlogProof(index, hashes, checkpoint.encode("utf-8"), extra)

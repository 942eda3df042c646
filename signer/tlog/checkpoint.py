"""C2SP tlog-checkpoint: the signed tree head (origin, size, root hash, optional extension lines).

Parsing is strict: exactly the text the format allows, one spelling per value (no leading zeros,
canonical base64 of 32 bytes), so two different texts never mean the same tree head.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from signer.tlog.cosignature import CosignatureVerifier, verify_cosignatures
from signer.tlog.errors import CheckpointError, MalformedLogData, MalformedNote
from signer.tlog.merkle import EMPTY_ROOT, HASH_SIZE, MAX_TREE_SIZE
from signer.tlog.note import Ed25519Verifier, Note, NoteSigner, b64decode, b64encode, open_note, sign_note

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: ``origin``, ``size``, ``root_hash`` and opaque ``extensions`` (non-empty lines)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or not _printable(self.origin):
            raise MalformedLogData("a checkpoint origin is one non-empty line")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedLogData("a checkpoint size is a non-negative 63-bit integer")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise MalformedLogData("a checkpoint root is a 32-byte hash")
        if self.size == 0 and self.root_hash != EMPTY_ROOT:
            raise MalformedLogData("a checkpoint of size 0 must carry the empty tree hash")
        for line in self.extensions:
            if not line or "\n" in line or not _printable(line):
                raise MalformedLogData("checkpoint extension lines are non-empty single lines")

    def text(self) -> str:
        """Return the note text: origin, size, base64 root, extension lines, each ending in a newline."""
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), b64encode(self.root_hash),
                                                 *self.extensions))


def _printable(text: str) -> bool:
    return all(ch >= " " for ch in text)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's note text strictly; raise :class:`MalformedLogData`.

    A size-0 checkpoint must carry the empty tree hash ``SHA-256("")`` (C2SP tlog-witness).
    """
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedLogData("a checkpoint ends in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedLogData("a checkpoint has at least three lines")
    origin, size_text, root_text, *extensions = lines
    if not _SIZE.fullmatch(size_text):
        raise MalformedLogData("malformed checkpoint size")
    try:
        root = b64decode(root_text)
    except MalformedNote as exc:
        raise MalformedLogData("malformed checkpoint root hash") from exc
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> bytes:
    """Return the checkpoint as a signed note, signed by each of ``signers`` (the log key first)."""
    return sign_note(checkpoint.text(), signers)


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature verified, with the witnesses whose cosignatures verified."""

    checkpoint: Checkpoint
    note: Note
    #: ``{witness name: cosignature timestamp}`` for each trusted witness that cosigned.
    cosignatures: dict[str, int]
    #: The signed note exactly as received.
    raw: bytes


def open_checkpoint(msg: bytes, *, origin: str, log_keys: Iterable[Ed25519Verifier],
                    witnesses: Iterable[CosignatureVerifier] = (), quorum: int = 0) -> VerifiedCheckpoint:
    """Open a signed checkpoint: verify the log's signature, its origin, and a witness quorum.

    ``origin`` is the origin the caller expects (a log is identified by it); ``log_keys`` the log's
    verifier keys (any one suffices, so a rotation can publish both); ``witnesses`` and ``quorum``:
    at least ``quorum`` of them must have cosigned. Unknown signatures are ignored; a known key's
    failing signature refuses the note. Raises :class:`LogError` subclasses.
    """
    keys = list(log_keys)
    note = open_note(msg, keys)
    names = {(k.name, k.key_id) for k in keys}
    if not any((s.name, s.key_id) in names for s in note.sigs):
        raise CheckpointError("the checkpoint is not signed by the log's key", reason="no_log_signature")
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}", reason="wrong_origin")
    trusted = list(witnesses)
    cosigned = verify_cosignatures(msg, trusted) if trusted else {}
    if len(cosigned) < quorum:
        raise CheckpointError(f"checkpoint has {len(cosigned)} of the {quorum} witness cosignatures required",
                              reason="quorum")
    return VerifiedCheckpoint(checkpoint, note, cosigned, bytes(msg))

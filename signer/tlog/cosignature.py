"""C2SP tlog-cosignature, Ed25519 ``cosignature/v1`` (note signature type 0x04).

A witness signs ``"cosignature/v1\\ntime <T>\\n" + checkpoint text`` and sends the signature line
``— <witness name> base64(key id || uint64 T || Ed25519 signature)``. The timestamp ``T`` (POSIX
seconds, below 2**63) is the witness's word that, at ``T``, this was the largest consistent tree it
had seen for the log: an upper bound on the time of every entry in the tree.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signer.tlog.errors import MalformedNote, UnverifiedNote
from signer.tlog.note import (
    ALG_COSIGNATURE_V1,
    Ed25519Signer,
    Ed25519Verifier,
    Signature,
    Verifiers,
    open_note,
)

MAX_TIMESTAMP = (1 << 63) - 1


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """Return the bytes a v1 cosignature signs: header, time line, the checkpoint text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


@dataclass(frozen=True)
class CosignatureVerifier(Ed25519Verifier):
    """Verifies Ed25519 ``cosignature/v1`` signatures of one witness (type 0x04)."""

    alg: ClassVar[int] = ALG_COSIGNATURE_V1

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Tell whether ``sig`` (uint64 timestamp || Ed25519 signature) cosigns the note text ``msg``."""
        if len(sig) != 8 + 64:
            return False
        (timestamp,) = struct.unpack(">Q", sig[:8])
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig[8:], cosigned_message(msg, timestamp))
        except (InvalidSignature, ValueError):
            return False
        return True


class CosignatureSigner(Ed25519Signer):
    """Cosigns checkpoint texts as a witness, with a timestamp from the injected clock (POSIX seconds)."""

    alg = ALG_COSIGNATURE_V1

    def __init__(self, name: str, private_key: Ed25519PrivateKey, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(name, private_key)
        self._clock = clock

    @staticmethod
    def _verifier(name: str, public: bytes) -> Ed25519Verifier:
        return CosignatureVerifier(name, public)

    def sign(self, msg: bytes) -> bytes:
        """Return ``uint64 timestamp || Ed25519 signature`` over the v1 cosigned message of ``msg``."""
        timestamp = int(self._clock())
        if not 0 < timestamp <= MAX_TIMESTAMP:
            raise MalformedNote("cosignature timestamp out of range")
        return struct.pack(">Q", timestamp) + self._key.sign(cosigned_message(msg, timestamp))


def cosignature_timestamp(sig: Signature) -> int:
    """Return the timestamp (POSIX seconds) inside a v1 cosignature line."""
    raw = sig.raw()
    if len(raw) != 72:
        raise MalformedNote("a v1 cosignature is 72 bytes after the key id")
    return int(struct.unpack(">Q", raw[:8])[0])


def verify_cosignatures(msg: bytes, witnesses: Iterable[CosignatureVerifier]) -> dict[str, int]:
    """Return ``{witness name: timestamp}`` for the witnesses whose cosignature on note ``msg`` verifies.

    A note without any of them gives ``{}``; a cosignature line of a known witness that fails to
    verify refuses the whole note (:class:`InvalidNoteSignature`), as signed-note asks.
    """
    known = list(witnesses)
    try:
        note = open_note(msg, Verifiers(known))
    except UnverifiedNote:
        return {}
    return {sig.name: cosignature_timestamp(sig) for sig in note.sigs}


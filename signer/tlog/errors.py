"""One exception root for the transparency-log domain.

Every function in :mod:`signer.tlog` raises :class:`LogError` (or a subclass) for bad input, a
proof that does not verify, a note that is malformed or not signed by a trusted key. Third-party
errors (``binascii.Error``, ``UnicodeDecodeError``, ``cryptography``'s ``InvalidSignature``) are
translated here and never reach a caller.
"""

from __future__ import annotations


class LogError(Exception):
    """Root of every error raised by the transparency-log library."""

    #: Stable machine-readable code, used as the JSON ``error.code`` by the HTTP layer.
    code = "log_error"

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        #: Short reason word for callers that branch on it (see each subclass).
        self.reason = reason


class MalformedLogData(LogError):
    """Bytes or text that do not parse: a hash, a tile path, a bundle, a checkpoint, a proof text."""

    code = "malformed"


class ProofError(LogError):
    """An inclusion or consistency proof that does not verify, or inputs outside its domain.

    ``reason``: ``bad_sizes`` (indexes or sizes the proof cannot cover), ``bad_proof`` (wrong
    length or a hash that does not lead to the root), ``root_mismatch`` (equal sizes, other roots).
    """

    code = "proof_failed"


class TileError(LogError):
    """A tile that is missing, of the wrong size, or inconsistent with the signed tree."""

    code = "tile_inconsistent"


class MalformedNote(LogError):
    """A signed note that breaks the C2SP signed-note syntax (refused before any key is tried)."""

    code = "malformed_note"


class KeyFormatError(LogError):
    """A verifier or signer key string that does not parse or whose key id does not match."""

    code = "bad_key"


class UnknownKey(LogError):
    """No configured verifier has this key name and key id."""

    code = "unknown_key"

    def __init__(self, message: str, *, name: str, key_id: int) -> None:
        super().__init__(message, reason="unknown_key")
        self.name = name
        self.key_id = key_id


class AmbiguousKey(LogError):
    """Two configured verifiers share a key name and key id."""

    code = "ambiguous_key"

    def __init__(self, message: str, *, name: str, key_id: int) -> None:
        super().__init__(message, reason="ambiguous_key")
        self.name = name
        self.key_id = key_id


class InvalidNoteSignature(LogError):
    """A signature line from a known key that does not verify: the whole note is refused."""

    code = "bad_signature"

    def __init__(self, message: str, *, name: str, key_id: int) -> None:
        super().__init__(message, reason="bad_signature")
        self.name = name
        self.key_id = key_id


class UnverifiedNote(LogError):
    """A well-formed note with no signature from any known key; ``note`` holds what was parsed."""

    code = "unverified_note"

    def __init__(self, message: str, *, note: object) -> None:
        super().__init__(message, reason="unverified")
        #: The parsed :class:`signer.tlog.note.Note` (every signature in ``unverified_sigs``).
        self.note = note


class CheckpointError(LogError):
    """A checkpoint whose origin, signatures or cosignature quorum do not meet the caller's policy.

    ``reason``: ``wrong_origin``, ``no_log_signature``, ``quorum`` (too few witness cosignatures).
    """

    code = "checkpoint_refused"

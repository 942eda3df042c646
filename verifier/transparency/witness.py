"""A C2SP tlog-witness: cosign a log's checkpoint only when it extends what the witness saw before.

The decision lives here (no Flask): :meth:`Witness.add_checkpoint` takes the request body and
returns the status, content type and body the protocol prescribes. State (the latest cosigned
size and root per origin) is replaced by compare-and-swap only, so two requests racing can never
roll a log back, and a fork — a checkpoint of a size the witness has seen with another root, or
one no consistency proof links to the last — is never cosigned.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from signer.tlog import (
    EMPTY_ROOT,
    CosignatureSigner,
    Ed25519Verifier,
    InvalidNoteSignature,
    LogError,
    MalformedLogData,
    ProofError,
    UnverifiedNote,
    b64decode,
    b64encode,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
    verify_consistency,
)
from verifier.storage.witness import WitnessState

_logger = logging.getLogger(__name__)

#: Largest request body read (a checkpoint with 100 signatures and 63 proof lines is ~16 kB).
MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
_OLD = re.compile(r"old (0|[1-9][0-9]{0,18})")
TEXT = "text/plain; charset=utf-8"
SIZE = "text/x.tlog.size"


class WitnessStore(Protocol):
    """Where a witness keeps its latest cosigned state per log (:class:`SqlWitnessStore`)."""

    def latest(self, origin: str) -> WitnessState | None: ...

    def swap(self, origin: str, expected: WitnessState | None, new: WitnessState) -> bool: ...

    def keep_evidence(self, origin: str, reason: str, request: bytes) -> None: ...


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type, body."""

    status: int
    body: str
    content_type: str = TEXT


@dataclass
class Witness:
    """One witness key cosigning for a set of logs (origin -> the log's verifier keys)."""

    signer: CosignatureSigner
    logs: dict[str, list[Ed25519Verifier]]
    store: WitnessStore
    _logged_origins: set[str] = field(default_factory=set)

    @classmethod
    def for_keys(cls, signer: CosignatureSigner, log_keys: Iterable[Ed25519Verifier], store: WitnessStore, *,
                 origin: str | None = None) -> Witness:
        """Build a witness for logs given by their keys (the origin is each key's name unless ``origin``)."""
        logs: dict[str, list[Ed25519Verifier]] = {}
        for key in log_keys:
            logs.setdefault(origin or key.name, []).append(key)
        return cls(signer, logs, store)

    def vkey(self) -> str:
        """Return the witness's verifier key (type 0x04), for logs and clients to configure."""
        return self.signer.verifier.vkey()

    def add_checkpoint(self, body: bytes) -> Reply:
        """Answer ``POST /add-checkpoint`` (C2SP tlog-witness)."""
        try:
            old, proof, note_bytes = _parse_request(body)
        except LogError as exc:
            return Reply(400, f"{exc.message}\n")
        try:
            text = parse_note(note_bytes).text
        except LogError:
            return Reply(400, "malformed checkpoint note\n")
        try:
            checkpoint = parse_checkpoint(text)
        except MalformedLogData:
            if _empty_size_with_root(text):
                return Reply(422, "a checkpoint of size 0 must carry the empty tree hash\n")
            return Reply(400, "malformed checkpoint\n")
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            return Reply(404, "unknown log origin\n")
        try:
            open_note(note_bytes, keys)
        except (UnverifiedNote, InvalidNoteSignature):
            return Reply(403, "the checkpoint is not signed by the log's key\n")
        except LogError:
            return Reply(403, "the checkpoint's signatures do not verify\n")
        if old > checkpoint.size:
            return Reply(400, "old size is larger than the checkpoint's size\n")

        state = self.store.latest(checkpoint.origin)
        current = state.size if state else 0
        if old != current:
            return Reply(409, f"{current}\n", SIZE)
        if old == 0:
            if proof:
                return self._refuse(checkpoint.origin, body, "proof_from_empty",
                                    "a consistency proof from size 0 must be empty")
        else:
            assert state is not None  # noqa: S101 - current > 0 means a state exists
            try:
                verify_consistency(old, checkpoint.size, proof, state.root_hash, checkpoint.root_hash)
            except ProofError as exc:
                _logger.warning("witness refused %s at size %d: %s", checkpoint.origin, checkpoint.size, exc.message)
                return self._refuse(checkpoint.origin, body, exc.reason, "the checkpoint is not consistent with "
                                    "the last one this witness cosigned")

        cosignature = sign_note(text, [self.signer]).split(b"\n\n")[-1]
        new = WitnessState(checkpoint.size, checkpoint.root_hash, _with_line(note_bytes, cosignature, self.signer))
        if not self.store.swap(checkpoint.origin, state, new):
            # Another request moved the state first: the client's old size is stale now.
            latest = self.store.latest(checkpoint.origin)
            return Reply(409, f"{latest.size if latest else 0}\n", SIZE)
        return Reply(200, cosignature.decode("utf-8"))

    def _refuse(self, origin: str, body: bytes, reason: str, message: str) -> Reply:
        try:
            self.store.keep_evidence(origin, reason, body)
        except Exception:  # evidence is a courtesy: never turn a refusal into an error
            _logger.exception("could not keep evidence for %s", origin)
        return Reply(422, message + "\n")

    def checkpoint_for(self, origin_hash: str) -> Reply:
        """Answer ``GET /<sha256(origin) hex>/checkpoint``: the latest checkpoint this witness cosigned."""
        for origin in self.logs:
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash:
                state = self.store.latest(origin)
                if state:
                    return Reply(200, state.checkpoint.decode("utf-8"))
        return Reply(404, "no checkpoint cosigned for this log\n")


def _with_line(note: bytes, line: bytes, signer: CosignatureSigner) -> bytes:
    """Return the note with our cosignature line, replacing an older one of ours."""
    own = f"\u2014 {signer.name} ".encode()
    head, _, sigs = note.rpartition(b"\n\n")
    kept = [s + b"\n" for s in sigs.split(b"\n") if s and not s.startswith(own)]
    return head + b"\n\n" + b"".join(kept) + line


def _parse_request(body: bytes) -> tuple[int, list[bytes], bytes]:
    if len(body) > MAX_BODY:
        raise MalformedLogData("request too large")
    head, sep, note = body.partition(b"\n\n")
    if not sep or not note:
        raise MalformedLogData("the request needs an empty line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedLogData("malformed old size or proof line") from exc
    m = _OLD.fullmatch(lines[0])
    if not m:
        raise MalformedLogData("malformed old size line")
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedLogData("too many consistency proof lines")
    proof = []
    for line in proof_lines:
        h = b64decode(line)
        if len(h) != 32:
            raise MalformedLogData("a consistency proof line is not a 32-byte hash")
        proof.append(h)
    return int(m.group(1)), proof, note


def _empty_size_with_root(text: str) -> bool:
    lines = text.split("\n")
    if len(lines) < 4 or lines[1] != "0":
        return False
    try:
        root = b64decode(lines[2])
    except LogError:
        return False
    return len(root) == 32 and root != EMPTY_ROOT


def add_checkpoint_body(old: int, proof: Sequence[bytes], checkpoint: bytes) -> bytes:
    """Return an ``add-checkpoint`` request body (for logs and tests)."""

    return f"old {old}\n".encode() + b"".join(b64encode(h).encode() + b"\n" for h in proof) + b"\n" + checkpoint

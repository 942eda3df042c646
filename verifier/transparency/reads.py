"""What the public reads of the log: the checkpoint, the key, tiles, entry bundles and a badge's proofs.

Everything is served within the latest signed checkpoint (stored hashes exist only up to it),
on full and public-only nodes alike: nothing here needs a private key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.errors import BadgeError
from signer.tlog import (
    TILE_WIDTH,
    LogError,
    Tile,
    TlogProof,
    b64decode,
    b64encode,
    encode_bundle,
    format_proof,
    parse_tile_path,
    prove_record,
    read_tile_data,
)
from verifier.storage.logmodels import LogCheckpoint, LogEntry
from verifier.transparency.checkpointer import StoredHashes
from verifier.transparency.health import LogHealth, log_health
from verifier.transparency.keys import load_log_key


class NotInLog(BadgeError):
    """A checkpoint, tile, bundle, key or entry the log does not have (yet): 404."""

    code = "not_found"


@dataclass(frozen=True)
class Served:
    """A tile or bundle's bytes and whether it is full (immutable) or partial."""

    data: bytes
    full: bool


class LogReads:
    """The log as the public reads it, on one session (built by :func:`verifier.context.log_reads`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def health(self, *, clock: Clock, checkpoint_seconds: int, resign_seconds: int) -> LogHealth:
        """Return how current the latest checkpoint is (``/healthz``)."""
        return log_health(self._session, clock=clock, checkpoint_seconds=checkpoint_seconds,
                          resign_seconds=resign_seconds)

    def _checkpoint(self) -> tuple[int, str]:
        row = self._session.execute(select(LogCheckpoint.size, LogCheckpoint.note)
                                    .where(LogCheckpoint.id == 1)).one_or_none()
        if row is None or not row[1]:
            raise NotInLog("the log has no checkpoint yet")
        return int(row[0]), str(row[1])

    def checkpoint_note(self) -> str:
        """Return the latest signed checkpoint as served (cosignatures included)."""
        return self._checkpoint()[1]

    def published_key(self) -> str | None:
        """Return the log's verifier key, or None before there is one."""
        key = load_log_key(self._session)
        return None if key is None else key.verifier.vkey()

    def verifier_key(self) -> str:
        """Return the log's verifier key, ``<origin>+<key id>+<base64>``."""
        key = load_log_key(self._session)
        if key is None:
            raise NotInLog("the log has no key yet")
        return key.verifier.vkey()

    def tile(self, path: str) -> Served:
        """Return the hash tile or entry bundle at ``tile/…`` within the latest checkpoint (NotInLog otherwise)."""
        try:
            wanted = parse_tile_path(path)
        except LogError as exc:
            raise NotInLog("no such tile") from exc
        size, _ = self._checkpoint()
        level = max(wanted.level, 0)
        available = (size >> (8 * level)) - TILE_WIDTH * wanted.n
        if not 1 <= wanted.width <= min(available, TILE_WIDTH):
            raise NotInLog("no such tile in this tree")
        full = wanted.width == TILE_WIDTH
        if wanted.level < 0:
            start = wanted.n * TILE_WIDTH
            rows = self._session.execute(select(LogEntry.data).where(LogEntry.idx >= start, LogEntry.idx < start + wanted.width)
                                   .order_by(LogEntry.idx)).scalars().all()
            return Served(encode_bundle([bytes(r) for r in rows]), full)
        try:
            return Served(read_tile_data(Tile(wanted.level, wanted.n, wanted.width), StoredHashes(self._session)), full)
        except LogError as exc:
            raise NotInLog("no such tile in this tree") from exc

    def badge_proofs(self, badge_id: str) -> dict[str, Any]:
        """Return a badge's entries within the latest checkpoint with their inclusion proofs (the contract's shape)."""
        size, note = self._checkpoint()
        rows = self._session.execute(select(LogEntry.idx, LogEntry.data)
                               .where(LogEntry.badge_id == badge_id, LogEntry.idx < size).order_by(LogEntry.idx)).all()
        reader = StoredHashes(self._session)
        entries = [{"index": int(index), "leaf": bytes(data).decode("utf-8"),
                    "proof": [b64encode(h) for h in prove_record(size, int(index), reader)]} for index, data in rows]
        return {"checkpoint": note, "tree_size": size, "entries": entries}

    @staticmethod
    def proof_text(body: dict[str, Any], *, index: int | None) -> str:
        """Return one entry's C2SP tlog-proof (``index``, else the badge's latest logged decision)."""
        entries = body["entries"]
        chosen = entries[-1] if index is None and entries else next((e for e in entries if e["index"] == index), None)
        if chosen is None:
            raise NotInLog("no such entry of this badge in the signed log")
        return format_proof(TlogProof(index=chosen["index"], proof=tuple(b64decode(h) for h in chosen["proof"]),
                                      checkpoint=body["checkpoint"].encode("utf-8")))

    def decision_time(self, index: int | None) -> datetime | None:
        """Return the time an entry states (its ``at``), or None."""
        if index is None:
            return None
        data = self._session.execute(select(LogEntry.data).where(LogEntry.idx == index)).scalar_one_or_none()
        if data is None:
            return None
        try:
            return datetime.fromisoformat(json.loads(bytes(data))["at"].replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            return None

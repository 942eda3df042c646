"""Hash new entries and sign checkpoints; the latest checkpoint is replaced only by compare-and-swap.

Any number of processes may run :meth:`Checkpointer.run_once` at once (each serving process
runs it from a background thread, see :func:`verifier.transparency.service.start`). One
round:

1. Read, without writing, the log head's size and the latest checkpoint. Nothing to do when
   the checkpoint covers the head and was signed less than ``resign_seconds`` ago.
2. In one write transaction, claim the checkpoint row: ``UPDATE … SET serial = serial + 1
   WHERE serial = <the serial read>``. A process that finds the row changed (another one
   signed meanwhile) rolls back and signs nothing; on PostgreSQL the second claim waits for
   the first transaction and then matches no row, on SQLite writers are serialised anyway.
3. Compute the stored hashes of the entries the checkpoint does not cover yet
   (:func:`signer.tlog.stored_hashes`: deterministic, the same tree whatever process computes
   it), store them, compute the root, and check the new tree against the previous checkpoint
   with a consistency proof made from the stored hashes; any gap in the entries or a proof
   that fails refuses the round (nothing is signed, the error is logged).
4. Sign the checkpoint with the log key (a note signature, and a timestamped cosignature of
   the log's own, so that an unchanged tree re-signed hourly still shows a fresh time) and
   commit it with the hashes.

Witness cosignatures are asked for after the commit (:mod:`verifier.transparency.witnesses`)
and added to the stored note by another compare-and-swap on the same serial.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signer.clock import Clock, ensure_utc
from signer.keys import KeyEncryptor
from signer.tlog import (
    EMPTY_ROOT,
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    LogError,
    parse_note,
    prove_tree,
    sign_note,
    stored_hash_index,
    stored_hashes,
    tree_hash,
    verify_consistency,
)
from verifier.storage.db import Database, insert_many
from verifier.storage.logmodels import LogCheckpoint, LogEntry, LogHash, LogHead
from verifier.transparency.keys import ensure_log_key, load_log_key

_logger = logging.getLogger(__name__)
_CHUNK = 1000


class CheckpointRefused(Exception):  # noqa: N818 - a refusal, named for what happened
    """The new tree is not a consistent, gapless extension of the last checkpoint: nothing was signed."""


class StoredHashes:
    """The log's stored hashes as a :class:`signer.tlog.HashReader`, with the hashes of this round kept in memory."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.known: dict[int, bytes] = {}

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, in order (LogError when one is missing)."""
        missing = sorted({i for i in indexes if i not in self.known})
        for start in range(0, len(missing), _CHUNK):
            rows = self._session.execute(select(LogHash.idx, LogHash.hash)
                                         .where(LogHash.idx.in_(missing[start:start + _CHUNK]))).all()
            self.known.update((int(i), bytes(h)) for i, h in rows)
        try:
            return [self.known[i] for i in indexes]
        except KeyError as exc:
            raise LogError(f"stored hash {exc.args[0]} is missing") from exc


@dataclass(frozen=True)
class State:
    """What a round reads first: the head's size and the latest checkpoint (None before the first)."""

    head: int
    serial: int | None
    size: int
    root: bytes
    signed_at: datetime | None
    note: str | None


def read_state(session: Session) -> State:
    """Return the log head's size and the latest checkpoint, as committed."""
    head = session.execute(select(LogHead.size).where(LogHead.id == 1)).scalar_one_or_none() or 0
    row = session.execute(select(LogCheckpoint.serial, LogCheckpoint.size, LogCheckpoint.root,
                                 LogCheckpoint.signed_at, LogCheckpoint.note)
                          .where(LogCheckpoint.id == 1)).one_or_none()
    if row is None:
        return State(int(head), None, 0, EMPTY_ROOT, None, None)
    return State(int(head), int(row[0]), int(row[1]), bytes(row[2]), ensure_utc(row[3]), row[4])


@dataclass(frozen=True)
class Signed:
    """A checkpoint this process signed and committed."""

    serial: int
    old_size: int
    size: int
    root: bytes
    note: str


class Checkpointer:
    """Sign the log's checkpoints for one database (see the module's note)."""

    def __init__(self, database: Database, *, encryptor: KeyEncryptor, clock: Clock, public_url: str,
                 resign_seconds: float = 3600) -> None:
        self._database = database
        self._public_url = public_url
        self._encryptor = encryptor
        self._clock = clock
        self._resign = timedelta(seconds=resign_seconds)

    def due(self) -> State | None:
        """Return the state when a round has something to do (new entries, or an old signature), else None."""
        session = self._database.session()
        try:
            state = read_state(session)
        finally:
            session.close()
        if state.serial is not None and state.head == state.size and state.signed_at is not None \
                and self._clock() - state.signed_at < self._resign:
            return None
        return state

    def run_once(self) -> Signed | None:
        """Sign a new checkpoint if one is due and this process wins the claim; return it, or None."""
        seen = self.due()
        if seen is None:
            return None
        with self._database.transaction() as session:
            if not self._claim(session, seen):
                return None
            state = read_state(session)  # under the claim: what this round extends
            return self._sign(session, state)

    def _claim(self, session: Session, seen: State) -> bool:
        table = LogCheckpoint.__table__
        if seen.serial is None:
            # The first checkpoint: the primary key lets one process insert row 1.
            exists = session.execute(select(table.c.id).where(table.c.id == 1)).first()
            if exists is not None:
                return False
            try:
                with session.begin_nested():
                    session.execute(insert(table).values(id=1, serial=1, size=0, root=EMPTY_ROOT, note="",
                                                         signed_at=self._clock()))
            except IntegrityError:  # another process inserted it first: theirs is the first checkpoint
                return False
            return True
        claimed = session.execute(update(table).where(table.c.id == 1, table.c.serial == seen.serial)
                                  .values(serial=table.c.serial + 1).returning(table.c.serial)).first()
        return claimed is not None

    def _sign(self, session: Session, state: State) -> Signed:
        key = load_log_key(session)
        if key is None:  # liang init makes it; an instance upgraded without init gets it here, once
            ensure_log_key(session, public_url=self._public_url, encryptor=self._encryptor, clock=self._clock)
            key = load_log_key(session)
        if key is None:
            raise CheckpointRefused("there is no log key")
        reader = StoredHashes(session)
        size, old_size = state.head, state.size
        if size < old_size:
            raise CheckpointRefused(f"the log head ({size}) is behind the last checkpoint ({old_size})")
        self._hash_entries(session, reader, old_size, size)
        root = tree_hash(size, reader) if size else EMPTY_ROOT
        if old_size and size == old_size and root != state.root:
            raise CheckpointRefused(f"the tree of size {size} no longer has the root it was signed with")
        if old_size and size > old_size:
            try:
                verify_consistency(old_size, size, prove_tree(size, old_size, reader), state.root, root)
            except LogError as exc:
                raise CheckpointRefused(f"size {size} is not a consistent extension of size {old_size}: {exc}") \
                    from exc
        private = key.private_key(self._encryptor)
        now = self._clock()
        signers = [Ed25519Signer(key.name, private),
                   CosignatureSigner(key.name, private, clock=lambda: now.timestamp())]
        kept = []
        if state.note and size == old_size and root == state.root:
            # The same tree: the witnesses' cosignatures on it stay true; ours are made afresh.
            kept = list(parse_note(state.note.encode("utf-8")).sigs)
        note = sign_note(Checkpoint(key.name, size, root).text(), signers, keep=kept).decode("utf-8")
        serial = session.execute(select(LogCheckpoint.serial).where(LogCheckpoint.id == 1)).scalar_one()
        session.execute(update(LogCheckpoint.__table__).where(LogCheckpoint.__table__.c.id == 1)
                        .values(size=size, root=root, note=note, signed_at=now))
        _logger.info("signed checkpoint %s (size %d, was %d)", key.name, size, old_size)
        return Signed(int(serial), old_size, size, root, note)

    def _hash_entries(self, session: Session, reader: StoredHashes, start: int, end: int) -> None:
        """Compute and store the stored hashes of entries ``start``..``end - 1`` (refused on any gap)."""
        for first in range(start, end, _CHUNK):
            last = min(first + _CHUNK, end)
            rows = session.execute(select(LogEntry.idx, LogEntry.data)
                                   .where(LogEntry.idx >= first, LogEntry.idx < last).order_by(LogEntry.idx)).all()
            if [int(r[0]) for r in rows] != list(range(first, last)):
                raise CheckpointRefused(f"log entries {first}..{last - 1} are not all there")
            new_rows = []
            for index, data in rows:
                hashes = stored_hashes(int(index), bytes(data), reader)
                at = stored_hash_index(0, int(index))
                for offset, digest in enumerate(hashes):
                    reader.known[at + offset] = digest
                    new_rows.append((at + offset, digest))
            insert_many(session, LogHash.__table__, ("idx", "hash"), new_rows)

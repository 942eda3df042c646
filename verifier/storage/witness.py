"""A witness's own database: the latest cosigned checkpoint per log, replaced only by compare-and-swap.

Kept apart from the service's database (a witness is run by a second party): its own tables on
its own engine, created on first use. SQLite (a file) or PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from verifier.storage.engine import IMMEDIATE, make_engine

metadata = MetaData()

witness_logs = Table(
    "witness_logs", metadata,
    Column("origin", String(1024), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    #: The checkpoint as cosigned: the log's signature lines and ours (served at <origin hash>/checkpoint).
    Column("checkpoint", LargeBinary, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Checkpoints with a valid log signature that the witness refused (a fork, a rollback): evidence.
witness_evidence = Table(
    "witness_evidence", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(1024), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("request", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class WitnessState:
    """What the witness last cosigned for one log."""

    size: int
    root_hash: bytes
    checkpoint: bytes


class SqlWitnessStore:
    """The witness's state in SQL; :meth:`swap` is the only write of a log's state."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        metadata.create_all(self.engine)

    def latest(self, origin: str) -> WitnessState | None:
        """Return the latest cosigned state of ``origin``, or None if it never cosigned one."""
        with self.engine.connect() as conn:
            row = conn.execute(select(witness_logs.c.size, witness_logs.c.root_hash, witness_logs.c.checkpoint)
                               .where(witness_logs.c.origin == origin)).first()
        return WitnessState(row.size, bytes(row.root_hash), bytes(row.checkpoint)) if row else None

    def swap(self, origin: str, expected: WitnessState | None, new: WitnessState, *, now: datetime | None = None) -> bool:
        """Replace the state of ``origin`` by ``new`` only if it still is ``expected``; say whether it did."""
        when = now or datetime.now(UTC)
        with self.engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
            if expected is None:
                try:
                    with conn.begin_nested():  # a racing first insert fails alone, not the transaction
                        conn.execute(insert(witness_logs).values(origin=origin, size=new.size,
                                                                 root_hash=new.root_hash,
                                                                 checkpoint=new.checkpoint, updated_at=when))
                except IntegrityError:
                    return False
                return True
            result = conn.execute(
                update(witness_logs)
                .where(witness_logs.c.origin == origin, witness_logs.c.size == expected.size,
                       witness_logs.c.root_hash == expected.root_hash)
                .values(size=new.size, root_hash=new.root_hash, checkpoint=new.checkpoint, updated_at=when))
            return result.rowcount == 1

    def keep_evidence(self, origin: str, reason: str, request: bytes, *, now: datetime | None = None) -> None:
        """Keep a refused but log-signed request (proof of log misbehaviour)."""
        with self.engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
            conn.execute(insert(witness_evidence).values(origin=origin, reason=reason, request=request,
                                                         received_at=now or datetime.now(UTC)))

    def evidence(self, origin: str) -> list[tuple[str, bytes]]:
        """Return ``(reason, request)`` of the refused requests kept for ``origin``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(witness_evidence.c.reason, witness_evidence.c.request)
                                .where(witness_evidence.c.origin == origin).order_by(witness_evidence.c.id))
            return [(r.reason, bytes(r.request)) for r in rows]

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()

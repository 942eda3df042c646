"""The public transparency log's tables (issue 22; the service in verifier/transparency).

Beside :mod:`verifier.storage.models` (same metadata) to keep that module a readable size.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from verifier.storage.models import Base, UTCDateTime


class LogEntry(Base):
    """One entry of the public log: the exact canonical bytes logged, never rewritten."""

    __tablename__ = "log_entries"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    badge_id: Mapped[str | None] = mapped_column(String(12), index=True)  # canonical; None for key events


class LogHash(Base):
    """A stored hash of the log's Merkle tree, at its Go sumdb storage index (signer.tlog)."""

    __tablename__ = "log_hashes"
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    """The single row (id 1) that hands out entry indexes: locked by every append, gapless."""

    __tablename__ = "log_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)


class LogCheckpoint(Base):
    """The latest signed checkpoint (row 1), replaced only by compare-and-swap on ``serial``."""

    __tablename__ = "log_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)  # the signed note as served, cosignatures included
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LogKey(Base):
    """The log's own Ed25519 key (never a badge-signing key); the private part encrypted under the KEK."""

    __tablename__ = "log_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255))  # the origin line, also the key's name
    public_raw: Mapped[bytes] = mapped_column(LargeBinary(32))
    encrypted_private: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

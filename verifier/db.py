"""Engine and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from verifier.services.publicread import PublicReader

_logger = logging.getLogger(__name__)

_IMMEDIATE = "liang_sqlite_immediate"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite connections get WAL, synchronous=FULL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed revocation survives power loss, not just a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that read
        # first and writes later can fail with SQLITE_BUSY_SNAPSHOT in WAL mode.
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Owns the engine and hands out sessions."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._factory = sessionmaker(self.engine, expire_on_commit=False, future=True)
        self._reader: PublicReader | None = None
        self._reader_lock = threading.Lock()

    @property
    def reader(self) -> PublicReader:
        """Return the public read path (its own autocommit connections, made on first use)."""
        if self._reader is None:
            from verifier.services.publicread import PublicReader

            with self._reader_lock:
                if self._reader is None:
                    self._reader = PublicReader(self.url)
        return self._reader

    def session(self) -> Session:
        """Return a new session (caller closes it)."""
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session in a write transaction; commit on success, roll back on error."""
        session = self._factory()
        try:
            if self.is_sqlite:
                session.connection(execution_options={_IMMEDIATE: True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def begin_write(self, session: Session) -> None:
        """Start ``session``'s transaction as a writer (SQLite: BEGIN IMMEDIATE)."""
        if self.is_sqlite and not session.in_transaction():
            session.connection(execution_options={_IMMEDIATE: True})

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._reader is not None:
            self._reader.dispose()
        self.engine.dispose()

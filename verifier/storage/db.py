"""Engine and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from verifier.storage.publicread import PublicReader

from verifier.storage.engine import IMMEDIATE as _IMMEDIATE
from verifier.storage.engine import Timeouts, make_engine
from verifier.storage.publicread import PublicReader

_logger = logging.getLogger(__name__)



class Database:
    """Owns the engine and hands out sessions."""

    def __init__(self, url: str, *, timeouts: Timeouts | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.timeouts = timeouts
        self.engine = make_engine(url, timeouts=timeouts, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._factory = sessionmaker(self.engine, expire_on_commit=False, future=True)
        self._reader: PublicReader | None = None
        self._reader_lock = threading.Lock()

    @property
    def reader(self) -> PublicReader:
        """Return the public read path (its own autocommit connections, made on first use)."""
        if self._reader is None:
            with self._reader_lock:
                if self._reader is None:
                    self._reader = PublicReader(self.url, timeouts=self.timeouts)
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
        """Start ``session``'s transaction as a writer (SQLite: BEGIN IMMEDIATE).

        A request usually reads before it writes (the token or user, the badge for the
        permission check), and that read opened a deferred SQLite transaction. Upgrading it
        to a writer later fails at once with SQLITE_BUSY(_SNAPSHOT) while another writer is
        active, instead of waiting. So a read-only transaction is ended here (commit: nothing
        to write, loaded objects stay) and the writer starts with BEGIN IMMEDIATE, which waits
        for the lock (busy_timeout). Anything read before is re-read under the lock where it
        decides something (BadgeService.get(for_update=True) refreshes the row).
        """
        if not self.is_sqlite:
            return
        if session.in_transaction():
            if session.connection().info.get(_IMMEDIATE):
                return
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("begin_write() after unsaved changes: start the write first")
            session.commit()
        session.connection(execution_options={_IMMEDIATE: True})

    def writable(self, *, min_free_bytes: int) -> bool:
        """Return whether writes can land: on SQLite, the database's disk has room left.

        A full disk lets every read succeed while every write fails; a health check that
        only reads would keep a node in rotation that can take no revocation.
        """
        if not self.is_sqlite:
            return True  # the server reports its own storage trouble on the write itself
        path = make_url(self.url).database
        if not path or path == ":memory:":
            return True
        try:
            return shutil.disk_usage(Path(path).parent).free >= min_free_bytes
        except OSError:
            return False

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._reader is not None:
            self._reader.dispose()
        self.engine.dispose()


#: Up to this many rows (given as a list), PostgreSQL gets an INSERT instead of a COPY.
_FEW = 16


def insert_many(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows (tuples in ``columns`` order) in the session's transaction, straight through the driver.

    Values go through each column's SQLAlchemy type exactly as an ORM insert would store them,
    but without a statement per row: PostgreSQL (psycopg) gets one ``COPY``, SQLite one
    ``executemany``; any other database falls back to SQLAlchemy's executemany. Nothing is
    committed here: the caller's transaction stays all or nothing. A refusal by the database
    raises SQLAlchemy's exception for it (``IntegrityError`` and so on), as ``Session.execute`` would.

    ``rows`` may be a generator: PostgreSQL takes each row as it comes, so the server works
    through the first rows while the generator makes the next. A value handed over must not
    change afterwards (repeated values are converted once).
    """
    session.flush()  # ORM objects added earlier (their rows may be referenced) go first
    conn = session.connection()
    dialect = conn.dialect
    preparer = dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(name) for name in columns)})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg" and isinstance(rows, list) and len(rows) <= _FEW:
        # A few rows (a badge issued on its own): one INSERT costs fewer round trips than a COPY.
        statement = f"INSERT INTO {target} VALUES ({', '.join('%s' for _ in columns)})"  # noqa: S608 - as below
        few = list(_bound_rows(table, columns, rows, dialect))
        driver = conn.connection.driver_connection
        with _driver_errors(dialect, statement), driver.cursor() as cursor:  # type: ignore[union-attr]
            if few:
                cursor.executemany(statement, few)
        return len(few)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        from psycopg.copy import QueuedLibpqWriter  # only with PostgreSQL

        statement = f"COPY {target} FROM STDIN"
        bound: Iterable[Sequence[Any]] = _bound_rows(table, columns, rows, dialect)
        count = 0
        driver = conn.connection.driver_connection
        with _driver_errors(dialect, statement), driver.cursor() as cursor:  # type: ignore[union-attr]
            restore = _compress_fast(cursor)
            # The rows are written to the server from a thread of psycopg's: this thread goes on
            # making the next rows (signing, encoding) instead of waiting while the server stores.
            with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
                for row in bound:
                    copy.write_row(row)
                    count += 1
            if restore is not None:
                cursor.execute("SELECT set_config('default_toast_compression', %s, true)", (restore,))
        return count
    if dialect.name == "sqlite":
        bound = list(_bound_rows(table, columns, rows, dialect))
        # Identifiers come from the schema, quoted by the dialect; every value is a bound parameter.
        statement = f"INSERT INTO {target} VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with _driver_errors(dialect, statement):
                cursor.executemany(statement, bound)
        finally:
            cursor.close()
        return len(bound)
    dicts = [dict(zip(columns, row, strict=True)) for row in rows]
    if dicts:
        conn.execute(insert(table), dicts)
    return len(dicts)


def _compress_fast(cursor: Any) -> str | None:
    """Have PostgreSQL compress the values this COPY stores with lz4, if it can; return the setting to restore.

    A badge row holds two texts of about 3 kB (the credential and its public document) that
    PostgreSQL compresses on the way in. With its default, pglz, that was half of the server's
    time for an import (the badges' COPY of 20,000 rows: 2.6 s; with lz4 1.4 s, in as many
    bytes). Only how the server stores the values changes (a read decompresses either); the
    setting is local to the transaction and put back after the COPY.
    """
    # lz4 is a build option (PostgreSQL 14 and later): pg_settings lists it when there is one.
    cursor.execute("SELECT setting, 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    row = cursor.fetchone()
    if row is None or not row[1] or row[0] == "lz4":
        return None
    cursor.execute("SELECT set_config('default_toast_compression', 'lz4', true)")
    return str(row[0])


@contextmanager
def _driver_errors(dialect: Dialect, statement: str) -> Iterator[None]:
    """Raise a driver's exception as the SQLAlchemy exception Session.execute would have raised."""
    error = dialect.loaded_dbapi.Error
    try:
        yield
    except error as exc:
        raise DBAPIError.instance(statement, None, exc, error, dialect=dialect) from exc


def _bound_rows(table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                dialect: Dialect) -> Iterator[Sequence[Any]]:
    """Yield rows with every value converted by its column's bind processor (as SQLAlchemy would)."""
    processors = [(i, proc) for i, name in enumerate(columns)
                  if (proc := _processor(table.c[name], dialect)) is not None]
    if not processors:
        yield from rows
        return
    for row in rows:
        out = list(row)
        for i, proc in processors:
            value = out[i]
            if value is not None:
                out[i] = proc(value)
        yield out


def _processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    proc = column.type.dialect_impl(dialect).bind_processor(dialect)
    if proc is None:
        return None
    # A bulk write stores the same few values (a timestamp, one JSON document per validity
    # period) thousands of times: convert each once. Timestamps are looked up by value (and
    # zone: equal instants in other zones may store differently); anything else by identity,
    # holding the object so that its id cannot be reused while the memo lives.
    by_value: dict[Any, Any] = {}
    by_identity: dict[int, tuple[Any, Any]] = {}

    def convert(value: Any) -> Any:
        if type(value) in (datetime, date):
            key = (value, getattr(value, "tzinfo", None))
            try:
                return by_value[key]
            except KeyError:
                by_value[key] = converted = proc(value)
                return converted
        try:
            return by_identity[id(value)][1]
        except KeyError:
            converted = proc(value)
            by_identity[id(value)] = (value, converted)
            return converted

    return convert


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """Return ``count`` fresh values for ``table``'s integer ``id`` column, to insert explicitly.

    PostgreSQL draws them from the column's sequence (safe beside concurrent writers);
    SQLite continues after the largest id, which only a writer transaction may do: SQLite
    admits one writer at a time, and a stale reader that tries to write fails instead.
    """
    if count <= 0:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return list(conn.execute(
            select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                func.generate_series(1, count))
        ).scalars())
    top = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + count))

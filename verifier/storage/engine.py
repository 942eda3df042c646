"""Engines for SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE for writers) and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from verifier.storage.fsmodes import private_database, private_dir

#: Execution option that makes SQLite start the transaction as a writer (BEGIN IMMEDIATE).
IMMEDIATE = "liang_sqlite_immediate"


@dataclass(frozen=True)
class Timeouts:
    """How long a PostgreSQL connection may take to open, a statement to run, a pool slot to free up.

    Without them a hung server (stopped, or a network that drops packets silently) held every
    request, /healthz included, for as long as the server stayed hung. Seconds; 0 turns one off.
    """

    connect: int = 5
    statement: int = 60
    pool: int = 10


#: For tools that may run long statements on purpose (migrations): connect bounded, statements not.
MIGRATION_TIMEOUTS = Timeouts(connect=10, statement=0, pool=30)


def postgres_connect_args(url: str, timeouts: Timeouts) -> dict[str, Any]:
    """Return psycopg connect arguments: ``connect_timeout`` and ``statement_timeout`` added to the URL's own
    ``options`` (a search_path given there is kept)."""
    args: dict[str, Any] = {}
    if timeouts.connect > 0:
        args["connect_timeout"] = max(2, int(timeouts.connect))  # libpq treats 1 as 2
    if timeouts.statement > 0:
        options = make_url(url).query.get("options") or ""
        if isinstance(options, tuple):
            options = " ".join(options)
        args["options"] = f"{options} -c statement_timeout={int(timeouts.statement) * 1000}".strip()
    return args


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite connections get WAL, synchronous=FULL and foreign keys; PostgreSQL gets timeouts."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        chosen = timeouts or MIGRATION_TIMEOUTS
        if chosen.pool > 0:
            kwargs.setdefault("pool_timeout", chosen.pool)
        return create_engine(url, pool_pre_ping=True, future=True,
                             connect_args=postgres_connect_args(url, chosen), **kwargs)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        private_dir(Path(parsed.database).parent, tighten=False)  # may be a shared directory: only create
        private_database(Path(parsed.database))  # the database itself is ours: 0600
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
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info[IMMEDIATE] = immediate

    return engine


def server_on_this_machine(url: str) -> bool:
    """Say whether ``url`` names a database server on this machine (a loopback address or a socket).

    SQLite has no server: it runs in the caller's process, so it is not one.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return False
    host = parsed.host or parsed.query.get("host") or ""
    if isinstance(host, tuple):  # ?host=a&host=b: several candidates, the first is tried first
        host = host[0] if host else ""
    host = host.strip("[]").lower()
    return (not host or host.startswith("/") or host == "localhost" or host == "::1"
            or host.startswith("127."))

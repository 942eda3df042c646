"""The unit of work: how a service opens, commits and rolls back a write (views and the CLI never do)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from verifier.storage.db import Database

_DEPTH = "liang.unit_depth"


class UnitOfWork:
    """One session's write transactions, opened by the services that decide what to write.

    ``write()`` begins the session's transaction as a writer (SQLite: BEGIN IMMEDIATE, see
    :meth:`Database.begin_write`), commits when the block ends and rolls back when it raises.
    A write inside another write joins it: the outermost commits, so a service method that
    calls another service method still commits once, all or nothing.
    """

    def __init__(self, database: Database, session: Session) -> None:
        self._database = database
        self.session = session

    @contextmanager
    def write(self, *, keep_on: tuple[type[BaseException], ...] = ()) -> Iterator[Session]:
        """Yield the session inside a writer transaction; commit at the end, roll back on error.

        ``keep_on`` names errors after which what was written still commits before the error
        goes on (a failed login's count must stick, or guessing would cost nothing).
        """
        info = self.session.info
        if info.get(_DEPTH):
            info[_DEPTH] += 1
            try:
                yield self.session
            finally:
                info[_DEPTH] -= 1
            return
        self._database.begin_write(self.session)
        info[_DEPTH] = 1
        try:
            yield self.session
        except keep_on:
            info[_DEPTH] = 0
            self.session.commit()
            raise
        except BaseException:
            info[_DEPTH] = 0
            self.session.rollback()
            raise
        info[_DEPTH] = 0
        self.session.commit()

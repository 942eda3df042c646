"""The access log off the request path: a request hands its line's fields to a writer thread.

Making the log record, formatting it as JSON and writing it cost a verification about 12 µs
of its own time and a system call (which, under four serving threads, also gave the GIL
away). Now the request appends one tuple to a deque; a short-lived thread turns the tuples
into ordinary ``liang.access`` records once per ``interval`` while lines arrive, so every handler,
formatter and filter applies as before, with the request's own time and request id. Lines
left at exit are written by an ``atexit`` hook. A writer that falls far behind (a blocked
stderr) makes requests write their lines themselves again rather than hold them without bound.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from typing import Any

#: Lines held before requests write their own (backpressure, and a bound on memory).
MAX_PENDING = 50_000


class AccessWriter:
    """Queue access lines and write them from a short-lived thread per batch."""

    def __init__(self, logger: logging.Logger, *, interval: float = 0.05) -> None:
        self._logger = logger
        self._interval = interval
        self._pending: deque[tuple[Any, ...]] = deque()
        # The process in which a batch is scheduled (a forked worker inherits the flag, not the thread).
        self._scheduled: int | None = None
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def put(self, rid: str | None, method: str, path: str, status: int, duration_ms: float, rule: str) -> None:
        """Hand one request's line to the writer (called on the request path: no I/O)."""
        self._pending.append((time.time(), rid, method, path, status, duration_ms, rule))
        if self._scheduled != os.getpid():
            self._schedule()
        if len(self._pending) > MAX_PENDING:
            self.flush()

    def flush(self) -> int:
        """Write every pending line now; return how many."""
        written = 0
        pending = self._pending
        while True:
            try:
                created, rid, method, path, status, duration_ms, rule = pending.popleft()
            except IndexError:
                return written
            record = self._logger.makeRecord(
                self._logger.name, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None,
                extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms,
                       "endpoint": rule})
            record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
            record.request_id = rid  # the request's, not the writer thread's (it has none)
            self._logger.handle(record)
            written += 1

    def _schedule(self) -> None:
        with self._lock:
            if self._scheduled == os.getpid():
                return
            self._scheduled = os.getpid()
        # Not a daemon, and gone after one batch: a worker that exits waits at most one
        # interval for it, and nothing of it is left running while the interpreter shuts down.
        threading.Thread(target=self._batch, name="liang-access-log").start()

    def _batch(self) -> None:
        time.sleep(self._interval)
        self._scheduled = None  # lines arriving from here on schedule the next batch
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - the log's own failure must not stop later lines
            logging.getLogger(__name__).exception("could not write access log lines")

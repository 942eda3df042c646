"""The badges' static image layers, kept in the database behind a per-process LRU.

Each layer is drawn once for every worker and instance (see ``signer.images``); a layer is
immutable under its content key, so neither level can serve a stale one.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from verifier.storage.engine import IMMEDIATE
from verifier.storage.models import BadgeImageLayer
from verifier.web.cache import RenderCache

_logger = logging.getLogger(__name__)

# Static layers are a few kilobytes each (PNG masks 3-8 KB, SVG ~18 KB): the process keeps
# the most recently used ones in front of the database.
LAYER_ENTRIES = 8192
LAYER_BYTES = 64 * 1024 * 1024
WRITE_BACKOFF = 60  # seconds
WRITE_GATHER = 0.5  # seconds a writer waits for more layers before it writes them in one transaction
MAX_PENDING_LAYERS = 2000  # drawn, not yet written: beyond this, drawn again later



class LayerStore:
    """Badges' static image layers in the database, behind a per-process LRU.

    The database is where every worker and every instance (on PostgreSQL) finds a layer
    another one drew; the instance directory would be shared by the workers of one machine
    only. A layer is immutable under its content key, so neither level can serve a stale one.

    Keeping a freshly drawn layer is off the request path: the request answers from the
    layer in memory and a background thread writes new layers in batches (one transaction
    each). A write that fails (a read-only replica, a locked database) costs a redraw on a
    later miss, never an answer; the store then stops trying for ``WRITE_BACKOFF`` seconds.
    """

    def __init__(self, engine: Callable[[], Engine], load: Callable[[str], bytes | None], *,
                 clock: Callable[[], datetime], max_entries: int = LAYER_ENTRIES,
                 max_bytes: int = LAYER_BYTES) -> None:
        self._engine = engine  # writes
        # Reads: the public reader's (per-thread connection, statement compiled once).
        self._read = load
        self._clock = clock
        self._memory = RenderCache(max_entries=max_entries, max_bytes=max_bytes)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one batch at a time
        self._pending: dict[str, tuple[str, str, bytes]] = {}  # key -> (badge id, kind, data)
        self._writer: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False
        _STORES.add(self)
        self._no_writes_until = 0.0
        self.drawn = 0  # layers drawn by this process (for tests and metrics)
        self.loaded = 0  # layers read from the database

    def clear(self) -> None:
        """Write what is pending, then forget every layer held in memory and the counts (tests reuse apps)."""
        self.flush()
        self._memory.clear()
        self._no_writes_until = 0.0
        self.drawn = self.loaded = 0

    def for_badge(self, badge_id: str, kind: str) -> _BadgeLayers:
        """Return the store as ``signer.images.LayerStore`` for one badge's layers of ``kind``."""
        return _BadgeLayers(self, badge_id, kind)

    def get_or_draw(self, key: str, draw: Callable[[], bytes], *, badge_id: str, kind: str) -> bytes:
        """Return the layer under ``key``: from memory, else the database, else drawn now and kept."""
        found = self._memory.get(key)
        if found is not None:
            return found
        found = self._load(key)
        if found is None:
            found = draw()
            self.drawn += 1
            self._keep_soon(key, found, badge_id=badge_id, kind=kind)
        else:
            self.loaded += 1
        self._memory.put(key, found)
        return found

    def flush(self) -> int:
        """Write every pending layer now (in this thread); return how many were written.

        Waits for a write already under way, so that after it returns every layer drawn
        before the call is in the database (or was given up).
        """
        with self._write_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending or time.monotonic() < self._no_writes_until:
                return 0
            return self._write(pending)

    def _write(self, pending: dict[str, tuple[str, str, bytes]]) -> int:
        # A badge's newest layer of a kind replaces its older ones, in the batch as in the table
        # (a renamed shop drawn twice within one batch keeps only the second drawing).
        newest = {(badge_id, kind): (key, data) for key, (badge_id, kind, data) in pending.items()}
        now = self._clock()
        rows = [{"key": key, "badge_id": badge_id, "kind": kind, "data": data, "created_at": now}
                for (badge_id, kind), (key, data) in newest.items()]
        try:
            _write_layers(self._engine(), rows)
        except SQLAlchemyError:
            self._no_writes_until = time.monotonic() + WRITE_BACKOFF
            _logger.warning("could not keep %d badge image layers; not trying again for %d s", len(rows),
                            WRITE_BACKOFF, exc_info=True)
            return 0
        return len(rows)

    def _load(self, key: str) -> bytes | None:
        try:
            return self._read(key)
        except SQLAlchemyError:
            _logger.warning("could not read a badge image layer; drawing it", exc_info=True)
            return None

    def _keep_soon(self, key: str, data: bytes, *, badge_id: str, kind: str) -> None:
        with self._lock:
            if time.monotonic() < self._no_writes_until or len(self._pending) >= MAX_PENDING_LAYERS:
                return  # not kept: drawn again on a later miss
            self._pending[key] = (badge_id, kind, data)
            # One long-lived writer per process, started on first use (so after a fork): starting a
            # thread per batch made the request wait for the new thread to be scheduled.
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_forever, name="liang-image-layers",
                                                daemon=True)
                self._writer.start()
        self._wake.set()

    def _write_forever(self) -> None:
        while not self._closed:
            self._wake.wait()
            # Gather a batch: a transaction per layer (a commit, an fsync on SQLite) cost more
            # than drawing the layer. A layer not yet written is only drawn again elsewhere.
            time.sleep(WRITE_GATHER)
            self._wake.clear()
            while self.flush():
                pass

    def close(self) -> None:
        """Write what is pending and stop the writer thread (at interpreter exit)."""
        self._closed = True
        self._wake.set()
        writer = self._writer
        if writer is not None and writer.is_alive():
            writer.join(timeout=5)
        self.flush()


def _write_layers(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert layers (an existing key is the same bytes: skipped); drop each badge's older ones of a kind."""
    table = cast(Table, BadgeImageLayer.__table__)
    if engine.dialect.name == "postgresql":
        # Only the dialect in use is imported.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        keep: Any = pg_insert(table).on_conflict_do_nothing(index_elements=["key"])
    else:
        # Only the dialect in use is imported.
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        keep = sqlite_insert(table).on_conflict_do_nothing(index_elements=["key"])
    older = delete(table).where(table.c.badge_id == bindparam("b_badge_id"), table.c.kind == bindparam("b_kind"),
                                table.c.key != bindparam("b_key"))
    # Two instances may write layers of one badge at once (drawn before and after a rename): each
    # must see the other's row to replace it. SQLite: the writer's lock from BEGIN IMMEDIATE;
    # PostgreSQL: a lock per badge for the transaction, taken in one order by every writer.
    with engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:badge))"),
                         [{"badge": f"liang-image-layers:{b}"} for b in sorted({row["badge_id"] for row in rows})])
        # One statement for the batch (executemany), not one compiled per row.
        conn.execute(older, [{"b_badge_id": row["badge_id"], "b_kind": row["kind"], "b_key": row["key"]}
                             for row in rows])
        conn.execute(keep, rows)


_STORES: weakref.WeakSet[LayerStore] = weakref.WeakSet()


@atexit.register
def _close_stores() -> None:
    # A daemon thread still waiting at exit keeps the interpreter from finalising cleanly
    # (and drops what it had not written yet).
    for store in list(_STORES):
        store.close()


class _BadgeLayers:
    """One badge's layers of one kind, in the shape ``signer.images`` asks for."""

    __slots__ = ("_badge_id", "_kind", "_store")

    def __init__(self, store: LayerStore, badge_id: str, kind: str) -> None:
        self._store, self._badge_id, self._kind = store, badge_id, kind

    def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """Return the layer under ``key``, drawing and keeping it when there is none."""
        return self._store.get_or_draw(key, draw, badge_id=self._badge_id, kind=self._kind)

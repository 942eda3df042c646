"""Caches of rendered bytes, keyed by everything that decides them.

Whatever sits here was rendered from a live record, and the key holds every value the
rendering depends on: a changed record makes a new key, so a stale entry is never served.

Two levels: :class:`RenderCache`, a bounded per-process LRU of finished images (the hot
badges), and :class:`LayerStore`, the badges' static image layers kept in the database so
that each is drawn once for every worker and instance (see ``signer.images``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from verifier.models import BadgeImageLayer

_logger = logging.getLogger(__name__)

# Bounds for the rendering cache: enough for the hot badges of a busy node,
# small enough that a crawler walking every badge cannot exhaust memory.
CACHE_ENTRIES = 512
CACHE_BYTES = 64 * 1024 * 1024
# Static layers are a few kilobytes each (PNG masks 3-8 KB, SVG ~18 KB): the process keeps
# the most recently used ones in front of the database.
LAYER_ENTRIES = 8192
LAYER_BYTES = 64 * 1024 * 1024
WRITE_BACKOFF = 60  # seconds


class RenderCache:
    """A thread-safe, bounded LRU of rendered bytes keyed by content hash."""

    def __init__(self, *, max_entries: int = CACHE_ENTRIES, max_bytes: int = CACHE_BYTES) -> None:
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """Return the cached bytes for ``key``, rendering them once on a miss."""
        found = self.get(key)
        if found is not None:
            return found
        # Render outside the lock: two threads may both render a cold key, which
        # wastes a little work but never blocks every request behind one drawing.
        data = render()
        self.put(key, data)
        return data

    def get(self, key: Hashable) -> bytes | None:
        """Return the cached bytes for ``key``, or None (counted as a miss)."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
            return None

    def put(self, key: Hashable, data: bytes) -> None:
        """Keep ``data`` under ``key``, dropping the least recently used entries past the bounds."""
        with self._lock:
            if key not in self._items and len(data) <= self._max_bytes:
                self._items[key] = data
                self._bytes += len(data)
                while len(self._items) > self._max_entries or self._bytes > self._max_bytes:
                    _, dropped = self._items.popitem(last=False)
                    self._bytes -= len(dropped)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def content_key(kind: str, **parts: Any) -> str:
    """Return a stable hash over everything that decides a rendered image's bytes."""
    blob = json.dumps({"kind": kind, **parts}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class LayerStore:
    """Badges' static image layers in the database, behind a per-process LRU.

    The database is where every worker and every instance (on PostgreSQL) finds a layer
    another one drew; the instance directory would be shared by the workers of one machine
    only. A layer is immutable under its content key, so neither level can serve a stale one.
    Failing to keep a layer (a locked or read-only database) costs a redraw next time, never
    the image: the request is answered from the freshly drawn layer.
    """

    def __init__(self, engine: Callable[[], Engine], *, clock: Callable[[], datetime],
                 max_entries: int = LAYER_ENTRIES, max_bytes: int = LAYER_BYTES) -> None:
        self._engine = engine
        self._clock = clock
        self._memory = RenderCache(max_entries=max_entries, max_bytes=max_bytes)
        self.drawn = 0  # layers drawn by this process (for tests and metrics)
        self.loaded = 0  # layers read from the database
        # After a failed write (a read-only replica, a locked database) the store stops trying
        # for a while instead of failing, and logging, on every request.
        self._no_writes_until = 0.0

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
            self._keep(key, found, badge_id=badge_id, kind=kind)
        else:
            self.loaded += 1
        self._memory.put(key, found)
        return found

    def _load(self, key: str) -> bytes | None:
        try:
            with self._engine().connect() as conn:
                data = conn.execute(select(BadgeImageLayer.data).where(BadgeImageLayer.key == key)).scalar()
        except SQLAlchemyError:
            _logger.warning("could not read a badge image layer; drawing it", exc_info=True)
            return None
        return None if data is None else bytes(data)

    def _keep(self, key: str, data: bytes, *, badge_id: str, kind: str) -> None:
        if time.monotonic() < self._no_writes_until:
            return
        table = BadgeImageLayer.__table__
        try:
            with self._engine().begin() as conn:
                conn.execute(delete(table).where(table.c.badge_id == badge_id, table.c.kind == kind,
                                                 table.c.key != key))
                conn.execute(insert(table).values(key=key, badge_id=badge_id, kind=kind, data=data,
                                                  created_at=self._clock()))
        except IntegrityError:
            pass  # another worker kept the same layer first: it is the same bytes
        except SQLAlchemyError:
            self._no_writes_until = time.monotonic() + WRITE_BACKOFF
            _logger.warning("could not keep a badge image layer; not trying again for %d s", WRITE_BACKOFF,
                            exc_info=True)


class _BadgeLayers:
    """One badge's layers of one kind, in the shape ``signer.images`` asks for."""

    __slots__ = ("_badge_id", "_kind", "_store")

    def __init__(self, store: LayerStore, badge_id: str, kind: str) -> None:
        self._store, self._badge_id, self._kind = store, badge_id, kind

    def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """Return the layer under ``key``, drawing and keeping it when there is none."""
        return self._store.get_or_draw(key, draw, badge_id=self._badge_id, kind=self._kind)

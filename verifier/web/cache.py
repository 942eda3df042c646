"""A bounded per-process LRU of rendered bytes, keyed by everything that decides them.

Whatever sits here was rendered from a live record, and the key holds every value the
rendering depends on: a changed record makes a new key, so a stale entry is never served.
(The badges' static image layers, kept in the database, are ``verifier/embedding/layers.py``.)
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

# Bounds for the rendering cache: enough for the hot badges of a busy node,
# small enough that a crawler walking every badge cannot exhaust memory (the byte bound
# decides: composed palette images are 8-25 KB, so 4,096 of them stay well under it).
CACHE_ENTRIES = 4096
CACHE_BYTES = 64 * 1024 * 1024

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

    def clear(self) -> None:
        """Drop every entry and zero the hit and miss counts."""
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = 0
            self.misses = 0


def content_key(kind: str, **parts: Any) -> str:
    """Return a stable hash over everything that decides a rendered image's bytes."""
    blob = json.dumps({"kind": kind, **parts}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()

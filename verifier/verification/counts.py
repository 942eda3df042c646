"""Count verifications per branch and day, cheaply: in memory, flushed in batches.

The public verify page and API are the hot path, so a request only bumps a
counter in a dict. Every ``flush_seconds`` the counts are written with one
UPSERT per (day, branch) pair. A crash loses at most that many seconds of
counts, which is fine for a dashboard chart (nothing depends on them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from verifier.storage.models import Badge, VerificationCount

_logger = logging.getLogger(__name__)


class VerificationCounter:
    """Thread-safe in-memory counter of verified badge ids per local day."""

    def __init__(self, *, timezone: str, flush_seconds: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._tz = ZoneInfo(timezone)
        self._flush_seconds = flush_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._pending: Counter[tuple[date, str]] = Counter()
        self._last_flush = monotonic()
        self._flushing = False

    def hit(self, badge_id: str, *, at: datetime) -> bool:
        """Count one verification; return whether it is time to flush."""
        day = at.astimezone(self._tz).date()
        with self._lock:
            self._pending[(day, badge_id)] += 1
            return self._monotonic() - self._last_flush >= self._flush_seconds

    def pending(self) -> Counter[tuple[date, str]]:
        """Return a copy of the hits not yet written, by (local day, badge id): the dashboard adds them, writing nothing."""
        with self._lock:
            return Counter(self._pending)

    def flush_soon(self, engine: Engine) -> threading.Thread | None:
        """Flush in a background thread, one at a time, so that no verification waits for a write.

        Returns the thread started, or None when a flush is already running.
        """
        with self._lock:
            if self._flushing:
                return None
            self._flushing = True
            self._last_flush = self._monotonic()  # hit() stops asking while this one runs

        def run() -> None:
            try:
                self.flush(engine)
            finally:
                with self._lock:
                    self._flushing = False

        thread = threading.Thread(target=run, name="liang-verification-counts", daemon=True)
        thread.start()
        return thread

    def flush(self, engine: Engine) -> int:
        """Write pending counts (one UPSERT per day and branch); return how many hits were written."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._last_flush = self._monotonic()
        if not pending:
            return 0
        ids = sorted({badge_id for _day, badge_id in pending})
        try:
            with engine.begin() as conn:
                branch_of = dict(conn.execute(select(Badge.id, Badge.branch_id).where(Badge.id.in_(ids))).all())
                per_branch: Counter[tuple[date, int]] = Counter()
                for (day, badge_id), n in pending.items():
                    if badge_id in branch_of:
                        per_branch[(day, branch_of[badge_id])] += n
                for (day, branch_id), n in sorted(per_branch.items()):
                    conn.execute(_upsert(engine, day, branch_id, n))
        except Exception:  # noqa: BLE001 - a counting failure must never break verification
            _logger.warning("could not write verification counts; %d hits dropped", sum(pending.values()))
            return 0
        return sum(pending.values())


def _upsert(engine: Engine, day: date, branch_id: int, n: int) -> Insert:
    # The two dialects' INSERT ... ON CONFLICT constructs are distinct classes with the same API.
    if engine.dialect.name == "postgresql":
        pg = postgresql.insert(VerificationCount).values(day=day, branch_id=branch_id, count=n)
        return pg.on_conflict_do_update(index_elements=["day", "branch_id"],
                                        set_={"count": VerificationCount.count + pg.excluded.count})
    lite = sqlite.insert(VerificationCount).values(day=day, branch_id=branch_id, count=n)
    return lite.on_conflict_do_update(index_elements=["day", "branch_id"],
                                      set_={"count": VerificationCount.count + lite.excluded.count})

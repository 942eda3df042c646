"""The in-memory verification counter: local days, flush timing, never failing the request."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine

from verifier.verification.counts import VerificationCounter


class _Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_flush_is_due_after_the_interval():
    tick = _Tick()
    counter = VerificationCounter(timezone="Asia/Shanghai", flush_seconds=10, monotonic=tick)
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert counter.hit("AAAAAAAAAAAA", at=at) is False
    tick.now = 10.5
    assert counter.hit("AAAAAAAAAAAA", at=at) is True


def test_days_are_local_days():
    counter = VerificationCounter(timezone="Asia/Shanghai", flush_seconds=10)
    counter.hit("AAAAAAAAAAAA", at=datetime(2026, 11, 25, 16, 30, tzinfo=UTC))  # 00:30 on the 26th in Beijing
    assert [day.isoformat() for day, _ in counter._pending] == ["2026-11-26"]


def test_a_broken_database_drops_counts_without_raising(tmp_path):
    counter = VerificationCounter(timezone="UTC", flush_seconds=0)
    counter.hit("AAAAAAAAAAAA", at=datetime(2026, 11, 25, tzinfo=UTC))
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no tables at all
    assert counter.flush(engine) == 0
    assert counter.flush(engine) == 0  # nothing left pending
    engine.dispose()


def test_flush_soon_runs_one_background_flush_at_a_time(tmp_path):
    import threading

    counter = VerificationCounter(timezone="UTC", flush_seconds=0)
    counter.hit("AAAAAAAAAAAA", at=datetime(2026, 11, 25, tzinfo=UTC))
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    release = threading.Event()
    real_flush = counter.flush
    flushed: list[int] = []

    def slow_flush(eng):
        release.wait(5)
        flushed.append(real_flush(eng))
        return flushed[-1]

    counter.flush = slow_flush  # type: ignore[method-assign]
    first = counter.flush_soon(engine)
    assert first is not None and first.name == "liang-verification-counts" and first.daemon
    assert counter.flush_soon(engine) is None  # one already running
    release.set()
    first.join(5)
    assert flushed == [0]  # ran (and, with no tables, dropped the count without raising)
    assert counter.flush_soon(engine) is not None  # free again once it finished
    engine.dispose()

"""Read-path rate limits: fixed windows in memory, 429 with Retry-After, a breaker for Redis."""

from __future__ import annotations

import pytest
import redis.exceptions
from limits import parse
from limits.errors import StorageError

from verifier.web.ratelimit import MemoryWindows, ReadLimits


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_memory_windows_allow_the_amount_then_refuse():
    windows = MemoryWindows(clock=_Clock(1_000_020.0))
    item = parse("3 per minute")
    answers = [windows.hit(item, "p", "scope", "1.2.3.4")[0] for _ in range(4)]
    assert answers == [True, True, True, False]
    assert windows.hit(item, "p", "scope", "5.6.7.8")[0] is True  # another client has its own window
    assert windows.hit(item, "p", "other", "1.2.3.4")[0] is True  # and so has another endpoint


def test_memory_windows_reset_and_sweep_when_the_window_closes():
    clock = _Clock(1_000_020.0)
    windows = MemoryWindows(clock=clock)
    item = parse("1 per minute")
    assert windows.hit(item, "p", "s", "a") == (True, 1_000_080.0)
    assert windows.hit(item, "p", "s", "a")[0] is False
    for n in range(50):
        windows.hit(item, "p", "s", f"client-{n}")
    assert len(windows) == 51
    clock.now += 60
    assert windows.hit(item, "p", "s", "a")[0] is True
    assert len(windows) == 1  # the closed window's counters are gone


def test_read_limits_report_seconds_until_reset():
    limits = ReadLimits("memory://", prefix="t")
    assert limits.hit("1 per hour", "s", "c") is None
    retry = limits.hit("1 per hour", "s", "c")
    assert retry is not None and 1 <= retry <= 3601


def test_unreachable_redis_lets_verification_through(caplog):
    limits = ReadLimits("redis://127.0.0.1:1/0", prefix="t")
    assert [limits.hit("1 per hour", "s", "c") for _ in range(3)] == [None, None, None]
    assert sum("rate-limit storage unreachable" in r.message for r in caplog.records) == 1


def test_breaker_skips_a_failing_storage_for_the_cool_down_then_tries_again(monkeypatch, caplog):
    """Issue 14 item 10: after one storage failure the read-path limits are skipped at once."""
    from verifier.web.ratelimit import ReadLimits

    now = [1000.0]
    limits = ReadLimits("redis://127.0.0.1:1/0", prefix="t", cooldown=30, clock=lambda: now[0])
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise redis.exceptions.TimeoutError("redis hung")

    monkeypatch.setattr(limits._strategy, "hit", broken)
    with caplog.at_level("WARNING", logger="verifier.web.ratelimit"):
        assert limits.hit("1 per minute", "s", "c") is None
        for _ in range(50):
            assert limits.hit("1 per minute", "s", "c") is None
        assert len(calls) == 1 and limits.open
        now[0] += 31
        assert limits.hit("1 per minute", "s", "c") is None
        assert len(calls) == 2
    assert caplog.text.count("rate-limit storage unreachable") == 1


@pytest.mark.parametrize("error", [StorageError(redis.exceptions.ResponseError("OOM command not allowed")),
                                   redis.exceptions.ConnectionError("reset by peer"),
                                   redis.exceptions.TimeoutError("timed out")])
@pytest.mark.parametrize("method", ["hit", "count"])
def test_storage_errors_open_the_breaker(monkeypatch, error, method):
    limits = ReadLimits("redis://127.0.0.1:1/0", prefix="t")

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(limits._strategy, "hit", failing)
    answer = limits.hit("1 per hour", "s", "c") if method == "hit" else limits.count(limits.item("1 per hour"), "c")
    assert answer is None and limits.open


@pytest.mark.parametrize("method", ["hit", "count"])
def test_a_bug_raises_instead_of_turning_the_limits_off(monkeypatch, caplog, method):
    """Issue 25 item 7: only storage errors open the breaker; anything else is a bug and is raised."""
    limits = ReadLimits("redis://127.0.0.1:1/0", prefix="t")

    def buggy(*args, **kwargs):
        raise TypeError("hit() got an unexpected keyword argument")

    monkeypatch.setattr(limits._strategy, "hit", buggy)
    with pytest.raises(TypeError, match="unexpected keyword"):
        if method == "hit":
            limits.hit("1 per hour", "s", "c")
        else:
            limits.count(limits.item("1 per hour"), "c")
    assert not limits.open
    assert "rate-limit storage unreachable" not in caplog.text

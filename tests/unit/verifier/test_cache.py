"""The rendering cache: bounded, least-recently-used, safe across threads, keyed by content."""

from __future__ import annotations

import threading

from verifier.web.cache import RenderCache, content_key


def test_miss_renders_once_then_hits():
    cache = RenderCache(max_entries=4, max_bytes=1000)
    calls = []
    assert cache.get_or_render("k", lambda: calls.append(1) or b"data") == b"data"
    assert cache.get_or_render("k", lambda: calls.append(1) or b"other") == b"data"
    assert calls == [1]
    assert (cache.hits, cache.misses) == (1, 1)


def test_evicts_least_recently_used_by_count():
    cache = RenderCache(max_entries=2, max_bytes=1000)
    cache.get_or_render("a", lambda: b"a")
    cache.get_or_render("b", lambda: b"b")
    cache.get_or_render("a", lambda: b"x")  # a is now most recent
    cache.get_or_render("c", lambda: b"c")
    assert len(cache) == 2
    assert cache.get_or_render("b", lambda: b"new-b") == b"new-b"  # b was evicted
    assert cache.get_or_render("c", lambda: b"x") == b"c"


def test_evicts_by_total_bytes_and_skips_oversized_items():
    cache = RenderCache(max_entries=100, max_bytes=10)
    cache.get_or_render("a", lambda: b"12345")
    cache.get_or_render("b", lambda: b"123456")
    assert len(cache) == 1  # a dropped to stay within 10 bytes
    assert cache.get_or_render("big", lambda: b"x" * 11) == b"x" * 11
    assert len(cache) == 1  # never stored


def test_concurrent_use_keeps_the_cache_consistent():
    cache = RenderCache(max_entries=16, max_bytes=10_000)
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                key = f"k{(i * 7 + n) % 40}"
                assert cache.get_or_render(key, lambda key=key: key.encode()) == key.encode()
        except AssertionError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) <= 16
    assert cache.hits + cache.misses == 8 * 300


def test_content_key_changes_with_any_part():
    base = content_key("badge.png", face={"status": "valid"}, credential="a.b.c", size="m")
    assert base == content_key("badge.png", size="m", credential="a.b.c", face={"status": "valid"})
    assert base != content_key("badge.png", face={"status": "revoked"}, credential="a.b.c", size="m")
    assert base != content_key("badge.png", face={"status": "valid"}, credential="a.b.d", size="m")
    assert base != content_key("badge.png", face={"status": "valid"}, credential="a.b.c", size="l")
    assert base != content_key("badge.svg", face={"status": "valid"}, credential="a.b.c", size="m")


def test_clear_empties_the_cache_and_its_counts():
    cache = RenderCache(max_entries=4, max_bytes=10)
    cache.get_or_render("a", lambda: b"12345")
    cache.get_or_render("a", lambda: b"12345")
    cache.clear()
    assert (len(cache), cache.hits, cache.misses) == (0, 0, 0)
    assert cache.get_or_render("b", lambda: b"1234567890") == b"1234567890"  # the byte budget is whole again
    assert len(cache) == 1
    assert cache.get_or_render("a", lambda: b"again") == b"again"  # re-rendered, not the old bytes

"""Per-client rate limits, owned: fixed windows on the ``limits`` library's public storage and strategy API.

Every limit of the service is counted by these counters: the verification read path here
(``read_limit``: one counter increment per request, in the same storage — memory, or the
shared Redis of a many-instance deployment — answering 429 with ``Retry-After``), the write
paths in ``web/writelimits.py``. Flask-Limiter used to count the write paths; its
per-request hook ran on every request and cost more than the whole badge look-up
(profiled: about a quarter of a verification's time). It offered no public way to stay off
the read path that skipped that cost (its request filter still left about 20 µs a request),
so it was dropped (docs/architecture.md, "Libraries").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app
from limits import RateLimitItem, parse, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from verifier.extensions import client_key

_logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Set on every public view whose limit was decided here (``read_limit`` or ``unlimited``).
_MARK = "_liang_read_limited"
_EXTENSION = "liang.read_limits"


class MemoryWindows:
    """Fixed-window counters in this process, for ``memory://`` storage (one node, or tests).

    ``limits``' own memory storage starts a timer thread to expire keys, which under load
    meant a new thread every few requests; here stale windows are swept when a window
    closes, under one lock, with no thread at all.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._counts: dict[tuple[str, ...], int] = {}
        self._windows: dict[int, int] = {}  # period -> the window id last seen
        self._lock = threading.Lock()
        self._clock = clock

    def hit(self, item: RateLimitItem, *identifiers: str) -> tuple[bool, float]:
        """Count one hit; return (allowed, the time the window resets)."""
        count, reset = self.count(item, *identifiers)
        return count <= item.amount, reset

    def count(self, item: RateLimitItem, *identifiers: str) -> tuple[int, float]:
        """Count one hit; return (the hits in this window, the time the window resets)."""
        period = item.get_expiry()
        now = self._clock()
        window = int(now // period)
        key = (str(period), str(item.amount), str(window), *identifiers)
        with self._lock:
            if self._windows.get(period) != window:
                self._windows[period] = window
                tag = str(period)
                stale = [k for k in self._counts if k[0] == tag and k[2] != str(window)]
                for k in stale:
                    del self._counts[k]
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        return count, float((window + 1) * period)

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)


class ReadLimits:
    """The app's counters: one fixed window per (endpoint, client).

    With Redis storage, a circuit breaker guards the read path: after one failure (refused,
    reset or timed out after the short socket timeout) the limits are skipped at once for
    ``cooldown`` seconds, so a hung Redis costs one request a fraction of a second instead
    of every verification seconds. One log line per outage, one when Redis answers again.
    """

    def __init__(self, storage_uri: str, *, prefix: str, options: dict[str, Any] | None = None,
                 cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._memory = MemoryWindows() if storage_uri.startswith("memory://") else None
        # The storage's own errors (every Redis error of a command) come wrapped as StorageError;
        # a connection or timeout outside a wrapped command comes as Redis's own. Nothing else
        # trips the breaker: a bug raises instead of silently turning the limits off.
        self._storage_errors: tuple[type[Exception], ...] = (StorageError,)
        self._strategy: FixedWindowRateLimiter | None = None
        if self._memory is None:
            self._strategy = FixedWindowRateLimiter(
                storage_from_string(storage_uri, wrap_exceptions=True, **(options or {})))
            if storage_uri.startswith(("redis", "rediss")):
                from redis.exceptions import ConnectionError as RedisConnectionError  # lazily: 0.2 s of import
                from redis.exceptions import TimeoutError as RedisTimeoutError

                self._storage_errors = (StorageError, RedisConnectionError, RedisTimeoutError)
        self._prefix = prefix
        self._parsed: dict[str, RateLimitItem] = {}
        self._parsed_many: dict[str, tuple[RateLimitItem, ...]] = {}
        self._cooldown = cooldown
        self._clock = clock
        self._open_until = 0.0  # the breaker: limits skipped until this monotonic time
        self._tripped = False
        self._lock = threading.Lock()

    def item(self, text: str) -> RateLimitItem:
        """Return the parsed limit for ``text`` (parsed once per distinct string)."""
        found = self._parsed.get(text)
        if found is None:
            found = self._parsed[text] = parse(text)
        return found

    def items(self, text: str) -> tuple[RateLimitItem, ...]:
        """Return the parsed limits of ``text`` ("20 per minute;200 per hour"), parsed once per distinct string."""
        found = self._parsed_many.get(text)
        if found is None:
            found = self._parsed_many[text] = tuple(parse_many(text))
        return found

    def count(self, item: RateLimitItem, *identifiers: str) -> tuple[bool, int, float] | None:
        """Count one request; return (allowed, remaining, window reset time), None while the storage is out."""
        if self._memory is not None:
            count, reset = self._memory.count(item, self._prefix, *identifiers)
            return count <= item.amount, max(0, item.amount - count), reset
        strategy = self._strategy
        if strategy is None or self._clock() < self._open_until:
            return None
        try:
            allowed = strategy.hit(item, self._prefix, *identifiers)
            stats = strategy.get_window_stats(item, self._prefix, *identifiers)
        except self._storage_errors:  # a storage outage must not take the service down
            self._trip()
            return None
        self._closed()
        return allowed, stats.remaining, stats.reset_time

    @property
    def open(self) -> bool:
        """Return whether the breaker is open (Redis-backed limits are being skipped)."""
        return self._clock() < self._open_until

    def hit(self, text: str, scope: str, client: str) -> int | None:
        """Count one request; return None if allowed, else the seconds until the window resets."""
        item = self.item(text)
        if self._memory is not None:
            allowed, reset = self._memory.hit(item, self._prefix, scope, client)
            return None if allowed else max(1, int(reset - time.time()) + 1)
        strategy = self._strategy
        if strategy is None:  # pragma: no cover - one of the two is always set
            return None
        if self._clock() < self._open_until:
            return None  # Redis failed recently: answer without limits, at once
        try:
            if strategy.hit(item, self._prefix, scope, client):
                self._closed()
                return None
            reset = strategy.get_window_stats(item, self._prefix, scope, client).reset_time
        except self._storage_errors:  # a storage outage must not take verification down
            self._trip()
            return None
        self._closed()
        return max(1, int(reset - time.time()) + 1)

    def _trip(self) -> None:
        with self._lock:
            self._open_until = self._clock() + self._cooldown
            first = not self._tripped
            self._tripped = True
        if first:
            _logger.warning("rate-limit storage unreachable or slow; verification answers without limits "
                            "(retrying every %.0f s)", self._cooldown)

    def _closed(self) -> None:
        if self._tripped:
            with self._lock:
                was, self._tripped = self._tripped, False
            if was:
                _logger.warning("rate-limit storage answers again; limits restored")


def init_app(app: Flask) -> None:
    """Create the app's counters (when rate limiting is on)."""
    if app.config.get("RATELIMIT_ENABLED", True):
        prefix = str(app.config.get("RATELIMIT_KEY_PREFIX") or "liang")
        app.extensions[_EXTENSION] = ReadLimits(
            str(app.config["RATELIMIT_STORAGE_URI"]), prefix=prefix,
            options=dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
            cooldown=float(app.config.get("RATELIMIT_BREAKER_SECONDS", 30)))
    else:
        app.extensions.pop(_EXTENSION, None)


def counters() -> ReadLimits | None:
    """Return this app's counters (None when rate limiting is off)."""
    return current_app.extensions.get(_EXTENSION)  # type: ignore[no-any-return]


def charge(config_key: str, default: str, *, scope: str) -> None:
    """Count one more request of this client against ``app.config[config_key]``; 429 when over."""
    limits: ReadLimits | None = current_app.extensions.get(_EXTENSION)
    if limits is None:
        return
    retry = limits.hit(str(current_app.config.get(config_key) or default), scope, client_key())
    if retry is not None:
        refused = TooManyRequests()
        refused.retry_after = retry  # type: ignore[attr-defined]
        raise refused


def read_limit(config_key: str, default: str) -> Callable[[F], F]:
    """Limit a view per client to ``app.config[config_key]`` (e.g. "300 per minute")."""

    def decorate(view: F) -> F:
        scope = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            limits: ReadLimits | None = current_app.extensions.get(_EXTENSION)
            if limits is not None:
                text = str(current_app.config.get(config_key) or default)
                retry = limits.hit(text, scope, client_key())
                if retry is not None:
                    refused = TooManyRequests()
                    refused.retry_after = retry  # type: ignore[attr-defined]
                    raise refused
            return view(*args, **kwargs)

        setattr(limited, _MARK, True)
        return limited  # type: ignore[return-value]

    return decorate


def unlimited(view: F) -> F:
    """Mark a public view that no rate limit applies to, on purpose (the mark says it was decided)."""
    setattr(view, _MARK, True)
    return view

"""Rate limits on the write paths: login, complaints, applications, uploads, complaint tracking.

They count on the same counters as the read path (``web/ratelimit.py``: the ``limits``
library's public storage and fixed-window strategy, behind its circuit breaker), keyed as
Flask-Limiter keyed them before: (key prefix, client or other key, scope), the scope being
the endpoint or a name shared by several views. The limits of a view are counted shortest
window first and the first one exceeded refuses the request with 429 (rendered by the one
error map). A counted request's answer carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` and ``Retry-After``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from limits import RateLimitItem
from werkzeug.exceptions import TooManyRequests

from verifier.extensions import client_key
from verifier.web.ratelimit import ReadLimits, counters

_logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class WriteLimit:
    """One limit on a view: its text (read from the config per request), what it counts, what a breach does."""

    text: Callable[[], str]
    #: A scope several views share; None: the view's endpoint.
    scope: str | None = None
    key: Callable[[], str] = client_key
    #: The methods it counts; None: every method.
    methods: frozenset[str] | None = None
    #: The 429's description.
    message: str | Callable[[], str] | None = None
    on_breach: Callable[[RateLimitItem], None] | None = None


def write_limit(*limits: WriteLimit, skip_when: Callable[[], bool] | None = None) -> Callable[[F], F]:
    """Count a view's requests against ``limits``; 429 when one is exceeded (``skip_when`` true: not counted)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            found = counters()
            if found is not None and not (skip_when is not None and skip_when()):
                _enforce(found, limits)
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


def _enforce(found: ReadLimits, limits: tuple[WriteLimit, ...]) -> None:
    pending: list[tuple[RateLimitItem, WriteLimit, str, str]] = []
    for limit in limits:
        if limit.methods is not None and request.method not in limit.methods:
            continue
        key, scope = limit.key(), limit.scope or request.endpoint or ""
        pending.extend((item, limit, key, scope) for item in found.items(limit.text()))
    pending.sort(key=lambda entry: entry[0].get_expiry())  # stable: the given order among equal windows
    counted = []
    for item, limit, key, scope in pending:
        answer = found.count(item, key, scope)
        if answer is None:  # the storage is unreachable: a write is not refused for that
            continue
        allowed, remaining, reset = answer
        if not allowed:
            g.liang_rate_limit = (item, remaining, reset)
            _logger.info("ratelimit %s (%s) exceeded at endpoint: %s", item, key, scope)
            if limit.on_breach is not None:
                limit.on_breach(item)
            message = limit.message() if callable(limit.message) else limit.message
            refused = TooManyRequests(description=message or str(item))
            refused.retry_after = _retry_after(reset)  # type: ignore[attr-defined]
            raise refused
        counted.append((limit.scope is not None, (item, remaining, reset)))
    if counted:  # the headers speak of the view's own limit rather than a shared one
        g.liang_rate_limit = min(counted, key=lambda entry: entry[0])[1]


def _retry_after(reset: float) -> int:
    return max(1, int(reset - time.time()))


def _headers(response: Response) -> Response:
    shown = g.get("liang_rate_limit")
    if shown is not None:
        item, remaining, reset = shown
        response.headers["X-RateLimit-Limit"] = str(item.amount)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(int(reset))
        response.headers["Retry-After"] = str(_retry_after(reset))
    return response


def init_app(app: Flask) -> None:
    """Put the limit headers on the answers of counted requests."""
    app.after_request(_headers)

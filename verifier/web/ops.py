"""Operations: structured logs with a request id, an access log line per request, Prometheus metrics.

Logs are one JSON object per line on stderr (``LIANG_LOG_FORMAT=json``, the default) or
plain text (``text``). Every record made while a request runs carries its request id.
The access log holds method, path (never the query string), status, duration and request
id: no addresses, no headers, no bodies, so no token, password or shopper contact.
"""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import logging.handlers
import os
import random
import re
import secrets
import sys
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import NotFound

from verifier.config import ConfigError
from verifier.extensions import csrf
from verifier.web import metrics
from verifier.web.accesslog import AccessWriter

_ACCESS_NAME = "liang.access"
_access = logging.getLogger(_ACCESS_NAME)
_REQUEST_ID = contextvars.ContextVar[str | None]("liang_request_id", default=None)
# Request ids are not secrets (S311): seeded from the system, and again in each forked worker.
_ids = random.Random(secrets.randbits(128))  # noqa: S311
os.register_at_fork(after_in_child=lambda: _ids.seed(secrets.randbits(128)))
_INCOMING_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
_HANDLER_MARK = "_liang_ops_handler"
_WRITER = "liang.access_writer"

#: Endpoints whose answers are verifications, with the name used in metrics.
VERIFY_ENDPOINTS = {
    "public.verify_page": "verify_page",
    "api.badge_status": "badge_status",
    "api.verify": "verify",
}
_STATUS_OUTCOMES = {400: "malformed", 404: "not_found", 413: "too_large", 415: "invalid_request",
                    429: "rate_limited", 503: "unavailable"}


def current_request_id() -> str | None:
    """Return the id of the request being served, if any."""
    return _REQUEST_ID.get()


# -- logging -------------------------------------------------------------------------------------
_previous_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    record.request_id = _REQUEST_ID.get()
    return record


#: One encoder for every line (json.dumps with options builds a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    _second: tuple[int, str] = (-1, "")

    def _stamp(self, created: float) -> str:
        # The date and time change once a second; strftime per line was a measurable part of a request.
        second = int(created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return cached[1]

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line for ``record``."""
        body: dict[str, Any] = {
            "ts": f"{self._stamp(record.created)}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key in ("method", "path", "status", "duration_ms", "endpoint"):
            if hasattr(record, key):
                body[key] = getattr(record, key)
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return _ENCODE(body)


class TextFormatter(logging.Formatter):
    """Plain text with the request id."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Return the text line for ``record``."""
        if not hasattr(record, "request_id"):
            record.request_id = None
        return super().format(record)


def make_formatter(fmt: str) -> logging.Formatter:
    """Return the formatter for ``LOG_FORMAT``."""
    return TextFormatter() if fmt == "text" else JsonFormatter()


def configure_logging(fmt: str, *, path: str | None = None) -> None:
    """Send every log record to stderr (or the file ``path``) in ``fmt``, replacing plain stderr handlers (idempotent)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger()
    ours = None
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            ours = handler
        elif type(handler) is logging.StreamHandler and getattr(handler, "stream", None) in (sys.stderr,
                                                                                                sys.__stderr__):
            root.removeHandler(handler)  # the CLI's basicConfig: one format on stderr, ours
    if ours is not None and path and getattr(ours, "baseFilename", None) != os.path.abspath(path):
        root.removeHandler(ours)
        ours = None
    if ours is None:
        ours = logging.handlers.WatchedFileHandler(path, encoding="utf-8") if path else logging.StreamHandler(sys.stderr)
        setattr(ours, _HANDLER_MARK, True)
        root.addHandler(ours)
    ours.setFormatter(make_formatter(fmt))
    _access.setLevel(logging.INFO)


# -- request hooks -------------------------------------------------------------------------------
def _before() -> None:
    incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
    # Not a secret, only unique enough to find a request's lines: drawn without a system call
    # (os.urandom releases the GIL, and under four threads getting it back cost more than the draw).
    rid = incoming if incoming and _INCOMING_ID.fullmatch(incoming) else f"{_ids.getrandbits(64):016x}"
    state = g._get_current_object()  # type: ignore[attr-defined]
    state.liang_request_id = rid
    state.liang_token = _REQUEST_ID.set(rid)
    state.liang_started = time.perf_counter()


def _after(response: Response) -> Response:
    # One look-up of the request and g proxies: this hook runs on every response.
    req = request._get_current_object()  # type: ignore[attr-defined]
    state = g._get_current_object()  # type: ignore[attr-defined]
    rid = getattr(state, "liang_request_id", None)
    if rid:
        response.headers["X-Request-ID"] = rid
    started = getattr(state, "liang_started", None)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    rule = req.url_rule.rule if req.url_rule is not None else "<unmatched>"
    endpoint = req.endpoint or ""
    status = response.status_code
    if endpoint != "ops.metrics_endpoint":
        metrics.observe_latency(rule, req.method, elapsed)
    kind = VERIFY_ENDPOINTS.get(endpoint)
    if kind is not None:
        outcome = getattr(state, "liang_outcome", None) or _STATUS_OUTCOMES.get(status, "error")
        metrics.count_verification(kind, outcome)
    if _access.isEnabledFor(logging.INFO):
        path, method = req.path, req.method
        writer = current_app.extensions.get(_WRITER)
        if writer is not None:  # a served app: the line is written off the request path
            writer.put(rid, method, path, status, round(elapsed * 1000, 2), rule)
            return response
        # The record is made directly: Logger.info would walk the stack to find the caller
        # (findCaller), the costliest part of the line, for a location that is always this one.
        _access.handle(_access.makeRecord(
            _ACCESS_NAME, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None,
            extra={"method": method, "path": path, "status": status, "duration_ms": round(elapsed * 1000, 2),
                   "endpoint": rule}))
    return response


def _teardown(_exc: BaseException | None) -> None:
    token = g.pop("liang_token", None)
    if token is not None:
        try:
            _REQUEST_ID.reset(token)
        except ValueError:  # set in another context (should not happen); clear instead
            _REQUEST_ID.set(None)


# -- /metrics ------------------------------------------------------------------------------------
def metrics_endpoint() -> Response:
    """Serve Prometheus metrics to a holder of METRICS_TOKEN; everyone else sees 404."""
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    # Not public by default: without a configured token the endpoint does not exist.
    if not token or not given.startswith("Bearer ") or not hmac.compare_digest(
            given[7:].strip().encode(), str(token).encode()):
        raise NotFound()
    body, content_type = metrics.render()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def install_request_ids(app: Flask) -> None:
    """Give every request its id and start time; call before any other before-request hook is registered.

    Flask runs before-request hooks in the order they were registered, so a request refused by
    another hook (an oversized body, a CSRF failure, a rate limit) still gets an id.
    """
    app.before_request(_before)


def register(app: Flask) -> None:
    """Install logging, request ids, the access log and /metrics on ``app``."""
    fmt = str(app.config.get("LOG_FORMAT") or "json")
    if fmt not in {"json", "text"}:
        raise ConfigError(f"LIANG_LOG_FORMAT must be json or text, not {fmt!r}")
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    _access.setLevel(logging.INFO)
    if not app.testing:  # under pytest the capture owns stderr; tests use the formatters directly
        configure_logging(fmt, path=app.config.get("LOG_FILE") or None)
        app.extensions[_WRITER] = AccessWriter(_access)
    app.after_request(_after)
    app.teardown_request(_teardown)
    view = csrf.exempt(metrics_endpoint)
    app.add_url_rule("/metrics", endpoint="ops.metrics_endpoint", view_func=view, methods=["GET"])

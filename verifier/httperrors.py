"""Map domain and HTTP errors to responses in exactly one place."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from signer.errors import (
    BadgeError,
    BadgeNotFound,
    Conflict,
    IllegalTransition,
    InvalidCredential,
    InvalidImage,
    InvalidInput,
    KeyUnavailable,
    MalformedId,
)

_logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP-level refusal raised by views: status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_DOMAIN_STATUS: list[tuple[type[BadgeError], int]] = [
    (MalformedId, 400),
    (BadgeNotFound, 404),
    (IllegalTransition, 409),
    (Conflict, 409),
    (InvalidInput, 400),
    (InvalidCredential, 400),
    (InvalidImage, 400),
    (KeyUnavailable, 503),
]

_HTTP_CODES = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 503: "unavailable",
}


def wants_json() -> bool:
    """Return whether this request should get the JSON error shape."""
    if request.path.startswith("/api/") or request.path.startswith("/.well-known/"):
        return True
    if request.path.startswith("/status/") or request.path == "/openapi.json":
        return True
    if request.path.startswith(("/keys/", "/ns/")) or request.path.endswith("/credential.json"):
        return True  # machine documents
    if request.path.startswith(("/issuer", "/achievements/", "/branches/")):  # linked data: HTML if asked for
        return request.accept_mimetypes.best_match(["application/ld+json", "text/html"]) != "text/html"
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    """Render an error as JSON for API clients, a friendly page for browsers."""
    if wants_json():
        body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
        response = jsonify(body)
    else:
        try:
            page = render_template("errors/error.html", status=status, code=code, message=message)
        except Exception:  # noqa: BLE001 - the error page itself must never fail
            _logger.exception("error page failed to render")
            page = f"<!doctype html><title>{status}</title><p>{status}</p>"
        response = Response(page, mimetype="text/html")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


# Lazy strings: only the one message an error needs is translated, per request.
_MESSAGES = {
    "not_found": _l("没有找到这个徽章或页面。"),
    "malformed_id": _l("徽章编号格式不正确：编号为 12 位字母数字，如 7K3M-9QX2-HT4B。"),
    "rate_limited": _l("请求过于频繁，请稍后再试。"),
    "unavailable": _l("暂时无法核验，请稍后再试。此时请不要相信任何“有效”的说法。"),
    "too_large": _l("上传的内容太大。"),
    "method_not_allowed": _l("不支持这种请求方式。"),
    "unauthorized": _l("请先登录。"),
    "forbidden": _l("您没有权限执行此操作。"),
    "csrf": _l("表单已过期或来源不明，请刷新页面后重试。"),
}


def _friendly(code: str, fallback: str) -> str:
    message = _MESSAGES.get(code)
    return str(message) if message is not None else fallback


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(BadgeError)
    def _domain(exc: BadgeError) -> Response:
        status = next((s for cls, s in _DOMAIN_STATUS if isinstance(exc, cls)), 400)
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.field:
            extra["field"] = exc.field
        if isinstance(exc, (InvalidCredential, InvalidImage)):
            extra["reason"] = exc.reason
        message = exc.message if status != 404 else _friendly("not_found", exc.message)
        if isinstance(exc, MalformedId):
            message = _friendly("malformed_id", exc.message)
        return error_response(status, exc.code, message, **extra)

    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return error_response(400, "csrf", _friendly("csrf", str(exc.description)))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = _friendly(code, exc.description or exc.name)
        response = error_response(status, code, message)
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        retry = getattr(exc, "retry_after", None)
        if status == 429 and retry:
            response.headers["Retry-After"] = str(retry)
        return response

    @app.errorhandler(DataError)
    def _bad_value(exc: Exception) -> Response:
        # The database refused a value the request carried (a NUL byte, an out-of-range
        # number): that is bad input, not an outage.
        _logger.info("database refused a request value: %s", type(exc).__name__)
        return error_response(400, "invalid_request", "a request value is not acceptable")

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database(exc: Exception) -> Response:
        # Fail closed: with no database we cannot know a badge's state, so we say so.
        _logger.error("database unavailable: %s", type(exc).__name__)
        return error_response(503, "unavailable", _friendly("unavailable", "cannot verify now"))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        _logger.exception("unhandled error")
        return error_response(500, "internal_error", _("服务器内部错误，已记录，请稍后再试。"))

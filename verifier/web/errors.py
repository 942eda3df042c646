"""HTTP-level errors: ``ApiError``, the JSON or HTML error shape, and the handlers for HTTP, CSRF and
database errors. The domain errors' statuses are mapped in one place, :mod:`verifier.errors`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

_logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP-level refusal raised by views: status, code and message."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


_HTTP_CODES = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    429: "rate_limited", 500: "internal_error", 502: "bad_gateway", 503: "unavailable",
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
            # In the console a refusal stays in the console: its navigation, a heading in words, a way back.
            template = "admin/error.html" if request.path.startswith("/admin") else "errors/error.html"
            page = render_template(template, status=status, code=code, message=message, back=_way_back())
        except Exception:  # noqa: BLE001 - the error page itself must never fail
            _logger.exception("error page failed to render")
            page = f"<!doctype html><title>{status}</title><p>{status}</p>"
        response = Response(page, mimetype="text/html")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _way_back() -> str | None:
    """Return the page the request came from on this site (a refused form's page), if any."""
    referrer = request.referrer or ""
    own = request.host_url
    return referrer if referrer.startswith(own) and referrer.split("?")[0] != request.base_url else None


# Lazy strings: only the one message an error needs is translated, per request.
_MESSAGES = {
    "not_found": _l("没有找到这个徽章或页面。"),
    "malformed_id": _l("徽章编号格式不正确：编号为 12 位字母数字，如 7K3M-9QX2-HT4B。"),
    "rate_limited": _l("请求过于频繁，请稍后再试。"),
    "unavailable": _l("暂时无法核验，请稍后再试。此时请不要相信任何“有效”的说法。"),
    "write_unavailable": _l("暂时无法保存，什么也没有改变，请稍后再试。"),
    "write_conflict": _l("这条记录刚被别人修改，您的操作没有执行。请刷新后再试。"),
    "too_large": _l("上传的内容太大。"),
    "method_not_allowed": _l("不支持这种请求方式。"),
    "unauthorized": _l("请先登录。"),
    "forbidden": _l("您没有权限执行此操作。"),
    "csrf": _l("表单已过期或来源不明，请刷新页面后重试。"),
}


def friendly(code: str, fallback: str) -> str:
    """Return the friendly message for an error code in the request's language, else ``fallback``."""
    message = _MESSAGES.get(code)
    return str(message) if message is not None else fallback


def register_error_handlers(app: Flask) -> None:
    """Install the HTTP-level handlers on ``app`` (the domain errors' are ``verifier.errors``')."""

    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> Response:
        response = error_response(exc.status, exc.code, exc.message)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return error_response(400, "csrf", friendly("csrf", str(exc.description)))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = friendly(code, exc.description or exc.name)
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

    @app.errorhandler(IntegrityError)
    def _integrity(exc: Exception) -> Response:
        # Two writers raced for one unique thing (two approvals of one application, one shop
        # issued twice): the loser's transaction was rolled back, nothing changed.
        _logger.info("write refused by a constraint: %s", type(exc.__cause__ or exc).__name__)
        return error_response(409, "conflict", friendly("write_conflict", "changed by someone else; reload"))

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database(exc: Exception) -> Response:
        # Fail closed: with no database we cannot know a badge's state, so we say so. A write
        # that failed says it saved nothing, not the shopper's "cannot verify now".
        _logger.error("database unavailable: %s", type(exc).__name__)
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.path != "/api/v1/verify":
            return error_response(503, "unavailable", friendly("write_unavailable", "nothing was saved; try later"))
        return error_response(503, "unavailable", friendly("unavailable", "cannot verify now"))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        _logger.exception("unhandled error")
        return error_response(500, "internal_error", _("服务器内部错误，已记录，请稍后再试。"))

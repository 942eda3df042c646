"""Map domain and HTTP errors to responses in exactly one place."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from signer.errors import (
    BadgeError,
    BadgeNotFound,
    Conflict,
    IllegalTransition,
    InvalidCredential,
    InvalidImage,
    InvalidInput,
    InvalidRenderRequest,
    KeyStoreError,
    KeyUnavailable,
    MalformedId,
)
from verifier.accounts.logins import LoginRefused
from verifier.accounts.service import AuthError
from verifier.complaints.service import ComplaintNotFound
from verifier.errorwords import describe
from verifier.verification.client import ClientError

_logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP-level refusal raised by views: status, code and message."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


#: Every domain error class and its HTTP status. Each class is listed itself (a test walks the
#: hierarchy and fails on one that is not): a server fault must never fall through to "bad request".
DOMAIN_STATUS: dict[type[BadgeError], int] = {
    BadgeError: 500,  # the bare root is never raised on purpose: treat it as a fault
    MalformedId: 400,
    InvalidInput: 400,
    InvalidCredential: 400,
    InvalidImage: 400,
    InvalidRenderRequest: 400,
    AuthError: 401,
    LoginRefused: 401,
    BadgeNotFound: 404,
    ComplaintNotFound: 404,
    IllegalTransition: 409,
    Conflict: 409,
    KeyStoreError: 500,  # the node cannot load or decrypt its keys: an operator must act
    ClientError: 502,  # an upstream service did not answer as it should
    KeyUnavailable: 503,  # no private key here (public-only node, none created yet)
}


def status_for(exc: BadgeError) -> int:
    """Return the HTTP status for a domain error: its own class's entry, else its nearest mapped base."""
    for cls in type(exc).__mro__:
        status = DOMAIN_STATUS.get(cls)  # type: ignore[call-overload]
        if status is not None:
            return status
    return 500

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


def _friendly(code: str, fallback: str) -> str:
    message = _MESSAGES.get(code)
    return str(message) if message is not None else fallback


#: Shoppers' pages of one badge: an unknown id there gets the counterfeit warning.
_BADGE_PAGES = frozenset({"public.verify_page", "complaints.complain"})


def _unknown_badge_page() -> bool:
    return request.endpoint in _BADGE_PAGES and request.method == "GET" and not wants_json()


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(BadgeError)
    def _domain(exc: BadgeError) -> Response:
        status = status_for(exc)
        if status >= 500:
            # A fault on our side: log it whole, tell the caller only that it is ours.
            _logger.error("%s answered %d", type(exc).__name__, status, exc_info=exc)
            message = exc.message if status == 503 else _("服务器内部错误，已记录，请稍后再试。")
            return error_response(status, exc.code, message)
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.field:
            extra["field"] = exc.field
        if isinstance(exc, (InvalidCredential, InvalidImage, InvalidRenderRequest)):
            extra["reason"] = exc.reason
        if isinstance(exc, (BadgeNotFound, MalformedId)) and _unknown_badge_page():
            # The page a forged QR code leads to: say so plainly, not a neutral "not found".
            from verifier.verification.home import unknown_badge_page

            return unknown_badge_page(str((request.view_args or {}).get("raw_id", "")), status=status)
        message = exc.message if status != 404 else _friendly("not_found", exc.message)
        if isinstance(exc, MalformedId):
            message = _friendly("malformed_id", exc.message)
        if isinstance(exc, (InvalidInput, IllegalTransition, Conflict)):
            # The words the console and the CLI use, in the request's language; ``code`` stays stable.
            message = describe(exc)
        return error_response(status, exc.code, message, **extra)

    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> Response:
        response = error_response(exc.status, exc.code, exc.message)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

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

    @app.errorhandler(IntegrityError)
    def _integrity(exc: Exception) -> Response:
        # Two writers raced for one unique thing (two approvals of one application, one shop
        # issued twice): the loser's transaction was rolled back, nothing changed.
        _logger.info("write refused by a constraint: %s", type(exc.__cause__ or exc).__name__)
        return error_response(409, "conflict", _friendly("write_conflict", "changed by someone else; reload"))

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database(exc: Exception) -> Response:
        # Fail closed: with no database we cannot know a badge's state, so we say so. A write
        # that failed says it saved nothing, not the shopper's "cannot verify now".
        _logger.error("database unavailable: %s", type(exc).__name__)
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.path != "/api/v1/verify":
            return error_response(503, "unavailable", _friendly("write_unavailable", "nothing was saved; try later"))
        return error_response(503, "unavailable", _friendly("unavailable", "cannot verify now"))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        _logger.exception("unhandled error")
        return error_response(500, "internal_error", _("服务器内部错误，已记录，请稍后再试。"))

"""The one domain-error → HTTP map: every ``BadgeError`` class and its status, and their handler.

HTTP-level refusals (``ApiError``), the JSON or HTML error shape and the handlers of HTTP, CSRF and
database errors are plumbing and live in :mod:`verifier.web.errors`; this module is where the
domains' errors meet HTTP, so it is the one that imports every domain's error classes.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from flask_babel import gettext as _

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
from verifier.transparency.reads import NotInLog
from verifier.verification.client import ClientError
from verifier.verification.home import unknown_badge_page
from verifier.verification.logcheck import LogRefused
from verifier.web.errors import error_response, friendly, wants_json

_logger = logging.getLogger(__name__)

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
    NotInLog: 404,  # a checkpoint, tile or entry the transparency log does not have (yet)
    IllegalTransition: 409,
    Conflict: 409,
    KeyStoreError: 500,  # the node cannot load or decrypt its keys: an operator must act
    ClientError: 502,  # an upstream service did not answer as it should
    LogRefused: 502,  # an upstream log contradicts itself or the credential (raised by the `liang verify` client)
    KeyUnavailable: 503,  # no private key here (public-only node, none created yet)
}


def status_for(exc: BadgeError) -> int:
    """Return the HTTP status for a domain error: its own class's entry, else its nearest mapped base."""
    for cls in type(exc).__mro__:
        status = DOMAIN_STATUS.get(cls)  # type: ignore[call-overload]
        if status is not None:
            return status
    return 500


#: Shoppers' pages of one badge: an unknown id there gets the counterfeit warning.
_BADGE_PAGES = frozenset({"public.verify_page", "complaints.complain"})


def _unknown_badge_page() -> bool:
    return request.endpoint in _BADGE_PAGES and request.method == "GET" and not wants_json()


def register_domain_errors(app: Flask) -> None:
    """Install the handler that answers every domain error with its mapped status."""

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
            return unknown_badge_page(str((request.view_args or {}).get("raw_id", "")), status=status)
        message = exc.message if status != 404 else friendly("not_found", exc.message)
        if isinstance(exc, MalformedId):
            message = friendly("malformed_id", exc.message)
        if isinstance(exc, (InvalidInput, IllegalTransition, Conflict)):
            # The words the console and the CLI use, in the request's language; ``code`` stays stable.
            message = describe(exc)
        return error_response(status, exc.code, message, **extra)

"""Security headers on every response."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, request

from verifier.extensions import csrf

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: No inline script anywhere; pages that need script load it from our origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
#: The widget script is loaded by shops' pages; it needs no rights of its own.
_CORS_PREFIXES = ("/api/v1/badges/", "/.well-known/jwks.json", "/status/", "/widget.js",
                  "/keys/", "/ns/", "/issuer", "/achievements/", "/branches/", "/log/")
#: Both secured forms of a badge's credential, read by verifiers running in a browser.
_CORS_CREDENTIALS = ("/credential.json", "/credential.jws")


def cors_allowed(path: str, method: str) -> bool:
    """Return whether a response may carry open CORS (public GET API and widget only)."""
    if method not in {"GET", "HEAD", "OPTIONS"}:
        return False
    if path.startswith("/api/v1/badges/") and path.endswith("/complaints"):
        return False
    return path.startswith(_CORS_PREFIXES) or (path.startswith("/v/") and path.endswith(_CORS_CREDENTIALS))


#: Set on every response unless the view chose its own value.
_DEFAULTS = (
    ("Content-Security-Policy", CSP),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(self), geolocation=(), microphone=()"),
)
#: Set on every response whatever the view said.
_FORCED = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"))
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_CORS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
         ("Access-Control-Expose-Headers", "ETag"))
_REPLACED = frozenset(name.lower() for name, _ in (*_FORCED, _HSTS, *_CORS))


class SecurityHeaders:
    """WSGI middleware adding the headers to every response, errors included.

    Done at the WSGI layer, on the plain header list, rather than in an ``after_request``
    hook: werkzeug's header object made the hook one of the costliest steps of a
    verification, and here no response (not even one from an error handler) can miss them.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        # PATH_INFO is latin-1-decoded bytes; the prefixes we compare with are ASCII.
        cors = cors_allowed(environ.get("PATH_INFO", ""), method)
        secure = environ.get("wsgi.url_scheme") == "https"

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            if present & _REPLACED:
                headers = [(n, v) for n, v in headers if n.lower() not in _REPLACED]
            headers.extend(pair for pair in _DEFAULTS if pair[0].lower() not in present)
            headers.extend(_FORCED)
            if secure:
                headers.append(_HSTS)
            if cors:
                headers.extend(_CORS)
            return start_response(status, headers, exc_info)

        return self._app(environ, start)


def skip_csrf_on_safe_methods(app: Flask) -> None:
    """Check CSRF in our own before-request hook, only for the methods it guards (POST, PUT, …).

    Flask-WTF's default hook looks up the view and the exemption lists before it looks at the
    method, which on a verification (always a GET) was pure cost. Its documented way out is
    used: ``WTF_CSRF_CHECK_DEFAULT = False`` turns its hook off, and ours calls
    ``csrf.protect(apply_exemptions=True)`` (which keeps every ``@csrf.exempt``) when the method
    is one it checks. The outcome is the same. Call after ``csrf.init_app(app)``.
    """


    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    methods = frozenset(app.config["WTF_CSRF_METHODS"])

    @app.before_request
    def csrf_protect() -> None:
        if request.method in methods and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)


def install_security_headers(app: Flask) -> None:
    """Wrap the app so that every response carries the headers (before any proxy fix-up wraps it)."""
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request

#: No inline script anywhere; pages that need script load it from our origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
#: The widget script is loaded by shops' pages; it needs no rights of its own.
_CORS_PREFIXES = ("/api/v1/badges/", "/.well-known/jwks.json", "/status/", "/widget.js")


def cors_allowed(path: str, method: str) -> bool:
    """Return whether a response may carry open CORS (public GET API and widget only)."""
    if method not in {"GET", "HEAD", "OPTIONS"}:
        return False
    if path.startswith("/api/v1/badges/") and path.endswith("/complaints"):
        return False
    return path.startswith(_CORS_PREFIXES)


def install_security_headers(app: Flask) -> None:
    """Add the headers after every request."""

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if cors_allowed(request.path, request.method):
            headers["Access-Control-Allow-Origin"] = "*"
            headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            headers["Access-Control-Expose-Headers"] = "ETag"
        else:
            headers.pop("Access-Control-Allow-Origin", None)
        return response

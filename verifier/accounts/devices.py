"""Device cookies: a browser that signed in as a user before is not held back by that user's back-off.

Per-account back-off stops distributed password guessing, but on its own it lets an attacker
keep the owner out by failing on purpose. The owner's own browser carries a signed cookie from
its last successful login (OWASP "device cookies"): with it, the account's back-off does not
apply (the per-client rate limit still does). The cookie names the user and a fingerprint of
their password hash, so a password change retires every device cookie.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from verifier.storage.models import User

COOKIE = "liang_device"
_SALT = "liang-login-device"
_MAX_AGE = 180 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:32]


def is_trusted(user: User | None) -> bool:
    """Return whether this request carries a valid device cookie for ``user``."""
    raw = request.cookies.get(COOKIE)
    if user is None or not raw or len(raw) > 512:
        return False
    try:
        data: Any = _serializer().loads(raw, max_age=_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("u") == user.id and data.get("f") == _fingerprint(user)


def remember(response: Response, user: User) -> Response:
    """Set the device cookie for ``user`` on a successful login's response."""
    response.set_cookie(COOKIE, _serializer().dumps({"u": user.id, "f": _fingerprint(user)}), max_age=_MAX_AGE,
                        path="/admin/login", httponly=True, samesite="Strict",
                        secure=current_app.config.get("PUBLIC_URL", "").startswith("https://"))
    return response

"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def client_key() -> str:
    """Key rate limits by client address (ProxyFix has already applied trusted proxies)."""
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True)

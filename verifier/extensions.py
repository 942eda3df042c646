"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def client_key() -> str:
    """Key rate limits by client address (ProxyFix has already applied trusted proxies)."""
    return request.remote_addr or "127.0.0.1"

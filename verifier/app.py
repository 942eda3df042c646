"""The application factory: the only place an app is built."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from signer.clock import ensure_utc, utcnow
from signer.credentials import Issuer
from signer.keys import KeyEncryptor, load_or_create_kek
from verifier import context, i18n, ratelimit
from verifier.auth import init_auth
from verifier.config import ensure_secret_key, kek_path, load_config
from verifier.db import Database
from verifier.extensions import babel, csrf, limiter, login_manager
from verifier.httperrors import register_error_handlers
from verifier.jsonsafe import SafeJSONProvider
from verifier.security import install_security_headers
from verifier.sessions import LeanSessionInterface

_logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: defaults, then LIANG_* environment, then ``config``."""
    settings = load_config(config)
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder="static",
                instance_path=settings["INSTANCE_DIR"])
    app.config.update(settings)
    app.config["SECRET_KEY"] = ensure_secret_key(settings)
    if Path(settings["INSTANCE_DIR"]).is_dir():
        from verifier.fsmodes import private_dir

        private_dir(Path(settings["INSTANCE_DIR"]))  # an older release left it 0755
    app.config.setdefault("CLOCK", utcnow)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["PUBLIC_URL"].startswith("https://"),
        SESSION_COOKIE_NAME="liang_session",
        WTF_CSRF_TIME_LIMIT=3600,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE="UTC",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        RATELIMIT_STORAGE_URI=settings.get("REDIS_URL") or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,  # a Redis outage must not take verification down
        # Explicit: Flask-Limiter otherwise inherits "enabled" from the last app built in this
        # process (the CLI's, with limits off), so `liang serve` workers ran without limits.
        RATELIMIT_ENABLED=True,
        JSON_SORT_KEYS=False,
    )
    if config:
        for key in ("RATELIMIT_ENABLED", "WTF_CSRF_ENABLED", "TESTING", "CLOCK"):
            if key in config:
                app.config[key] = config[key]
    app.session_interface = LeanSessionInterface()
    app.json = SafeJSONProvider(app)  # a JSON nesting bomb is a 400, not a 500
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    install_security_headers(app)  # inside ProxyFix: it sees the forwarded scheme
    if int(settings["TRUSTED_PROXIES"]) > 0:
        hops = int(settings["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    app.extensions["liang.db"] = Database(settings["DATABASE_URL"])
    app.extensions["liang.issuer"] = Issuer(public_url=settings["PUBLIC_URL"], name=settings["ISSUER_NAME"])
    if not settings["PUBLIC_ONLY"]:
        kek = load_or_create_kek(kek_path(settings), env_value=settings.get("KEY_ENCRYPTION_KEY"))
        if kek is not None:
            app.extensions["liang.encryptor"] = KeyEncryptor(kek)

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: "UTC")
    csrf.init_app(app)
    limiter.init_app(app)
    ratelimit.init_app(app)
    login_manager.init_app(app)
    init_auth(app)

    register_error_handlers(app)
    app.teardown_appcontext(context.close_session)
    _install_template_helpers(app)
    _register_blueprints(app)
    return app


def _install_template_helpers(app: Flask) -> None:
    tz = ZoneInfo(app.config["TIMEZONE"])

    def local_time(moment: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if not moment:
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        return ensure_utc(moment).astimezone(tz).strftime(fmt)

    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals.update(
        html_lang=i18n.html_lang,
        public_url=app.config["PUBLIC_URL"],
        public_host=app.config["PUBLIC_URL"].split("://", 1)[1],
        current_locale=i18n.select_locale,
    )


def _register_blueprints(app: Flask) -> None:
    from verifier import api, openapi, public

    app.register_blueprint(public.bp)
    public.install_page_cache(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    for name in ("embed", "complaints", "admin", "admin_api", "apply", "ops"):
        module = _optional(name)
        if module is not None and not (app.config["PUBLIC_ONLY"] and getattr(module, "PRIVATE", False)):
            module.register(app)


def _optional(name: str) -> Any:
    """Import a feature module if present (lets features land one at a time)."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"verifier.{name}") is None:
        return None
    return importlib.import_module(f"verifier.{name}")

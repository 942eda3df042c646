"""The application factory: the only place an app is built."""

from __future__ import annotations

import logging
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

from signer.clock import ensure_utc, utcnow
from signer.credentials import Issuer
from signer.keys import KeyEncryptor, load_or_create_kek
from verifier import context, i18n
from verifier.accounts.auth import init_auth
from verifier.audit import api as audit_api
from verifier.audit.metrics import install_session_hooks
from verifier.badges import api as badges_api
from verifier.badges import apply as badges_apply
from verifier.badges.platforms import platform_name
from verifier.badges.shops import display_url
from verifier.complaints import admin as complaints_admin
from verifier.complaints import views as complaints_views
from verifier.config import ensure_secret_key, kek_path, load_config
from verifier.console import views as console_views
from verifier.embedding import views as embedding_views
from verifier.errors import register_domain_errors
from verifier.extensions import babel, csrf
from verifier.organisation import api as members_api
from verifier.storage.db import Database
from verifier.storage.engine import Timeouts
from verifier.storage.fsmodes import private_dir, remove_old_previews
from verifier.transparency import service as transparency_service
from verifier.transparency import views as transparency_views
from verifier.verification import api as verification_api
from verifier.verification import documents as verification_documents
from verifier.verification import home as verification_home
from verifier.verification import picture_page as verification_picture
from verifier.verification import views as verification_views
from verifier.web import openapi, ops, ratelimit, uploadbudget, writelimits
from verifier.web.errors import register_error_handlers
from verifier.web.jsonsafe import SafeJSONProvider
from verifier.web.requests import LiangRequest, refuse_oversized_body
from verifier.web.security import install_security_headers, skip_csrf_on_safe_methods
from verifier.web.sessions import LeanSessionInterface

_logger = logging.getLogger(__name__)

# The routes each audience reaches, registered in this order. Nothing is discovered at run
# time: a module that moves or disappears breaks the import here, loudly.
#: Shoppers, shop owners, platforms and operators: every node serves these.
PUBLIC_PACKAGES: tuple[Any, ...] = (verification_views, verification_home, verification_picture, verification_api, openapi,
                                    embedding_views, complaints_views, ops, verification_documents,
                                    transparency_views)
#: Administrators and applicants: a ``--public-only`` node does not register these.
ADMIN_PACKAGES: tuple[Any, ...] = (console_views, badges_api, audit_api, members_api, complaints_admin,
                                   badges_apply)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def redis_options() -> dict[str, Any]:
    """Return the Redis client options for rate-limit storage: short timeouts, no retries."""

    return {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT,
            "retry": Retry(NoBackoff(), 0), "retry_on_timeout": False}


#: Seconds a rate-limit read or connect to Redis may take before the limit is skipped.
REDIS_TIMEOUT = 0.2


class LiangFlask(Flask):
    """Flask, deciding once per function whether a view or hook is a coroutine.

    Flask asks ``inspect.iscoroutinefunction`` before every hook and view call (a dozen a
    request here), which showed in the verification's profile; the answer never changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Weak keys: a per-request callable (after_this_request) must not be kept alive here.
        self._sync: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def ensure_sync(self, func: Any) -> Any:
        """Return Flask's ``ensure_sync(func)``, remembered per function."""
        try:
            return self._sync[func]
        except KeyError:
            found = self._sync[func] = super().ensure_sync(func)
            return found
        except TypeError:  # an unhashable or unreferenceable callable: ask every time
            return super().ensure_sync(func)

    def raise_routing_exception(self, request: Any) -> NoReturn:
        """Raise the routing exception, with a redirect's ``Location`` made host-free.

        Werkzeug builds the merge-slashes and trailing-slash redirects from the request's
        ``Host`` header, which a client chooses: behind a proxy that passes it on, a poisoned
        cache could send shoppers elsewhere. The redirect keeps only path and query, relative
        to whatever host the client reached (RFC 9110 allows a relative ``Location``).
        """
        exc = request.routing_exception
        if isinstance(exc, RequestRedirect):
            raise RequestRedirect(host_free_location(exc.new_url)) from None
        super().raise_routing_exception(request)


def host_free_location(url: str) -> str:
    """Return ``url``'s path and query only, never a form a browser reads as another host."""
    parts = urlsplit(url)
    # "//evil" or "/\\evil" would be protocol-relative in a browser: one leading slash only.
    path = "/" + parts.path.lstrip("/\\")
    return path + (f"?{parts.query}" if parts.query else "")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: defaults, then LIANG_* environment, then ``config``."""
    settings = load_config(config)
    app = LiangFlask(__name__, template_folder=str(TEMPLATES), static_folder="static",
                instance_path=settings["INSTANCE_DIR"])
    app.config.update(settings)
    app.config["SECRET_KEY"] = ensure_secret_key(settings)
    if Path(settings["INSTANCE_DIR"]).is_dir():
        private_dir(Path(settings["INSTANCE_DIR"]))  # an older release left it 0755
        remove_old_previews(Path(settings["INSTANCE_DIR"]))  # previews are in the database now
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
        # A hung Redis must cost a fraction of a second, not redis-py's default of seconds with retries.
        RATELIMIT_STORAGE_OPTIONS=redis_options() if settings.get("REDIS_URL") else {},
        RATELIMIT_ENABLED=True,
        JSON_SORT_KEYS=False,
    )
    if config:
        for key in ("RATELIMIT_ENABLED", "WTF_CSRF_ENABLED", "TESTING", "CLOCK"):
            if key in config:
                app.config[key] = config[key]
    app.request_class = LiangRequest  # per-endpoint body limits (verifier/web/requests.py)
    ops.install_request_ids(app)  # the first before-request hook: even a refused request gets an id
    app.before_request(refuse_oversized_body)  # ...enforced before any view, even one that ignores its body
    app.session_interface = LeanSessionInterface()
    app.json = SafeJSONProvider(app)  # a JSON nesting bomb is a 400, not a 500
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    install_security_headers(app)  # inside ProxyFix: it sees the forwarded scheme
    if int(settings["TRUSTED_PROXIES"]) > 0:
        hops = int(settings["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    app.extensions["liang.db"] = Database(settings["DATABASE_URL"], timeouts=Timeouts(
        connect=int(settings["DB_CONNECT_TIMEOUT"]), statement=int(settings["DB_STATEMENT_TIMEOUT"]),
        pool=int(settings["DB_POOL_TIMEOUT"])))
    app.extensions["liang.issuer"] = Issuer(public_url=settings["PUBLIC_URL"], name=settings["ISSUER_NAME"])
    if not settings["PUBLIC_ONLY"]:
        kek = load_or_create_kek(kek_path(settings), env_value=settings.get("KEY_ENCRYPTION_KEY"))
        if kek is not None:
            app.extensions["liang.encryptor"] = KeyEncryptor(kek)

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: "UTC")
    i18n.install_template_gettext(app)
    csrf.init_app(app)
    skip_csrf_on_safe_methods(app)
    ratelimit.init_app(app)
    writelimits.init_app(app)
    uploadbudget.init_app(app)
    init_auth(app)  # Flask-Login, and the hook that keeps its response hook from marking every answer

    register_error_handlers(app)
    register_domain_errors(app)  # verifier/errors.py: the one domain-error → HTTP map
    install_session_hooks()  # issuance and state changes counted into the metrics on commit
    app.teardown_appcontext(context.close_session)
    _install_template_helpers(app)
    _register_blueprints(app)
    transparency_service.install(app)  # the checkpointer thread, started by each serving process
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
    # A shop URL shown as text: its host in punycode, as bound hosts are, so a homograph shows as one.
    app.jinja_env.filters["punycode_host"] = display_url
    app.jinja_env.globals.update(
        html_lang=i18n.html_lang,
        public_url=app.config["PUBLIC_URL"],
        public_host=app.config["PUBLIC_URL"].split("://", 1)[1],
        current_locale=i18n.select_locale,
        platform_name=platform_name,
        with_lang=i18n.with_lang,
    )


def _register_blueprints(app: Flask) -> None:
    """Register every package's routes from the explicit lists; a public-only node skips the administrative ones."""
    packages = PUBLIC_PACKAGES if app.config["PUBLIC_ONLY"] else PUBLIC_PACKAGES + ADMIN_PACKAGES
    for package in packages:
        package.register(app)
    app.extensions["liang.openapi_packages"] = packages

"""Decorators that put every admin view behind the policy (console and JSON API).

Each guarded view carries ``liang_action``: the policy action it needs, or
``"self"`` (any signed-in administrator acting on their own account) or
``"public"`` (the login page). The policy-matrix test reads it from the URL
map, so a new view without a guard cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from verifier import context
from verifier.accounts.auth import Principal, bearer_principal
from verifier.accounts.policy import decide, require
from verifier.web.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])

SELF = "self"
PUBLIC = "public"


def principal() -> Principal:
    """Return the principal the guard admitted for this request."""
    return g.liang_principal  # type: ignore[no-any-return]


def _totp_missing(who: Principal) -> bool:
    if who.role != "committee" or not current_app.config.get("REQUIRE_TOTP_FOR_COMMITTEE"):
        return False
    user = context.account_service().user(who.user_id)
    return user is None or not user.totp_secret


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a local console path (no open redirects), else None."""
    if not target or not target.startswith("/admin") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None  # CR/LF and other controls would break the Location header (a 500, or a split header)
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def console(action: str) -> Callable[[F], F]:
    """Guard a console view: sign-in (else redirect to the login page), TOTP if required, policy."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if action != PUBLIC:
                if not (current_user and current_user.is_authenticated):
                    nxt = request.full_path.rstrip("?") if request.method == "GET" else None
                    return redirect(url_for("admin.login", next=safe_next(nxt)))
                who: Principal = current_user  # type: ignore[assignment]
                g.liang_principal = who
                if view.__name__ not in {"totp", "logout"} and _totp_missing(who):
                    return redirect(url_for("admin.totp"))
                if action != SELF:
                    _console_require(who, action, branch_code=None)
            return view(*args, **kwargs)

        wrapper.liang_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def api(action: str) -> Callable[[F], F]:
    """Guard a JSON API view: bearer token only (a console cookie never authorises the API)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = bearer_principal()
            require(who, action)  # raises 401 when ``who`` is None
            if who is None or _totp_missing(who):
                raise ApiError(403, "totp_required", "enrol a second factor (TOTP) in the console first")
            g.liang_principal = who
            return view(*args, **kwargs)

        wrapper.liang_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _console_require(who: Principal, action: str, *, branch_code: str | None) -> None:
    """Like ``policy.require``, with a message for people (in their language) on console pages."""

    decision = decide(who, action, branch_code=branch_code)
    if not decision.allowed:
        message = _("您没有权限执行此操作。") if decision.status == 403 else _("请先登录。")
        raise ApiError(decision.status, "forbidden" if decision.status == 403 else "unauthorized", message)


def allow(action: str, *, branch_code: str | None) -> None:
    """Raise 403 unless this request's principal may take ``action`` in ``branch_code``."""
    if request.blueprint == "admin":
        _console_require(principal(), action, branch_code=branch_code)
    else:
        require(principal(), action, branch_code=branch_code)

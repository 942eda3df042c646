"""Who is asking: console sessions (Flask-Login) and API bearer tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from flask import Flask, Response, g, request
from flask.globals import request_ctx
from flask_login import LoginManager, current_user
from flask_login import utils as flask_login_utils

from verifier import context
from verifier.accounts.service import AccountService
from verifier.audit.service import Actor
from verifier.extensions import login_manager
from verifier.storage.models import User


@dataclass
class Principal:
    """An authenticated administrator, as the policy sees them."""

    user_id: int
    username: str
    role: str
    branch_code: str | None
    session_nonce: str
    via: str  # session | token

    # Flask-Login protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the session id: user id and the nonce that logout rotates."""
        return f"{self.user_id}:{self.session_nonce}"

    def actor(self) -> Actor:
        """Return the audit actor for this principal."""
        return Actor(name=self.username, role=self.role, client=context.client_address(),
                     branch_code=self.branch_code, user_id=self.user_id)


def principal_for(user: User, *, via: str) -> Principal:
    """Return the principal for a user row."""
    return Principal(user_id=user.id, username=user.username, role=user.role,
                     branch_code=user.branch.code if user.branch else None,
                     session_nonce=user.session_nonce, via=via)


def accounts() -> AccountService:
    """Return the account service for this request."""
    return context.account_service()


@login_manager.user_loader
def _load_user(session_id: str) -> Principal | None:
    user_id, _, nonce = session_id.partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    user = context.session().get(User, int(user_id))
    # The nonce changes at logout and password change, ending every old session.
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return principal_for(user, via="session")


def bearer_principal() -> Principal | None:
    """Return the principal for this request's ``Authorization: Bearer`` token, if valid."""
    if "liang_bearer" in g:
        return g.liang_bearer  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and token.strip():
        user = accounts().user_for_token(token.strip())
        if user is not None:
            principal = principal_for(user, via="token")
    g.liang_bearer = principal
    return principal


def current_principal() -> Principal | None:
    """Return the bearer principal, else the logged-in console user, else None."""
    principal = bearer_principal()
    if principal is not None:
        return principal
    if current_user and current_user.is_authenticated:
        return current_user  # type: ignore[return-value]
    return None


def init_auth(app: Flask) -> None:
    """Configure Flask-Login for the console."""
    login_manager.session_protection = "strong"
    login_manager.login_view = "admin.login"
    hooks = app.after_request_funcs.setdefault(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "__func__", None) is LoginManager._update_remember_cookie:
            # The identity check proves this is Flask-Login's synchronous response hook.
            hooks[index] = _only_when_session_used(cast("Callable[[Response], Response]", hook))
    # Flask-Login's template context processor loads the user, reading the session, on every
    # render: a rendered verify page said ``Vary: Cookie`` and the same page from the page
    # cache did not. The proxy it exports loads the user only if a template uses it.
    processors = app.template_context_processors.setdefault(None, [])
    processors[:] = [_lazy_user if fn is flask_login_utils._user_context_processor else fn  # noqa: SLF001
                     for fn in processors]


def _lazy_user() -> dict[str, Any]:
    """Give templates ``current_user`` as Flask-Login's proxy: the session is read only if a template uses it."""
    return {"current_user": current_user}


def _only_when_session_used(update: Callable[[Response], Response]) -> Callable[[Response], Response]:
    """Run Flask-Login's remember-cookie hook only for requests that used the session.

    The hook reads the session on every response, which marked every public answer
    ``Vary: Cookie`` (spoiling shared caches for badge images, status lists and the widget)
    and cost a cookie round trip on each verification. It has work to do only when this
    request's code touched the session (login, logout); otherwise skipping it is exact.
    """

    @wraps(update)
    def guarded(response: Response) -> Response:
        opened = request_ctx._session  # noqa: SLF001 - read without marking the session accessed
        if opened is None or not opened.accessed:
            return response
        return update(response)

    return guarded

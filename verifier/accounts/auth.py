"""Who is asking: console sessions (Flask-Login) and API bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from flask_login import current_user

from verifier import context
from verifier.accounts.service import AccountService
from verifier.audit.service import Actor
from verifier.extensions import login_manager
from verifier.storage.models import User
from verifier.web.sessions import note_session_use


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
    user = context.account_service().user(int(user_id))
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


def init_auth(app: Flask) -> None:
    """Configure Flask-Login for the console."""
    login_manager.session_protection = "strong"
    login_manager.login_view = "admin.login"
    # Flask-Login's own template context processor loads the user, reading the session, on every
    # render: a rendered verify page said ``Vary: Cookie`` and the same page from the page cache
    # did not. Ours gives templates the proxy, which loads the user only if a template uses it.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(_lazy_user)
    # Flask-Login's remember-cookie hook reads the session on every response: note before it runs
    # whether the request itself used the session (verifier/web/sessions.py decides on that).
    app.after_request(note_session_use)


def _lazy_user() -> dict[str, Any]:
    """Give templates ``current_user`` as Flask-Login's proxy: the session is read only if a template uses it."""
    return {"current_user": current_user}

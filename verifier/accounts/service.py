"""Administrator accounts and API tokens (plain Python; the session is injected)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from signer.clock import Clock, ensure_utc
from signer.errors import BadgeError, Conflict, InvalidInput
from verifier.accounts.passwords import is_common
from verifier.config import DEFAULT_PASSWORD_HASH_COST
from verifier.storage.models import ApiToken, Branch, User

_logger = logging.getLogger(__name__)

ROLES = ("committee", "branch", "auditor")
MIN_PASSWORD = 12
TOKEN_PREFIX = "liang_"  # noqa: S105 - a prefix that marks our tokens, not a secret
#: How long an API token works after it is issued (LIANG_API_TOKEN_DAYS).
TOKEN_DAYS = 90


def _scrypt_method(cost: int) -> str:
    return f"scrypt:{2 ** cost}:8:1"


# A hash to compare against when the user does not exist, so that a login for
# an unknown name takes as long as one for a known name (hence made at the same cost).
# Made on first use, not at import: scrypt costs ~0.2 s and would delay every start-up.
@lru_cache(maxsize=4)
def _dummy_hash(cost: int) -> str:
    return generate_password_hash("not-a-real-password-0000", method=_scrypt_method(cost))


class AuthError(BadgeError):
    """Authentication failed."""

    code = "unauthorized"


def hash_password(password: str, *, cost: int = DEFAULT_PASSWORD_HASH_COST) -> str:
    """Return an scrypt hash of ``password`` (N = 2**cost; the hash records its parameters)."""
    return generate_password_hash(password, method=_scrypt_method(cost))


def hash_token(token: str) -> str:
    """Return the stored form of an API token (SHA-256: tokens are long and random)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_strength(password: str, *, username: str = "") -> None:
    """Raise InvalidInput if ``password`` is too short or too common."""

    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters", field="password",
                           kind="password_short", params={"n": MIN_PASSWORD})
    if is_common(password) or (username and username.lower() in password.lower()):
        raise InvalidInput("this password is too common or contains the user name; choose another",
                           field="password", kind="password_common")


class AccountService:
    """Create accounts, check passwords, issue and check API tokens."""

    def __init__(self, session: Session, *, clock: Clock, token_days: int = TOKEN_DAYS,
                 password_cost: int = DEFAULT_PASSWORD_HASH_COST) -> None:
        self._session = session
        self._clock = clock
        self._token_lifetime = timedelta(days=token_days)
        self._password_cost = password_cost

    def create(self, username: str, password: str, *, role: str, branch_code: str | None = None) -> User:
        """Create an administrator account."""
        username = (username or "").strip()
        if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
            raise InvalidInput("user names use letters, digits, '.', '_' or '-' (at most 64)", field="username",
                               kind="username")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role", kind="choice",
                               params={"choices": ", ".join(ROLES)})
        branch = None
        if role == "branch":
            if not branch_code:
                raise InvalidInput("a branch administrator needs --branch CODE", field="branch", kind="branch_needed")
            branch = self._session.execute(select(Branch).where(Branch.code == branch_code)).scalar_one_or_none()
            if branch is None:
                raise InvalidInput(f"no branch with code {branch_code!r}", field="branch", kind="unknown",
                                   params={"value": branch_code})
        elif branch_code:
            raise InvalidInput("only branch administrators belong to a branch", field="branch", kind="no_branch")
        check_password_strength(password, username=username)
        if self._session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise Conflict(f"user {username!r} already exists", reason="exists", params={"value": username})
        user = User(username=username, password_hash=hash_password(password, cost=self._password_cost), role=role, branch=branch,
                    session_nonce=secrets.token_hex(16), failed_logins=0, active=1, created_at=self._clock())
        self._session.add(user)
        self._session.flush()
        return user

    def set_password(self, user: User, password: str) -> int:
        """Replace a user's password and end their sessions and API tokens; return the tokens revoked."""
        check_password_strength(password, username=user.username)
        user.password_hash = hash_password(password, cost=self._password_cost)
        user.session_nonce = secrets.token_hex(16)
        return self.revoke_tokens(user)

    def disable(self, user: User) -> int:
        """End an account: its sessions and API tokens stop at once; return the tokens revoked."""
        if user.role == "committee" and user.active and self._active_committee() <= 1:
            # a disabled last committee account would leave nobody to enable anyone (but the CLI)
            raise Conflict("this is the last active committee account: enable or create another first",
                           reason="last_committee")
        user.active = 0
        user.session_nonce = secrets.token_hex(16)
        return self.revoke_tokens(user)

    def enable(self, user: User) -> None:
        """Restore a disabled account (its old tokens stay revoked; sessions start afresh)."""
        user.active = 1
        user.failed_logins = 0
        user.locked_until = None

    def revoke_tokens(self, user: User) -> int:
        """Revoke every unrevoked API token of ``user``; return how many."""
        rows = self._session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).scalars().all()
        now = self._clock()
        for row in rows:
            row.revoked_at = now
        self._session.flush()
        return len(rows)

    def token_expires_at(self, row: ApiToken) -> datetime:
        """Return when an API token stops working."""
        return ensure_utc(row.created_at) + self._token_lifetime

    def _active_committee(self) -> int:
        return len(self._session.execute(
            select(User.id).where(User.role == "committee", User.active == 1)).scalars().all())

    def require(self, username: str) -> User:
        """Return the user with this name or raise InvalidInput."""
        user = self.by_username(username) if isinstance(username, str) and len(username) <= 64 else None
        if user is None:
            raise InvalidInput(f"no user {username!r}", field="username", kind="unknown", params={"value": username})
        return user

    def by_username(self, username: str) -> User | None:
        """Return the user with this name, if any."""
        return self._session.execute(select(User).where(User.username == username)).scalar_one_or_none()

    def check_password(self, username: str, password: str) -> User | None:
        """Return the user if the password matches (constant work whether or not the user exists)."""
        user = self.by_username(username) if isinstance(username, str) and len(username) <= 64 else None
        if user is None or not user.active:
            check_password_hash(_dummy_hash(self._password_cost), password or "")
            return None
        return user if check_password_hash(user.password_hash, password or "") else None

    def issue_token(self, username: str, *, label: str | None = None) -> str:
        """Create an API token for ``username`` and return it (shown once, stored hashed)."""
        user = self.by_username(username)
        if user is None:
            raise InvalidInput(f"no user {username!r}", field="username", kind="unknown", params={"value": username})
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self._session.add(ApiToken(user=user, token_hash=hash_token(token), label=label, created_at=self._clock()))
        self._session.flush()
        return token

    def user(self, user_id: int) -> User | None:
        """Return the user with this id, or None."""
        return self._session.get(User, user_id)

    def user_for_token(self, token: str) -> User | None:
        """Return the active user owning this unrevoked token, or None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = hash_token(token)
        row = self._session.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if self._clock() >= self.token_expires_at(row):
            return None
        user = row.user
        return user if user.active else None

    def revoke_token(self, token_id: int, *, at: datetime) -> None:
        """Revoke an API token."""
        row = self._session.get(ApiToken, token_id)
        if row is None:
            raise InvalidInput(f"no token {token_id}", field="token")
        row.revoked_at = at

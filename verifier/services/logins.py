"""Console logins: password, optional TOTP, per-account lockout (plain Python, session injected)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import pyotp
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.errors import BadgeError, InvalidInput
from verifier.config import DEFAULT_PASSWORD_HASH_COST
from verifier.models import User
from verifier.services.accounts import AccountService
from verifier.services.audit import Actor, AuditLog

_logger = logging.getLogger(__name__)

#: Consecutive failures that lock an account, and for how long.
MAX_FAILURES = 10
LOCK_MINUTES = 15
TOTP_ISSUER = "亮身份"


class LoginRefused(BadgeError):
    """A console login that did not succeed; ``reason`` is ``bad_credentials`` or ``locked``."""

    code = "unauthorized"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def new_totp_secret() -> str:
    """Return a fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, *, username: str) -> str:
    """Return the otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_matches(secret: str, code: str | None, *, at: float) -> bool:
    """Return whether ``code`` is the current TOTP code (one step of clock drift allowed)."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    return bool(pyotp.TOTP(secret).verify(code, for_time=at, valid_window=1))


class LoginService:
    """Check a login attempt and keep the per-account failure count; the caller commits."""

    def __init__(self, session: Session, *, clock: Clock, audit: AuditLog,
                 password_cost: int = DEFAULT_PASSWORD_HASH_COST) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit
        self._accounts = AccountService(session, clock=clock, password_cost=password_cost)

    def attempt(self, username: str, password: str, totp_code: str | None, *, client: str | None) -> User:
        """Return the user for a correct login or raise LoginRefused (the failure is recorded)."""
        now = self._clock()
        name = (username or "").strip()[:64]
        user = self._accounts.by_username(name) if name else None
        if user is not None and user.locked_until is not None and user.locked_until > now:
            # Same work as a real check: a locked account must not answer faster.
            self._accounts.check_password(name, password)
            _logger.warning("login refused: account %r locked (client %s)", name, client)
            raise LoginRefused("this account is locked for a while after too many failed logins",
                               reason="locked")
        matched = self._accounts.check_password(name, password)
        if matched is not None and matched.totp_secret:
            if not totp_matches(matched.totp_secret, totp_code, at=now.timestamp()):
                matched = None
        if matched is None:
            _logger.warning("login failed for %r (client %s)", name, client)
            if user is not None:
                self._fail(user, client=client)
            raise LoginRefused("wrong user name, password or code", reason="bad_credentials")
        matched.failed_logins = 0
        matched.locked_until = None
        self._audit.append(Actor(name=matched.username, role=matched.role, client=client,
                                 user_id=matched.id), "login", target=matched.username)
        return matched

    def _fail(self, user: User, *, client: str | None) -> None:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins = 0
            user.locked_until = self._clock() + timedelta(minutes=LOCK_MINUTES)
            _logger.warning("account %r locked for %d minutes (client %s)", user.username, LOCK_MINUTES, client)
            self._audit.append(Actor(name="system", role="system", client=client), "account_lock",
                               target=user.username, after={"locked_until": user.locked_until.isoformat()})
        self._session.flush()

    def logout(self, user_id: int) -> None:
        """End every session of this user (the nonce in their cookies stops matching)."""
        user = self._session.get(User, user_id)
        if user is not None:
            user.session_nonce = secrets.token_hex(16)

    def enrol_totp(self, user_id: int, secret: str, code: str, *, actor: Actor) -> None:
        """Turn TOTP on for a user once they prove their app has the secret."""
        user = self._session.get(User, user_id)
        if user is None:
            raise InvalidInput("no such user", field="user")
        if not secret or not totp_matches(secret, code, at=self._clock().timestamp()):
            raise InvalidInput("the code does not match; check the time on your phone and try again",
                               field="code")
        user.totp_secret = secret
        user.session_nonce = secrets.token_hex(16)
        self._audit.append(actor, "totp_enrol", target=user.username)

"""Console logins: password, optional TOTP, per-account lockout (plain Python, session injected)."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

import pyotp
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.errors import BadgeError, InvalidInput
from verifier.accounts.service import AccountService
from verifier.audit.service import Actor, AuditLog
from verifier.config import DEFAULT_PASSWORD_HASH_COST
from verifier.storage.models import User

_logger = logging.getLogger(__name__)

#: Failures an account takes before back-off starts; then each failure doubles the wait
#: (1 s, 2 s, 4 s ...) up to MAX_BACKOFF. A browser that signed in as the user before (a
#: "device" cookie) is not held back, so an attacker cannot lock the owner out.
FREE_FAILURES = 5
MAX_BACKOFF = timedelta(minutes=15)
#: A failure count older than this starts again from zero.
FAILURE_MEMORY = timedelta(days=1)
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


def totp_step(secret: str, code: str | None, *, at: float) -> int | None:
    """Return the time step whose code ``code`` is (one step of clock drift allowed), or None."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(at // totp.interval)
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


class LoginService:
    """Check a login attempt and keep the per-account failure count; the caller commits."""

    def __init__(self, session: Session, *, clock: Clock, audit: AuditLog,
                 password_cost: int = DEFAULT_PASSWORD_HASH_COST) -> None:
        self._session = session
        self._clock = clock
        self._audit = audit
        self._accounts = AccountService(session, clock=clock, password_cost=password_cost)

    def attempt(self, username: str, password: str, totp_code: str | None, *, client: str | None,
                trusted_device: bool = False) -> User:
        """Return the user for a correct login or raise LoginRefused (the failure is recorded).

        Every refusal is the same answer, whether the name exists, the password was wrong or the
        account is in back-off (its attempts are then refused unchecked): nothing tells names
        apart. ``trusted_device`` (a browser that signed in as this user before) skips back-off.
        """
        now = self._clock()
        name = (username or "").strip()[:64]
        user = self._accounts.by_username(name) if name else None
        held = (user is not None and not trusted_device and user.locked_until is not None
                and user.locked_until > now)
        matched = self._accounts.check_password(name, password)  # the same work in every case
        step = None
        if matched is not None and matched.totp_secret:
            step = self._fresh_step(matched, totp_code)
            if step is None:
                matched = None
        if held:
            _logger.warning("login refused: account %r in back-off (client %s)", name, client)
            raise LoginRefused("wrong user name, password or code", reason="bad_credentials")
        if matched is None:
            _logger.warning("login failed for %r (client %s)", name, client)
            if user is not None:
                self._fail(user, client=client)
            raise LoginRefused("wrong user name, password or code", reason="bad_credentials")
        if step is not None:
            matched.totp_last_step = step  # this code is spent: a replay within its window fails
        if matched.locked_until is None or matched.locked_until <= now:
            # (a trusted device let in during back-off leaves it standing for everyone else)
            matched.failed_logins = 0
            matched.locked_until = None
        self._audit.append(Actor(name=matched.username, role=matched.role, client=client,
                                 user_id=matched.id), "login", target=matched.username)
        return matched

    def _fail(self, user: User, *, client: str | None) -> None:
        now = self._clock()
        if user.locked_until is not None and now - user.locked_until > FAILURE_MEMORY:
            user.failed_logins = 0  # an old run of failures is forgiven
        user.failed_logins = (user.failed_logins or 0) + 1
        excess = user.failed_logins - FREE_FAILURES
        if excess >= 0:
            wait = min(MAX_BACKOFF, timedelta(seconds=2 ** min(excess, 20)))
            user.locked_until = now + wait
            _logger.warning("account %r in back-off for %d s after %d failures (client %s)", user.username,
                            wait.total_seconds(), user.failed_logins, client)
            if excess == 0:
                self._audit.append(Actor(name="system", role="system", client=client), "account_lock",
                                   target=user.username, after={"locked_until": user.locked_until.isoformat()})
        elif user.locked_until is None or user.locked_until < now:
            user.locked_until = now  # remembers when the run of failures was last added to
        self._session.flush()

    def logout(self, user_id: int) -> None:
        """End every session of this user (the nonce in their cookies stops matching)."""
        user = self._session.get(User, user_id)
        if user is not None:
            user.session_nonce = secrets.token_hex(16)

    def _fresh_step(self, user: User, code: str | None, *, secret: str | None = None) -> int | None:
        """Return the step of a valid code not used before for ``user``, else None (replays fail)."""
        step = totp_step(secret or user.totp_secret or "", code, at=self._clock().timestamp())
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return None
        return step

    def enrol_totp(self, user_id: int, secret: str, code: str, *, actor: Actor, password: str = "",
                   current_code: str | None = None) -> None:
        """Turn TOTP on (or bind a new secret) once the user proves the password, the app, and the old code.

        A session alone is not enough: whoever holds a stolen session could otherwise put their
        own second factor on the account and lock the owner out.
        """
        user = self._session.get(User, user_id)
        if user is None:
            raise InvalidInput("no such user", field="user", kind="no_user")
        now = self._clock()
        held = user.locked_until is not None and user.locked_until > now
        if held or self._accounts.check_password(user.username, password) is None:
            if not held:
                self._fail(user, client=actor.client)  # guessing the password here counts as at login
            raise InvalidInput("the password is wrong", field="password", kind="wrong_password")
        old_step = None
        if user.totp_secret:
            old_step = self._fresh_step(user, current_code)
            if old_step is None:
                raise InvalidInput("enter the current code from the app already bound to this account",
                                   field="current_code", kind="totp_current")
        new_step = totp_step(secret, code, at=now.timestamp()) if secret else None
        if new_step is None:
            raise InvalidInput("the code does not match; check the time on your phone and try again",
                               field="code", kind="totp_mismatch")
        replaced = bool(user.totp_secret)
        user.totp_secret = secret
        user.totp_last_step = max(new_step, old_step or new_step)
        user.session_nonce = secrets.token_hex(16)
        self._audit.append(actor, "totp_replace" if replaced else "totp_enrol", target=user.username)

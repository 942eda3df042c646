"""What the console and the CLI do to accounts, each method one unit of work with its audit record.

Views and commands parse, call one method here and render; the transaction is opened,
committed (or rolled back) here, the decisions are the account and login services'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from signer.clock import Clock
from signer.errors import InvalidInput
from verifier.accounts.logins import LoginRefused, LoginService
from verifier.accounts.service import AccountService
from verifier.audit.service import Actor, AuditLog
from verifier.storage.models import ApiToken, Branch, User
from verifier.storage.unit import UnitOfWork

_logger = logging.getLogger(__name__)

#: What an administrator may do to another account.
USER_OPERATIONS = ("disable", "enable", "revoke_tokens", "reset_password")


class AccountActions:
    """Sign in and out, second factors, API tokens, and the committee's control of accounts."""

    def __init__(self, uow: UnitOfWork, *, accounts: AccountService, logins: LoginService, audit: AuditLog,
                 clock: Clock) -> None:
        self._uow = uow
        self._session = uow.session
        self._accounts = accounts
        self._logins = logins
        self._audit = audit
        self._clock = clock

    # -- one's own account ------------------------------------------------------------------
    def login(self, username: str, password: str, totp_code: str | None, *, client: str | None,
              trusted: Callable[[User | None], bool]) -> User:
        """Return the user for a correct login or raise LoginRefused; a failure's count is kept either way."""
        with self._uow.write(keep_on=(LoginRefused,)):
            known = self._accounts.by_username((username or "").strip()[:64])
            return self._logins.attempt(username, password, totp_code, client=client, trusted_device=trusted(known))

    def logout(self, actor: Actor) -> None:
        """End every session of the actor's account (the nonce in their cookies stops matching)."""
        with self._uow.write():
            if actor.user_id is not None:
                self._logins.logout(actor.user_id)
            self._audit.append(actor, "logout", target=actor.name)

    def enrol_totp(self, actor: Actor, secret: str, code: str, *, password: str,
                   current_code: str | None) -> User | None:
        """Bind a TOTP secret to the actor's account; return the account as it is now.

        A wrong password here counts towards back-off as at login, so a refusal still commits.
        """
        if actor.user_id is None:
            raise InvalidInput("no such user", field="user")
        with self._uow.write(keep_on=(InvalidInput,)):
            self._logins.enrol_totp(actor.user_id, secret, code, actor=actor, password=password,
                                    current_code=current_code)
        return self._session.get(User, actor.user_id)

    def user(self, user_id: int) -> User | None:
        """Return the account with this id, if any."""
        return self._session.get(User, user_id)

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        """Return a user's API tokens, newest first."""
        return list(self._session.execute(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())).scalars())

    def issue_token(self, username: str, *, actor: Actor, label: str | None = None) -> str:
        """Create an API token for ``username`` and return it (shown once, stored hashed)."""
        with self._uow.write():
            token = self._accounts.issue_token(username, label=label)
            user = self._accounts.require(username)
            self._audit.append(actor, "token_create", target=username,
                               branch_code=user.branch.code if user.branch else None, after={"label": label})
            return token

    def revoke_own_token(self, actor: Actor, token_id: int) -> bool:
        """Revoke one of the actor's own API tokens; return False (nothing done) if it is not theirs."""
        with self._uow.write():
            row = self._session.get(ApiToken, token_id)
            if row is None or row.user_id != actor.user_id:
                return False
            self._accounts.revoke_token(token_id, at=self._clock())
            self._audit.append(actor, "token_revoke", target=f"token:{token_id}", branch_code=actor.branch_code)
            return True

    # -- other accounts ---------------------------------------------------------------------
    def users(self, *, branch_code: str | None) -> tuple[list[User], dict[int, int]]:
        """Return the accounts (of one branch, or all) and each one's count of live API tokens."""
        query = select(User).order_by(User.username)
        if branch_code:
            query = query.join(Branch, User.branch_id == Branch.id).where(Branch.code == branch_code)
        rows = list(self._session.execute(query).scalars())
        now = self._clock()
        live: dict[int, int] = {}
        for token in self._session.execute(select(ApiToken).where(ApiToken.revoked_at.is_(None))).scalars():
            if self._accounts.token_expires_at(token) > now:
                live[token.user_id] = live.get(token.user_id, 0) + 1
        return rows, live

    def create(self, username: str, password: str, *, role: str, branch_code: str | None, actor: Actor) -> User:
        """Create an administrator account."""
        with self._uow.write():
            user = self._accounts.create(username, password, role=role, branch_code=branch_code)
            self._audit.append(actor, "user_create", target=user.username, branch_code=branch_code,
                               after={"role": role, "branch": branch_code})
            return user

    def change_user(self, op: str, username: str, *, actor: Actor, password: str = "") -> tuple[User, dict[str, Any]]:
        """Disable, enable, reset the password of, or revoke the API tokens of one account (audited).

        Returns the account and what changed; raises InvalidInput for an unknown account or operation.
        """
        if op not in USER_OPERATIONS:
            raise InvalidInput(f"op must be one of {', '.join(USER_OPERATIONS)}", field="op")
        with self._uow.write():
            user = self._accounts.require(username)
            where: dict[str, Any] = {"target": user.username, "branch_code": user.branch.code if user.branch else None}
            after: dict[str, Any]
            if op == "disable":
                after = {"active": False, "tokens_revoked": self._accounts.disable(user)}
                self._audit.append(actor, "user_disable", **where, after=after)
            elif op == "enable":
                self._accounts.enable(user)
                after = {"active": True}
                self._audit.append(actor, "user_enable", **where, after=after)
            elif op == "revoke_tokens":
                after = {"tokens_revoked": self._accounts.revoke_tokens(user)}
                self._audit.append(actor, "tokens_revoke", **where, after=after)
            else:
                after = {"tokens_revoked": self._accounts.set_password(user, password)}
                self._audit.append(actor, "password_reset", **where, after=after)
            return user, after

    def exists(self, username: str) -> bool:
        """Return whether an account with this name exists."""
        return isinstance(username, str) and len(username) <= 64 and self._accounts.by_username(username) is not None

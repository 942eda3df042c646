"""Console pages for accounts: the committee disables, enables, resets passwords and revokes tokens."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from signer.errors import InvalidInput
from verifier import context
from verifier.accounts import guards
from verifier.accounts.auth import accounts
from verifier.accounts.policy import branch_scope
from verifier.audit.service import AuditLog
from verifier.errorwords import describe
from verifier.storage.models import ApiToken, Branch, User
from verifier.web.errors import ApiError

_logger = logging.getLogger(__name__)

PRIVATE = True
bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
OPERATIONS = ("disable", "enable", "revoke_tokens", "reset_password")


def register(app: Flask) -> None:
    """Mount the account pages."""
    app.register_blueprint(bp)


@bp.get("")
@guards.console("user.read")
def users() -> Response:
    """List administrator accounts (a branch administrator sees their branch's only)."""
    return _users_page()


def _users_page(status: int = 200) -> Response:
    scope = branch_scope(guards.principal())
    query = select(User).order_by(User.username)
    if scope:
        query = query.join(Branch, User.branch_id == Branch.id).where(Branch.code == scope)
    rows = context.session().execute(query).scalars().all()
    now = context.clock()()
    service = accounts()
    live: dict[int, int] = {}
    for token in context.session().execute(select(ApiToken).where(ApiToken.revoked_at.is_(None))).scalars():
        if service.token_expires_at(token) > now:
            live[token.user_id] = live.get(token.user_id, 0) + 1
    response = Response(render_template("admin/users.html", users=rows, live_tokens=live,
                                        operations=OPERATIONS), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("")
@guards.console("user.write")
def change_user() -> Any:
    """Disable, enable, reset the password of, or revoke the API tokens of one account (audited)."""
    from verifier.console.forms import UserForm

    form = UserForm(request.form)
    if not form.validate():  # the list again, the reason above it (a password is never shown again)
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _users_page(400)
    op = form.op.data
    context.begin_write()
    service = accounts()
    user = service.by_username(form.username.data.strip())
    if user is None:
        raise ApiError(404, "not_found", _("没有这个用户。"))
    who = guards.principal()
    after: dict[str, Any]
    if op == "disable":
        after = {"active": False, "tokens_revoked": service.disable(user)}
        event, message = "user_disable", _("已停用该账户，其会话和令牌已全部失效。")
    elif op == "enable":
        service.enable(user)
        after = {"active": True}
        event, message = "user_enable", _("已启用该账户。")
    elif op == "revoke_tokens":
        after = {"tokens_revoked": service.revoke_tokens(user)}
        event, message = "tokens_revoke", _("已吊销该账户的全部 API 令牌。")
    else:
        try:
            after = {"tokens_revoked": service.set_password(user, form.password.data or "")}
        except InvalidInput as exc:  # too short or too common: nothing changed
            context.session().rollback()
            flash(describe(exc), "error")
            return _users_page(400)
        event, message = "password_reset", _("已重设密码，该账户的会话和令牌已全部失效。")
    AuditLog(context.session(), clock=context.clock()).append(
        who.actor(), event, target=user.username, branch_code=user.branch.code if user.branch else None, after=after)
    context.session().commit()
    flash(message)
    if user.id == who.user_id and op in {"disable", "reset_password"}:
        return redirect(url_for("admin.login"))  # the own session just ended
    return redirect(url_for("admin_users.users"))


"""Console pages for accounts: the committee disables, enables, resets passwords and revokes tokens."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
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
    rows, live = context.account_actions().users(branch_code=branch_scope(guards.principal()))
    response = Response(render_template("admin/users.html", users=rows, live_tokens=live,
                                        operations=OPERATIONS))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("")
@guards.console("user.write")
def change_user() -> Any:
    """Disable, enable, reset the password of, or revoke the API tokens of one account (audited)."""
    if request.form.get("confirm") != "yes":
        raise ApiError(400, "invalid_request", _("请勾选确认框后再提交。"))
    op = request.form.get("op", "")
    if op not in OPERATIONS:
        raise ApiError(400, "invalid_request", _("未知的操作。"))
    actions = context.account_actions()
    name = (request.form.get("username") or "")[:64]
    if not actions.exists(name):
        raise ApiError(404, "not_found", _("没有这个用户。"))
    if op == "reset_password" and request.form.get("password", "") != request.form.get("password2", ""):
        raise ApiError(400, "invalid_request", _("两次输入的密码不一致。"))
    who = guards.principal()
    user, _after = actions.change_user(op, name, actor=who.actor(), password=request.form.get("password", ""))
    message = {
        "disable": _("已停用该账户，其会话和令牌已全部失效。"),
        "enable": _("已启用该账户。"),
        "revoke_tokens": _("已吊销该账户的全部 API 令牌。"),
        "reset_password": _("已重设密码，该账户的会话和令牌已全部失效。"),
    }[op]
    flash(message)
    if user.id == who.user_id and op in {"disable", "reset_password"}:
        return redirect(url_for("admin.login"))  # the own session just ended
    return redirect(url_for("admin_users.users"))


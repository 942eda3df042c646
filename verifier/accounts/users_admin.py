"""Console pages for accounts: the committee disables, enables, resets passwords and revokes tokens."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from signer.errors import Conflict, InvalidInput
from verifier import context
from verifier.accounts import guards
from verifier.accounts.forms import UserForm
from verifier.accounts.policy import branch_scope
from verifier.errorwords import describe
from verifier.web.errors import ApiError

_logger = logging.getLogger(__name__)

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
    rows, live = context.account_actions().users(branch_code=branch_scope(guards.principal()))
    response = Response(render_template("admin/users.html", users=rows, live_tokens=live,
                                        operations=OPERATIONS), status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("")
@guards.console("user.write")
def change_user() -> Any:
    """Disable, enable, reset the password of, or revoke the API tokens of one account (audited)."""

    form = UserForm(request.form)
    if not form.validate():  # the list again, the reason above it (a password is never shown again)
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _users_page(400)
    op = form.op.data
    actions = context.account_actions()
    name = form.username.data.strip()
    if not actions.exists(name):
        raise ApiError(404, "not_found", _("没有这个用户。"))
    who = guards.principal()
    try:
        user, _after = actions.change_user(op, name, actor=who.actor(), password=form.password.data or "")
    except InvalidInput as exc:  # a password too short or too common: nothing changed
        flash(describe(exc), "error")
        return _users_page(400)
    except Conflict as exc:  # the last committee account: refused on this page, in words
        flash(describe(exc), "error")
        return _users_page(409)
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


"""Console pages for one's own account: sign in and out, TOTP enrolment, API tokens."""

from __future__ import annotations

import logging
from base64 import b64encode
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from limits import RateLimitItem

from signer.qr import qr_svg
from verifier import context
from verifier.accounts import devices as login_devices
from verifier.accounts import guards
from verifier.accounts.auth import accounts, principal_for
from verifier.accounts.logins import LoginRefused, new_totp_secret, totp_uri
from verifier.console.blueprint import bp, require_confirmation
from verifier.web.errors import ApiError
from verifier.web.writelimits import WriteLimit, write_limit

_logger = logging.getLogger(__name__)


# -- accounts ---------------------------------------------------------------------------------
def _login_limit() -> str:
    # per client: a burst a minute, and a ceiling an hour against slow guessing from one address
    return str(current_app.config.get("LOGIN_RATE_LIMIT", "20 per minute;200 per hour"))


def _login_breach(limit: RateLimitItem) -> None:
    _logger.warning("login rate limit hit by client %s (%s)", context.client_address(), limit)


@bp.route("/login", methods=["GET", "POST"])
@write_limit(WriteLimit(_login_limit, methods=frozenset({"POST"}), on_breach=_login_breach,
                        message="登录尝试过于频繁，请一分钟后再试。"))
@guards.console(guards.PUBLIC)
def login() -> Any:
    """Sign in with user name, password and (if enrolled) a TOTP code."""
    nxt = guards.safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("admin/login.html", next=nxt, error=None)

    try:
        user = context.account_actions().login(
            request.form.get("username", ""), request.form.get("password", ""), request.form.get("totp"),
            client=context.client_address(), trusted=login_devices.is_trusted)
    except LoginRefused:
        # One answer for every refusal: unknown name, wrong password or code, account in back-off.
        message = _("用户名、密码或动态验证码不正确；多次失败后需稍候再试。")
        return render_template("admin/login.html", next=nxt, error=message), 401
    session.clear()  # a fresh session at login: nothing from before survives
    login_user(principal_for(user, via="session"))
    session.permanent = True
    return login_devices.remember(redirect(nxt or url_for("admin.dashboard")), user)


@bp.post("/logout")
@guards.console(guards.SELF)
def logout() -> ResponseReturnValue:
    """Sign out everywhere: the session nonce changes, so every copy of the cookie stops working."""
    context.account_actions().logout(guards.principal().actor())
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))


@bp.route("/totp", methods=["GET", "POST"])
@guards.console(guards.SELF)
def totp() -> Any:
    """Enrol a TOTP second factor for the signed-in account."""
    who = guards.principal()
    actions = context.account_actions()
    user = actions.user(who.user_id)
    if request.method == "POST":
        user = actions.enrol_totp(who.actor(), session.get("totp_pending", ""), request.form.get("code", ""),
                                  password=request.form.get("password", ""),
                                  current_code=request.form.get("current_code"))
        if user is None:  # deleted in the meantime
            raise ApiError(401, "unauthorized", _("请先登录。"))
        session.pop("totp_pending", None)
        login_user(principal_for(user, via="session"))  # the nonce changed: other sessions ended
        session.permanent = True
        flash(_("已启用动态验证码。"))
        return redirect(url_for("admin.dashboard"))
    secret = session.get("totp_pending") or new_totp_secret()
    session["totp_pending"] = secret
    uri = totp_uri(secret, username=who.username)


    qr = "data:image/svg+xml;base64," + b64encode(qr_svg(uri)).decode("ascii")
    return render_template("admin/totp.html", secret=secret, uri=uri, qr=qr,
                           enrolled=bool(user and user.totp_secret),
                           required=guards._totp_missing(who))  # noqa: SLF001


@bp.route("/tokens", methods=["GET", "POST"])
@guards.console("token.read")
def tokens() -> Any:
    """List the signed-in user's API tokens; create one (shown once)."""
    who = guards.principal()
    shown = None
    actions = context.account_actions()
    if request.method == "POST":
        guards.allow("token.write", branch_code=None)
        label = (request.form.get("label") or "").strip()[:100] or None
        shown = actions.issue_token(who.username, actor=who.actor(), label=label)
    rows = actions.tokens_of(who.user_id)

    response = Response(render_template("admin/tokens.html", tokens=rows, shown=shown,
                                        expires_at=accounts().token_expires_at, now=context.clock()()))
    response.headers["Cache-Control"] = "no-store"  # the new token must not linger in caches
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@guards.console("token.write")
def token_revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the signed-in user's API tokens (its confirmation box ticked: a script using it stops)."""

    require_confirmation()
    if not context.account_actions().revoke_own_token(guards.principal().actor(), token_id):
        raise ApiError(404, "not_found", _("没有这个令牌。"))
    return redirect(url_for("admin.tokens"))

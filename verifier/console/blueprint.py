"""The console's blueprint and what its pages share: paging, confirmation, scoped look-ups, the nav."""

from __future__ import annotations

import logging
import unicodedata
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user

from signer.ids import format_badge_id
from signer.lifecycle import REVOCATION_REASONS
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope, decide
from verifier.audit.service import AuditLog
from verifier.badges.platforms import PLATFORM_NAMES
from verifier.badges.shops import display_url
from verifier.console.forms import LIMITS
from verifier.storage.models import Badge, Branch, Member
from verifier.web.errors import ApiError

PER_PAGE = 50
_logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

ACTIONS = ("suspend", "reinstate", "renew", "revoke")
__all__ = ["ACTIONS", "PER_PAGE", "audit_log", "badge_for", "bp", "member_for", "page_arg",
           "require_confirmation", "visible_branches"]


# -- helpers ----------------------------------------------------------------------------------
def audit_log() -> AuditLog:
    """Return the audit log on this request's session (the factory is :func:`verifier.context.audit_log`)."""
    return context.audit_log()


def page_arg() -> int:
    """Return the ``page`` query argument (400 unless 1..100000)."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or int(raw) > 100_000:
        raise ApiError(400, "invalid_request", _("页码不正确。"))
    return int(raw)


def require_confirmation() -> None:
    """Refuse a write whose confirmation box was not ticked (server-side; no JavaScript needed)."""
    if request.form.get("confirm") != "yes":
        raise ApiError(400, "invalid_request", _("请勾选确认框后再提交。"))


def visible_branches() -> list[Branch]:
    """Return the branches the signed-in administrator may see."""
    return context.org_actions().branches(scope=branch_scope(guards.principal()))


def badge_for(action: str, raw_id: str) -> Badge:
    """Return a badge once the policy allows ``action`` on its branch (a change re-reads it, locked)."""
    return context.badge_actions().get(raw_id, allow=guards.allow, action=action)


def member_for(action: str, member_id: int) -> Member:
    """Return a member once the policy allows ``action`` on their branch (404 if unknown)."""
    member = context.org_actions().member(member_id)
    if member is None:
        raise ApiError(404, "not_found", _("没有找到这位党员。"))
    guards.allow(action, branch_code=member.branch.code)
    return member


def _me() -> Any:
    """Return the signed-in administrator for templates (also on other features' console pages)."""
    who = g.get("liang_principal")
    if who is None and current_user and current_user.is_authenticated:
        who = current_user
    return who


def _can(action: str, branch_code: str | None = None) -> bool:
    return decide(_me(), action, branch_code=branch_code).allowed


@bp.app_context_processor
def _console_globals() -> dict[str, Any]:
    # App-wide so that other features' console pages extending admin/base.html get the nav too.
    return {"platform_names": PLATFORM_NAMES, "reason_codes": REVOCATION_REASONS, "can": _can,
            "fmt_id": format_badge_id, "limits": LIMITS, "me": _me() if request.path.startswith("/admin") else None}


def reason_names() -> dict[str, str]:
    """Return the revocation reasons' names in the user's language."""
    return {"membership_ended": _("党员身份终止"), "misconduct": _("违规经营"), "shop_closed": _("店铺已关闭"),
            "holder_request": _("本人申请撤销"), "issued_in_error": _("误发"), "key_compromise": _("签名密钥泄露"),
            "superseded": _("已被新徽章取代")}


@bp.app_template_filter("shop_url")
def shop_url(url: str) -> str:
    """Return a shop URL as a person reads it: the host in punycode (as the verify page and the bound
    hosts show it, so a homograph reads as one), percent-escapes of the path and query decoded where
    they spell printable UTF-8 text. Autoescaping escapes the result; an ``href`` keeps the stored URL.
    """
    shown = display_url(url)
    scheme, sep, rest = shown.partition("://")
    host, slash, tail = rest.partition("/")
    if not sep or not tail or "%" not in tail:
        return shown
    try:
        decoded = unquote(tail, errors="strict")
    except UnicodeDecodeError:
        return shown
    if not decoded.isprintable() or any(c.isspace() or unicodedata.category(c) == "Cf" for c in decoded):
        return shown  # spaces, controls and bidi marks stay escaped: they could disguise the URL
    return f"{scheme}{sep}{host}{slash}{decoded}"

"""Applications: a member merchant asks for a badge at ``/apply``; a signed link shows the decision."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from signer.ids import format_badge_id
from verifier import context
from verifier.badges.actions import allow_all
from verifier.badges.service import PLATFORMS, IssueRequest
from verifier.organisation.service import MAX_CONTACT
from verifier.storage.models import Branch
from verifier.web.errors import ApiError
from verifier.web.writelimits import WriteLimit, write_limit

SALT = "liang.application"

bp = Blueprint("apply", __name__)


def register(app: Flask) -> None:
    """Mount the application form."""
    app.register_blueprint(bp)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def status_token(badge_id: str) -> str:
    """Return the signed token of an application's status link."""
    return _serializer().dumps({"b": badge_id})


def _apply_limit() -> str:
    return str(current_app.config.get("APPLY_RATE_LIMIT", "5 per hour"))


def _branch_choices() -> list[Branch]:
    return context.org_actions().branches()


@bp.route("/apply", methods=["GET", "POST"])
@write_limit(WriteLimit(_apply_limit, methods=frozenset({"POST"})))
def apply() -> Any:
    """Show the form; on POST record a pending application and give the signed status link."""
    if request.method == "GET":
        return render_template("apply/form.html", branches=_branch_choices(), platforms=PLATFORMS, form={})
    form = request.form
    contact = (form.get("contact") or "").strip()
    if not contact or len(contact) > MAX_CONTACT:
        raise ApiError(400, "invalid_request", _("请填写联系方式（最多 200 字）。"))
    badge = context.badge_actions().apply(
        IssueRequest(form.get("holder", ""), form.get("shop_name", ""), form.get("shop_url", ""),
                     form.get("platform", ""), form.get("branch", "")),
        actor=context.public_actor(), contact=contact)
    link = context.issuer().public_url + url_for("apply.status", token=status_token(badge.id))
    response = Response(render_template("apply/submitted.html", link=link), status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/apply/status/<token>")
def status(token: str) -> Response:
    """Show an application's state: pending, approved (with the embed kit) or rejected (with the reason)."""
    try:
        data = _serializer().loads(token[:200])
        badge_id = str(data["b"])
    except (BadSignature, KeyError, TypeError) as exc:
        raise ApiError(404, "not_found", _("链接无效。")) from exc
    badge = context.badge_actions().get(badge_id, allow=allow_all)  # the signed link is the permission
    shown = format_badge_id(badge.id)
    response = Response(render_template("apply/status.html", badge=badge, shown=shown))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the applicant's key
    return response


OPENAPI_PATHS: dict[str, Any] = {}

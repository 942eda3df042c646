"""The admin JSON API under ``/api/v1/admin/``: bearer tokens only, every call through the policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from signer.errors import InvalidInput
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.badges.actions import CHANGES
from verifier.badges.service import IssueRequest
from verifier.extensions import csrf
from verifier.storage.models import Badge
from verifier.verification.record import status_json
from verifier.web.errors import ApiError
from verifier.web.openapi import BADGE_ID_PATTERN, BEARER, PAGE, errors, json_response
from verifier.web.requests import MAX_PER_PAGE, json_body, page_args

#: The ``status`` filter of the badge list: public statuses and stored states (``new`` is never stored).
STATUS_FILTERS = ("valid", "expired", "not_yet_valid", "pending", "rejected", "active", "suspended", "revoked")

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
# Bearer tokens are not sent by browsers on their own, so there is no CSRF to guard against here;
# a console session cookie never authorises these endpoints (see guards.api).
csrf.exempt(bp)


def register(app: Flask) -> None:
    """Mount the admin API."""
    app.register_blueprint(bp)


def _days(value: Any) -> Any:
    """Return ``valid_days`` with a whole JSON number such as ``30.0`` read as ``30`` (JSON Schema's integer)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _optional_body() -> dict[str, Any]:
    return json_body() if request.get_data(cache=True) else {}


def _status(badge: Badge) -> dict[str, Any]:
    return status_json(badge, issuer=context.issuer(), now=context.clock()())


def _done(badge: Badge, status: int = 200) -> Response:
    response = jsonify(_status(badge))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/badges")
@guards.api("badge.issue")
def issue() -> Response:
    """Issue a badge: 201 and its JSON status."""
    data = json_body()
    hosts = data.get("hosts")
    if hosts is not None and (not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts)):
        raise ApiError(400, "invalid_request", "hosts must be a list of host names")
    branch = data.get("branch")
    if not isinstance(branch, str):
        raise ApiError(400, "invalid_request", "branch (a branch code) is required")
    confirm = data.get("confirm_foreign_hosts", False)
    if not isinstance(confirm, bool):
        raise ApiError(400, "invalid_request", "confirm_foreign_hosts must be true or false")
    member = data.get("member")
    if member is not None and (isinstance(member, bool) or not isinstance(member, int)):
        raise InvalidInput("member must be a member id (a whole number)", field="member", kind="member_id")
    member_ref = data.get("member_ref")
    if member_ref is not None and not isinstance(member_ref, str):
        raise InvalidInput("member_ref must be text (the committee's member number)", field="member_ref",
                           kind="not_text")
    badge = context.badge_actions().issue(
        IssueRequest(data.get("holder"), data.get("shop_name"), data.get("shop_url"),  # type: ignore[arg-type]
                     data.get("platform"), branch, _days(data.get("valid_days")),  # type: ignore[arg-type]
                     tuple(hosts) if hosts else None, confirm, member, member_ref),
        actor=guards.principal().actor(), allow=guards.allow)
    return _done(badge, 201)


@bp.get("/badges")
@guards.api("badge.read")
def badges() -> Response:
    """List badges (JSON statuses), filtered and paginated; branch administrators see their branch."""
    page, per_page = page_args()
    if any("\x00" in request.args.get(name, "") for name in ("branch", "q")):
        raise ApiError(400, "invalid_request", "branch and q must not contain NUL characters")
    wanted = request.args.get("branch") or None
    if wanted is not None:
        guards.allow("badge.read", branch_code=wanted)
    scope = branch_scope(guards.principal()) or wanted
    status = request.args.get("status")
    if status is not None and status not in STATUS_FILTERS:  # an empty ?status= is refused too
        raise ApiError(400, "invalid_request", f"status must be one of {', '.join(STATUS_FILTERS)}")
    rows, total = context.badge_actions().search(branch=scope, status=status,
                                                 q=request.args.get("q") or None, page=page, per_page=per_page)
    response = jsonify({"items": [_status(b) for b in rows], "page": page, "per_page": per_page, "total": total})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/badges/<badge_id>")
@guards.api("badge.read")
def badge(badge_id: str) -> Response:
    """Return one badge's JSON status (any state, pending included)."""
    return _done(context.badge_actions().get(badge_id, allow=guards.allow))


def _change(name: str) -> Callable[[str], Response]:
    """Return the view of one lifecycle change (``suspend``, ``reinstate``, ``revoke``, ``renew``)."""

    @guards.api(f"badge.{name}")
    def change(badge_id: str) -> Response:
        data = json_body() if name == "revoke" else _optional_body()  # a revocation needs its reason
        params: dict[str, Any] = {"note": data.get("note")}
        if name == "revoke":
            params["reason"] = data.get("reason")
        elif name == "renew":
            params = {"valid_days": _days(data.get("valid_days"))}
        return _done(context.badge_actions().change(name, badge_id, actor=guards.principal().actor(),
                                                    allow=guards.allow, **params))

    change.__name__ = change.__qualname__ = name
    change.__doc__ = _CHANGE_DOCS[name]
    return change


_CHANGE_DOCS = {"revoke": 'Revoke a badge for good: ``{"reason", "note"?}``.',
                "suspend": 'Suspend a badge: ``{"note"?}``.',
                "reinstate": 'Lift a suspension: ``{"note"?}``.',
                "renew": 'Extend a badge\'s validity: ``{"valid_days"?}``.'}
for _name in CHANGES:
    bp.add_url_rule(f"/badges/<badge_id>/{_name}", endpoint=_name, view_func=_change(_name), methods=["POST"])


# -- OpenAPI ----------------------------------------------------------------------------------
_STATUS = {"$ref": "#/components/schemas/BadgeStatus"}
_ID = {"name": "badge_id", "in": "path", "required": True,
       "schema": {"type": "string", "maxLength": 64, "pattern": BADGE_ID_PATTERN}}
#: No NUL characters (no branch code or stored text holds one; PostgreSQL cannot compare them).
_NO_NUL = "^[^\\x00]*$"
_PER_PAGE = {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}


def _body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": bool(required), "content": {"application/json": {"schema": {
        "type": "object", "required": required, "properties": props}}}}


def _action(op_id: str, summary: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"post": {"operationId": op_id, "summary": summary, "security": BEARER, "parameters": [_ID],
                     "requestBody": body,
                     "responses": {"200": json_response(_STATUS), **errors(400, 401, 403, 404, 409)}}}


OPENAPI_SCHEMAS: dict[str, Any] = {
    "BadgeList": {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
        "items": {"type": "array", "items": _STATUS}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}}},
}

_REASONS = ["membership_ended", "misconduct", "shop_closed", "holder_request", "issued_in_error", "key_compromise",
            "superseded"]
_NOTE = {"note": {"type": "string", "maxLength": 2000}}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/badges": {
        "post": {"operationId": "adminIssueBadge", "summary": "Issue a badge", "security": BEARER,
                 "requestBody": _body({
                     "holder": {"type": "string", "minLength": 1, "maxLength": 200},
                     "shop_name": {"type": "string", "minLength": 1, "maxLength": 200},
                     "shop_url": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 2000},
                     "platform": {"type": "string", "enum": ["taobao", "tmall", "1688", "jd", "pinduoduo", "douyin",
                                                             "wechat", "independent", "other"]},
                     "branch": {"type": "string", "minLength": 1, "maxLength": 32},
                     "valid_days": {"type": "integer", "minimum": 1, "maximum": 3650},
                     "hosts": {"type": "array", "items": {"type": "string"}},
                     "confirm_foreign_hosts": {"type": "boolean"},
                     "member": {"type": "integer", "minimum": 1},
                     "member_ref": {"type": "string", "maxLength": 64}},
                     ["holder", "shop_name", "shop_url", "platform", "branch"]),
                 "responses": {"201": json_response(_STATUS, "issued"), **errors(400, 401, 403, 409, 415)}},
        "get": {"operationId": "adminListBadges", "summary": "List badges (paginated)", "security": BEARER,
                "parameters": [{"name": "branch", "in": "query", "schema": {"type": "string", "pattern": _NO_NUL}},
                               {"name": "status", "in": "query",
                                "schema": {"type": "string", "enum": list(STATUS_FILTERS)}},
                               {"name": "q", "in": "query", "schema": {"type": "string", "pattern": _NO_NUL}},
                               PAGE, _PER_PAGE],
                "responses": {"200": json_response({"$ref": "#/components/schemas/BadgeList"}), **errors(400, 401, 403)}},
    },
    "/api/v1/admin/badges/{badge_id}": {"get": {
        "operationId": "adminGetBadge", "summary": "One badge, any state", "security": BEARER, "parameters": [_ID],
        "responses": {"200": json_response(_STATUS), **errors(400, 401, 403, 404)}}},
    "/api/v1/admin/badges/{badge_id}/revoke": _action(
        "adminRevokeBadge", "Revoke a badge (final)",
        _body({"reason": {"type": "string", "enum": _REASONS}, **_NOTE}, ["reason"])),
    "/api/v1/admin/badges/{badge_id}/suspend": _action("adminSuspendBadge", "Suspend a badge", _body(_NOTE, [])),
    "/api/v1/admin/badges/{badge_id}/reinstate": _action("adminReinstateBadge", "Lift a suspension",
                                                         _body(_NOTE, [])),
    "/api/v1/admin/badges/{badge_id}/renew": _action(
        "adminRenewBadge", "Extend validity (valid_days added to the current end); the id stays; 400 when the "
                           "credential would then end more than 3650 days from now",
        _body({"valid_days": {"type": "integer", "minimum": 1, "maximum": 3650}}, [])),
}

"""The members part of the admin JSON API: ``GET /api/v1/admin/members`` (bearer tokens only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.extensions import csrf
from verifier.organisation import members
from verifier.web.errors import ApiError
from verifier.web.requests import MAX_PER_PAGE, page_args

bp = Blueprint("members_api", __name__, url_prefix="/api/v1/admin")
csrf.exempt(bp)  # bearer tokens only, as in badges.api


def register(app: Flask) -> None:
    """Mount the members API."""
    app.register_blueprint(bp)


@bp.get("/members")
@guards.api("member.read")
def member_list() -> Response:
    """List members (people, with their member numbers and badge ids); branch administrators see their branch."""
    page, per_page = page_args()
    if any("\x00" in request.args.get(name, "") for name in ("branch", "q")):
        raise ApiError(400, "invalid_request", "branch and q must not contain NUL characters")
    wanted = request.args.get("branch") or None
    if wanted is not None:
        guards.allow("member.read", branch_code=wanted)
    scope = branch_scope(guards.principal()) or wanted
    org = context.org_actions()
    rows, total = org.search(branch=scope, q=request.args.get("q") or None, page=page, per_page=per_page)
    ids = org.badge_ids(rows)
    response = jsonify({"items": [members.member_json(m, ids[m.id]) for m in rows], "page": page,
                        "per_page": per_page, "total": total})
    response.headers["Cache-Control"] = "no-store"
    return response


# -- OpenAPI ----------------------------------------------------------------------------------
_NO_NUL = "^[^\\x00]*$"
_ERR = {"$ref": "#/components/schemas/Error"}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Member": {"type": "object", "required": ["id", "name", "member_ref", "branch", "groups", "badges"],
               "properties": {
                   "id": {"type": "integer"}, "name": {"type": "string"},
                   "member_ref": {"type": ["string", "null"]}, "branch": {"type": "string"},
                   "groups": {"type": "array", "items": {"type": "string"}},
                   "badges": {"type": "array", "items": {"type": "string"}}}},
    "MemberList": {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/members": {"get": {
        "operationId": "adminListMembers", "summary": "List members (paginated)", "security": [{"bearer": []}],
        "parameters": [{"name": "branch", "in": "query", "schema": {"type": "string", "pattern": _NO_NUL}},
                       {"name": "q", "in": "query", "schema": {"type": "string", "pattern": _NO_NUL}},
                       {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/MemberList"}}}},
            **{str(c): {"description": "error", "content": {"application/json": {"schema": _ERR}}}
               for c in (400, 401, 403, 503)}}}},
}

"""The audit log's admin JSON API: ``GET /api/v1/admin/audit`` (bearer tokens only, through the policy)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from signer.clock import isoformat_z
from verifier import context
from verifier.accounts import guards
from verifier.accounts.policy import branch_scope
from verifier.extensions import csrf
from verifier.web.openapi import BEARER, PAGE, errors, json_response
from verifier.web.requests import MAX_PER_PAGE, page_args

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/admin")
csrf.exempt(bp)  # bearer tokens only: no browser sends one on its own (see guards.api)


def register(app: Flask) -> None:
    """Mount the audit API."""
    app.register_blueprint(bp)


def event_json(event: Any) -> dict[str, Any]:
    """Return an audit event as JSON."""
    return {"seq": event.seq, "at": isoformat_z(event.at), "actor": event.actor, "role": event.role,
            "client": event.client, "action": event.action, "target": event.target, "branch": event.branch_code,
            "before": event.before, "after": event.after, "hash": event.hash}


@bp.get("/audit")
@guards.api("audit.read")
def audit() -> Response:
    """Return audit events, newest first (branch administrators: their branch's)."""
    page, per_page = page_args()
    scope = branch_scope(guards.principal())
    log = context.audit_log()
    events = log.recent(page=page, per_page=per_page, branch_code=scope)
    response = jsonify({"items": [event_json(e) for e in events], "page": page, "per_page": per_page,
                        "total": log.count(branch_code=scope)})
    response.headers["Cache-Control"] = "no-store"
    return response


# -- OpenAPI ----------------------------------------------------------------------------------
_PER_PAGE = {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}


OPENAPI_SCHEMAS: dict[str, Any] = {
    "AuditEvent": {"type": "object", "required": ["seq", "at", "actor", "role", "action"], "properties": {
        "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
        "role": {"type": "string"}, "client": {"type": ["string", "null"]}, "action": {"type": "string"},
        "target": {"type": ["string", "null"]}, "branch": {"type": ["string", "null"]},
        "before": {}, "after": {}, "hash": {"type": "string"}}},
    "AuditList": {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"}}},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/audit": {"get": {
        "operationId": "adminAuditLog", "summary": "Audit events, newest first", "security": BEARER,
        "parameters": [PAGE, _PER_PAGE],
        "responses": {"200": json_response({"$ref": "#/components/schemas/AuditList"}), **errors(400, 401, 403)}}},
}

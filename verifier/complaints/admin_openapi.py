"""The OpenAPI description of the complaint administration API (``/api/v1/admin/complaints``)."""

from __future__ import annotations

from typing import Any

from verifier.complaints.service import MAX_PAGE, STATES

_ERR = {"$ref": "#/components/schemas/Error"}
_NUMBER = {"name": "tracking_number", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": "^TS-[0-9]{8}-[0-9A-Z]{5}$"}}
_ADMIN = {"$ref": "#/components/schemas/AdminComplaint"}


def _errors(*codes: int) -> dict[str, Any]:
    # 503 on every operation: the database may be away.
    return {str(c): {"description": "error", "content": {"application/json": {"schema": _ERR}}}
            for c in (*codes, 503)}


OPENAPI_SCHEMAS: dict[str, Any] = {
    "AdminComplaint": {
        "type": "object",
        "required": ["tracking_number", "badge_id", "branch", "category", "status", "description", "public_reply",
                     "created_at", "updated_at", "age", "events"],
        "properties": {
            "tracking_number": {"type": "string"},
            "tracking_url": {"type": "string"},
            "badge_id": {"type": "string"},
            "branch": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
            "category": {"type": "string"},
            "status": {"type": "string", "enum": list(STATES)},
            "description": {"type": "string"},
            "public_reply": {"type": ["string", "null"]},
            "private_note": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "age": {"type": "object", "properties": {"working_days": {"type": "integer"},
                                                     "target": {"type": "integer"},
                                                     "overdue": {"type": "boolean"}}},
            "personal_data_purged": {"type": "boolean"},
            "held_for_review": {"type": "boolean", "description":
                                "Filed during a burst of complaints about the same badge (possible flood): "
                                "accepted, shown to the shopper as received, flagged for review."},
            "events": {"type": "array", "items": {"type": "object"}},
            "contact": {"type": ["string", "null"],
                        "description": "Only for the handling branch and the committee."},
            "order_number": {"type": ["string", "null"]},
            "evidence": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "content_type": {"type": "string"}, "size": {"type": "integer"},
                "url": {"type": "string"}}}},
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/complaints": {"get": {
        "operationId": "listComplaints", "summary": "Complaint queue (branch administrators see their branch only)",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": [*STATES, "open"]}},
            {"name": "branch", "in": "query", "schema": {"type": "string", "pattern": "^[^\\x00]*$"}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
        ],
        "responses": {"200": {"description": "one page", "content": {"application/json": {"schema": {
            "type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
                "items": {"type": "array", "items": _ADMIN}, "page": {"type": "integer"},
                "per_page": {"type": "integer"}, "total": {"type": "integer"}}}}}},
            **_errors(400, 401, 403)},
    }},
    "/api/v1/admin/complaints/{tracking_number}": {"get": {
        "operationId": "getComplaint", "summary": "One complaint", "security": [{"bearer": []}],
        "parameters": [_NUMBER],
        "responses": {"200": {"description": "the complaint", "content": {"application/json": {"schema": _ADMIN}}},
                      **_errors(401, 403, 404)},
    }},
    "/api/v1/admin/complaints/{tracking_number}/status": {"post": {
        "operationId": "setComplaintStatus", "summary": "Change state with a public reply and a private note",
        "security": [{"bearer": []}], "parameters": [_NUMBER],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": list(STATES)},
                "reply": {"type": "string", "maxLength": 2000},
                "note": {"type": "string", "maxLength": 4000}}}}}},
        "responses": {"200": {"description": "the complaint", "content": {"application/json": {"schema": _ADMIN}}},
                      **_errors(400, 401, 403, 404, 409)},
    }},
    "/api/v1/admin/complaints/{tracking_number}/suspend-badge": {"post": {
        "operationId": "suspendBadgeForComplaint", "summary": "Suspend the badge while the complaint is investigated",
        "security": [{"bearer": []}], "parameters": [_NUMBER],
        "responses": {"200": {"description": "the complaint", "content": {"application/json": {"schema": _ADMIN}}},
                      **_errors(401, 403, 404, 409)},
    }},
}

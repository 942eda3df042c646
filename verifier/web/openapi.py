"""The OpenAPI 3.1 description of the JSON API, assembled from each feature's paths."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from signer.errors import InvalidInput
from verifier.web.etags import etagged

bp = Blueprint("openapi", __name__)

_ERROR = {"$ref": "#/components/schemas/Error"}
#: 12 Crockford base32 symbols in any case (I/L and O accepted for 1 and 0), hyphens or spaces between.
BADGE_ID_PATTERN = "^[ -]*([0-9A-HJKMNP-TV-Za-hjkmnp-tv-zIiLlOo][ -]*){12}$"
_ID = {"name": "badge_id", "in": "path", "required": True,
       "schema": {"type": "string", "maxLength": 64, "pattern": BADGE_ID_PATTERN},
       "description": "Badge id, any case, hyphens/spaces optional, I/L→1 and O→0 accepted."}


#: What ``POST /api/v1/verify`` reads from an upload: baked badges (PNG, SVG) and photos of a QR code.
UPLOAD_MEDIA_TYPES = "image/png, image/svg+xml, image/jpeg, image/webp"
#: What complaint evidence may be.
EVIDENCE_MEDIA_TYPES = "image/jpeg, image/png, image/webp"


def _error_responses(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", "content": {"application/json": {"schema": _ERROR}}} for c in codes}


# -- helpers for the domains' own path descriptions (OPENAPI_PATHS) ---------------------------------
#: The admin API's security requirement: a bearer token (scheme -> scopes).
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}


def errors(*codes: int) -> dict[str, Any]:
    """Return the error responses ``codes`` of an operation that reaches the database (503 added: it may be away)."""
    return _error_responses(*codes, 503)


def json_response(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    """Return a JSON response of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


COMPONENTS: dict[str, Any] = {
    "schemas": {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}},
        },
        "BadgeStatus": {
            "type": "object",
            "required": ["id", "status", "checked_at", "holder", "shop", "branch", "valid_from", "valid_until",
                         "revocation", "verify_url", "complaint_url", "credential"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$"},
                "status": {"type": "string",
                           "enum": ["valid", "expired", "not_yet_valid", "suspended", "revoked", "pending",
                                    "rejected"]},
                "checked_at": {"type": "string", "format": "date-time"},
                "holder": {"type": "object", "required": ["display_name"],
                           "properties": {"display_name": {"type": "string"}}},
                "shop": {"type": "object", "required": ["name", "platform", "url", "hosts"], "properties": {
                    "name": {"type": "string"}, "platform": {"type": "string"}, "url": {"type": "string"},
                    "hosts": {"type": "array", "items": {"type": "string"}}}},
                "branch": {"type": "object", "required": ["code", "name"], "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"}}},
                "valid_from": {"type": "string", "format": "date-time"},
                "valid_until": {"type": "string", "format": "date-time"},
                "revocation": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["reason", "at"],
                                                            "properties": {"reason": {"type": "string"},
                                                                           "at": {"type": "string"}}}]},
                "verify_url": {"type": "string"},
                "complaint_url": {"type": "string"},
                "credential": {"type": ["string", "null"]},
                "log": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["index", "proof_url"],
                    "description": "The transparency-log entry of the badge's latest decision and where its "
                                   "inclusion proof is (null for a badge with no decision since the log began).",
                    "properties": {"index": {"type": "integer", "minimum": 0}, "proof_url": {"type": "string"}}}]},
            },
        },
        "VerifyResult": {
            "type": "object", "required": ["verified", "status", "reason", "message", "badge"],
            "properties": {
                "verified": {"type": "boolean"},
                "status": {"type": ["string", "null"]},
                "reason": {"type": ["string", "null"]},
                "message": {"type": ["string", "null"]},
                "badge": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/BadgeStatus"}]},
                "source": {"type": ["string", "null"], "enum": ["credential", "qr_code", "credential+qr_code", None],
                           "description": "Pictures only: what the verdict rests on. When a picture holds both a "
                                          "baked credential and a QR code, both are checked and must name the same "
                                          "badge, else the verdict is `verified: false`, reason `mismatch`."},
                "credential_badge": {"type": ["string", "null"]},
                "qr_badges": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
}

CORE_PATHS: dict[str, Any] = {
    "/api/v1/badges/{badge_id}": {"get": {
        "operationId": "getBadgeStatus", "summary": "Live status of a badge", "parameters": [_ID],
        "responses": {"200": {"description": "status", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/BadgeStatus"}}}}, **_error_responses(400, 404, 429, 503)},
    }},
    "/api/v1/verify": {"post": {
        "operationId": "verifyCredential",
        "summary": "Verify a credential (JSON) or a baked badge image / QR picture (multipart)",
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "required": ["credential"], "properties": {
                "credential": {"oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": 65536, "pattern": "\\S",
                     "description": "the compact JWS (VC-JWT)"},
                    {"type": "object", "required": ["@context", "proof"],
                     "description": "the JSON-LD credential with an embedded Data Integrity proof "
                                    "(as served at /v/{badge_id}/credential.json)"}]}}}},
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary"}}},
                "encoding": {"file": {"contentType": UPLOAD_MEDIA_TYPES}}},
        }},
        "responses": {"200": {"description": "outcome", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/VerifyResult"}}}}, **_error_responses(400, 413, 415, 429, 503)},
    }},
    "/.well-known/jwks.json": {"get": {
        "operationId": "getJwks", "summary": "Published public keys",
        "responses": {"200": {"description": "JWKS", "content": {"application/json": {"schema": {
            "type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {
                "type": "object", "required": ["kty", "crv", "x", "kid"], "not": {"required": ["d"]}}}}}}}}},
    }},
    "/status/{list_id}": {"get": {
        "operationId": "getStatusList",
        "summary": "Bitstring Status List credential: a compact JWS, or with Accept: application/vc or "
                   "application/ld+json the same list as JSON-LD with an eddsa-rdfc-2022 proof",
        "parameters": [{"name": "list_id", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-zA-Z]{1,32}$"}}],
        "responses": {"200": {"description": "the list credential", "content": {
            "application/vc+jwt": {"schema": {"type": "string"}},
            "application/vc": {"schema": {"type": "object", "required": ["@context", "id", "type", "credentialSubject",
                                                                          "proof"]}}}},
            **_error_responses(404, 503)},
    }},
    "/healthz": {"get": {
        "operationId": "health", "summary": "200 when the database answers, else 503",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}}}},
            "503": {"description": "database unavailable"}},
    }},
}

def _with_body_limit(operation: Any) -> Any:
    """Return ``operation`` with 413 documented when it takes a request body.

    Every request body is capped (``MAX_CONTENT_LENGTH``) before any view runs, so every
    operation with a body can answer 413 ``too_large``, whichever package contributed it.
    """
    if not isinstance(operation, dict) or "requestBody" not in operation:
        return operation
    responses = operation.get("responses", {})
    if "413" in responses:
        return operation
    return {**operation, "responses": {**responses, **_error_responses(413)}}


def build_document(*, public_url: str, packages: Iterable[Any] = ()) -> dict[str, Any]:
    """Return the OpenAPI document: the core paths and those of each registered package."""
    paths = dict(CORE_PATHS)
    components = {"schemas": dict(COMPONENTS["schemas"]), "securitySchemes": COMPONENTS["securitySchemes"]}
    for module in packages:
        paths.update(getattr(module, "OPENAPI_PATHS", {}))
        components["schemas"].update(getattr(module, "OPENAPI_SCHEMAS", {}))
    paths = {path: {method: _with_body_limit(op) for method, op in item.items()} for path, item in paths.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Liangshenfen (亮身份) API", "version": "1.0.0",
                 "description": "Verify party-member merchant badges; administer them with a bearer token."},
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": components,
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document."""
    document = build_document(public_url=current_app.config["PUBLIC_URL"],
                              packages=current_app.extensions.get("liang.openapi_packages", ()))
    return etagged(jsonify(document), cache_control="public, max-age=300")


# -- the document binds the server too ------------------------------------------------------------
_RULE_ARGUMENT = re.compile(r"<[^<>]+>")
_DOC_ARGUMENT = re.compile(r"\{[^{}]+\}")


def _allowed_types(schema: Any) -> set[str] | None:
    """Return the JSON types a property schema admits, or None when it does not say (anything goes)."""
    if not isinstance(schema, dict):
        return None
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {str(t) for t in declared}
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            found: set[str] = set()
            for option in schema[key]:
                types = _allowed_types(option)
                if types is None:
                    return None
                found |= types
            return found
    if "enum" in schema and isinstance(schema["enum"], list):
        return {"null" if v is None else "boolean" if isinstance(v, bool) else
                "integer" if isinstance(v, int) else "string" for v in schema["enum"]}
    return None


def body_fields(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, set[str]]]:
    """Return, per (path with ``{}`` for each argument, METHOD), the JSON body's top-level fields and their types."""
    schemas = document.get("components", {}).get("schemas", {})
    found: dict[tuple[str, str], dict[str, set[str]]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            schema = (operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                      .get("schema")) if isinstance(operation, dict) else None
            if isinstance(schema, dict) and "$ref" in schema:
                schema = schemas.get(str(schema["$ref"]).rsplit("/", 1)[-1])
            if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
                continue
            fields = {name: types for name, prop in schema["properties"].items()
                      if (types := _allowed_types(prop)) is not None}
            if fields:
                found[(_DOC_ARGUMENT.sub("{}", path), method.upper())] = fields
    return found


def refuse_undocumented_types() -> None:
    """Refuse ``null`` in a JSON body field the OpenAPI document does not make nullable, 400.

    The document is the API's promise: a client that reads "note: string" and sends ``null``
    must learn at once that the server does not take it, not find it silently read as absent.
    (Schemathesis found the server accepting what the document refuses; this keeps them one.)
    """
    if request.method not in {"POST", "PUT", "PATCH"} or request.url_rule is None or not request.is_json:
        return
    fields = current_app.extensions.get("liang.openapi_body_fields")
    if fields is None:
        document = build_document(public_url=current_app.config["PUBLIC_URL"],
                                  packages=current_app.extensions.get("liang.openapi_packages", ()))
        fields = current_app.extensions["liang.openapi_body_fields"] = body_fields(document)
    # Flask names a path argument as the view likes (<raw_id>), the document as it likes ({badge_id}).
    wanted = fields.get((_RULE_ARGUMENT.sub("{}", request.url_rule.rule), request.method))
    if not wanted:
        return
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return  # the view says what is wrong with a body that is not an object
    for name, types in wanted.items():
        # ``null`` for a field the document does not make nullable: refused here, for every operation at
        # once (the views read ``None`` as "not given"). Other wrong types are the views' to refuse, in
        # their own words; the OpenAPI tests hold them to it.
        if name in body and body[name] is None and "null" not in types:
            raise InvalidInput(f"{name} must not be null: leave it out, or send a {' or '.join(sorted(types))}",
                               field=name, kind="null")


def register(app: Flask) -> None:
    """Serve the OpenAPI document; hold JSON bodies to the types it documents."""
    app.register_blueprint(bp)
    app.before_request(refuse_undocumented_types)

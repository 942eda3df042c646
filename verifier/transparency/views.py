"""``/log/*`` (C2SP tlog-tiles: checkpoint, key, hash tiles, entry bundles) and ``/api/v1/badges/<id>/log``.

Served by every node, full or public-only, with open CORS (``verifier.web.security``).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, request

from verifier import context
from verifier.transparency.reads import LogReads
from verifier.verification.views import etagged_body
from verifier.web.openapi import BADGE_ID_PATTERN
from verifier.web.ratelimit import read_limit, unlimited

bp = Blueprint("transparency", __name__)

#: A checkpoint changes every few seconds while decisions are made: caches may keep it that long at most.
CHECKPOINT_CACHE = "public, max-age=2"
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=60"
_TEXT = "text/plain; charset=utf-8"


@bp.get("/log/checkpoint")
@unlimited
def checkpoint() -> Response:
    """Serve the latest signed checkpoint (C2SP tlog-checkpoint as a signed note, cosignatures included)."""
    body = context.log_reads().checkpoint_note().encode("utf-8")
    return Response(body, content_type=_TEXT, headers={"Cache-Control": CHECKPOINT_CACHE})


@bp.get("/log/key")
@unlimited
def key() -> Response:
    """Serve the log's verifier key, ``<origin>+<key id>+<base64>``."""
    body = (context.log_reads().verifier_key() + "\n").encode("ascii")
    return Response(body, content_type=_TEXT, headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/log/tile/<path:rest>")
@unlimited
def tile(rest: str) -> Response:
    """Serve a hash tile or an entry bundle within the latest checkpoint (404 beyond the tree)."""
    served = context.log_reads().tile("tile/" + rest)
    return Response(served.data, content_type="application/octet-stream",
                    headers={"Cache-Control": FULL_TILE_CACHE if served.full else PARTIAL_TILE_CACHE})


@bp.get("/api/v1/badges/<raw_id>/log")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def badge_log(raw_id: str) -> Response:
    """Return a badge's log entries with inclusion proofs (JSON), or one C2SP tlog-proof (text)."""
    doc = context.public_document(raw_id)  # 404 / 400 exactly as the badge's other routes
    body = context.log_reads().badge_proofs(doc.id)
    cache = "no-cache, max-age=0, must-revalidate"
    if request.args.get("format") == "text" or (
            request.args.get("format") is None
            and request.accept_mimetypes.best_match(["application/json", "text/plain"]) == "text/plain"):
        index = request.args.get("index", type=int)
        text = LogReads.proof_text(body, index=index)
        return etagged_body(text.encode("utf-8"), mimetype="text/plain", cache_control=cache)
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return etagged_body(data, mimetype="application/json", cache_control=cache)


_ID_PARAM = {"name": "badge_id", "in": "path", "required": True,
             "schema": {"type": "string", "maxLength": 64, "pattern": BADGE_ID_PATTERN},
             "description": "Badge id, any case, hyphens/spaces optional, I/L→1 and O→0 accepted."}
_JSON_ERROR = {"description": "error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
_ABSENT = {"description": "not in the log (yet): no checkpoint, no such tile within the signed tree"}

OPENAPI_PATHS: dict[str, Any] = {
    "/log/checkpoint": {"get": {
        "operationId": "getLogCheckpoint",
        "summary": "The transparency log's latest checkpoint (C2SP tlog-checkpoint as a signed note, with the "
                   "log's signature, its own timestamped cosignature and the witnesses' cosignatures)",
        "responses": {"200": {"description": "signed note", "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "404": _ABSENT},
    }},
    "/log/key": {"get": {
        "operationId": "getLogKey", "summary": "The log's verifier key, `<origin>+<key id>+<base64>` (Ed25519)",
        "responses": {"200": {"description": "verifier key", "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "404": _ABSENT},
    }},
    "/log/tile/{tile_path}": {"get": {
        "operationId": "getLogTile",
        "summary": "C2SP tlog-tiles: a hash tile `<L>/<N>[.p/<W>]` or an entry bundle `entries/<N>[.p/<W>]` "
                   "(N in 3-digit path elements, `x001/234`); full tiles are immutable",
        "parameters": [{"name": "tile_path", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "the tile's path below /log/tile/ (it holds slashes)"}],
        "responses": {"200": {"description": "tile bytes",
                              "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                  "format": "binary"}}}},
                      "404": _ABSENT},
    }},
    "/api/v1/badges/{badge_id}/log": {"get": {
        "operationId": "getBadgeLog",
        "summary": "The badge's log entries with inclusion proofs against the latest checkpoint; "
                   "with `?format=text` or `Accept: text/plain`, one C2SP tlog-proof (the latest entry, or `index`)",
        "parameters": [_ID_PARAM,
                       {"name": "format", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["json", "text"]}},
                       {"name": "index", "in": "query", "required": False,
                        "schema": {"type": "integer", "minimum": 0}}],
        "responses": {
            "200": {"description": "entries and proofs", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["checkpoint", "tree_size", "entries"],
                    "properties": {
                        "checkpoint": {"type": "string"}, "tree_size": {"type": "integer", "minimum": 0},
                        "entries": {"type": "array", "items": {
                            "type": "object", "required": ["index", "leaf", "proof"],
                            "properties": {"index": {"type": "integer", "minimum": 0},
                                           "leaf": {"type": "string", "description": "the entry exactly as logged"},
                                           "proof": {"type": "array", "items": {"type": "string"}}}}}}}},
                "text/plain": {"schema": {"type": "string", "description": "c2sp.org/tlog-proof@v1"}}}},
            "304": {"description": "not modified"},
            "400": _JSON_ERROR, "404": _JSON_ERROR, "429": _JSON_ERROR, "503": _JSON_ERROR},
    }},
}


def register(app: Flask) -> None:
    """Mount the log's public routes."""
    app.register_blueprint(bp)

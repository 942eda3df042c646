"""``/log/*`` (C2SP tlog-tiles: checkpoint, key, hash tiles, entry bundles) and ``/api/v1/badges/<id>/log``.

Served by every node, full or public-only, with open CORS (``verifier.web.security``).
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, request

from verifier import context
from verifier.transparency.reads import LogReads
from verifier.verification.views import etagged_body
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


def register(app: Flask) -> None:
    """Mount the log's public routes."""
    app.register_blueprint(bp)

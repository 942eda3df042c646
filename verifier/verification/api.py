"""The public JSON API: badge status and credential verification."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from signer.credentials import MAX_JWS_LENGTH
from verifier import context
from verifier.extensions import csrf
from verifier.verification.picture import verify_upload
from verifier.verification.service import VerificationService
from verifier.web.errors import ApiError
from verifier.web.etags import etagged_body
from verifier.web.ratelimit import charge, read_limit
from verifier.web.requests import json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def verification_service() -> VerificationService:
    """Return a verification service for this request (built by :func:`verifier.context.verification_service`)."""
    return context.verification_service()


@bp.get("/badges/<raw_id>")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def badge_status(raw_id: str) -> Response:
    """Return the live JSON status of a badge."""
    # One row: the precomputed document, with the status decided from the row's columns now.
    doc = context.public_document(raw_id)
    splicer = context.splicer()
    now = context.clock()()
    status = splicer.status(doc, now)
    g.liang_outcome, g.liang_badge_id = status, doc.id  # for metrics and the dashboard's counter
    response = etagged_body(splicer.body(doc, status=status, now=now), mimetype="application/json",
                            cache_control="no-cache, max-age=0, must-revalidate")
    # How long a status list may be cached (its ttl): the storefront plugin never keeps an answer longer.
    response.headers["Liang-Status-List-Ttl"] = str(int(current_app.config["STATUS_LIST_TTL"]))
    return response


@bp.post("/verify")
@csrf.exempt
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def verify() -> Response:
    """Verify a credential (JSON) or an uploaded badge image / QR picture (multipart)."""
    service = verification_service()
    if request.mimetype == "multipart/form-data":
        # Scanning a picture costs far more than a look-up: the same per-client budget as /verify.
        charge("VERIFY_UPLOAD_RATE_LIMIT", "30 per minute", scope="verify-upload")
        result = verify_upload(service)
    else:
        data = json_body()
        token = data.get("credential")
        if isinstance(token, dict):  # the JSON-LD form, with an embedded Data Integrity proof
            if "@context" not in token or "proof" not in token:
                raise ApiError(400, "invalid_request", "a JSON-LD credential needs @context and an embedded proof")
            result = service.verify_document(token)
        else:
            if not isinstance(token, str) or not token.strip():
                raise ApiError(400, "invalid_request",
                               "credential must be a compact JWS string or a JSON-LD credential object")
            if len(token) > MAX_JWS_LENGTH:
                raise ApiError(400, "invalid_request", f"credential is longer than {MAX_JWS_LENGTH} characters")
            result = service.verify_token(token)
    g.liang_outcome = result["status"] or result["reason"]
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """Mount the public JSON API."""
    app.register_blueprint(bp)

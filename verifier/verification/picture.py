"""Verify by picture: a baked badge image or a photo/screenshot of a QR code."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from signer.errors import InvalidImage
from verifier.verification.service import MESSAGES, VerificationService
from verifier.web.errors import ApiError
from verifier.web.uploads import classify_verify_url, extract_from_upload

MAX_UPLOAD = 12 * 1024 * 1024


def verify_upload(service: VerificationService) -> dict[str, Any]:
    """Verify the multipart ``file`` of this request."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "invalid_request", "send the picture as multipart field 'file'")
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise ApiError(413, "too_large", "the picture is larger than 12 MB")
    if not data:
        raise InvalidImage("the file is empty", reason="not_an_image")
    findings = extract_from_upload(data, max_bytes=MAX_UPLOAD)
    if findings.credential:
        return service.verify_token(findings.credential)
    public_url = current_app.config["PUBLIC_URL"]
    foreign = []
    for text in findings.qr_texts:
        badge_id = classify_verify_url(text, public_url=public_url)
        if badge_id is not None:
            return service.verify_badge_id(badge_id)
        foreign.append(text[:200])
    if foreign:
        return {"verified": False, "status": None, "reason": "not_official",
                "message": MESSAGES["not_official"], "badge": None, "found": foreign,
                "official_origin": public_url}
    return {"verified": False, "status": None, "reason": "no_credential",
            "message": MESSAGES["no_credential"], "badge": None}



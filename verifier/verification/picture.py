"""Verify by picture: a baked badge image or a photo/screenshot of a QR code."""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _

from signer.errors import InvalidImage
from verifier.verification.scan import classify_verify_url, extract_from_upload
from verifier.verification.service import MESSAGES, VerificationService
from verifier.web.errors import ApiError

MAX_UPLOAD = 12 * 1024 * 1024
#: Picture decodes running at once in this process (each can take a second of CPU and
#: tens of MB); more wait up to DECODE_WAIT seconds, then get 503 with Retry-After.
DECODE_CONCURRENCY = 2
DECODE_WAIT = 2.0
_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _decode_slots() -> threading.BoundedSemaphore:
    size = int(current_app.config.get("VERIFY_DECODE_CONCURRENCY", DECODE_CONCURRENCY))
    with _slots_lock:
        found = _slots.get(size)
        if found is None:
            found = _slots[size] = threading.BoundedSemaphore(size)
        return found


def _extract(data: bytes) -> Any:
    """Decode the picture, at most ``VERIFY_DECODE_CONCURRENCY`` at once in this process."""
    slots = _decode_slots()
    if not slots.acquire(timeout=float(current_app.config.get("VERIFY_DECODE_WAIT", DECODE_WAIT))):
        raise ApiError(503, "unavailable", _("核验服务繁忙，请稍后再试。"), retry_after=5)
    try:
        return extract_from_upload(data, max_bytes=MAX_UPLOAD)
    finally:
        slots.release()


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
    findings = _extract(data)
    public_url = current_app.config["PUBLIC_URL"]
    qr_ids: list[str] = []
    foreign: list[str] = []
    for text in findings.qr_texts:
        badge_id = classify_verify_url(text, public_url=public_url)
        if badge_id is not None:
            qr_ids.append(badge_id)
        else:
            foreign.append(text[:200])
    if findings.credential:
        result = service.verify_token(findings.credential)
        if not findings.qr_texts:
            return {**result, "source": "credential"}
        return _cross_check(service, result, qr_ids, foreign)
    if qr_ids:
        return {**service.verify_badge_id(qr_ids[0]), "source": "qr_code"}
    if foreign:
        return {"verified": False, "status": None, "reason": "not_official",
                "message": MESSAGES["not_official"], "badge": None, "found": foreign,
                "official_origin": public_url, "source": "qr_code"}
    return {"verified": False, "status": None, "reason": "no_credential",
            "message": MESSAGES["no_credential"], "badge": None, "source": None}


def _cross_check(service: VerificationService, result: dict[str, Any], qr_ids: list[str],
                 foreign: list[str]) -> dict[str, Any]:
    """Return the verdict for a picture holding both a baked credential and QR code(s): both must agree."""
    baked = (result.get("badge") or {}).get("id")
    if baked is None:  # the credential itself does not verify: that refusal is the answer
        return {**result, "source": "credential+qr_code"}
    shown: set[str] = set()
    for raw in qr_ids:
        found = service.verify_badge_id(raw)
        shown.add((found.get("badge") or {}).get("id") or raw)
    if foreign or shown != {baked}:
        return {"verified": False, "status": None, "reason": "mismatch", "message": MESSAGES["mismatch"],
                "badge": None, "source": "credential+qr_code", "credential_badge": baked,
                "qr_badges": sorted(shown), "found": foreign}
    return {**result, "source": "credential+qr_code"}

"""Public pages and documents: the verify page, keys, status lists, health."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, g, jsonify, make_response, render_template, request
from sqlalchemy import select, text

from signer.lifecycle import REVOCATION_REASONS
from verifier import context
from verifier.extensions import limiter
from verifier.httperrors import ApiError
from verifier.models import StatusList
from verifier.services.badges import status_json
from verifier.services.keys import in_use_kids

bp = Blueprint("public", __name__)

PLATFORM_NAMES = {
    "taobao": "淘宝", "tmall": "天猫", "1688": "1688", "jd": "京东", "pinduoduo": "拼多多",
    "douyin": "抖音", "wechat": "微信", "independent": "独立站", "other": "其他平台",
}


def _verify_limit() -> str:
    return str(current_app.config.get("VERIFY_RATE_LIMIT", "300 per minute"))


def etagged(response: Response, *, cache_control: str) -> Response:
    """Add a strong ETag over the body and answer If-None-Match with 304."""
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = cache_control
    response.vary.add("Accept-Language")
    return response.make_conditional(request)  # type: ignore[return-value]


@bp.get("/v/<raw_id>")
@limiter.limit(_verify_limit)
def verify_page(raw_id: str) -> Response:
    """Render the shopper's verification page from the live record."""
    badge = context.badge_service().get_public(raw_id)
    now = context.clock()()
    body = status_json(badge, issuer=context.issuer(), now=now)
    g.liang_outcome = body["status"]
    html = render_template(
        "verify/badge.html", badge=body, now=now, platform_name=PLATFORM_NAMES.get(body["shop"]["platform"]),
        reason_codes=REVOCATION_REASONS,
    )
    # no-cache: every view revalidates, so a revocation shows on the very next request.
    return etagged(make_response(html), cache_control="no-cache, max-age=0, must-revalidate")


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """Publish the public keys: active ones, and retired ones still used by live badges."""
    ring = context.keyring()
    now = context.clock()()
    document = ring.jwks(in_use=in_use_kids(context.session(), now=now))
    return etagged(jsonify(document), cache_control="public, max-age=300")


@bp.get("/status/<list_id>")
def status_list(list_id: str) -> Response:
    """Serve a signed Bitstring Status List credential (cached per process until its version changes)."""
    if len(list_id) > 32 or not list_id.isalnum():
        raise ApiError(404, "not_found", "no such status list")
    session = context.session()
    # The database decides: one cheap version look-up per request, the signed bytes only when it moved.
    version = session.execute(select(StatusList.version).where(StatusList.id == list_id)).scalar_one_or_none()
    if version is None:
        raise ApiError(404, "not_found", "no such status list")
    cache: dict[str, tuple[int, bytes, str]] = current_app.extensions.setdefault("liang.status_cache", {})
    cached = cache.get(list_id)
    if cached is None or cached[0] != version:
        row = session.execute(select(StatusList.version, StatusList.credential)
                              .where(StatusList.id == list_id)).one_or_none()
        if row is None or not row.credential:
            raise ApiError(404, "not_found", "no such status list")
        data = row.credential.encode("ascii")
        cached = (row.version, data, hashlib.sha256(data).hexdigest()[:32])
        if len(cache) > 4096:  # bounded: lists are few, ids in requests are not
            cache.clear()
        cache[list_id] = cached
    ttl = int(current_app.config["STATUS_LIST_TTL"])
    response = Response(cached[1], mimetype="application/vc+jwt")
    response.set_etag(cached[2])
    response.headers["Cache-Control"] = f"public, max-age={ttl}"
    return response.make_conditional(request)  # type: ignore[return-value]


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Response:
    """Answer 200 when the database answers, else 503."""
    try:
        context.session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        response = jsonify({"status": "unavailable"})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response



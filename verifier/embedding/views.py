"""Storefront embedding: QR codes, live badge images, the credential, the widget, the kit."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, render_template, request, send_from_directory
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from signer.ids import format_badge_id
from signer.images import SIZES, BadgeFace, render_badge_png, render_badge_svg
from signer.qr import qr_png, qr_svg
from verifier import context
from verifier.badges.platforms import platform_name
from verifier.embedding.layers import LAYER_BYTES, LAYER_ENTRIES, LayerStore
from verifier.storage.publicread import PublicBadge
from verifier.verification.record import badge_face as public_face
from verifier.verification.record import status_json
from verifier.web.cache import CACHE_BYTES, CACHE_ENTRIES, RenderCache, content_key
from verifier.web.errors import ApiError
from verifier.web.etags import conditional, strong_etag
from verifier.web.openapi import BADGE_ID_PATTERN
from verifier.web.ratelimit import read_limit, unlimited
from widget.snippets import image_link_snippet, widget_snippet
from widget.wordpress_zip import build_wordpress_zip

_logger = logging.getLogger(__name__)

bp = Blueprint("embed", __name__)

WIDGET_STATIC = Path(__file__).resolve().parents[2] / "widget" / "static"

#: The verify URL of a badge never changes, so its QR code may be cached for good.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Badge images follow the live state. A shared cache (CDN) may keep one this long after a
#: revocation; past it, it revalidates with the ETag (docs/deployment.md, "cache windows").
LIVE_IMAGE = "public, max-age=30, must-revalidate"

def render_cache() -> RenderCache:
    """Return this app's rendering cache."""
    return current_app.extensions["liang.render_cache"]  # type: ignore[no-any-return]


def layer_store() -> LayerStore:
    """Return this app's store of static badge image layers."""
    return current_app.extensions["liang.layer_store"]  # type: ignore[no-any-return]


def _binary(data: bytes, mimetype: str, *, cache_control: str, filename: str | None = None) -> Response:
    """Return ``data`` with a strong content ETag, answering If-None-Match with 304."""
    headers = [("ETag", f'"{strong_etag(data)}"'), ("Cache-Control", cache_control)]
    if filename:
        headers.append(("Content-Disposition", f'inline; filename="{filename}"'))
    return conditional(Response(data, mimetype=mimetype, headers=headers))


def badge_face(badge: PublicBadge) -> BadgeFace:
    """Return what the badge image shows now, from the live record (decided in verification/record.py)."""
    return public_face(badge, now=context.clock()(), zone=ZoneInfo(current_app.config["TIMEZONE"]),
                       issuer=context.issuer())


def _credential(badge: PublicBadge) -> str:
    if not badge.credential:
        raise ApiError(404, "not_found", "this badge has no signed credential")
    return badge.credential


def _size_arg() -> str:
    size = request.args.get("size", "m")
    if size not in SIZES:
        raise ApiError(400, "invalid_request", f"size must be one of {', '.join(SIZES)}")
    return size


# -- QR codes ------------------------------------------------------------------------------------
@bp.get("/v/<raw_id>/qr.svg")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def qr_code_svg(raw_id: str) -> Response:
    """Return the QR code of the badge's verify URL as SVG."""
    url = context.issuer().verify_url(format_badge_id(context.public_badge(raw_id).id))
    data = render_cache().get_or_render(content_key("qr.svg", text=url), lambda: qr_svg(url))
    return _binary(data, "image/svg+xml", cache_control=IMMUTABLE)


@bp.get("/v/<raw_id>/qr.png")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def qr_code_png(raw_id: str) -> Response:
    """Return the QR code of the badge's verify URL as PNG."""
    url = context.issuer().verify_url(format_badge_id(context.public_badge(raw_id).id))
    data = render_cache().get_or_render(content_key("qr.png", text=url), lambda: qr_png(url))
    return _binary(data, "image/png", cache_control=IMMUTABLE)


# -- badge images --------------------------------------------------------------------------------
@bp.get("/v/<raw_id>/badge.svg")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def badge_svg(raw_id: str) -> Response:
    """Return the live badge as SVG with the credential baked in."""
    badge = context.public_badge(raw_id)
    face, credential = badge_face(badge), _credential(badge)
    # The face (a frozen dataclass) and the credential themselves are the key: every value the
    # bytes depend on, compared exactly, for a few µs instead of serialising and hashing them.
    key = ("badge.svg", face, credential)
    layers = layer_store().for_badge(badge.id, "svg")
    data = render_cache().get_or_render(key, lambda: render_badge_svg(face, credential=credential, layers=layers))
    return _binary(data, "image/svg+xml", cache_control=LIVE_IMAGE)


@bp.get("/v/<raw_id>/badge.png")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def badge_png(raw_id: str) -> Response:
    """Return the live badge as PNG (size s, m or l) with the credential baked in."""
    size = _size_arg()
    badge = context.public_badge(raw_id)
    face, credential = badge_face(badge), _credential(badge)
    key = ("badge.png", face, credential, size)
    layers = layer_store().for_badge(badge.id, f"png-{size}")
    data = render_cache().get_or_render(
        key, lambda: render_badge_png(face, size=size, credential=credential, layers=layers))
    return _binary(data, "image/png", cache_control=LIVE_IMAGE)


@bp.get("/v/<raw_id>/credential.jws")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def credential_jws(raw_id: str) -> Response:
    """Return the badge's compact JWS as text/plain."""
    credential = _credential(context.public_badge(raw_id))
    response = Response(credential, mimetype="text/plain")
    response.set_etag(hashlib.sha256(credential.encode("ascii")).hexdigest()[:32])
    # Re-signing (renewal, key rotation) replaces the credential; revalidate every time.
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return conditional(response)


# -- widget and kit ------------------------------------------------------------------------------
@bp.get("/widget.js")
@unlimited
def widget_js() -> Response:
    """Serve the embeddable widget script."""
    response = send_from_directory(WIDGET_STATIC, "widget.js", mimetype="text/javascript", max_age=300,
                                   conditional=True)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/v/<raw_id>/kit")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def kit(raw_id: str) -> Response:
    """Render the embed kit: previews, downloads, snippets and a printable parcel card."""
    badge = context.public_badge(raw_id)
    body = status_json(badge, issuer=context.issuer(), now=context.clock()())
    public_url = current_app.config["PUBLIC_URL"]
    base = f"{public_url}/v/{body['id']}"
    alt = _("党员网商亮身份：%(shop)s（点击验证）", shop=body["shop"]["name"])
    snippets = {
        "image": image_link_snippet(verify_url=body["verify_url"], image_url=f"{base}/badge.png?size=m",
                                    alt=alt, width=SIZES["m"][0], height=SIZES["m"][1]),
        "widget": widget_snippet(badge_id=body["id"], public_url=public_url),
    }
    with force_locale("zh_Hans"):
        # Markup of our own autoescaped template, not of user data.
        card = Markup(render_template("kit/parcel_card.html", badge=body, base=base))  # noqa: S704
    html = render_template("kit/kit.html", badge=body, base=base, snippets=snippets, sizes=SIZES,
                           parcel_card=card, platform_name=platform_name(body["shop"]["platform"]))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


@bp.get("/v/<raw_id>/kit/wordpress.zip")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def kit_wordpress_zip(raw_id: str) -> Response:
    """Return the WordPress / WooCommerce plugin with this badge and this service pre-filled."""
    shown = format_badge_id(context.public_badge(raw_id).id)
    public_url = current_app.config["PUBLIC_URL"]
    data = render_cache().get_or_render(
        ("wordpress.zip", shown, public_url), lambda: build_wordpress_zip(badge_id=shown, public_url=public_url))
    response = _binary(data, "application/zip", cache_control="no-cache, max-age=0, must-revalidate")
    # A download, not a page: the browser saves it under the name WordPress's uploader expects.
    response.headers["Content-Disposition"] = 'attachment; filename="liangshenfen-badge.zip"'
    return response


@bp.get("/v/<raw_id>/kit/cards")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def kit_cards(raw_id: str) -> Response:
    """Render four A6 parcel cards on one A4 sheet, to print and cut."""
    badge = context.public_badge(raw_id)
    body = status_json(badge, issuer=context.issuer(), now=context.clock()())
    base = f"{current_app.config['PUBLIC_URL']}/v/{body['id']}"
    with force_locale("zh_Hans"):  # the cards are for shoppers in China, as on the kit page
        # Markup of our own autoescaped template, not of user data.
        card = Markup(render_template("kit/parcel_card.html", badge=body, base=base))  # noqa: S704
        html = render_template("kit/sheet.html", badge=body, card=card)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache, max-age=0, must-revalidate"
    return response


def register(app: Flask) -> None:
    """Register the embedding blueprint and its rendering cache on ``app``."""
    app.extensions["liang.render_cache"] = RenderCache(
        max_entries=int(app.config.get("RENDER_CACHE_ENTRIES", CACHE_ENTRIES)),
        max_bytes=int(app.config.get("RENDER_CACHE_BYTES", CACHE_BYTES)),
    )
    # Static layers live in the database, so every worker and instance draws each one once.
    app.extensions["liang.layer_store"] = LayerStore(
        lambda: app.extensions["liang.db"].engine, lambda key: app.extensions["liang.db"].reader.image_layer(key),
        clock=lambda: app.config["CLOCK"](), max_entries=int(app.config.get("LAYER_CACHE_ENTRIES", LAYER_ENTRIES)),
        max_bytes=int(app.config.get("LAYER_CACHE_BYTES", LAYER_BYTES)),
    )
    app.register_blueprint(bp)


# -- OpenAPI -------------------------------------------------------------------------------------
_ID_PARAM = {"name": "badge_id", "in": "path", "required": True,
             "schema": {"type": "string", "maxLength": 64, "pattern": BADGE_ID_PATTERN},
             "description": "Badge id, any case, hyphens/spaces optional, I/L→1 and O→0 accepted."}
_SIZE_PARAM = {"name": "size", "in": "query", "required": False,
               "schema": {"type": "string", "enum": list(SIZES), "default": "m"},
               "description": "s = 320x200, m = 480x300, l = 800x500 pixels."}
_ETAG_HEADERS = {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}


def _errors(*codes: int) -> dict[str, Any]:
    # These paths are browser-facing (not under /api/): errors come back as an HTML page unless
    # the client prefers JSON (verifier.web.errors.wants_json), so both media types are documented.
    return {str(c): {"description": "error (an HTML page, or JSON when the client asks for it)", "content": {
        "text/html": {"schema": {"type": "string"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}} for c in codes}


def _image_op(op_id: str, summary: str, media: str, *, params: list[dict[str, Any]], errors: tuple[int, ...]
              ) -> dict[str, Any]:
    return {"get": {
        "operationId": op_id, "summary": summary, "parameters": params,
        "responses": {
            "200": {"description": summary, "headers": _ETAG_HEADERS,
                    "content": {media: {"schema": {"type": "string", "format": "binary"}}}},
            "304": {"description": "not modified (If-None-Match matched the ETag)"},
            **_errors(*errors),
        },
    }}


OPENAPI_PATHS: dict[str, Any] = {
    "/v/{badge_id}/badge.svg": _image_op(
        "getBadgeSvg", "Live badge image (SVG, credential baked in per Open Badges 3.0)", "image/svg+xml",
        params=[_ID_PARAM], errors=(400, 404, 429, 503)),
    "/v/{badge_id}/badge.png": _image_op(
        "getBadgePng", "Live badge image (PNG, credential baked in an iTXt chunk)", "image/png",
        params=[_ID_PARAM, _SIZE_PARAM], errors=(400, 404, 429, 503)),
    "/v/{badge_id}/qr.svg": _image_op(
        "getBadgeQrSvg", "QR code whose text is the badge's verify URL (SVG, immutable)", "image/svg+xml",
        params=[_ID_PARAM], errors=(400, 404, 429, 503)),
    "/v/{badge_id}/qr.png": _image_op(
        "getBadgeQrPng", "QR code whose text is the badge's verify URL (PNG, immutable)", "image/png",
        params=[_ID_PARAM], errors=(400, 404, 429, 503)),
    "/v/{badge_id}/credential.jws": {"get": {
        "operationId": "getBadgeCredential", "summary": "The badge's compact JWS (VC-JWT)",
        "parameters": [_ID_PARAM],
        "responses": {"200": {"description": "compact JWS", "headers": _ETAG_HEADERS,
                              "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "304": {"description": "not modified"}, **_errors(400, 404, 429, 503)},
    }},
}

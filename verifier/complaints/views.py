"""Shopper complaints, public side: the form, its JSON twin and the tracking page.

The administrators' side is :mod:`verifier.complaints.admin` (not registered on public-only nodes).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeSerializer

from signer.errors import InvalidImage, InvalidInput, MalformedId
from signer.ids import format_badge_id, parse_badge_id
from verifier import context
from verifier.audit.service import Actor
from verifier.complaints.service import (
    CATEGORIES,
    MAX_DESCRIPTION,
    MAX_EVIDENCE,
    MAX_EVIDENCE_BYTES,
    ComplaintForm,
    ComplaintNotFound,
    ComplaintService,
)
from verifier.extensions import client_key, csrf
from verifier.i18n import with_lang
from verifier.storage.models import Badge, Complaint
from verifier.verification.record import status_json
from verifier.web import metrics, uploadbudget
from verifier.web.errors import ApiError
from verifier.web.openapi import BADGE_ID_PATTERN, EVIDENCE_MEDIA_TYPES
from verifier.web.writelimits import WriteLimit, write_limit

_logger = logging.getLogger(__name__)

bp = Blueprint("complaints", __name__)

TRACKING_SALT = "liang.complaint-tracking"
ESCALATION_URL = "https://www.12315.cn/"
#: The honeypot field: hidden by CSS (class ``hp``), so only robots fill it in.
HONEYPOT = "website"


# -- plumbing shared with the console ---------------------------------------------------------
def complaint_service() -> ComplaintService:
    """Return a complaint service on this request's session (built by :func:`verifier.context.complaint_service`)."""
    return context.complaint_service()


def _serializer() -> URLSafeSerializer:
    # Keys oldest first: itsdangerous signs with the last and accepts them all.
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or []), current_app.config["SECRET_KEY"]]
    return URLSafeSerializer(keys, salt=TRACKING_SALT)


def tracking_token(complaint: Complaint) -> str:
    """Return the signed token of a complaint's tracking link.

    It signs the tracking number (a date and random symbols), not the row id: a link must
    not tell how many complaints were filed. Links signed with the id earlier keep working.
    """
    return str(_serializer().dumps(complaint.tracking_number))


def tracking_url(complaint: Complaint) -> str:
    """Return the absolute tracking link (no login needed)."""
    return f"{current_app.config['PUBLIC_URL']}/c/{tracking_token(complaint)}"


def category_names() -> dict[str, str]:
    """Return the display names of the complaint categories."""
    return {"quality": _("商品质量问题"), "counterfeit": _("假冒伪劣"), "false_advertising": _("虚假宣传"),
            "refund": _("退款退货纠纷"), "service": _("服务态度"), "other": _("其他")}


def state_names() -> dict[str, str]:
    """Return the display names of the complaint states."""
    # One word per state on the receipt, the tracking page and the console (the timeline names states with them).
    return {"received": _("待受理"), "in_progress": _("处理中"), "resolved": _("已解决"), "rejected": _("不予受理")}


# -- rate limits ------------------------------------------------------------------------------
def _client_limit() -> str:
    return str(current_app.config.get("COMPLAINT_RATE_LIMIT", "10 per hour"))


def _badge_limit() -> str:
    return str(current_app.config.get("COMPLAINT_BADGE_RATE_LIMIT", "5 per hour"))


def _badge_key() -> str:
    """Key the per-badge allowance by (badge, client): a flood from a few addresses cannot use up
    a badge's allowance and silence everyone else (bursts are held for review instead)."""
    raw = str((request.view_args or {}).get("raw_id", ""))[:64]
    try:
        badge = f"badge:{parse_badge_id(raw)}"
    except MalformedId:
        badge = f"badge:?{raw.upper()}"
    return f"{badge}/{client_key()}"


def _limit_message() -> str:
    return _("投诉提交过于频繁，请稍后再试。如情况紧急，可拨打 12315 或登录全国12315平台。")


# Shared scopes: the form and the JSON twin draw from the same allowance. Counted per badge
# first, then per client (a refusal per badge leaves the client's allowance alone).
_per_client = WriteLimit(_client_limit, scope="complaint-client", methods=frozenset({"POST"}), message=_limit_message)
_per_badge = WriteLimit(_badge_limit, scope="complaint-badge", key=_badge_key, methods=frozenset({"POST"}),
                        message=_limit_message)


# -- cross-site writes -------------------------------------------------------------------------
def _origin_of(url: str) -> str:
    """Return ``scheme://host[:port]`` of ``url``, lower-case, default ports dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _cross_site_refusal() -> ApiError | None:
    """Return the refusal for a write a browser sent on behalf of another site (403), or in one of
    the "simple" encodings a foreign page can send without a preflight (415); None when acceptable.

    Platforms calling server to server send no ``Origin`` and keep working; a browser always
    sends ``Origin`` on a POST, so a page on another site (or a sandboxed ``null`` origin)
    is recognised and refused. Multipart (for evidence) is a "simple" request a foreign page
    can send without a preflight, which is why the origin check comes first.
    """
    origin = request.headers.get("Origin")
    own = _origin_of(str(current_app.config["PUBLIC_URL"]))
    fetch_site = (request.headers.get("Sec-Fetch-Site") or "").lower()
    if (origin is not None and _origin_of(origin) != own) or fetch_site in {"cross-site", "same-site"}:
        return ApiError(403, "cross_origin", _("不接受来自其他网站的投诉提交：请在本站的投诉页面提交。"))
    if request.mimetype in {"application/x-www-form-urlencoded", "text/plain"}:
        return ApiError(415, "unsupported_media_type",
                        "send a JSON object (application/json), or multipart/form-data with evidence images")
    return None


def _refuse_cross_site() -> None:
    refusal = _cross_site_refusal()
    if refusal is not None:
        raise refusal


def _refused_writes_are_not_counted() -> bool:
    """Keep refused cross-site writes off the rate limits: a foreign page must not spend its
    visitors' complaint allowance (nor a badge's) by making them post."""
    return (request.endpoint == "complaints.complain_api" and request.method == "POST"
            and _cross_site_refusal() is not None)


# -- request parsing --------------------------------------------------------------------------
def _evidence_from_request() -> tuple[bytes, ...]:
    """Return the uploaded evidence files' bytes, refusing oversize ones with 413."""
    files = [f for f in request.files.getlist("evidence") if f.filename or f.content_length]
    if len(files) > MAX_EVIDENCE:
        raise InvalidInput(f"at most {MAX_EVIDENCE} evidence images", field="evidence")
    blobs = []
    for upload in files:
        data = upload.stream.read(MAX_EVIDENCE_BYTES + 1)
        if len(data) > MAX_EVIDENCE_BYTES:
            raise ApiError(413, "too_large", _("每张图片不能超过 5 MB。"))
        if not data:
            raise InvalidImage("the evidence file is empty", reason="not_an_image")
        blobs.append(data)
    return tuple(blobs)


def _form_from_request() -> ComplaintForm:
    source: Any = request.form
    if request.mimetype != "multipart/form-data" and request.mimetype != "application/x-www-form-urlencoded":
        if not request.is_json:
            raise ApiError(415 if request.data else 400, "invalid_request",
                           "send a JSON object or multipart/form-data")
        source = request.get_json(silent=True)
        if not isinstance(source, dict):
            raise ApiError(400, "invalid_request", "the body must be a JSON object")
        if "evidence" in source:
            raise InvalidInput("send evidence images as multipart/form-data", field="evidence")
    return ComplaintForm(category=source.get("category"), description=source.get("description"),
                         order_number=source.get("order_number"), contact=source.get("contact"),
                         evidence=_evidence_from_request() if request.files else ())


def _field_messages() -> dict[str, str]:
    return {
        "category": _("请选择投诉类型。"),
        "description": _("请填写投诉内容，最多 2000 字。"),
        "order_number": _("订单号最多 100 个字符。"),
        "contact": _("联系方式最多 200 个字符。"),
        "evidence": _("最多上传 3 张图片（JPEG、PNG 或 WebP），每张不超过 5 MB。"),
    }


# -- views ------------------------------------------------------------------------------------
def _shopper() -> Actor:
    # No client address in the audit chain: it cannot be purged later, and the
    # keyed client hash on the complaint is enough for merging repeats.
    return Actor(name="public", role="public")


def _render_form(badge: Badge, *, values: dict[str, Any] | None = None, error: str | None = None,
                 field: str | None = None, status: int = 200) -> Response:
    body = status_json(badge, issuer=context.issuer(), now=context.clock()())
    html = render_template("complaints/form.html", badge=body, categories=category_names(), values=values or {},
                           error=error, error_field=field, max_description=MAX_DESCRIPTION,
                           honeypot=HONEYPOT)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/v/<raw_id>/complain", methods=["GET", "POST"])
@write_limit(_per_badge, _per_client, skip_when=_refused_writes_are_not_counted)
def complain(raw_id: str) -> Response:
    """Show the complaint form (GET) or file a complaint (POST)."""
    badge = context.complaint_actions().badge(raw_id)
    if request.method == "GET":
        return _render_form(badge)
    values = {k: request.form.get(k, "") for k in ("category", "order_number", "description", "contact")}
    if request.form.get(HONEYPOT):
        # Robots fill every field; a person never sees this one. Nothing is stored.
        raise ApiError(400, "invalid_request", _("提交未被接受，请刷新页面后重试。"))
    try:
        form = _form_from_request()
        filing = _file(badge, form)
    except ApiError as exc:
        if exc.status in (429, 503):  # photos arriving faster than they can be decoded: try again
            response = _render_form(badge, values=values, field="evidence", status=exc.status, error=exc.message)
            response.headers["Retry-After"] = str(exc.retry_after or uploadbudget.RETRY_AFTER)
            return response
        if exc.status != 413:
            raise
        # A photo over 5 MB: the complaint comes back as typed (a file input cannot be refilled).
        return _render_form(badge, values=values, field="evidence", status=413, error=_(
            "图片太大：每张证据图片不能超过 5 MB。您填写的内容已保留，请重新选择较小的图片，或不附图片提交。"))
    except (InvalidInput, InvalidImage) as exc:
        field = exc.field if isinstance(exc, InvalidInput) else "evidence"
        message = _field_messages().get(field or "", exc.message)
        if isinstance(exc, InvalidImage):
            message = _("证据图片无法识别：请上传 JPEG、PNG 或 WebP 格式的照片。")
        return _render_form(badge, values=values, error=message, field=field, status=400)
    target = with_lang(f"/c/{tracking_token(filing.complaint)}?filed=1")
    return redirect(target, code=303)  # type: ignore[return-value]


def _file(badge: Any, form: Any) -> Any:
    """File (or merge) a complaint in its own transaction and count it once committed."""

    client = context.client_address()
    # Decoding photos is bounded per worker and per client (verifier/web/uploadbudget.py).
    filing = context.complaint_actions().file(badge, form, client=client, actor=_shopper(),
                                              decoding=uploadbudget.budget().take(client or "?"))
    if not filing.merged:
        metrics.count_complaint()
    return filing


@bp.post("/api/v1/badges/<raw_id>/complaints")
@csrf.exempt
@write_limit(_per_badge, _per_client, skip_when=_refused_writes_are_not_counted)
def complain_api(raw_id: str) -> Response:
    """File a complaint from a platform or mini-program (JSON, or multipart with evidence)."""
    _refuse_cross_site()
    badge = context.complaint_actions().badge(raw_id)
    filing = _file(badge, _form_from_request())
    complaint = filing.complaint
    response = jsonify({"tracking_number": complaint.tracking_number, "tracking_url": tracking_url(complaint),
                        "status": complaint.state})
    # A merged repeat answers like a new filing (the contract's 201) but with the earlier complaint.
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/c/<token>")
@write_limit(WriteLimit(lambda: str(current_app.config.get("VERIFY_RATE_LIMIT", "300 per minute"))))
def track(token: str) -> Response:
    """Show a complaint's state, timeline and public reply to whoever holds the link."""
    try:
        signed = _serializer().loads(token[:200])
    except BadData as exc:
        raise ComplaintNotFound("no such complaint") from exc
    if isinstance(signed, str):
        complaint = complaint_service().by_tracking_number(signed)
    elif isinstance(signed, int) and not isinstance(signed, bool):  # a link signed before the change
        complaint = complaint_service().get(signed)
    else:
        raise ComplaintNotFound("no such complaint")
    events = [e for e in complaint.events if e.public]
    html = render_template(
        "complaints/track.html", complaint=complaint, events=events, states=state_names(),
        categories=category_names(), badge_id=format_badge_id(complaint.badge_id),
        escalation_url=ESCALATION_URL, filed=request.args.get("filed") == "1",
        link=tracking_url(complaint),
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    # The link is the key: never send it onwards in a Referer, never index it.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def register(app: Flask) -> None:
    """Mount the public complaint pages (the app registers the administrators' side separately)."""
    app.config.setdefault("COMPLAINT_RATE_LIMIT", "10 per hour")
    app.config.setdefault("COMPLAINT_BADGE_RATE_LIMIT", "5 per hour")
    app.config.setdefault("COMPLAINT_BURST_THRESHOLD", 20)
    app.register_blueprint(bp)


# -- OpenAPI ----------------------------------------------------------------------------------
_ERR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", "content": {"application/json": {"schema": _ERR}}} for c in codes}


_FILING_FIELDS = {
    "category": {"type": "string", "enum": list(CATEGORIES)},
    "order_number": {"type": "string", "maxLength": 100},
    "description": {"type": "string", "minLength": 1, "maxLength": MAX_DESCRIPTION},
    "contact": {"type": "string", "maxLength": 200,
                "description": "Seen only by the handling branch and the committee, to reach the shopper."},
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "ComplaintFiled": {
        "type": "object", "required": ["tracking_number", "tracking_url", "status"],
        "properties": {
            "tracking_number": {"type": "string", "pattern": "^TS-[0-9]{8}-[0-9A-Z]{5}$"},
            "tracking_url": {"type": "string"},
            "status": {"type": "string", "enum": ["received", "in_progress", "resolved", "rejected"]},
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/badges/{badge_id}/complaints": {"post": {
        "operationId": "fileComplaint",
        "summary": "File a shopper complaint about a badge holder's shop (rate-limited per client and per badge and client)",
        "description": "Repeating the same description from the same client within 10 minutes answers "
                       "with the earlier complaint instead of creating another. Writes from browsers on "
                       "other sites are refused: a request whose `Origin` is not the service's own public "
                       "origin (or whose `Sec-Fetch-Site` is `cross-site`/`same-site`) gets 403 "
                       "`cross_origin`; form-urlencoded and text/plain bodies get 415. Server-to-server "
                       "callers send no `Origin`.",
        "parameters": [{"name": "badge_id", "in": "path", "required": True,
                        "schema": {"type": "string", "maxLength": 64, "pattern": BADGE_ID_PATTERN}}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "required": ["category", "description"],
                                            "properties": _FILING_FIELDS}},
            "multipart/form-data": {"schema": {"type": "object", "required": ["category", "description"],
                                               "properties": {**_FILING_FIELDS, "evidence": {
                                                   "type": "array", "maxItems": MAX_EVIDENCE,
                                                   "items": {"type": "string", "format": "binary"}}}},
                                    "encoding": {"evidence": {"contentType": EVIDENCE_MEDIA_TYPES}}},
        }},
        "responses": {
            "201": {"description": "filed", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ComplaintFiled"}}}},
            **_errors(400, 403, 404, 413, 415, 429, 503),
        },
    }},
}

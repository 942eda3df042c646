"""Linked-data documents: the JSON-LD credential, keys, the product's context, and what ids name.

Everything a verifier we did not write dereferences: a VC-JWT ``kid`` (one JWK), a Data
Integrity ``verificationMethod`` (a Multikey document), the ``/ns/v1`` context, and the ids
a credential mentions (issuer, achievement, branch), answered as JSON-LD, or as a page for
a browser that asks for HTML.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request

from signer import dataintegrity
from signer.credentials import OB_CONTEXT, VC_CONTEXT, achievement
from signer.keys import KeyRecord
from verifier import context
from verifier.verification.views import KEY_DOCUMENT_CACHE
from verifier.web.errors import ApiError
from verifier.web.etags import etagged
from verifier.web.ratelimit import read_limit, unlimited

bp = Blueprint("documents", __name__)

JSON_LD = "application/ld+json"
_DOCUMENT_CACHE = "public, max-age=300"
_KEY_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def register(app: Flask) -> None:
    """Attach the documents to the app."""
    app.register_blueprint(bp)


def _json(document: dict[str, Any], mimetype: str, *, cache_control: str = _DOCUMENT_CACHE) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2)
    response = Response(body, mimetype=mimetype)
    response.vary.add("Accept")
    return etagged(response, cache_control=cache_control)


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match([JSON_LD, "application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes[JSON_LD]


def _published_key(kid: str) -> KeyRecord:
    if not 0 < len(kid) <= 64 or not set(kid) <= _KEY_ID_CHARS:
        raise ApiError(404, "not_found", "no such key")
    for record in context.key_actions().published():
        if record.kid == kid:
            return record
    raise ApiError(404, "not_found", "no such key")


@bp.get("/v/<raw_id>/credential.json")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def credential_json(raw_id: str) -> Response:
    """Serve the credential as JSON-LD with its Data Integrity proof (created on first use if missing)."""
    text = context.badge_actions().linked_data(raw_id)
    response = Response(text, mimetype=dataintegrity.MEDIA_TYPE)
    return etagged(response, cache_control="no-cache, max-age=0, must-revalidate")


@bp.get("/keys/<kid>")
@unlimited
def key(kid: str) -> Response:
    """Serve one published public key as a JWK: what a credential's ``kid`` header dereferences to."""
    return _json(_published_key(kid).jwk, "application/jwk+json", cache_control=KEY_DOCUMENT_CACHE)


@bp.get("/keys/<kid>/multikey")
@unlimited
def multikey(kid: str) -> Response:
    """Serve one published public key as a Multikey document: a Data Integrity ``verificationMethod``."""
    record = _published_key(kid)
    return _json(dataintegrity.multikey_document(context.issuer(), record.kid, record.public_raw), JSON_LD,
                 cache_control=KEY_DOCUMENT_CACHE)


@bp.get("/ns/v1")
@unlimited
def product_context() -> Response:
    """Serve the JSON-LD context defining the product's own credential terms."""
    return _json(dataintegrity.product_context(context.issuer()), JSON_LD, cache_control="public, max-age=86400")


@bp.get("/issuer")
@unlimited
def issuer_profile() -> Response:
    """Serve the issuer's Profile, which lists the keys that may sign for it (a controller document)."""
    issuer = context.issuer()
    published = context.key_actions().published()
    document = {
        "@context": [VC_CONTEXT, OB_CONTEXT, issuer.context_url],
        **issuer.profile(),
        "assertionMethod": [issuer.verification_method(r.kid) for r in published],
    }
    log_key = context.log_reads().published_key()
    if log_key is not None:  # the transparency log: where it is, and the key its checkpoints verify with
        document.update(transparencyLog=f"{issuer.public_url}/log/", transparencyLogKey=log_key)
    if _wants_html():
        return _page(document, kind="issuer", cache_control=KEY_DOCUMENT_CACHE)
    return _json(document, JSON_LD, cache_control=KEY_DOCUMENT_CACHE)


@bp.get("/achievements/<slug>")
@unlimited
def achievement_document(slug: str) -> Response:
    """Serve the Achievement every badge attests."""
    issuer = context.issuer()
    document = {"@context": [VC_CONTEXT, OB_CONTEXT], **achievement(issuer), "creator": issuer.profile()}
    if document["id"] != f"{issuer.public_url}/achievements/{slug}":
        raise ApiError(404, "not_found", "no such achievement")
    if _wants_html():
        return _page(document, kind="achievement")
    return _json(document, JSON_LD)


@bp.get("/branches/<code>")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def branch_profile(code: str) -> Response:
    """Serve a branch's Profile (the ``source`` of the badges it vouches for)."""
    if len(code) > 32:
        raise ApiError(404, "not_found", "no such branch")
    branch = context.org_actions().branch(code)
    if branch is None:
        raise ApiError(404, "not_found", "no such branch")
    issuer = context.issuer()
    document = {"@context": [VC_CONTEXT, OB_CONTEXT], "id": issuer.branch_id(branch.code), "type": ["Profile"],
                "name": branch.name, "parentOrg": issuer.profile()}
    if _wants_html():
        return _page(document, kind="branch")
    return _json(document, JSON_LD)


def _page(document: dict[str, Any], *, kind: str, cache_control: str = _DOCUMENT_CACHE) -> Response:
    html = render_template("documents/profile.html", document=document, kind=kind)
    response = Response(html, mimetype="text/html")
    response.vary.add("Accept")
    return etagged(response, cache_control=cache_control)

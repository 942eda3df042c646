"""Public pages and documents: the verify page, keys, status lists, health."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import get_locale

from signer.lifecycle import REVOCATION_REASONS
from verifier import context
from verifier.badges.platforms import platform_name
from verifier.i18n import with_lang
from verifier.storage.publicdoc import PublicDocument
from verifier.verification.counts import VerificationCounter
from verifier.verification.record import Splicer
from verifier.web.cache import RenderCache
from verifier.web.errors import ApiError
from verifier.web.etags import conditional, etagged, etagged_body
from verifier.web.ratelimit import read_limit, unlimited

bp = Blueprint("public", __name__)



@bp.get("/v/<raw_id>")
@read_limit("VERIFY_RATE_LIMIT", "300 per minute")
def verify_page(raw_id: str) -> Response:
    """Render the shopper's verification page from the live record."""
    doc = context.public_document(raw_id)
    now = context.clock()()
    status = context.splicer().status(doc, now)
    g.liang_outcome, g.liang_badge_id = status, doc.id  # for metrics and the dashboard's counter
    html = _page(doc, status, now)
    # no-cache: every view revalidates, so a revocation shows on the very next request.
    return etagged_body(html, mimetype="text/html", cache_control="no-cache, max-age=0, must-revalidate")


def _page(doc: PublicDocument, status: str, now: datetime) -> bytes:
    """Return the page's HTML: rendered once per (locale, record, status), the check time filled in per request.

    The key holds the whole public row (its deciding columns and its document) and the status
    computed for ``now``, so any change to the badge, or its expiry, renders afresh; only the
    time of this check is not part of it, and it goes in through markers no record can contain
    (random per process, hex, unchanged by escaping).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: RenderCache = app.extensions["liang.page_cache"]
    iso_mark, local_mark = app.extensions["liang.page_marks"]
    splicer = context.splicer()
    # Whether ?lang= chose the language is part of the key: the page's links carry that choice on.
    key = ("verify/badge.html", str(get_locale()), with_lang("") != "", status, doc)

    def render() -> bytes:
        body = splicer.as_dict(doc, status=status, now=None)
        return render_template(
            # The markers go in as text: bytes would render as their repr, b'…', around the time.
            "verify/badge.html", badge=body, checked_iso=iso_mark.decode("ascii"),
            checked_local=local_mark.decode("ascii"),
            platform_name=platform_name(body["shop"]["platform"]), reason_codes=REVOCATION_REASONS,
            logged_at=context.log_reads().decision_time(doc.log_index),
        ).encode("utf-8")

    page = cache.get_or_render(key, render)
    iso, local = _stamps(app, splicer, now)
    return page.replace(iso_mark, iso).replace(local_mark, local)


def _stamps(app: Flask, splicer: Splicer, now: datetime) -> tuple[bytes, bytes]:
    """Return the check time as ISO and as local text, formatted once per second per process."""
    second = now.timestamp() // 1
    cached = app.extensions.get("liang.page_stamp")
    if cached is None or cached[0] != second:
        local = now.astimezone(ZoneInfo(app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M:%S")
        cached = app.extensions["liang.page_stamp"] = (
            second, splicer.checked_at(now).encode("ascii"), local.encode("ascii"))
    return cached[1], cached[2]


def install_page_cache(app: Flask) -> None:
    """Give ``app`` its verify-page cache and per-process markers."""
    app.extensions["liang.page_cache"] = RenderCache(max_entries=int(app.config.get("PAGE_CACHE_ENTRIES", 4096)),
                                                     max_bytes=32 * 1024 * 1024)
    app.extensions["liang.page_marks"] = (secrets.token_hex(16).encode("ascii"), secrets.token_hex(16).encode("ascii"))


#: Every document that says which keys are good (the JWKS, ``/keys/<id>``, its Multikey, the issuer's
#: ``assertionMethod``): a key withdrawn as compromised must leave every cache within one minute, then the ETag.
KEY_DOCUMENT_CACHE = "public, max-age=60, must-revalidate"


@bp.get("/.well-known/jwks.json")
@unlimited
def jwks() -> Response:
    """Publish the public keys: active ones, and retired ones still used by live badges."""
    document = context.key_service().jwks(kid_url=context.issuer().kid_url)
    return etagged(jsonify(document), cache_control=KEY_DOCUMENT_CACHE)


#: The JSON-LD form of a status list is served to a client that prefers one of these to the JWS.
_LINKED_DATA_TYPES = ("application/vc", "application/ld+json", "application/vc+ld+json", "application/json")
_JWT_TYPES = ("application/vc+jwt", "application/jwt")


def _wants_linked_data() -> bool:
    """Return whether the request asks for the JSON-LD form: a JSON-LD type named, preferred to the JWS.

    No ``Accept``, ``*/*`` or ``application/vc+jwt`` keep the JWS (what VC-JWT credentials and
    ``liang verify`` read); ``application/vc`` or ``application/ld+json`` (what stock Bitstring
    Status List verifiers send) get the JSON-LD ``BitstringStatusListCredential``.
    """
    accept = request.accept_mimetypes
    linked = max((q for value, q in accept if value.lower() in _LINKED_DATA_TYPES), default=0.0)
    return linked > 0 and linked >= max((accept[value] for value in _JWT_TYPES if value in accept), default=0.0)


@bp.get("/status/<list_id>")
@unlimited
def status_list(list_id: str) -> Response:
    """Serve a signed Bitstring Status List credential, JWS or JSON-LD (cached per process until its version moves)."""
    if len(list_id) > 32 or not list_id.isalnum():
        raise ApiError(404, "not_found", "no such status list")
    # The database decides: one cheap version look-up per request, the signed bytes only when it moved.
    version = context.reader().status_list_version(list_id)
    if version is None:
        raise ApiError(404, "not_found", "no such status list")
    linked = _wants_linked_data()
    cache: dict[tuple[str, bool], tuple[int, bytes, str]] = current_app.extensions.setdefault(
        "liang.status_cache", {})
    cached = cache.get((list_id, linked))
    if cached is None or cached[0] != version:
        signed = context.status_list(list_id, linked_data=linked)
        if signed is None and linked:  # a list signed before its JSON-LD form existed: liang init signs it
            raise ApiError(503, "unavailable", "this status list has no JSON-LD form yet; ask for application/vc+jwt")
        if signed is None:
            raise ApiError(404, "not_found", "no such status list")
        data = signed[1].encode("utf-8")
        cached = (signed[0], data, hashlib.sha256(data).hexdigest()[:32])
        if len(cache) > 4096:  # bounded: lists are few, ids in requests are not
            cache.clear()
        cache[(list_id, linked)] = cached
    ttl = int(current_app.config["STATUS_LIST_TTL"])
    response = Response(cached[1], mimetype="application/vc" if linked else "application/vc+jwt")
    response.set_etag(cached[2])
    response.headers["Cache-Control"] = f"public, max-age={ttl}"
    response.vary.add("Accept")
    return conditional(response)


@bp.get("/healthz")
@unlimited
def healthz() -> Response:
    """Answer 200 when the database answers and can take writes, else 503 (within ``HEALTH_TIMEOUT``)."""
    reader, database = context.reader(), context.database()
    min_free = int(current_app.config["HEALTH_MIN_FREE_BYTES"])

    def check() -> bool:
        reader.ping()
        return database.writable(min_free_bytes=min_free)

    healthy = current_app.extensions["liang.health_probe"].run(check, timeout=float(current_app.config["HEALTH_TIMEOUT"]))
    if not healthy:
        response = jsonify({"status": "unavailable"})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify(_log_health() or {"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


def _log_health() -> dict[str, Any] | None:
    """Return the body that reports a stale transparency-log checkpoint, or None when the log is current.

    Still 200: the node verifies badges as well as ever, so a load balancer keeps it; a monitor
    reads ``status`` (docs/transparency.md). Asked only of nodes that sign checkpoints.
    """
    config = current_app.config
    if config["PUBLIC_ONLY"] or not config.get("LOG_CHECKPOINTER", True) or context.encryptor() is None:
        return None  # only a node that signs checkpoints answers for them
    health = context.log_reads().health(clock=context.clock(), checkpoint_seconds=int(config["LOG_CHECKPOINT_SECONDS"]),
                                        resign_seconds=int(config["LOG_RESIGN_SECONDS"]))
    if not health.stale:
        return None
    return {"status": "degraded", "log": {"checkpoint": "stale", "tree_size": health.size, "entries": health.head,
                                          "checkpoint_age_seconds": None if health.age_seconds is None
                                          else int(health.age_seconds)}}
class HealthProbe:
    """Run the health check on a thread of its own, so that a hung database cannot hang /healthz.

    A server that stops answering (SIGSTOP, a network dropping packets) holds a query past any
    server-side timeout. The check waits at most ``timeout`` for its probe; a probe still stuck
    from before is not joined by another (at most one thread is ever stuck), the answer is 503.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None

    def run(self, check: Callable[[], bool], *, timeout: float) -> bool:
        """Return ``check()``, or False if it raised or has not finished within ``timeout`` seconds."""
        result: list[bool] = []

        def probe() -> None:
            try:
                result.append(bool(check()))
            except Exception:  # noqa: BLE001 - any failure means "not healthy"
                result.append(False)

        with self._lock:
            if self._running is not None and self._running.is_alive():
                return False  # the last probe is still waiting on the database: not healthy
            thread = self._running = threading.Thread(target=probe, name="liang-health", daemon=True)
            thread.start()
        thread.join(timeout)
        return bool(result and result[0])


def register(app: Flask) -> None:
    """Mount the public pages and documents, the verify page's cache and the verification counter."""
    app.extensions["liang.health_probe"] = HealthProbe()
    app.register_blueprint(bp)
    install_page_cache(app)
    install_counter(app)


def install_counter(app: Flask) -> None:
    """Count verifications on every node (a public-only one too): the dashboard reads what they write."""
    counter = VerificationCounter(timezone=app.config["TIMEZONE"],
                                  flush_seconds=float(app.config.get("VERIFY_COUNT_FLUSH_SECONDS", 10)))
    app.extensions["liang.verify_counter"] = counter

    @app.after_request
    def _count(response: Response) -> Response:
        # The verify page and JSON status name the badge they answered for (canonical id) in g.
        canonical = g.get("liang_badge_id")
        if canonical is not None and response.status_code in (200, 304):
            if counter.hit(canonical, at=context.clock()()):
                # In the background: a flush is a write transaction (an fsync), and a
                # verification must never wait for one.
                counter.flush_soon(context.database().engine)
        return response

"""Prometheus metrics: verifications, issuance, state changes, complaints, latency.

The metric objects live in this module's own registry (not the global default one) so
that building many apps in one process (tests, the CLI) never registers twice. With
several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before
start: prometheus-client then keeps each worker's values in files there and
``render()`` adds them up (see docs/deployment.md).
"""

from __future__ import annotations

import os
from collections import Counter as _Tally
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import event
from sqlalchemy.orm import Session

from signer.lifecycle import Action
from verifier.audit.service import APPENDED

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Outcome words a verification may be counted under (anything else is "other": bounded cardinality).
OUTCOMES = frozenset({
    "valid", "expired", "not_yet_valid", "suspended", "revoked", "not_found", "malformed", "rate_limited",
    "unavailable", "unsupported_alg", "unknown_key", "key_withdrawn", "bad_signature", "claims",
    "not_official", "no_credential", "mismatch", "invalid_request", "too_large", "error",
})

VERIFICATIONS = Counter("liang_verifications_total", "Verifications answered, by outcome",
                        ["endpoint", "outcome"], registry=REGISTRY)
ISSUANCE = Counter("liang_issuance_total", "Badge credentials issued (issue and approve)", registry=REGISTRY)
STATE_CHANGES = Counter("liang_state_changes_total", "Committed badge state changes, by action", ["action"],
                        registry=REGISTRY)
COMPLAINTS = Counter("liang_complaints_total", "Complaints received", registry=REGISTRY)
LATENCY = Histogram("liang_request_duration_seconds", "Request latency by URL rule", ["endpoint", "method"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
                    registry=REGISTRY)

_ISSUING = {Action.ISSUE.value, Action.APPROVE.value}
_STATE_ACTIONS = {a.value for a in Action} - {Action.ISSUE.value, Action.APPLY.value}


# Labelled children, looked up once: ``labels()`` validates and locks on every call, which
# made metrics one of the costliest steps of a verification. Label values are bounded
# (URL rules, methods, outcome words), so these dicts stay small.
_verification_children: dict[tuple[str, str], Any] = {}
_latency_children: dict[tuple[str, str], Any] = {}


def count_verification(endpoint: str, outcome: str) -> None:
    """Count one verification answer under a bounded outcome word."""
    key = (endpoint, outcome if outcome in OUTCOMES else "other")
    child = _verification_children.get(key)
    if child is None:
        child = _verification_children[key] = VERIFICATIONS.labels(endpoint=key[0], outcome=key[1])
    child.inc()


def count_complaint() -> None:
    """Count one complaint received (called by the complaints feature)."""
    COMPLAINTS.inc()


def observe_latency(endpoint: str, method: str, seconds: float) -> None:
    """Record one request's duration under its URL rule (never the raw path)."""
    key = (endpoint, method)
    child = _latency_children.get(key)
    if child is None:
        child = _latency_children[key] = LATENCY.labels(endpoint=endpoint, method=method)
    child.observe(seconds)


def render() -> tuple[bytes, str]:
    """Return the exposition text and its content type (all workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE
    return generate_latest(REGISTRY), CONTENT_TYPE


# -- issuance and state changes, counted when their audit events commit ---------------------------
def _after_commit(session: Session) -> None:
    appended: list[str] | None = session.info.pop(APPENDED, None)
    if not appended:
        return
    for action, count in _Tally(appended).items():  # an import appends thousands: one increment per action
        if action in _ISSUING:
            ISSUANCE.inc(count)
        if action in _STATE_ACTIONS:
            STATE_CHANGES.labels(action=action).inc(count)


def _after_rollback(session: Session, _transaction: Any) -> None:
    session.info.pop(APPENDED, None)


def install_session_hooks() -> None:
    """Count lifecycle events from committed audit rows (once per process; cheap when idle)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)

"""Prometheus metrics: verifications, issuance, state changes, complaints, latency.

The metric objects live in this module's own registry (not the global default one) so
that building many apps in one process (tests, the CLI) never registers twice. With
several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before
start: prometheus-client then keeps each worker's values in files there and
``render()`` adds them up (see docs/deployment.md).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

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
#: Counted by verifier/audit/metrics.py when the audit events of an issue or a state change commit.
ISSUANCE = Counter("liang_issuance_total", "Badge credentials issued (issue and approve)", registry=REGISTRY)
STATE_CHANGES = Counter("liang_state_changes_total", "Committed badge state changes, by action", ["action"],
                        registry=REGISTRY)
COMPLAINTS = Counter("liang_complaints_total", "Complaints received", registry=REGISTRY)
LATENCY = Histogram("liang_request_duration_seconds", "Request latency by URL rule", ["endpoint", "method"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
                    registry=REGISTRY)

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

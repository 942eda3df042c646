"""What ``liang verify`` answers: the outcome as JSON, with the printable ``lines``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from signer.credentials import VerifiedCredential
from verifier.verification.evidence import Evidence
from verifier.verification.fetch import OfficialOrigin

#: ``status`` of a check whose evidence is too old to decide (exit status 1, like every non-valid answer).
CANNOT_CHECK = "cannot_check"


def invalid(origin: OfficialOrigin, *, reason: str, message: str, badge_id: str | None, kid: str | None,
            now: float) -> dict[str, Any]:
    """Return the outcome for a credential that does not verify."""
    return {"valid": False, "status": "invalid", "reason": reason, "badge_id": badge_id, "kid": kid,
            "revocation": None, "live": "checked" if reason == "not_found" else live_word(origin, None),
            "evidence": evidence_json(origin, now), "lines": [f"INVALID: {message}"]}


def cannot_check(origin: OfficialOrigin, badge_id: str | None, kid: str | None, stale: list[Evidence], now: float, *,
                 why: str | None = None) -> dict[str, Any]:
    """Return the CANNOT_CHECK outcome, naming the age of the evidence that was all there was."""
    cause = "offline" if origin.offline else (origin.unreachable or "the server did not confirm")
    oldest = max(e.age(now) for e in stale)
    subject = badge_id or "the credential"
    return {
        "valid": False, "status": CANNOT_CHECK, "reason": "stale_evidence", "badge_id": badge_id,
        "kid": kid, "revocation": None, "live": live_word(origin, None),
        "evidence": evidence_json(origin, now), "evidence_age_seconds": int(oldest),
        "lines": [f"CANNOT CHECK: {subject}: {cause}, and the cached evidence is too old to decide"
                  + (f" ({why})" if why else ""),
                  f"  evidence: {_ages(stale, now)}",
                  "  check again when the server can be reached"],
    }


def decided(origin: OfficialOrigin, cred: VerifiedCredential, status: str, live: dict[str, Any] | None,
            notes: list[str], now: float) -> dict[str, Any]:
    """Return the outcome for a credential that verified, with its status word."""
    subject = cred.payload["credentialSubject"]
    shop = subject.get("shop", {})
    lines = [f"{status.upper()}: {cred.badge_id} {shop.get('name', '')} ({shop.get('platform', '')})",
             f"  hosts: {' '.join(shop.get('hosts', []))}",
             f"  branch: {subject.get('source', {}).get('name', '')}",
             f"  valid: {cred.payload['validFrom']} .. {cred.payload['validUntil']}",
             f"  signed by key {cred.kid}"]
    revocation = (live or {}).get("revocation")
    if revocation:
        lines.append(f"  revoked: {revocation.get('reason')} at {revocation.get('at')}")
    if live is None:
        cached = [e for e in origin.evidence.values() if not e.from_network]
        why = "offline" if origin.offline else (origin.unreachable or "not available")
        lines.append(f"  live record: {why}; answered from keys and status lists"
                     + (f" ({_ages(cached, now)})" if cached else ""))
    lines.extend(notes)
    return {"valid": status == "valid", "status": status, "badge_id": cred.badge_id,
            "revocation": revocation, "kid": cred.kid, "live": live_word(origin, live),
            "evidence": evidence_json(origin, now), "lines": lines}


def evidence_json(origin: OfficialOrigin, now: float) -> list[dict[str, Any]]:
    """Return the machine-readable list of the evidence this check used."""
    return [e.as_json(now) for e in origin.evidence.values()]


def live_word(origin: OfficialOrigin, live: dict[str, Any] | None) -> str:
    """Return how the live record was had: ``checked``, ``offline`` or ``unavailable``."""
    if live is not None:
        return "checked"
    return "offline" if origin.offline else "unavailable"


def _ages(evidence: list[Evidence], now: float) -> str:
    return ", ".join(f"{_short(e.url)} {int(e.age(now))} s old (ttl {int(e.ttl)} s)" for e in evidence)


def _short(url: str) -> str:
    path = urlsplit(url).path
    return "keys" if path.endswith("jwks.json") else f"status list {path.rsplit('/', 1)[-1]}"

"""Build a badge's OpenBadgeCredential, and its JSON-LD form (the credential without the JWT claims)."""

from __future__ import annotations

import uuid
from typing import Any

from signer.clock import ensure_utc, isoformat_z
from signer.credentials.issuer import OB_CONTEXT, VC_CONTEXT, BadgeClaims, Issuer, achievement


def build_credential(claims: BadgeClaims, *, issuer: Issuer, credential_id: str | None = None) -> dict[str, Any]:
    """Return the OpenBadgeCredential (with JWT claims) for ``claims``."""
    verify_url = issuer.verify_url(claims.badge_id)
    cred_id = credential_id or f"urn:uuid:{uuid.uuid4()}"
    valid_from, valid_until = ensure_utc(claims.valid_from), ensure_utc(claims.valid_until)
    subject = {
        "id": verify_url,
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityType": "name", "hashed": False,
             "identityHash": claims.shop_name},
            {"type": "IdentityObject", "identityType": "identifier", "hashed": False,
             "identityHash": claims.shop_url},
        ],
        "achievement": achievement(issuer),
        "source": {
            "id": issuer.branch_id(claims.branch_code),
            "type": ["Profile"],
            "name": claims.branch_name,
        },
        "shop": {
            "name": claims.shop_name,
            "url": claims.shop_url,
            "platform": claims.platform,
            "hosts": list(claims.hosts),
        },
        # No personal name: a portable credential outlives revocation in every copy (see docs/credentials.md).
        "badge": claims.badge_id,
    }
    statuses = {entry.purpose: entry.as_json() for entry in claims.status_entries}
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT, issuer.context_url],
        "id": cred_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"党员网商 · {claims.shop_name}",
        "issuer": issuer.profile(),
        "validFrom": isoformat_z(valid_from),
        "validUntil": isoformat_z(valid_until),
        "credentialSubject": subject,
    }
    # One entry in credentialStatus (the OB 3.0 schema allows one object), the one every Bitstring
    # Status List verifier reads: the suspension entry, whose bit is set while the badge is suspended
    # AND once it is revoked, so a verifier that reads only standard terms never calls a withdrawn badge
    # valid. Revocation (final) is a second, equally standard entry under the product's term
    # revocationStatus, read by verifiers that know the product's context (docs/credentials.md).
    if "suspension" in statuses:
        credential["credentialStatus"] = statuses["suspension"]
    if "revocation" in statuses:
        credential["revocationStatus"] = statuses["revocation"]
    # JWT claims (Open Badges 3.0, JSON Web Token proof format)
    credential.update(iss=issuer.id, jti=cred_id, sub=verify_url, nbf=int(valid_from.timestamp()),
                      exp=int(valid_until.timestamp()))
    return credential


JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp")
JWT_CLAIMS_SET = frozenset(JWT_CLAIMS)


def linked_data_form(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the credential of a VC-JWT payload without its JWT claims (the JSON-LD form's content)."""
    return {key: value for key, value in payload.items() if key not in JWT_CLAIMS}

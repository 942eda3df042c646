"""The one signing path of badge credentials: new badges, approvals, renewals, re-signing and imports.

Every badge credential the service holds is made here: the VC-JWT (:func:`sign_credential` for
one badge, :func:`sign_many` for a batch — byte for byte the same, the batch through the fast
:class:`~signer.credentials.CredentialEncoder`) and its JSON-LD twin with a Data Integrity proof
by the same key (:func:`linked_data_credential`). :mod:`signer.batch` runs :func:`sign_many` in
worker processes for a large import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.credentials import BadgeClaims, CredentialEncoder, Issuer, build_credential, sign_encoded, sign_jws

__all__ = ["SignedCredential", "linked_data_credential", "sign_credential", "sign_many"]


@dataclass(frozen=True)
class SignedCredential:
    """One badge credential, signed: the compact JWS, its payload and the credential id (``jti``)."""

    jws: str
    payload: dict[str, Any]
    credential_id: str


def sign_credential(claims: BadgeClaims, *, issuer: Issuer, kid: str, private_key: Ed25519PrivateKey,
                    credential_id: str | None = None) -> SignedCredential:
    """Return one badge's credential signed by ``kid`` (a fresh credential id unless one is given)."""
    payload = build_credential(claims, issuer=issuer, credential_id=credential_id)
    return SignedCredential(sign_jws(payload, kid_url=issuer.kid_url(kid), private_key=private_key), payload,
                            str(payload["id"]))


def sign_many(encoder: CredentialEncoder, kid_url: str, private_key: Ed25519PrivateKey,
              jobs: list[tuple[BadgeClaims, str]]) -> list[str]:
    """Return the compact JWS of each (claims, credential id) job, as :func:`sign_credential` would sign it."""
    encode = encoder.encode
    return [sign_encoded(encode(claims, credential_id=cid), kid_url=kid_url, private_key=private_key)
            for claims, cid in jobs]


def linked_data_credential(payload: dict[str, Any], *, issuer: Issuer, kid: str, private_key: Ed25519PrivateKey,
                           now: datetime) -> str:
    """Return the JSON-LD text of a VC-JWT payload's credential with a Data Integrity proof by ``kid``."""
    # Start-up time: the batch's worker processes import this module and never make the JSON-LD form.
    from signer import dataintegrity
    from signer.credentials import linked_data_form

    signed = dataintegrity.sign(linked_data_form(payload), issuer=issuer, kid=kid, private_key=private_key,
                                created=now)
    return json.dumps(signed, ensure_ascii=False, separators=(",", ":"))

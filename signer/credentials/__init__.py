"""Open Badges 3.0 credentials secured as VC-JWT (compact JWS, EdDSA/Ed25519).

One module per job: ``issuer`` (the issuer, its URLs, the plain values a credential
states), ``build`` (the credential and its JSON-LD form), ``encoder`` (the same bytes, fast,
for bulk issuance), ``jws`` (compact JWS: sign, parse) and ``verify`` (header, signature and
claims). Callers import from here.
"""

from __future__ import annotations

from signer.credentials.build import JWT_CLAIMS, JWT_CLAIMS_SET, build_credential, linked_data_form
from signer.credentials.encoder import CredentialEncoder
from signer.credentials.issuer import (
    JWKS_PATH,
    KEYS_PATH,
    NS_PATH,
    OB_CONTEXT,
    VC_CONTEXT,
    BadgeClaims,
    Issuer,
    StatusEntry,
    achievement,
)
from signer.credentials.jws import MAX_JWS_LENGTH, ParsedJws, parse_jws, sign_compact, sign_encoded, sign_jws
from signer.credentials.verify import (
    KeyResolver,
    VerifiedCredential,
    check_claims,
    status_entries,
    verify_credential,
    verify_jws,
)

__all__ = [
    "JWKS_PATH",
    "JWT_CLAIMS",
    "JWT_CLAIMS_SET",
    "KEYS_PATH",
    "MAX_JWS_LENGTH",
    "NS_PATH",
    "OB_CONTEXT",
    "VC_CONTEXT",
    "BadgeClaims",
    "CredentialEncoder",
    "Issuer",
    "KeyResolver",
    "ParsedJws",
    "StatusEntry",
    "VerifiedCredential",
    "achievement",
    "build_credential",
    "check_claims",
    "linked_data_form",
    "parse_jws",
    "sign_compact",
    "sign_encoded",
    "sign_jws",
    "status_entries",
    "verify_credential",
    "verify_jws",
]

"""The JSON-LD form of a badge credential, secured by an embedded Data Integrity proof.

Open Badges 3.0 certifies Ed25519 keys through Data Integrity: a ``DataIntegrityProof``
with the ``eddsa-rdfc-2022`` cryptosuite (W3C VC Data Integrity EdDSA Cryptosuites v1.0,
section 3.3). Both the proof options and the credential are canonicalised with RDF Dataset
Canonicalization (RDFC-1.0, which pyld names ``URDNA2015``), hashed with SHA-256, and the
two hashes, proof options first, are signed with the same Ed25519 key the VC-JWT uses.

Every ``@context`` comes from a local loader: the W3C VC 2.0 and OB 3.0 contexts bundled in
``signer/contexts/`` and the product's own context, built here. Anything else is refused,
so canonicalising never touches the network and a credential cannot pull in a context of
its own. Expansion is strict (JSON-LD "safe mode"): a term no context defines is an error,
never silently dropped, for signing and for verifying alike.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from signer.clock import isoformat_z
from signer.credentials import (
    KEYS_PATH,
    OB_CONTEXT,
    VC_CONTEXT,
    Issuer,
    KeyResolver,
    VerifiedCredential,
    check_claims,
)
from signer.errors import InvalidCredential
from signer.keys import verify_signature

_logger = logging.getLogger(__name__)

CRYPTOSUITE = "eddsa-rdfc-2022"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
#: VC 2.0's registered media type (section 6.3); ``application/vc+ld+json`` (its draft name) is still accepted.
MEDIA_TYPE = "application/vc"
# Limits on a presented JSON-LD credential, checked before canonicalisation: RDFC-1.0 can take
# exponential time on crafted blank-node graphs, and ours has a handful of blank nodes at most.
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_BLANK_NODES = 24
_MAX_DEPTH = 16
_CONTEXTS = Path(__file__).parent / "contexts"
_MULTICODEC_ED25519_PUB = b"\xed\x01"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def _bundled() -> dict[str, dict[str, Any]]:
    return {
        VC_CONTEXT: json.loads((_CONTEXTS / "credentials-v2.json").read_text(encoding="utf-8")),
        OB_CONTEXT: json.loads((_CONTEXTS / "ob-context-3.0.3.json").read_text(encoding="utf-8")),
    }


def product_context(issuer: Issuer) -> dict[str, Any]:
    """Return the JSON-LD context defining the product's own credential terms (served at ``/ns/v1``)."""
    vocab = f"{issuer.context_url}#"
    return {
        "@context": {
            "@version": 1.1,
            "@protected": True,
            # The shop the badge is bound to: the platform and the host names the widget accepts.
            "shop": {
                "@id": f"{vocab}shop",
                "@context": {
                    "@protected": True,
                    "platform": f"{vocab}platform",
                    "hosts": {"@id": f"{vocab}hosts", "@container": "@set"},
                },
            },
            # The badge number as printed (XXXX-XXXX-XXXX); the credential keeps it for life.
            "badge": f"{vocab}badgeNumber",
            # The revocation entry: a BitstringStatusListEntry like credentialStatus, whose one object
            # (the OB 3.0 schema allows one) is the suspension entry, set for suspended and revoked badges.
            "revocationStatus": {"@id": f"{vocab}revocationStatus", "@type": "@id"},
            # Credentials signed before issue 24 carry revocation in credentialStatus and the suspension
            # entry under this term; it stays defined so that they keep expanding.
            "suspensionStatus": {"@id": f"{vocab}suspensionStatus", "@type": "@id"},
            # JWT claim carried in the VC-JWT payload; the VC 2.0 context defines the others.
            "jti": {"@id": "https://www.iana.org/assignments/jwt#jti", "@type": "@id"},
            # For the issuer document: its public transparency log (C2SP tlog-tiles prefix) and the
            # log's signed-note verifier key (docs/transparency.md).
            "transparencyLog": {"@id": f"{vocab}transparencyLog", "@type": "@id"},
            "transparencyLogKey": f"{vocab}transparencyLogKey",
            # For the issuer document: the keys that may sign its credentials (a controller document).
            "assertionMethod": {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id",
                                "@container": "@set"},
        }
    }


class DocumentLoader:
    """A pyld document loader that knows exactly three contexts and fetches nothing."""

    def __init__(self, issuer: Issuer) -> None:
        self._documents = {**_bundled(), issuer.context_url: product_context(issuer)}

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        document = self._documents.get(url)
        if document is None:
            raise jsonld.JsonLdError(f"context {url[:100]} is not one this issuer uses",
                                     "jsonld.LoadDocumentError", code="loading document failed")
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(document)}


class _DroppedTerm(Exception):
    def __init__(self, term: str) -> None:
        super().__init__(term)
        self.term = term


def _refuse_dropped(term: Any) -> None:
    raise _DroppedTerm(str(term))


def canonical_nquads(document: dict[str, Any], *, loader: DocumentLoader) -> str:
    """Return the RDFC-1.0 canonical N-Quads of ``document``; a term no context defines is an error."""
    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    try:
        return str(processor.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                                  "documentLoader": loader}))
    except _DroppedTerm as exc:
        raise InvalidCredential(f"term {exc.term[:60]!r} is defined by no context", reason="claims") from exc
    except jsonld.JsonLdError as exc:
        raise InvalidCredential(f"not valid JSON-LD: {_innermost(exc)[:160]}", reason="malformed") from exc
    except (RecursionError, TypeError, ValueError, KeyError, AttributeError) as exc:
        raise InvalidCredential("not valid JSON-LD", reason="malformed") from exc


def _innermost(exc: jsonld.JsonLdError) -> str:
    """Return the message of the innermost JSON-LD error (pyld wraps a loader's refusal twice)."""
    for _ in range(8):
        inner = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(inner, jsonld.JsonLdError):
            break
        exc = inner
    return str(exc.args[0] if exc.args else exc)


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any], *, loader: DocumentLoader) -> bytes:
    """Return proofConfigHash || transformedDocumentHash (eddsa-rdfc-2022, sections 3.3.4 and 3.3.5)."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = {"@context": unsecured["@context"], **proof_options}
    config_hash = hashlib.sha256(canonical_nquads(config, loader=loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonical_nquads(unsecured, loader=loader).encode("utf-8")).digest()
    return config_hash + document_hash


def sign(document: dict[str, Any], *, issuer: Issuer, kid: str, private_key: Ed25519PrivateKey,
         created: datetime) -> dict[str, Any]:
    """Return ``document`` with an embedded ``DataIntegrityProof`` (eddsa-rdfc-2022) by key ``kid``."""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": isoformat_z(created),
        "verificationMethod": issuer.verification_method(kid),
        "proofPurpose": "assertionMethod",
    }
    signature = private_key.sign(_hash_data(document, options, loader=DocumentLoader(issuer)))
    # A one-element array: the OB 3.0 AchievementCredential schema requires ``proof`` to be an array.
    return {**document, "proof": [{**options, "proofValue": "z" + base58_encode(signature)}]}


def verify(document: Any, *, issuer: Issuer, resolve_key: KeyResolver) -> VerifiedCredential:
    """Verify a JSON-LD badge credential with an embedded proof; raise InvalidCredential."""
    kid = _verify_proof(document, issuer=issuer, resolve_key=resolve_key,
                        context=[VC_CONTEXT, OB_CONTEXT, issuer.context_url])
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    return check_claims(unsecured, issuer=issuer, kid=kid, jwt_claims=False)


def verify_status_list(document: Any, *, issuer: Issuer, resolve_key: KeyResolver) -> dict[str, Any]:
    """Verify a JSON-LD ``BitstringStatusListCredential`` of ``issuer``; return it without its proof."""
    _verify_proof(document, issuer=issuer, resolve_key=resolve_key, context=[VC_CONTEXT])
    types = document.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types or document.get("issuer") != issuer.id:
        raise InvalidCredential("not a status list credential of this issuer", reason="claims")
    return {key: value for key, value in document.items() if key != "proof"}


def _verify_proof(document: Any, *, issuer: Issuer, resolve_key: KeyResolver, context: list[str]) -> str:
    """Check the embedded proof of ``document`` (whose ``@context`` must be ``context``); return the key id."""
    _check_shape(document)
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        raise InvalidCredential("the credential carries no single embedded proof", reason="malformed")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise InvalidCredential("proof is not a DataIntegrityProof with eddsa-rdfc-2022", reason="unsupported_alg")
    if proof.get("proofPurpose") != "assertionMethod":
        raise InvalidCredential("proof purpose must be assertionMethod", reason="claims")
    if "@context" in proof:
        raise InvalidCredential("an embedded proof takes the credential's @context", reason="malformed")
    kid = key_id_from_verification_method(issuer, proof.get("verificationMethod"))
    if kid is None:
        raise InvalidCredential("verificationMethod does not name a key of this issuer", reason="unknown_key")
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise InvalidCredential("proofValue must be multibase base58btc", reason="malformed")
    try:
        signature = base58_decode(proof_value[1:])
    except ValueError as exc:
        raise InvalidCredential("proofValue is not base58btc", reason="malformed") from exc
    if document.get("@context") != context:
        raise InvalidCredential("unexpected @context", reason="claims")
    public_key = resolve_key(kid)  # before canonicalising: an unknown key costs us no work
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    message = _hash_data(document, options, loader=DocumentLoader(issuer))
    verify_signature(_raw(public_key), message, signature)
    return kid


def _check_shape(document: Any) -> None:
    """Refuse a presented document too large, too deep or with too many blank nodes to canonicalise cheaply."""
    if not isinstance(document, dict):
        raise InvalidCredential("a JSON-LD credential is a JSON object", reason="malformed")
    try:
        size = len(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidCredential("credential is not JSON", reason="malformed") from exc
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidCredential("credential is too long", reason="malformed")
    blank = 0
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise InvalidCredential("credential is nested too deeply", reason="malformed")
        if isinstance(value, dict):
            # JSON-LD keywords other than the top-level @context could give the JSON another
            # meaning than the one signed (an inline context aliasing a term); ours use none.
            if any(isinstance(k, str) and k.startswith("@") for k in value if value is not document or k != "@context"):
                raise InvalidCredential("JSON-LD keywords are accepted only as the top-level @context",
                                        reason="malformed")
            node_id = value.get("id", value.get("@id"))
            if node_id is None and "@value" not in value:
                blank += 1
            elif isinstance(node_id, str) and node_id.startswith("_:"):
                raise InvalidCredential("blank node identifiers are not accepted", reason="malformed")
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    if blank > MAX_BLANK_NODES:
        raise InvalidCredential("credential has too many anonymous nodes", reason="malformed")


def key_id_from_verification_method(issuer: Issuer, value: Any) -> str | None:
    """Return the key id a ``verificationMethod`` URL names, or None if it is not one of ours."""
    prefix, suffix = f"{issuer.public_url}{KEYS_PATH}", "/multikey"
    if not isinstance(value, str) or not value.startswith(prefix) or not value.endswith(suffix):
        return None
    kid = value[len(prefix):-len(suffix)]
    return kid if kid and "/" not in kid and "#" not in kid else None


def multikey_document(issuer: Issuer, kid: str, public_raw: bytes) -> dict[str, Any]:
    """Return the Multikey verification method document for an Ed25519 public key."""
    return {
        "@context": MULTIKEY_CONTEXT,
        "id": issuer.verification_method(kid),
        "type": "Multikey",
        "controller": issuer.id,
        "publicKeyMultibase": "z" + base58_encode(_MULTICODEC_ED25519_PUB + public_raw),
    }


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def base58_encode(data: bytes) -> str:
    """Return the base58btc (Bitcoin alphabet) text of ``data``."""
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(_BASE58[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def base58_decode(text: str) -> bytes:
    """Decode base58btc text; raise ValueError on any other character."""
    if len(text) > 256:
        raise ValueError("base58 text too long")
    number = 0
    for char in text:
        digit = _BASE58.find(char)
        if digit < 0:
            raise ValueError("not base58btc")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body

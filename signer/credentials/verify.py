"""Verify badge credentials (VC-JWT): header, signature, and claims that agree with the credential.

``alg`` must be ``EdDSA`` (``none`` and every other value are refused before any key is
looked up), ``kid`` must name one of our keys, no ``crit``, no header naming its own key,
and the JWT claims must agree with the credential they wrap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signer.clock import ensure_utc
from signer.credentials.build import JWT_CLAIMS_SET
from signer.credentials.issuer import OB_CONTEXT, VC_CONTEXT, Issuer, StatusEntry
from signer.credentials.jws import ParsedJws, parse_jws
from signer.errors import InvalidCredential
from signer.keys import verify_signature

# Headers that would let a token name its own key: the issuer's JWKS is the
# only source of keys, so a token carrying any of these is refused outright.
_KEY_CARRYING_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"})
_DECIMAL = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose signature and claims checked out."""

    kid: str
    payload: dict[str, Any]
    valid_from: datetime
    valid_until: datetime

    @property
    def credential_id(self) -> str:
        """Return the credential id (``jti``)."""
        return str(self.payload["id"])

    @property
    def badge_id(self) -> str:
        """Return the grouped badge id the credential speaks for."""
        return str(self.payload["credentialSubject"].get("badge", ""))

    @property
    def status_entries(self) -> list[StatusEntry]:
        """Return the credential's status-list entries (``credentialStatus`` and the product's terms)."""
        return status_entries(self.payload)


#: Where a credential carries status entries, in every form it was ever signed in.
STATUS_TERMS = ("credentialStatus", "revocationStatus", "suspensionStatus")


def status_entries(credential: dict[str, Any]) -> list[StatusEntry]:
    """Return the status-list entries of a credential, whichever form it was signed in.

    Since issue 24 ``credentialStatus`` is the suspension entry (its bit also set once revoked) and
    ``revocationStatus`` the revocation entry; from issue 15, ``credentialStatus`` was revocation and
    ``suspensionStatus`` suspension; before that, both entries were in a ``credentialStatus`` array.
    Each entry says its own ``statusPurpose``, so all three read the same way.
    """
    raw_entries: list[Any] = []
    for key in STATUS_TERMS:
        value = credential.get(key)
        if value is None:
            continue
        raw_entries.extend(value if isinstance(value, list) else [value])
    entries = []
    for raw in raw_entries:
        if raw.get("type") != "BitstringStatusListEntry":
            raise InvalidCredential("unknown credentialStatus type", reason="claims")
        index = raw["statusListIndex"]
        if not isinstance(index, str) or not _DECIMAL.fullmatch(index):
            raise InvalidCredential("statusListIndex must be a decimal string", reason="claims")
        entries.append(StatusEntry(str(raw["statusPurpose"]), str(raw["statusListCredential"]), int(index)))
    return entries


KeyResolver = Callable[[str], Ed25519PublicKey]


def verify_jws(token: str, *, issuer: Issuer, resolve_key: KeyResolver) -> ParsedJws:
    """Check the header and signature of a JWS issued by ``issuer``; return it parsed."""
    parsed = parse_jws(token)
    header = parsed.header
    alg = header.get("alg")
    if alg != "EdDSA":
        raise InvalidCredential(f"unsupported alg {str(alg)[:20]!r}", reason="unsupported_alg")
    if "crit" in header:
        raise InvalidCredential("critical header extensions are not supported", reason="malformed")
    if _KEY_CARRYING_HEADERS & header.keys():
        raise InvalidCredential("a credential must not name its own key", reason="unknown_key")
    key_id = issuer.key_id_from_kid(header.get("kid"))
    if key_id is None:
        raise InvalidCredential("kid does not name a key of this issuer", reason="unknown_key")
    public_key = resolve_key(key_id)
    public_raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    verify_signature(public_raw, parsed.signing_input, parsed.signature)
    return parsed


def verify_credential(token: str, *, issuer: Issuer, resolve_key: KeyResolver) -> VerifiedCredential:
    """Verify a badge credential's signature and internal consistency; raise InvalidCredential."""
    parsed = verify_jws(token, issuer=issuer, resolve_key=resolve_key)
    return check_claims(parsed.payload, issuer=issuer, kid=cast(str, issuer.key_id_from_kid(parsed.header["kid"])),
                        jwt_claims=True)


def check_claims(payload: dict[str, Any], *, issuer: Issuer, kid: str, jwt_claims: bool) -> VerifiedCredential:
    """Check a signed credential's content (either form); raise InvalidCredential."""
    try:
        types = payload["type"]
        if "OpenBadgeCredential" not in types or "VerifiableCredential" not in types:
            raise InvalidCredential("not an OpenBadgeCredential", reason="claims")
        if payload["@context"][:2] != [VC_CONTEXT, OB_CONTEXT]:
            raise InvalidCredential("unexpected @context", reason="claims")
        issuer_obj = payload["issuer"]
        issuer_id = issuer_obj["id"] if isinstance(issuer_obj, dict) else issuer_obj
        if issuer_id != issuer.id:
            raise InvalidCredential("credential names another issuer", reason="claims")
        valid_from = datetime.fromisoformat(payload["validFrom"].replace("Z", "+00:00"))
        valid_until = datetime.fromisoformat(payload["validUntil"].replace("Z", "+00:00"))
        if jwt_claims:
            if payload["iss"] != issuer.id:
                raise InvalidCredential("credential names another issuer", reason="claims")
            if payload["jti"] != payload["id"]:
                raise InvalidCredential("jti does not match the credential id", reason="claims")
            if payload["sub"] != payload["credentialSubject"]["id"]:
                raise InvalidCredential("sub does not match the subject", reason="claims")
            if int(valid_from.timestamp()) != payload["nbf"] or int(valid_until.timestamp()) != payload["exp"]:
                raise InvalidCredential("nbf/exp disagree with validFrom/validUntil", reason="claims")
        elif JWT_CLAIMS_SET & payload.keys():
            raise InvalidCredential("JWT claims belong in the VC-JWT form only", reason="claims")
        verified = VerifiedCredential(kid=kid, payload=payload, valid_from=ensure_utc(valid_from),
                                      valid_until=ensure_utc(valid_until))
        verified.status_entries  # noqa: B018 - parse now so malformed entries fail here
        str(payload["id"]), verified.badge_id  # noqa: B018 - the same for the ids callers read
    except InvalidCredential:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidCredential("credential is missing required fields", reason="claims") from exc
    return verified

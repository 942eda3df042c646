"""Open Badges 3.0 credentials secured as VC-JWT (compact JWS, EdDSA/Ed25519).

Signing and verification are written directly on ``cryptography`` so that
every check is explicit: exactly three parts, strict base64url, ``alg`` must be
``EdDSA`` (``none`` and every other value are refused before any key is
looked up), ``kid`` must name one of our keys, no ``crit``, and the JWT claims
must agree with the credential they wrap.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signer.clock import ensure_utc, isoformat_z
from signer.errors import InvalidCredential
from signer.keys import b64url, b64url_decode, verify_signature

_logger = logging.getLogger(__name__)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWKS_PATH = "/.well-known/jwks.json"
KEYS_PATH = "/keys/"
#: Path of the JSON-LD context that defines the product's own credential terms.
NS_PATH = "/ns/v1"
# A compact JWS of ours is a few kilobytes; anything far larger is refused
# before parsing so that a hostile upload costs us nothing.
MAX_JWS_LENGTH = 64 * 1024
# Headers that would let a token name its own key: the issuer's JWKS is the
# only source of keys, so a token carrying any of these is refused outright.
_KEY_CARRYING_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"})


@dataclass(frozen=True)
class StatusEntry:
    """Where a badge's bit lives in a status list."""

    purpose: str  # revocation | suspension
    list_url: str
    index: int

    def as_json(self) -> dict[str, str]:
        """Return the ``BitstringStatusListEntry`` object (W3C Bitstring Status List v1.0)."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


@dataclass(frozen=True)
class BadgeClaims:
    """Everything a badge credential states, as plain values."""

    badge_id: str  # grouped display form
    shop_name: str
    shop_url: str
    platform: str
    hosts: tuple[str, ...]
    branch_code: str
    branch_name: str
    valid_from: datetime
    valid_until: datetime
    status_entries: tuple[StatusEntry, ...]


@dataclass(frozen=True)
class Issuer:
    """The committee that issues every badge."""

    public_url: str
    name: str = "网商党委"

    @property
    def id(self) -> str:
        """Return the issuer's id (a URL on the public origin)."""
        return f"{self.public_url}/issuer"

    @property
    def jwks_url(self) -> str:
        """Return the URL of the published keys."""
        return f"{self.public_url}{JWKS_PATH}"

    @property
    def context_url(self) -> str:
        """Return the URL of the JSON-LD context for the product's own terms."""
        return f"{self.public_url}{NS_PATH}"

    def kid_url(self, kid: str) -> str:
        """Return the JWS ``kid`` header for key ``kid``: a URL that dereferences to that one JWK."""
        return f"{self.public_url}{KEYS_PATH}{kid}"

    def key_id_from_kid(self, kid_url: Any) -> str | None:
        """Return the key id a ``kid`` header names, in the current or the earlier ``jwks.json#`` form."""
        if not isinstance(kid_url, str):
            return None
        for prefix in (f"{self.public_url}{KEYS_PATH}", f"{self.jwks_url}#"):
            if kid_url.startswith(prefix):
                key_id = kid_url[len(prefix):]
                if key_id and "/" not in key_id and "#" not in key_id:
                    return key_id
        return None

    def verification_method(self, kid: str) -> str:
        """Return the Data Integrity ``verificationMethod`` for key ``kid`` (a Multikey document)."""
        return f"{self.public_url}{KEYS_PATH}{kid}/multikey"

    @property
    def achievement_id(self) -> str:
        """Return the id of the one Achievement every badge attests."""
        return f"{self.public_url}/achievements/party-member-merchant"

    def branch_id(self, code: str) -> str:
        """Return the id of a branch's Profile."""
        return f"{self.public_url}/branches/{code}"

    def verify_url(self, badge_id: str) -> str:
        """Return the verification URL for a (grouped) badge id."""
        return f"{self.public_url}/v/{badge_id}"

    def profile(self) -> dict[str, Any]:
        """Return the issuer ``Profile`` object."""
        return {"id": self.id, "type": ["Profile"], "name": self.name, "url": self.public_url}


def achievement(issuer: Issuer) -> dict[str, Any]:
    """Return the one ``Achievement`` every badge attests (also served at its id)."""
    return {
        "id": issuer.achievement_id,
        "type": ["Achievement"],
        "name": "党员网商",
        "description": "该网店经营者是中共党员，由所在网商党支部核实并亮明身份，接受消费者监督。",
        "criteria": {
            "narrative": "经营者为网商党委所属支部正式党员，本人申请并经支部审核，店铺信息真实。"
        },
    }


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
    # One entry in credentialStatus (the OB 3.0 schema allows one object): revocation, which every
    # Bitstring Status List verifier checks. Suspension is a second, equally standard entry under
    # the product's term suspensionStatus, read by our verifiers (docs/credentials.md).
    if "revocation" in statuses:
        credential["credentialStatus"] = statuses["revocation"]
    if "suspension" in statuses:
        credential["suspensionStatus"] = statuses["suspension"]
    # JWT claims (Open Badges 3.0, JSON Web Token proof format)
    credential.update(iss=issuer.id, jti=cred_id, sub=verify_url, nbf=int(valid_from.timestamp()),
                      exp=int(valid_until.timestamp()))
    return credential


JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp")
JWT_CLAIMS_SET = frozenset(JWT_CLAIMS)


def linked_data_form(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the credential of a VC-JWT payload without its JWT claims (the JSON-LD form's content)."""
    return {key: value for key, value in payload.items() if key not in JWT_CLAIMS}


def sign_jws(payload: dict[str, Any], *, kid_url: str, private_key: Ed25519PrivateKey) -> str:
    """Return the compact JWS (EdDSA) of a JSON ``payload`` under our header."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return sign_encoded(body, kid_url=kid_url, private_key=private_key)


def sign_encoded(body: bytes, *, kid_url: str, private_key: Ed25519PrivateKey) -> str:
    """Return the compact JWS (EdDSA) of an already serialised JSON ``body`` under our header."""
    signing_input = f"{_our_header(kid_url)}.{b64url(body)}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


@lru_cache(maxsize=64)
def _our_header(kid_url: str) -> str:
    # The same few bytes for every credential a key signs: encode them once.
    return _encode_json({"alg": "EdDSA", "kid": kid_url, "typ": "JWT"})


def sign_compact(header: dict[str, Any], payload: bytes, *, private_key: Ed25519PrivateKey) -> str:
    """Return a compact JWS of raw ``payload`` bytes with ``header`` (RFC 7515, EdDSA per RFC 8037)."""
    signing_input = f"{_encode_json(header)}.{b64url(payload)}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def _encode_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# -- fast serialisation for bulk issuance ------------------------------------------------------
# A credential is a fixed skeleton around a dozen values. The encoder below serialises the
# skeleton once, from build_credential itself, with placeholders where the values go, and
# then only escapes each value per credential. Placeholders: "\x00name\x00" stands inside a JSON
# string (the value's escaped text is spliced in); "\x01name\x01" stands for JSON text that
# replaces the whole quoted placeholder (numbers, and the members of a list).
_PLACEHOLDER = re.compile(r'\\u0000([a-z_]+)\\u0000|"\\u0001([a-z_]+)\\u0001"')
_escape = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses for str


def _inner(name: str) -> str:
    return f"\x00{name}\x00"


def _whole(name: str) -> str:
    return f"\x01{name}\x01"


def _format_template(value: Any) -> str:
    """Return ``str.format`` text for a JSON value with placeholders in it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    out, last = [], 0
    for match in _PLACEHOLDER.finditer(text):
        out.append(text[last:match.start()].replace("{", "{{").replace("}", "}}"))
        out.append("{" + (match.group(1) or match.group(2)) + "}")
        last = match.end()
    out.append(text[last:].replace("{", "{{").replace("}", "}}"))
    return "".join(out)


@lru_cache(maxsize=4096)
def _time_parts(moment: datetime) -> tuple[str, str]:
    utc = ensure_utc(moment)
    return isoformat_z(utc), str(int(utc.timestamp()))


def _text(value: str) -> str:
    return _escape(value)[1:-1]


_STATUS_PURPOSES = ("revocation", "suspension")
_DECIMAL = re.compile(r"[0-9]{1,10}")  # the entries every badge carries, in this order


class CredentialEncoder:
    """Serialise badge credentials of one issuer fast, byte for byte as ``build_credential`` + ``sign_jws``."""

    def __init__(self, issuer: Issuer) -> None:
        self._issuer = issuer
        sample = BadgeClaims(
            badge_id=_inner("badge_id"), shop_name=_inner("shop_name"),
            shop_url=_inner("shop_url"), platform=_inner("platform"), hosts=(_whole("hosts"),),
            branch_code=_inner("branch_code"), branch_name=_inner("branch_name"),
            valid_from=datetime(2000, 1, 1, tzinfo=UTC), valid_until=datetime(2000, 1, 2, tzinfo=UTC),
            status_entries=tuple(StatusEntry(purpose, _inner(f"{purpose}_list"), cast(int, _inner(f"{purpose}_index")))
                                 for purpose in _STATUS_PURPOSES),
        )
        payload = build_credential(sample, issuer=issuer, credential_id=_inner("credential_id"))
        payload.update(validFrom=_inner("valid_from"), validUntil=_inner("valid_until"), nbf=_whole("nbf"),
                       exp=_whole("exp"))
        self._credential = _format_template(payload).format
        self._fast = True
        self._fast = self._agrees()

    def _agrees(self) -> bool:
        """Check the templates against the reference serialisation once (they are derived from it)."""
        probe = BadgeClaims(
            badge_id='7K3M-9QX2-HT4B"\\', shop_name="{店}\n\u2028\x1f",
            shop_url="https://x.example/?a=1&b=%7B", platform="taobao", hosts=("x.example", "xn--fsq.example"),
            branch_code="B01", branch_name="第一支部",
            valid_from=datetime(2026, 11, 25, 10, tzinfo=UTC), valid_until=datetime(2027, 11, 25, 10, tzinfo=UTC),
            status_entries=(StatusEntry("revocation", "https://a.example/status/a1", 5),
                            StatusEntry("suspension", "https://a.example/status/b2", 131071)),
        )
        reference = json.dumps(build_credential(probe, issuer=self._issuer, credential_id="urn:uuid:x"),
                               ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if self.encode(probe, credential_id="urn:uuid:x") == reference:
            return True
        _logger.warning("fast credential encoding disagrees with build_credential; using the slow path")
        return False

    def encode(self, claims: BadgeClaims, *, credential_id: str) -> bytes:
        """Return the UTF-8 JSON payload ``sign_jws(build_credential(claims, ...))`` would sign."""
        entries = {e.purpose: e for e in claims.status_entries}
        if not self._fast or tuple(e.purpose for e in claims.status_entries) != _STATUS_PURPOSES:
            payload = build_credential(claims, issuer=self._issuer, credential_id=credential_id)
            return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        valid_from, nbf = _time_parts(claims.valid_from)
        valid_until, exp = _time_parts(claims.valid_until)
        revocation, suspension = entries["revocation"], entries["suspension"]
        return self._credential(
            badge_id=_text(claims.badge_id),
            shop_name=_text(claims.shop_name), shop_url=_text(claims.shop_url), platform=_text(claims.platform),
            hosts=",".join(map(_escape, claims.hosts)), branch_code=_text(claims.branch_code),
            branch_name=_text(claims.branch_name), credential_id=_text(credential_id), valid_from=valid_from,
            valid_until=valid_until, nbf=nbf, exp=exp,
            revocation_list=_text(revocation.list_url), revocation_index=int(revocation.index),
            suspension_list=_text(suspension.list_url), suspension_index=int(suspension.index),
        ).encode("utf-8")


@dataclass(frozen=True)
class ParsedJws:
    """A compact JWS split and decoded, signature not yet checked."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_jws(token: str) -> ParsedJws:
    """Split and decode a compact JWS without checking it; raise InvalidCredential if malformed."""
    if not isinstance(token, str):
        raise InvalidCredential("credential must be a string", reason="malformed")
    token = token.strip()
    if len(token) > MAX_JWS_LENGTH:
        raise InvalidCredential("credential is too long", reason="malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidCredential("a compact JWS has three parts", reason="malformed")
    try:
        header = json.loads(_canonical_b64url_decode(parts[0]), object_pairs_hook=_no_duplicates)
        payload = json.loads(_canonical_b64url_decode(parts[1]), object_pairs_hook=_no_duplicates)
        signature = _canonical_b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCredential("credential is not valid base64url JSON", reason="malformed") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidCredential("JWS header and payload must be JSON objects", reason="malformed")
    return ParsedJws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _canonical_b64url_decode(text: str) -> bytes:
    """Decode strict base64url and refuse non-canonical spellings.

    The last symbol of a part may carry unused low bits; accepting only the
    canonical spelling gives one credential exactly one text (no malleable copies).
    """
    data = b64url_decode(text)
    if b64url(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing duplicate member names (RFC 7515 section 4: reject or last wins)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name in JSON object")
    return obj


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
        """Return the credential's status-list entries (``credentialStatus`` and ``suspensionStatus``)."""
        return status_entries(self.payload)


def status_entries(credential: dict[str, Any]) -> list[StatusEntry]:
    """Return the status-list entries of a credential, new form or the earlier array form.

    Since issue 15 ``credentialStatus`` is one object (revocation) and the suspension entry is
    ``suspensionStatus``; credentials signed before carry both entries in a ``credentialStatus`` array.
    """
    raw_entries: list[Any] = []
    for key in ("credentialStatus", "suspensionStatus"):
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

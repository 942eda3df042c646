"""Compact JWS (EdDSA/Ed25519), written directly on ``cryptography`` so that every check is explicit.

Parsing takes exactly three parts in strict, canonical base64url and JSON objects without
duplicate members; ``signer.credentials.verify`` then checks the header and the signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.errors import InvalidCredential
from signer.keys import b64url, b64url_decode

# A compact JWS of ours is a few kilobytes; anything far larger is refused
# before parsing so that a hostile upload costs us nothing.
MAX_JWS_LENGTH = 64 * 1024


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

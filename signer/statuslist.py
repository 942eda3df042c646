"""W3C Bitstring Status List v1.0: bit operations, encoding, list credentials."""

from __future__ import annotations

import gzip
import io
import json
import secrets
from collections.abc import Callable, Container
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer import dataintegrity
from signer.clock import isoformat_z
from signer.credentials import VC_CONTEXT, Issuer, sign_compact
from signer.errors import InvalidCredential
from signer.keys import b64url, b64url_decode

#: Minimum size the spec requires (16 KiB) so that one badge hides among many.
LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")
# Refuse an encoded list that would inflate past this: a hostile server must
# not be able to exhaust a verifier's memory (gzip bomb).
_MAX_DECODED_BYTES = 16 * 1024 * 1024


def empty_bits(size: int = LIST_SIZE) -> bytearray:
    """Return an all-zero bitstring of ``size`` bits."""
    if size % 8 or size < LIST_SIZE:
        raise ValueError("a status list has a multiple of 8 bits and at least 131072")
    return bytearray(size // 8)


def get_bit(bits: bytes, index: int) -> bool:
    """Return bit ``index``; index 0 is the most significant bit of the first byte."""
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status index {index} outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(bits: bytearray, index: int, value: bool) -> None:
    """Set bit ``index`` to ``value`` in place."""
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"status index {index} outside the list")
    mask = 0x80 >> (index % 8)
    if value:
        bits[index // 8] |= mask
    else:
        bits[index // 8] &= ~mask & 0xFF


def encode_bits(bits: bytes) -> str:
    """Return the multibase (``u``, base64url) GZIP encoding of ``bits``."""
    # mtime=0 keeps the encoding deterministic, so equal lists give equal ETags.
    return "u" + b64url(gzip.compress(bytes(bits), mtime=0))


def decode_bits(encoded: str) -> bytes:
    """Decode an ``encodedList`` value; raise InvalidCredential when malformed."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise InvalidCredential("encodedList must be multibase base64url", reason="malformed")
    try:
        compressed = b64url_decode(encoded[1:])
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as fh:
            data = fh.read(_MAX_DECODED_BYTES + 1)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidCredential("encodedList is not valid GZIP base64url", reason="malformed") from exc
    if len(data) > _MAX_DECODED_BYTES:
        raise InvalidCredential("encodedList is too large", reason="malformed")
    if len(data) * 8 < LIST_SIZE:
        raise InvalidCredential("status list is shorter than 131072 entries", reason="malformed")
    return data


def random_index(taken: Container[int], *, size: int = LIST_SIZE, attempts: int = 64) -> int | None:
    """Return a random free index, or None if none was found (the list is nearly full)."""
    for _ in range(attempts):
        index = secrets.randbelow(size)
        if index not in taken:
            return index
    return None


class IndexDraws:
    """Random free indexes for many slots at once, from the OS CSPRNG read a block at a time.

    Each draw is uniform, as with :func:`random_index`; only the system call per index
    (``secrets.randbelow``, two on average for a power-of-two list size) is saved.
    """

    _WIDTH = 4  # bytes per candidate: list sizes stay far below 2**32

    def __init__(self, *, read: Callable[[int], bytes] = secrets.token_bytes, block: int = 4096) -> None:
        self._read = read
        self._block = block - block % self._WIDTH or self._WIDTH
        self._buffer = b""
        self._pos = 0

    def _below(self, size: int) -> int:
        if not 0 < size <= 1 << (8 * self._WIDTH):
            raise ValueError(f"cannot draw below {size}")
        mask = (1 << (size - 1).bit_length()) - 1
        while True:  # rejection sampling: a masked candidate at or past size is drawn again
            if self._pos + self._WIDTH > len(self._buffer):
                self._buffer, self._pos = self._read(self._block), 0
            candidate = int.from_bytes(self._buffer[self._pos:self._pos + self._WIDTH], "big") & mask
            self._pos += self._WIDTH
            if candidate < size:
                return candidate

    def random_index(self, taken: Container[int], *, size: int = LIST_SIZE, attempts: int = 64) -> int | None:
        """Return a random free index, or None if none was found (the list is nearly full)."""
        for _ in range(attempts):
            index = self._below(size)
            if index not in taken:
                return index
        return None


def build_list_credential(
    *, issuer: Issuer, list_url: str, purpose: str, bits: bytes, valid_from: datetime, ttl_seconds: int
) -> dict[str, Any]:
    """Return a ``BitstringStatusListCredential`` payload with JWT claims."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown status purpose {purpose!r}")
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.id,
        "validFrom": isoformat_z(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            # ttl is in milliseconds per the spec; it equals Cache-Control max-age.
            "ttl": ttl_seconds * 1000,
            "encodedList": encode_bits(bits),
        },
        # JWT claims the VC 2.0 context defines (no ``jti``: no context a list names defines it, and
        # JSON-LD safe mode refuses an undefined term).
        "iss": issuer.id,
        "sub": f"{list_url}#list",
        "nbf": int(valid_from.timestamp()),
    }


#: The JWT claims of a list's VC-JWT payload, left out of its JSON-LD form.
LIST_JWT_CLAIMS = frozenset({"iss", "sub", "nbf", "jti"})


def sign_list_linked_data(payload: dict[str, Any], *, issuer: Issuer, kid: str, private_key: Ed25519PrivateKey,
                          created: datetime) -> str:
    """Return the JSON-LD text of a list credential (its VC-JWT payload without the JWT claims) with an
    ``eddsa-rdfc-2022`` Data Integrity proof: what stock Bitstring Status List verifiers load and check."""
    document = {key: value for key, value in payload.items() if key not in LIST_JWT_CLAIMS}
    signed = dataintegrity.sign(document, issuer=issuer, kid=kid, private_key=private_key, created=created)
    return json.dumps(signed, ensure_ascii=False, separators=(",", ":"))


#: JOSE header type of a status list credential: a VC secured with JOSE (W3C VC-JOSE-COSE, section 3.1.1),
#: the media type it is served with.
LIST_TYP = "vc+jwt"


def sign_list_credential(payload: dict[str, Any], *, kid_url: str, private_key: Ed25519PrivateKey) -> str:
    """Return the compact JWS of a status list credential (``typ`` ``vc+jwt``, ``cty`` ``vc``)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header = {"alg": "EdDSA", "kid": kid_url, "typ": LIST_TYP, "cty": "vc"}
    return sign_compact(header, body, private_key=private_key)

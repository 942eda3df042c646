"""Note key strings: ``<name>+<hex key id>+<base64(type || key)>`` and ``PRIVATE+KEY+...`` (C2SP signed-note).

Types: ``0x01`` a plain Ed25519 note key (the log's checkpoint key), ``0x04`` an Ed25519
``cosignature/v1`` key (a witness). The key id is checked against the key on every parse.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.tlog.cosignature import CosignatureSigner, CosignatureVerifier
from signer.tlog.errors import KeyFormatError, MalformedNote
from signer.tlog.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    b64decode,
    is_valid_name,
    key_id,
)

_HEX8 = re.compile(r"[0-9a-f]{8}")


def _split_key(text: str, parts: int) -> list[str]:
    if not isinstance(text, str):
        raise KeyFormatError("a key is text")
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise KeyFormatError("malformed key")
    return fields


def parse_verifier_key(vkey: str) -> Ed25519Verifier:
    """Parse ``<name>+<hex8>+<base64(type || key)>`` (types 0x01 note key, 0x04 cosigner key); check the id."""
    name, hash16, key64 = _split_key(vkey, 3)
    if not is_valid_name(name) or not _HEX8.fullmatch(hash16):
        raise KeyFormatError("malformed verifier key")
    try:
        key = b64decode(key64)
    except MalformedNote as exc:
        raise KeyFormatError("malformed verifier key") from exc
    if not key or int(hash16, 16) != key_id(name, key):
        raise KeyFormatError("verifier key id does not match its key")
    alg, public = key[0], key[1:]
    if len(public) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    if alg == ALG_ED25519:
        return Ed25519Verifier(name, public)
    if alg == ALG_COSIGNATURE_V1:
        return CosignatureVerifier(name, public)
    raise KeyFormatError(f"unknown key type {alg:#04x}")


def parse_signer_key(skey: str) -> Ed25519Signer:
    """Parse ``PRIVATE+KEY+<name>+<hex8>+<base64(type || seed)>`` (types 0x01 and 0x04); check the id."""
    priv1, priv2, name, hash16, key64 = _split_key(skey, 5)
    if priv1 != "PRIVATE" or priv2 != "KEY" or not is_valid_name(name) or not _HEX8.fullmatch(hash16):
        raise KeyFormatError("malformed signer key")
    try:
        key = b64decode(key64)
    except MalformedNote as exc:
        raise KeyFormatError("malformed signer key") from exc
    if len(key) != 33 or key[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise KeyFormatError("malformed signer key")
    private = Ed25519PrivateKey.from_private_bytes(key[1:])
    signer = Ed25519Signer(name, private) if key[0] == ALG_ED25519 else CosignatureSigner(name, private)
    if signer.key_id != int(hash16, 16):
        raise KeyFormatError("signer key id does not match its key")
    return signer


def generate_key(name: str, *, cosigner: bool = False) -> tuple[str, str]:
    """Return a new ``(signer key, verifier key)`` pair for ``name`` (a cosigner key with type 0x04)."""
    if not is_valid_name(name):
        raise KeyFormatError(f"invalid key name {name!r}")
    private = Ed25519PrivateKey.generate()
    signer = CosignatureSigner(name, private) if cosigner else Ed25519Signer(name, private)
    return signer.skey(), signer.verifier.vkey()

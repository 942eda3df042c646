"""Ed25519 signing keys: generation, encryption at rest, the keyring and JWKS.

Private keys are stored encrypted with AES-256-GCM under a key-encryption key
(KEK) that lives outside the database (a file in the instance directory with
mode 0600, or an environment variable). The key id is bound into the
ciphertext as associated data, so a ciphertext moved to another row does not
decrypt. A database dump or backup alone never yields a signing key, and a
node started without the KEK can verify but never sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signer.errors import InvalidCredential, KeyStoreError, KeyUnavailable

_logger = logging.getLogger(__name__)

ACTIVE = "active"  # signs new credentials
RETIRED = "retired"  # rotated out: published while live badges still use it
COMPROMISED = "compromised"  # withdrawn at once: everything it signed fails
KEY_STATES = (ACTIVE, RETIRED, COMPROMISED)


def b64url(data: bytes) -> str:
    """Return unpadded base64url text for ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode strict unpadded base64url text; raise ValueError on anything else."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise ValueError("not unpadded base64url")
    if any(ch not in _B64URL for ch in text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def verify_signature(public_raw: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 ``signature`` of ``message`` by raw public key; raise InvalidCredential."""
    if not isinstance(public_raw, bytes) or len(public_raw) != 32:
        raise InvalidCredential("an Ed25519 public key is 32 bytes", reason="unknown_key")
    if not isinstance(signature, bytes) or len(signature) != 64:
        raise InvalidCredential("an Ed25519 signature is 64 bytes", reason="bad_signature")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(public_raw)
        public_key.verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        # ValueError: a public key that is not a valid curve point encoding.
        raise InvalidCredential("signature does not verify", reason="bad_signature") from exc


def thumbprint(public_raw: bytes) -> str:
    """Return the RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(public_raw)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("ascii")
    return b64url(hashlib.sha256(canonical).digest())


def public_jwk(public_raw: bytes) -> dict[str, str]:
    """Return the public JWK (never ``d``) for an Ed25519 public key."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(public_raw),
        "kid": thumbprint(public_raw),
        "alg": "EdDSA",
        "use": "sig",
    }


class KeyEncryptor:
    """Encrypt and decrypt private keys with a 32-byte key-encryption key."""

    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise KeyStoreError("the key-encryption key must be 32 bytes")
        self._aead = AESGCM(kek)

    def __repr__(self) -> str:  # never show key material, even in a debugger
        return "KeyEncryptor(<hidden>)"

    def encrypt(self, kid: str, private_raw: bytes) -> bytes:
        """Return nonce || ciphertext of ``private_raw``, bound to ``kid``."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, private_raw, kid.encode("ascii"))

    def decrypt(self, kid: str, blob: bytes) -> bytes:
        """Return the raw private key inside ``blob`` or raise KeyStoreError."""
        try:
            return self._aead.decrypt(blob[:12], blob[12:], kid.encode("ascii"))
        except (InvalidTag, ValueError) as exc:
            raise KeyStoreError(
                f"private key {kid} does not decrypt with this key-encryption key"
            ) from exc


def load_or_create_kek(path: str, *, env_value: str | None = None, create: bool = True) -> bytes | None:
    """Return the KEK from ``env_value`` (base64url) or the file at ``path``; create it if asked."""
    if env_value:
        try:
            kek = b64url_decode(env_value.strip())
        except ValueError as exc:
            raise KeyStoreError("LIANG_KEY_ENCRYPTION_KEY is not base64url") from exc
        if len(kek) != 32:
            raise KeyStoreError("LIANG_KEY_ENCRYPTION_KEY must decode to 32 bytes")
        return kek
    if os.path.exists(path):
        with open(path, "rb") as fh:
            data = fh.read().strip()
        try:
            kek = b64url_decode(data.decode("ascii"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeyStoreError(f"{path} does not hold a base64url key") from exc
        if len(kek) != 32:
            raise KeyStoreError(f"{path} must hold 32 bytes")
        return kek
    if not create:
        return None
    kek = secrets.token_bytes(32)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(b64url(kek).encode("ascii") + b"\n")
    _logger.info("created key-encryption key file %s", path)
    return kek


@dataclass(frozen=True)
class KeyRecord:
    """A signing key as stored: public part in clear, private part encrypted."""

    kid: str
    public_raw: bytes
    encrypted_private: bytes | None = field(repr=False)
    status: str
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def jwk(self) -> dict[str, str]:
        """Return the public JWK."""
        return public_jwk(self.public_raw)


class KeyStore(Protocol):
    """Where key records live (the database, or memory in tests)."""

    def load_keys(self) -> list[KeyRecord]:
        """Return every key record, oldest first."""
        ...

    def add_key(self, record: KeyRecord) -> None:
        """Store a new key record."""
        ...

    def set_key_status(self, kid: str, status: str, at: datetime) -> None:
        """Change a key's status."""
        ...


class MemoryKeyStore:
    """A key store in memory, for tests and offline tools."""

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._records = list(records)

    def load_keys(self) -> list[KeyRecord]:
        """Return every key record, oldest first."""
        return list(self._records)

    def add_key(self, record: KeyRecord) -> None:
        """Store a new key record."""
        self._records.append(record)

    def set_key_status(self, kid: str, status: str, at: datetime) -> None:
        """Change a key's status."""
        self._records = [
            replace(r, status=status, retired_at=at) if r.kid == kid else r for r in self._records
        ]


def generate_key(*, encryptor: KeyEncryptor, now: datetime) -> tuple[KeyRecord, Ed25519PrivateKey]:
    """Return a new active key record (private part encrypted) and the private key."""
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    private_raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    kid = thumbprint(public_raw)
    record = KeyRecord(
        kid=kid,
        public_raw=public_raw,
        encrypted_private=encryptor.encrypt(kid, private_raw),
        status=ACTIVE,
        created_at=now,
    )
    return record, private


class Keyring:
    """The keys known to a node: sign with the newest active one, verify with published ones."""

    def __init__(self, records: Sequence[KeyRecord], *, encryptor: KeyEncryptor | None) -> None:
        self._records = sorted(records, key=lambda r: r.created_at)
        self._by_kid = {r.kid: r for r in self._records}
        self._encryptor = encryptor

    @property
    def records(self) -> list[KeyRecord]:
        """Return all records, oldest first."""
        return list(self._records)

    @property
    def can_sign(self) -> bool:
        """Return whether this node holds a usable private key."""
        return self._encryptor is not None and any(
            r.status == ACTIVE and r.encrypted_private for r in self._records
        )

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """Return (kid, private key) of the newest active key or raise KeyUnavailable."""
        if self._encryptor is None:
            raise KeyUnavailable("this node holds no key-encryption key: it cannot sign")
        for record in reversed(self._records):
            if record.status == ACTIVE and record.encrypted_private:
                raw = self._encryptor.decrypt(record.kid, record.encrypted_private)
                return record.kid, Ed25519PrivateKey.from_private_bytes(raw)
        raise KeyUnavailable("no active signing key: run `liang keys rotate`")

    def private_key(self, kid: str) -> Ed25519PrivateKey:
        """Return the private key ``kid`` (active or retired, never withdrawn) or raise KeyUnavailable.

        For a second proof over a credential ``kid`` already signed, so that both forms of one
        credential rest on one key and stay published for exactly as long.
        """
        record = self._by_kid.get(kid)
        if self._encryptor is None or record is None or record.status == COMPROMISED or not record.encrypted_private:
            raise KeyUnavailable(f"this node cannot sign with key {kid[:64]}")
        return Ed25519PrivateKey.from_private_bytes(self._encryptor.decrypt(record.kid, record.encrypted_private))

    def public_key(self, kid: str) -> Ed25519PublicKey:
        """Return the public key for ``kid`` if it may verify, else raise InvalidCredential."""
        record = self._by_kid.get(kid)
        if record is None:
            raise InvalidCredential(f"unknown signing key {kid[:64]!r}", reason="unknown_key")
        if record.status == COMPROMISED:
            raise InvalidCredential(f"signing key {kid} was withdrawn", reason="key_withdrawn")
        return Ed25519PublicKey.from_public_bytes(record.public_raw)

    def published(self, *, in_use: Iterable[str] = ()) -> list[KeyRecord]:
        """Return the keys to publish: active ones, and retired ones still in use."""
        still_used = set(in_use)
        return [
            r
            for r in self._records
            if r.status == ACTIVE or (r.status == RETIRED and r.kid in still_used)
        ]

    def jwks(self, *, in_use: Iterable[str] = (),
             kid_url: Callable[[str], str] | None = None) -> dict[str, list[dict[str, str]]]:
        """Return the JWKS document for the published keys.

        With ``kid_url``, each key appears a second time under the ``kid`` credentials carry in
        their header (a URL): stock JOSE libraries pick a key from a set by comparing ``kid``
        literally, while the entry under the bare thumbprint serves clients that look it up so.
        """
        keys = []
        for record in self.published(in_use=in_use):
            keys.append(record.jwk)
            if kid_url is not None:
                keys.append({**record.jwk, "kid": kid_url(record.kid)})
        return {"keys": keys}

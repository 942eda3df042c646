"""The log's own Ed25519 key: made once (``liang init``), its private part encrypted under the KEK.

Never a badge-signing key: it lives in its own table (``log_keys``), is bound to its own
associated data (``log-key:<name>``, so no badge key's ciphertext decrypts in its place), and
signs nothing but checkpoints. Its name is the log's origin, derived from ``LIANG_PUBLIC_URL``
when the key is made (``<host>[:port][/path]/log``) and kept with it: a log's identity never
changes, so a later change of the public URL does not rename the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.errors import KeyStoreError
from signer.keys import KeyEncryptor
from signer.tlog import Ed25519Signer, Ed25519Verifier
from verifier.storage.logmodels import LogKey

_logger = logging.getLogger(__name__)


def origin_for(public_url: str) -> str:
    """Return the log's origin line for a deployment's public URL: ``<host>[:port][/path]/log``."""
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/log"


def _aad(name: str) -> str:
    return "log-key:" + name.encode("utf-8").hex()  # the encryptor binds ASCII associated data


@dataclass(frozen=True)
class LogKeyRecord:
    """The stored log key: its name (the origin) and public key; the private part only with a KEK."""

    name: str
    public_raw: bytes
    encrypted_private: bytes | None

    @property
    def verifier(self) -> Ed25519Verifier:
        """Return the note verifier of this key (its ``vkey()`` is what ``/log/key`` serves)."""
        return Ed25519Verifier(self.name, self.public_raw)

    def private_key(self, encryptor: KeyEncryptor) -> Ed25519PrivateKey:
        """Return the private key (KeyStoreError when the KEK does not open it)."""
        if self.encrypted_private is None:
            raise KeyStoreError("the log key's private part is not on this node")
        return Ed25519PrivateKey.from_private_bytes(encryptor.decrypt(_aad(self.name), self.encrypted_private))

    def signer(self, encryptor: KeyEncryptor) -> Ed25519Signer:
        """Return the note signer (KeyStoreError when the KEK does not open it)."""
        return Ed25519Signer(self.name, self.private_key(encryptor))


def load_log_key(session: Session) -> LogKeyRecord | None:
    """Return the log key, or None before ``liang init`` made one."""
    row = session.execute(select(LogKey).order_by(LogKey.id).limit(1)).scalar_one_or_none()
    if row is None:
        return None
    return LogKeyRecord(row.name, bytes(row.public_raw),
                        None if row.encrypted_private is None else bytes(row.encrypted_private))


def ensure_log_key(session: Session, *, public_url: str, encryptor: KeyEncryptor, clock: Clock) -> bool:
    """Make the log key if there is none, in the caller's transaction; return whether one was made.

    Row 1 is the key: two instances making it at once cannot both succeed (the primary key).
    """
    if load_log_key(session) is not None:
        return False
    name = origin_for(public_url)
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    private_raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    try:
        with session.begin_nested():
            session.add(LogKey(id=1, name=name, public_raw=public_raw,
                               encrypted_private=encryptor.encrypt(_aad(name), private_raw), created_at=clock()))
            session.flush()
    except IntegrityError:  # another instance made it first: theirs is the key
        return False
    _logger.info("created the transparency log key for %s", name)
    return True

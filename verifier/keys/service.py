"""Signing keys in the database: load the keyring, rotate, retire."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.errors import KeyStoreError
from signer.keys import ACTIVE, COMPROMISED, RETIRED, KeyEncryptor, KeyRecord, Keyring, generate_key
from verifier.storage.models import Badge, SigningKey

_logger = logging.getLogger(__name__)


class DbKeyStore:
    """The key store backed by the ``signing_keys`` table."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def load_keys(self) -> list[KeyRecord]:
        """Return every key record, oldest first."""
        rows = self._session.execute(select(SigningKey).order_by(SigningKey.created_at)).scalars()
        return [
            KeyRecord(kid=r.kid, public_raw=r.public_raw, encrypted_private=r.encrypted_private,
                      status=r.status, created_at=r.created_at, retired_at=r.retired_at)
            for r in rows
        ]

    def add_key(self, record: KeyRecord) -> None:
        """Store a new key record."""
        self._session.add(SigningKey(kid=record.kid, public_raw=record.public_raw,
                                     encrypted_private=record.encrypted_private,
                                     status=record.status, created_at=record.created_at))
        self._session.flush()

    def set_key_status(self, kid: str, status: str, at: datetime) -> None:
        """Change a key's status."""
        row = self._session.get(SigningKey, kid)
        if row is None:
            raise KeyStoreError(f"no key with id {kid!r}")
        row.status, row.retired_at = status, at
        self._session.flush()


def in_use_kids(session: Session, *, now: datetime) -> set[str]:
    """Return kids that sign the current credential of a live (unexpired, unrevoked) badge."""
    rows = session.execute(
        select(Badge.kid).where(Badge.state.in_(("active", "suspended")), Badge.valid_until > now).distinct()
    ).scalars()
    return {kid for kid in rows if kid}


class KeyService:
    """Manage signing keys; the caller owns the transaction."""

    def jwks(self, *, kid_url: Callable[[str], str]) -> dict[str, list[dict[str, str]]]:
        """Return the published key set: active keys, and retired ones still used by live badges."""
        return self.keyring().jwks(in_use=in_use_kids(self._session, now=self._clock()), kid_url=kid_url)

    def __init__(self, session: Session, *, encryptor: KeyEncryptor | None, clock: Clock) -> None:
        self._session = session
        self._store = DbKeyStore(session)
        self._encryptor = encryptor
        self._clock = clock

    def keyring(self) -> Keyring:
        """Return the keyring as stored now."""
        return Keyring(self._store.load_keys(), encryptor=self._encryptor)

    def ensure_key(self) -> KeyRecord | None:
        """Create a first signing key if there is no active one; return it, or None if present."""
        if any(r.status == ACTIVE for r in self._store.load_keys()):
            return None
        return self.rotate()

    def rotate(self) -> KeyRecord:
        """Create a new active key; the previous active keys become retired (still published)."""
        if self._encryptor is None:
            raise KeyStoreError("no key-encryption key on this node: cannot create signing keys")
        now = self._clock()
        for record in self._store.load_keys():
            if record.status == ACTIVE:
                self._store.set_key_status(record.kid, RETIRED, now)
        record, _private = generate_key(encryptor=self._encryptor, now=now)
        self._store.add_key(record)
        _logger.info("created signing key %s", record.kid)
        return record

    def retire_compromised(self, kid: str) -> KeyRecord | None:
        """Withdraw ``kid`` at once; return the new active key if the retired one was active."""
        records = {r.kid: r for r in self._store.load_keys()}
        record = records.get(kid)
        if record is None:
            raise KeyStoreError(f"no key with id {kid!r}")
        if record.status == COMPROMISED:
            raise KeyStoreError(f"key {kid} is already withdrawn")
        new_key = None
        if record.status == ACTIVE:
            new_key = self.rotate()
        self._store.set_key_status(kid, COMPROMISED, self._clock())
        return new_key

"""What the CLI and the public documents do with signing keys, each write one unit of work.

Rotating or withdrawing a key changes what badges and status lists are signed with, so the
key change, the audit record and the re-signing commit together or not at all.
"""

from __future__ import annotations

from sqlalchemy import select

from signer.clock import Clock
from signer.keys import ACTIVE, COMPROMISED, KeyEncryptor, KeyRecord
from verifier.audit.service import Actor, AuditLog
from verifier.badges.service import BadgeService
from verifier.keys.service import KeyService, in_use_kids
from verifier.storage.models import Badge
from verifier.storage.unit import UnitOfWork
from verifier.transparency.entries import PublicLog
from verifier.transparency.keys import ensure_log_key, origin_for


class KeyActions:
    """List, create, rotate and withdraw signing keys."""

    def __init__(self, uow: UnitOfWork, *, keys: KeyService, badges: BadgeService, audit: AuditLog,
                 clock: Clock) -> None:
        self._uow = uow
        self._session = uow.session
        self._keys = keys
        self._badges = badges
        self._audit = audit
        self._clock = clock
        self._log = PublicLog(uow.session, clock=clock)

    def records(self) -> list[KeyRecord]:
        """Return every key record, oldest first."""
        return list(self._keys.keyring().records)

    def published(self) -> list[KeyRecord]:
        """Return the keys published now: active ones, and retired ones a live badge still uses."""
        ring = self._keys.keyring()
        return list(ring.published(in_use=in_use_kids(self._session, now=self._clock())))

    def ensure_key(self, *, actor: Actor) -> KeyRecord | None:
        """Create a first signing key if there is no active one (audited); return it, or None if present."""
        with self._uow.write():
            record = self._keys.ensure_key()
            if record is not None:
                self._audit.append(actor, "key_create", target=record.kid)
                self._log.key_decision("key_add", kid=record.kid, state="active")
            return record

    def ensure_log_key(self, *, actor: Actor, public_url: str, encryptor: KeyEncryptor) -> str | None:
        """Create the transparency log's own key if there is none (audited); return its name, or None if present."""
        with self._uow.write():
            if not ensure_log_key(self._session, public_url=public_url, encryptor=encryptor, clock=self._clock):
                return None
            name = origin_for(public_url)
            self._audit.append(actor, "log_key_create", target=name)
            return name

    def rotate(self, *, actor: Actor) -> KeyRecord:
        """Create a new signing key; the old one stays published while live badges use it."""
        with self._uow.write():
            before = self._active_kids()
            record = self._keys.rotate()
            self._audit.append(actor, "key_rotate", target=record.kid)
            self._log_rotation(record.kid, before)
            self._badges.status_lists.resign_all()
            return record

    def retire(self, kid: str, *, actor: Actor) -> int:
        """Withdraw a compromised key at once, re-sign what it signed; return how many badges were re-signed."""
        with self._uow.write():
            before = self._active_kids()
            new_key = self._keys.retire_compromised(kid)
            self._audit.append(actor, "key_retire", target=kid, after={"status": COMPROMISED})
            if new_key is not None:
                self._log_rotation(new_key.kid, before - {kid})
            self._log.key_decision("key_withdraw", kid=kid, state="withdrawn")
            affected = list(self._session.execute(
                # Revoked badges too: their credentials must go on saying "revoked", not "signature not valid".
                select(Badge.id).where(Badge.kid == kid, Badge.state.in_(("active", "suspended", "revoked"))))
                .scalars())
            for badge_id in affected:
                self._badges.resign(badge_id, actor=actor)
            self._badges.status_lists.resign_all()
            return len(affected)

    def _active_kids(self) -> set[str]:
        return {r.kid for r in self._keys.keyring().records if r.status == ACTIVE}

    def _log_rotation(self, new_kid: str, retired: set[str]) -> None:
        """Log a rotation: the new key added, each key it replaced retired (still verifying what it signed)."""
        self._log.key_decision("key_add", kid=new_kid, state="active")
        for kid in sorted(retired):
            self._log.key_decision("key_retire", kid=kid, state="retired")

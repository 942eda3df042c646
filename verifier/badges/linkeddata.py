"""The JSON-LD form of badge credentials (``/v/<id>/credential.json``): create, store, serve."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from signer.clock import Clock
from signer.credentials import Issuer, parse_jws
from signer.errors import BadgeNotFound
from signer.ids import format_badge_id, parse_badge_id
from signer.keys import Keyring
from signer.lifecycle import State
from signer.signing import linked_data_credential
from verifier.storage.models import Badge

_logger = logging.getLogger(__name__)

_PUBLIC_STATES = (State.ACTIVE.value, State.SUSPENDED.value, State.REVOKED.value)


def current_linked_data(badge: Badge) -> str | None:
    """Return the stored JSON-LD form if it is of the badge's current credential and key, else None."""
    if not badge.credential_ld:
        return None
    try:
        document = json.loads(badge.credential_ld)
        method = document["proof"][0]["verificationMethod"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        _logger.warning("stored JSON-LD credential of %s is unreadable: %s", badge.id, type(exc).__name__)
        return None
    # A re-signing path that did not refresh it leaves a stale copy: never serve that.
    if document.get("id") != badge.credential_id or not str(method).endswith(f"/keys/{badge.kid}/multikey"):
        return None
    return badge.credential_ld


class LinkedDataService:
    """Serve and create the JSON-LD forms; the caller owns the transaction."""

    def __init__(self, session: Session, *, issuer: Issuer, keyring: Keyring, clock: Clock) -> None:
        self._session = session
        self._issuer = issuer
        self._keyring = keyring
        self._clock = clock

    def for_badge(self, raw_id: str, *, create: bool) -> str | None:
        """Return a public badge's JSON-LD credential; when missing, create it (``create``) or return None.

        Creating needs the key that signed the JWS: KeyUnavailable (503) on a node without it.
        """
        canonical = parse_badge_id(raw_id)
        badge = self._session.get(Badge, canonical, with_for_update=create or None)
        if badge is None or badge.state not in _PUBLIC_STATES or not badge.credential:
            raise BadgeNotFound(f"no badge {format_badge_id(canonical)}", badge_id=format_badge_id(canonical))
        stored = current_linked_data(badge)
        if stored is not None or not create:
            return stored
        self._create(badge)
        self._session.flush()
        return str(badge.credential_ld)

    def backfill(self, *, limit: int = 200) -> int:
        """Create the JSON-LD form for up to ``limit`` badges that have none; return how many."""
        rows = self._session.execute(
            select(Badge).where(Badge.credential.is_not(None), Badge.credential_ld.is_(None),
                                Badge.state.in_(_PUBLIC_STATES))
            .order_by(Badge.id).limit(limit)
        ).scalars().all()
        for badge in rows:
            self._create(badge)
        self._session.flush()
        return len(rows)

    def _create(self, badge: Badge) -> None:
        # The key that signed the JWS signs the proof too: both forms stay good exactly as long.
        private = self._keyring.private_key(str(badge.kid))
        payload = parse_jws(str(badge.credential)).payload
        badge.credential_ld = linked_data_credential(payload, issuer=self._issuer, kid=str(badge.kid),
                                                     private_key=private, now=self._clock())

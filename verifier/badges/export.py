"""Stream badges out in pages so memory stays flat however many there are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from signer.credentials import Issuer
from verifier.storage.models import Badge, Shop
from verifier.verification.record import status_json

_PAGE = 500


def iter_statuses(session: Session, *, issuer: Issuer, now: datetime) -> Iterator[dict[str, Any]]:
    """Yield the JSON status of every public badge, ordered by id (keyset pagination)."""
    last = ""
    while True:
        rows = list(session.execute(
            select(Badge).where(Badge.id > last, Badge.state.in_(("active", "suspended", "revoked")))
            .options(joinedload(Badge.shop).joinedload(Shop.member), joinedload(Badge.branch))
            .order_by(Badge.id).limit(_PAGE)
        ).unique().scalars())
        if not rows:
            return
        for row in rows:
            yield status_json(row, issuer=issuer, now=now)
        last = rows[-1].id
        session.expunge_all()

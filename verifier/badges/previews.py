"""Console import previews: kept in the database for their administrator, for an hour.

A preview is committed by a second request that a load balancer may send to any instance,
so the previewed file lives in the shared database, not in one instance's directory. Each
preview and each commit deletes the expired ones, so a preview (members' names) is never
kept for long.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from verifier.storage.models import ImportPreview

#: How long a preview can be committed.
PREVIEW_TTL = timedelta(hours=1)


def purge(session: Session, *, now: datetime) -> None:
    """Delete every expired preview (the caller commits)."""
    session.execute(delete(ImportPreview).where(ImportPreview.created_at <= now - PREVIEW_TTL))


def keep(session: Session, text: str, *, user_id: int, now: datetime) -> str:
    """Store a previewed file for ``user_id`` and return its random token (the caller commits)."""
    purge(session, now=now)
    token = secrets.token_urlsafe(24)
    session.add(ImportPreview(token=token, user_id=user_id, created_at=now, csv_text=text))
    return token


def take(session: Session, token: str, *, user_id: int, now: datetime) -> ImportPreview | None:
    """Return ``user_id``'s unexpired preview ``token``, locked, or None; expired ones are deleted first."""
    purge(session, now=now)
    if not token or len(token) > 64:
        return None
    return session.execute(select(ImportPreview).where(ImportPreview.token == token, ImportPreview.user_id == user_id)
                           .with_for_update()).scalar_one_or_none()

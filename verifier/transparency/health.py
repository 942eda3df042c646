"""How current the log's latest checkpoint is (``/healthz``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from signer.clock import Clock
from verifier.storage.logmodels import LogEntry
from verifier.transparency.checkpointer import read_state

#: Beyond its limit, a checkpoint is reported stale after this much more (an import's commit may come late).
_GRACE_SECONDS = 60


@dataclass(frozen=True)
class LogHealth:
    """How current the latest checkpoint is."""

    size: int
    head: int
    age_seconds: float | None  # since it was signed; None before the first
    stale: bool


def log_health(session: Session, *, clock: Clock, checkpoint_seconds: int, resign_seconds: int) -> LogHealth:
    """Return the log's health: stale when a decision waits past its limit, or no signature for too long."""
    state = read_state(session)
    now = clock()
    age = None if state.signed_at is None else (now - state.signed_at).total_seconds()
    stale = False
    if state.head > state.size:
        oldest = session.execute(select(LogEntry.data).where(LogEntry.idx == state.size)).scalar_one_or_none()
        waited = _entry_age(oldest, now)
        stale = waited is None or waited > checkpoint_seconds + _GRACE_SECONDS
    if age is not None and age > resign_seconds + _GRACE_SECONDS:
        stale = True
    return LogHealth(state.size, state.head, age, stale)


def _entry_age(data: bytes | None, now: datetime) -> float | None:
    if data is None:
        return None
    try:
        at = datetime.fromisoformat(json.loads(bytes(data))["at"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    return (now - at).total_seconds()

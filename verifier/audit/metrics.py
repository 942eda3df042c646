"""Issuance and state changes counted into the metrics when their audit events commit.

The audit log notes each appended action in the session (``APPENDED``); a commit counts them, a
rollback forgets them, so a refused or rolled-back change is never counted.
"""

from __future__ import annotations

from collections import Counter as _Tally
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from signer.lifecycle import Action
from verifier.audit.service import APPENDED
from verifier.web.metrics import ISSUANCE, STATE_CHANGES

_ISSUING = {Action.ISSUE.value, Action.APPROVE.value}
_STATE_ACTIONS = {a.value for a in Action} - {Action.ISSUE.value, Action.APPLY.value}


def _after_commit(session: Session) -> None:
    appended: list[str] | None = session.info.pop(APPENDED, None)
    if not appended:
        return
    for action, count in _Tally(appended).items():  # an import appends thousands: one increment per action
        if action in _ISSUING:
            ISSUANCE.inc(count)
        if action in _STATE_ACTIONS:
            STATE_CHANGES.labels(action=action).inc(count)


def _after_rollback(session: Session, _transaction: Any) -> None:
    session.info.pop(APPENDED, None)


def install_session_hooks() -> None:
    """Count lifecycle events from committed audit rows (once per process; cheap when idle)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)

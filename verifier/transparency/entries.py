"""Append one log entry per public decision, in the decision's own transaction, with a gapless index.

An entry is canonical JSON (UTF-8, keys sorted, no insignificant whitespace) with the contract's
fields: ``at``, ``badge`` (absent for key events), ``branch``, ``credential_sha256``, ``event``,
``kid``, ``reason``, ``state``. Public facts only: never a name, a contact, a note or shopper data.

Indexes come from the one ``log_head`` row: ``UPDATE … SET size = size + n … RETURNING size``
locks it until the decision's transaction ends (PostgreSQL: a row lock other instances wait
for; SQLite: writers are serialised anyway), so two decisions never share an index and a
rolled-back decision gives its indexes back with everything else. Every decision that logs
also appends to the audit chain first, so the audit head is always locked before the log
head: one order, no deadlock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from signer.clock import Clock, isoformat_z
from signer.ids import format_badge_id
from signer.lifecycle import Action, public_status
from verifier.storage.db import insert_many
from verifier.storage.logmodels import LogEntry, LogHead
from verifier.storage.models import Badge

#: The log's event for each badge action that is a public decision (reject and apply are not public).
EVENTS = {
    Action.ISSUE: "issue", Action.APPROVE: "issue", Action.SUSPEND: "suspend", Action.REINSTATE: "reinstate",
    Action.REVOKE: "revoke", Action.RENEW: "renew", Action.RESIGN: "resign",
}
#: Events whose decision signs a new credential (the entry carries its SHA-256).
SIGNING = frozenset({"issue", "renew", "resign"})
#: ``Session.info`` key: the indexes this transaction appended (for tests and the checkpointer's wake-up).
APPENDED = "liang.log.appended"

_quote = json.encoder.encode_basestring  # a JSON string as json.dumps(ensure_ascii=False) writes it
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def credential_digest(jws: str) -> str:
    """Return the lowercase hex SHA-256 of a compact JWS as served at ``/v/<id>/credential.jws``."""
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


def entry_bytes(*, event: str, at: datetime, badge: str | None, state: str, reason: str | None,
                branch: str | None, kid: str | None, credential_sha256: str | None) -> bytes:
    """Return one entry's canonical bytes (``badge`` None: a key event, the field left out)."""
    fields: dict[str, Any] = {"event": event, "at": isoformat_z(at), "state": state, "reason": reason,
                              "branch": branch, "kid": kid, "credential_sha256": credential_sha256}
    if badge is not None:
        fields["badge"] = badge
    return _CANONICAL.encode(fields).encode("utf-8")


class IssueEntries:
    """The ``issue`` entries of one batch (one moment, one key), spelled out: what ``entry_bytes`` gives.

    An import logs thousands of entries; building and sorting a dict for each was measurable.
    """

    def __init__(self, *, at: datetime, state: str, kid: str) -> None:
        self._at, self._state, self._kid = at, state, kid
        self._plain = type(kid) is str
        self._head = '{"at":' + _quote(isoformat_z(at)) + ',"badge":'
        self._kid_text = ',"event":"issue","kid":' + (_quote(kid) if self._plain else "") + ',"reason":null,"state":'
        self._shown: dict[tuple[datetime, datetime], str] = {}  # validity period -> public state at ``at``

    def entry(self, badge: str, branch: str, jws: str, *, valid_from: datetime, valid_until: datetime) -> bytes:
        """Return the entry of one badge of the batch (its public state decided from its validity at ``at``)."""
        period = (valid_from, valid_until)
        shown = self._shown.get(period)
        if shown is None:
            public = public_status(self._state, valid_from=valid_from, valid_until=valid_until, now=self._at)
            shown = self._shown[period] = public.value if public else self._state
        digest = credential_digest(jws)
        if not (self._plain and type(badge) is str and type(branch) is str):
            return entry_bytes(event="issue", at=self._at, badge=badge, state=shown, reason=None, branch=branch,
                               kid=self._kid, credential_sha256=digest)
        return "".join((self._head, _quote(badge), ',"branch":', _quote(branch), ',"credential_sha256":"', digest,
                        '"', self._kid_text, _quote(shown), "}")).encode("utf-8")


class PublicLog:
    """Append entries to the public log; the caller owns (and commits) the transaction."""

    def __init__(self, session: Session, *, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def reserve(self, count: int) -> int:
        """Lock the head and take ``count`` consecutive indexes; return the first (held until commit)."""
        session = self._session
        session.flush()
        table = LogHead.__table__
        taken = session.execute(
            update(table).where(table.c.id == 1).values(size=table.c.size + count).returning(table.c.size)
        ).scalar_one_or_none()
        if taken is None:  # an emptied database (the migration writes the row): start it
            session.execute(insert(table).values(id=1, size=count))
            taken = count
        return int(taken) - count

    def write(self, first: int, entries: Sequence[tuple[bytes, str | None]]) -> None:
        """Store ``entries`` (bytes, canonical badge id or None) at ``first``, ``first + 1``, … (reserved)."""
        insert_many(self._session, LogEntry.__table__, ("idx", "data", "badge_id"),
                    [(first + n, data, badge_id) for n, (data, badge_id) in enumerate(entries)])
        self._session.info.setdefault(APPENDED, []).extend(range(first, first + len(entries)))

    def append(self, data: bytes, *, badge_id: str | None = None) -> int:
        """Append one entry; return its index."""
        index = self.reserve(1)
        self.write(index, [(data, badge_id)])
        return index

    def badge_decision(self, badge: Badge, action: Action) -> int | None:
        """Log a decision just taken about ``badge`` (its row as it will commit); return the index, or None."""
        event = EVENTS.get(action)
        if event is None:
            return None
        now = self._clock()
        shown = public_status(badge.state, valid_from=badge.valid_from, valid_until=badge.valid_until, now=now)
        data = entry_bytes(
            event=event, at=now, badge=format_badge_id(badge.id), state=shown.value if shown else badge.state,
            reason=badge.revocation_reason if event == "revoke" else None, branch=badge.branch.code, kid=badge.kid,
            credential_sha256=credential_digest(badge.credential) if event in SIGNING and badge.credential else None)
        index = self.append(data, badge_id=badge.id)
        badge.log_index = index
        return index

    def key_decision(self, event: str, *, kid: str, state: str) -> int:
        """Log a signing-key decision (``key_add``, ``key_retire``, ``key_withdraw``); return the index."""
        return self.append(entry_bytes(event=event, at=self._clock(), badge=None, state=state, reason=None,
                                       branch=None, kid=kid, credential_sha256=None))

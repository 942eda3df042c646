"""The tamper-evident audit log: every event hashes the one before it."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signer.clock import Clock, isoformat_z
from verifier.storage.db import insert_many
from verifier.storage.models import AuditEvent, AuditHead

_logger = logging.getLogger(__name__)

GENESIS = "0" * 64
_EVENT_COLUMNS = ("seq", "at", "actor", "role", "client", "action", "target", "branch_code", "before", "after",
                  "prev_hash", "hash")
#: Pages past this are empty anyway; the cap keeps OFFSET a small integer.
MAX_PAGE = 1_000_000
#: ``Session.info`` key: the actions this session's transaction appended, in order (the metrics count them
#: when it commits, see verifier.web.metrics). One event appended alone or among many counts the same.
APPENDED = "liang.audit.appended"


@dataclass(frozen=True)
class Actor:
    """Who does something, and from where."""

    name: str
    role: str  # committee | branch | auditor | system | public
    client: str | None = None
    branch_code: str | None = None
    user_id: int | None = None


SYSTEM = Actor(name="system", role="system", client="cli")


@dataclass(frozen=True)
class AuditQuery:
    """What the audit log is narrowed to; every field set is ANDed (times are aware UTC, ``until`` exclusive)."""

    target: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[Any]:
        """Return the SQL conditions for the fields that are set."""
        found: list[Any] = []
        if self.target is not None:
            found.append(AuditEvent.target == self.target)
        if self.actor is not None:
            found.append(AuditEvent.actor == self.actor)
        if self.action is not None:
            found.append(AuditEvent.action == self.action)
        if self.since is not None:
            found.append(AuditEvent.at >= self.since)
        if self.until is not None:
            found.append(AuditEvent.at < self.until)
        return found


# What json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")) uses,
# made once: json.dumps builds a new encoder on every call with non-default arguments.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _canonical(fields: dict[str, Any]) -> bytes:
    return _CANONICAL.encode(fields).encode("utf-8")


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """Return SHA-256 over the previous hash and the event's canonical JSON."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + _canonical(fields)).hexdigest()


def _fields(seq: int, at_z: str, actor: str, role: str, client: str | None, action: str,
            target: str | None, branch_code: str | None, before: Any, after: Any) -> dict[str, Any]:
    return {
        "seq": seq, "at": at_z, "actor": actor, "role": role, "client": client,
        "action": action, "target": target, "branch": branch_code, "before": before, "after": after,
    }


_quote = json.encoder.encode_basestring  # a JSON string as _CANONICAL writes it (ensure_ascii=False)


class _CanonicalEvents:
    """The canonical JSON of a batch's events (one actor, one moment), spelled out: what ``_canonical`` gives.

    ``_canonical(_fields(...))`` per event was a tenth of an import's time: a dict built and
    walked (keys sorted) for values that are plain text, and the same ``before``/``after``
    documents (one per validity period) encoded again for every event.
    """

    def __init__(self, at_z: str, actor: str, role: str, client: str | None) -> None:
        self._plain = all(type(v) is str for v in (at_z, actor, role)) and (client is None or type(client) is str)
        # The keys in sorted order: action, actor, after, at, before, branch, client, role, seq, target.
        self._actor = ',"actor":' + _quote(actor) if self._plain else ""
        self._middle = (',"at":' + _quote(at_z)) if self._plain else ""
        self._tail = (',"client":' + ("null" if client is None else _quote(client)) + ',"role":' + _quote(role)
                      + ',"seq":') if self._plain else ""
        self._documents: dict[int, tuple[Any, str]] = {}  # id -> (the object, held; its canonical JSON)

    def _document(self, value: Any) -> str:
        if value is None:
            return "null"
        try:
            return self._documents[id(value)][1]
        except KeyError:
            text = _CANONICAL.encode(value)
            self._documents[id(value)] = (value, text)
            return text

    def text(self, seq: int, action: str, target: str | None, branch: str | None, before: Any,
             after: Any) -> str | None:
        """Return the event's canonical JSON, or None when a value is not plain (then use ``_canonical``)."""
        if not (self._plain and type(seq) is int and type(action) is str and (target is None or type(target) is str)
                and (branch is None or type(branch) is str)):
            return None
        return "".join((
            '{"action":', _quote(action), self._actor, ',"after":', self._document(after), self._middle,
            ',"before":', self._document(before), ',"branch":', "null" if branch is None else _quote(branch),
            self._tail, str(seq), ',"target":', "null" if target is None else _quote(target), "}",
        ))


class AuditLog:
    """Append to and check the audit chain; the caller owns the transaction."""

    def __init__(self, session: Session, *, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    def _locked_head(self) -> AuditHead:
        # The head row is locked so concurrent writers (many instances on one
        # PostgreSQL) extend the chain one at a time instead of forking it.
        head = self._session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, seq=0, hash=GENESIS)
            self._session.add(head)
            self._session.flush()
        return head

    def append(self, actor: Actor, action: str, *, target: str | None = None,
               branch_code: str | None = None, before: Any = None, after: Any = None) -> AuditEvent:
        """Append one event in the current transaction."""
        head = self._locked_head()
        seq, at = head.seq + 1, self._clock()
        fields = _fields(seq, isoformat_z(at), actor.name, actor.role, actor.client, action, target, branch_code,
                         before, after)
        digest = event_hash(head.hash, fields)
        event = AuditEvent(seq=seq, at=at, actor=actor.name, role=actor.role, client=actor.client,
                           action=action, target=target, branch_code=branch_code, before=before,
                           after=after, prev_hash=head.hash, hash=digest)
        self._session.add(event)
        head.seq, head.hash = seq, digest
        self._session.flush()
        self._session.info.setdefault(APPENDED, []).append(action)
        return event

    def append_many(self, actor: Actor, events: list[dict[str, Any]]) -> int:
        """Append many events at once (bulk import): one head lock, one driver-level insert.

        Each item has ``action`` and optionally ``target``, ``branch_code``, ``before``, ``after``.
        The chain is extended exactly as :meth:`append` would, one event after another.
        """
        if not events:
            return 0

        head = self._locked_head()
        seq, prev, at = head.seq, head.hash, self._clock()
        at_z, name, role, client = isoformat_z(at), actor.name, actor.role, actor.client
        canonical = _CanonicalEvents(at_z, name, role, client)
        sha256 = hashlib.sha256
        rows = []
        for item in events:
            seq += 1
            action, target, branch = item["action"], item.get("target"), item.get("branch_code")
            before, after = item.get("before"), item.get("after")
            text = canonical.text(seq, action, target, branch, before, after)
            if text is None:  # not plain values: the reference serialisation
                digest = event_hash(prev, _fields(seq, at_z, name, role, client, action, target, branch, before,
                                                  after))
            else:
                digest = sha256(prev.encode("ascii") + b"\n" + text.encode("utf-8")).hexdigest()
            rows.append((seq, at, name, role, client, action, target, branch, before, after, prev, digest))
            prev = digest
        insert_many(self._session, AuditEvent.__table__, _EVENT_COLUMNS, rows)
        head.seq, head.hash = seq, prev
        self._session.flush()
        self._session.info.setdefault(APPENDED, []).extend(row[5] for row in rows)
        return len(rows)

    def verify_chain(self) -> list[str]:
        """Return a list of problems found in the chain (empty when intact)."""
        problems: list[str] = []
        prev, expected_seq = GENESIS, 1
        rows = self._session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        for event in rows:
            if event.seq != expected_seq:
                problems.append(f"event {expected_seq} is missing (next is {event.seq})")
            if event.prev_hash != prev:
                problems.append(f"event {event.seq} does not follow the event before it")
            fields = _fields(event.seq, isoformat_z(event.at), event.actor, event.role, event.client, event.action,
                             event.target, event.branch_code, event.before, event.after)
            if event_hash(event.prev_hash, fields) != event.hash:
                problems.append(f"event {event.seq} was modified")
            prev, expected_seq = event.hash, event.seq + 1
        head = self._session.get(AuditHead, 1)
        if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
            problems.append(f"the log ends at event {expected_seq - 1} but {head.seq} were written")
        return problems

    def count(self, *, branch_code: str | None = None) -> int:
        """Return how many events there are (within ``branch_code``, if given)."""
        query = select(func.count()).select_from(AuditEvent)
        if branch_code is not None:
            query = query.where(AuditEvent.branch_code == branch_code)
        return int(self._session.execute(query).scalar_one())

    def recent(self, *, page: int = 1, per_page: int = 50, branch_code: str | None = None,
               where: AuditQuery | None = None) -> list[AuditEvent]:
        """Return events newest first, within ``branch_code`` (a branch administrator's scope) and ``where``."""
        query = select(AuditEvent).order_by(AuditEvent.seq.desc())
        if branch_code is not None:
            query = query.where(AuditEvent.branch_code == branch_code)
        for condition in (where or AuditQuery()).conditions():
            query = query.where(condition)
        # Clamp: a page number from a query string can exceed a 64-bit OFFSET (a 500 on SQLite).
        query = query.offset((min(max(page, 1), MAX_PAGE) - 1) * per_page).limit(per_page)
        return list(self._session.execute(query).scalars())

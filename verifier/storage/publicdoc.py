"""A badge's public document, precomputed when the badge changes (issue 16, decision 2).

Everything public about a badge that does not move with the clock is serialised into
``badges.public_doc`` in the same transaction as the change that alters it: the id, holder,
shop, branch, validity dates and the signed credential, as the JSON object
``{"id", "holder", "shop", "branch", "valid_from", "valid_until", "credential"}`` (the
contract's field order and encoding). A verification reads that one row and splices in
what the document must never decide:

* ``status``, from the row's own ``state`` and dates at the moment of the read,
* ``checked_at``, the moment of the read,
* ``revocation``, from the row's ``revoked_at`` and ``revocation_reason`` columns,
* ``verify_url`` and ``complaint_url``, from this deployment's ``LIANG_PUBLIC_URL``.

So a committed revocation shows on the very next read even if a document were stale: the
state columns sit beside it in the same row and decide. Every service write path calls
:func:`refresh_public_document`; a badge whose document is missing (NULL: a row written by
something else, say a benchmark's bulk filler) is read through the join and its document
computed on the spot, never from anything cached; ``liang init`` fills in every missing one
(:func:`fill_missing`). ``liang audit verify`` flags a stored document that disagrees with the
rows it was made from, and a missing one (:func:`stale_documents`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from signer.clock import ensure_utc, isoformat_z
from signer.ids import format_badge_id
from signer.lifecycle import State
from verifier.storage.engine import IMMEDIATE
from verifier.storage.models import Badge, Branch, Member, Shop

_CHUNK = 500
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_REVOKED = State.REVOKED.value


@dataclass(frozen=True, slots=True)
class PublicDocument:
    """One badge row as the read path sees it: the deciding columns and the precomputed document."""

    id: str  # canonical, no hyphens
    state: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    text: str  # the precomputed document (JSON object text)
    log_index: int | None = None  # the public-log entry of the badge's latest decision (beside the document)


def document_text(*, badge_id: str, holder: str, shop_name: str, platform: str, shop_url: str,
                  hosts: Sequence[str], branch_code: str, branch_name: str, valid_from: datetime,
                  valid_until: datetime, credential: str | None) -> str:
    """Return the precomputed document of a badge from its public facts."""
    # The JSON text spelled out, each string escaped as the encoder escapes it: an import makes
    # thousands of documents, and building a dict for the encoder to walk was a tenth of its time.
    # Anything but plain text (not expected; the encoder decides what it becomes) takes the encoder.
    if (type(credential) is str or credential is None) and all(
            type(value) is str for value in (badge_id, holder, shop_name, platform, shop_url, branch_code,
                                            branch_name, *hosts)):
        return "".join((
            '{"id":', _quote(format_badge_id(badge_id)), ',"holder":{"display_name":', _quote(holder),
            '},"shop":{"name":', _quote(shop_name), ',"platform":', _quote(platform), ',"url":', _quote(shop_url),
            ',"hosts":[', ",".join(map(_quote, hosts)), ']},"branch":{"code":', _quote(branch_code),
            ',"name":', _quote(branch_name), '},"valid_from":"', _moment(valid_from), '","valid_until":"',
            _moment(valid_until), '","credential":', "null" if credential is None else _quote(credential), "}",
        ))
    return _ENCODE({
        "id": format_badge_id(badge_id),
        "holder": {"display_name": holder},
        "shop": {"name": shop_name, "platform": platform, "url": shop_url, "hosts": list(hosts)},
        "branch": {"code": branch_code, "name": branch_name},
        "valid_from": isoformat_z(valid_from),
        "valid_until": isoformat_z(valid_until),
        "credential": credential,
    })


_quote = json.encoder.encode_basestring  # a JSON string as _ENCODE writes it (ensure_ascii=False)


@lru_cache(maxsize=1024)
def _moment(value: datetime) -> str:
    # A batch shares a handful of validity dates; equal instants format alike (in UTC).
    return isoformat_z(value)


# -- the write side ---------------------------------------------------------------------------------
def _source(ids: Sequence[str]) -> Any:
    return (select(Badge.id, Member.name, Shop.name, Shop.platform, Shop.url, Shop.hosts, Branch.code,
                   Branch.name, Badge.valid_from, Badge.valid_until, Badge.credential)
            .join(Shop, Shop.id == Badge.shop_id).join(Member, Member.id == Shop.member_id)
            .join(Branch, Branch.id == Badge.branch_id).where(Badge.id.in_(ids)))


def _from_row(row: Sequence[Any]) -> str:
    hosts = row[5]
    if isinstance(hosts, str):  # the JSON column read without its type (raw rows)
        hosts = json.loads(hosts)
    return document_text(badge_id=row[0], holder=row[1], shop_name=row[2], platform=row[3], shop_url=row[4],
                         hosts=hosts or (), branch_code=row[6], branch_name=row[7], valid_from=row[8],
                         valid_until=row[9], credential=row[10])


def compute_documents(conn: Session | Connection, badge_ids: Iterable[str]) -> dict[str, str]:
    """Return each badge's document as freshly computed from its rows (canonical id → text)."""
    ids = list(dict.fromkeys(badge_ids))
    docs: dict[str, str] = {}
    for i in range(0, len(ids), _CHUNK):
        for row in conn.execute(_source(ids[i:i + _CHUNK])):
            docs[row[0]] = _from_row(row)
    return docs


_STORE = (update(Badge.__table__).where(Badge.__table__.c.id == bindparam("b_id"))
          .values(public_doc=bindparam("b_doc")))


def refresh_public_document(session: Session, badge_ids: Iterable[str]) -> None:
    """Recompute and store the public documents of these badges, in the caller's transaction.

    Call it after any change to a badge's public facts (issue, lifecycle, renewal, re-signing,
    import, a rename of its shop, member or branch): pending ORM changes are flushed first, so
    the document is made from exactly what the transaction will commit.
    """
    session.flush()
    docs = compute_documents(session, badge_ids)
    if not docs:
        return
    session.execute(_STORE, [{"b_id": k, "b_doc": v} for k, v in docs.items()])
    for badge_id, text in docs.items():  # keep loaded objects in step (no second UPDATE at flush)
        loaded = session.identity_map.get(session.identity_key(Badge, badge_id))  # type: ignore[arg-type]
        if loaded is not None:
            set_committed_value(loaded, "public_doc", text)


_FILL = _STORE.where(Badge.__table__.c.public_doc.is_(None))  # a document stored meanwhile stays


def fill_missing(engine: Engine) -> int:
    """Compute the document of every badge that has none; return how many were stored.

    ``liang init`` runs this once the schema is at its newest revision: the badges that
    predate the column (migration 0010 adds it empty) and any a database guard emptied
    since. It runs today's code on today's schema, which a migration could not promise: a
    migration importing the application would break the day the models move on.

    A chunk at a time, each in its own write transaction with its badges locked first
    (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``FOR UPDATE``) and the rows read after the
    lock. A rename committed meanwhile therefore either shows in the document, or waits for
    this transaction and then empties the document again: never a stale one.
    """
    done = 0
    last = ""
    while True:
        with engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
            query = (select(Badge.id).where(Badge.public_doc.is_(None), Badge.id > last)
                     .order_by(Badge.id).limit(_CHUNK))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            ids = list(conn.execute(query).scalars())
            if not ids:
                return done
            docs = compute_documents(conn, ids)
            if docs:
                conn.execute(_FILL, [{"b_id": k, "b_doc": v} for k, v in docs.items()])
        done += len(docs)
        last = ids[-1]


def stale_documents(conn: Session | Connection) -> Iterator[tuple[str, str]]:
    """Yield (canonical id, what is wrong) for each stored document that a fresh computation disagrees with."""
    last = ""
    while True:
        rows = conn.execute(select(Badge.id, Badge.public_doc).where(Badge.id > last).order_by(Badge.id)
                            .limit(_CHUNK)).all()
        if not rows:
            return
        fresh = compute_documents(conn, [r[0] for r in rows])
        for badge_id, stored in rows:
            if stored is None:
                yield badge_id, "no precomputed public document"
            elif stored != fresh.get(badge_id):
                yield badge_id, "its precomputed public document differs from its record"
        last = rows[-1][0]


# -- the read side ----------------------------------------------------------------------------------
def when(value: Any) -> datetime:
    """Return a stored timestamp as aware UTC (SQLite hands back naive text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return ensure_utc(value)

"""The public read path: what a shopper may see of a badge, in one indexed query.

Every verification answer comes from the database at the moment of the request (nothing
here is cached), but through the cheapest road there is: a per-thread DBAPI connection in
autocommit mode, from an engine of its own, and one prepared ``SELECT`` joining the badge
to its shop, holder and branch. Autocommit matters for correctness as well as speed: each
statement sees everything committed before it started, so a revocation committed through
any instance shows on the very next read. The ORM stays the road for everything that
writes or needs relationships; this module only reads.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, OperationalError

from signer.clock import ensure_utc
from signer.errors import BadgeNotFound
from signer.ids import format_badge_id, parse_badge_id
from signer.lifecycle import State
from verifier.storage.engine import Timeouts, make_engine
from verifier.storage.models import Badge, BadgeImageLayer, Branch, Member, Shop, StatusList
from verifier.storage.publicdoc import PublicDocument, document_text, when

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIModule
    from sqlalchemy.sql import ClauseElement

_HIDDEN = frozenset({State.PENDING.value, State.REJECTED.value})


@dataclass(frozen=True, slots=True)
class PublicBadge:
    """The public columns of a badge and of its shop, holder and branch (no private notes)."""

    id: str  # canonical, no hyphens
    state: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    credential: str | None
    credential_id: str | None
    shop_name: str
    platform: str
    shop_url: str
    hosts: tuple[str, ...]
    holder: str
    branch_code: str
    branch_name: str
    log_index: int | None = None  # the public-log entry of the badge's latest decision

    @classmethod
    def from_badge(cls, badge: Badge) -> PublicBadge:
        """Return the public view of an ORM badge (its shop, member and branch are loaded)."""
        shop = badge.shop
        return cls(id=badge.id, state=badge.state, valid_from=ensure_utc(badge.valid_from),
                   valid_until=ensure_utc(badge.valid_until),
                   revoked_at=ensure_utc(badge.revoked_at) if badge.revoked_at else None,
                   revocation_reason=badge.revocation_reason, credential=badge.credential,
                   credential_id=badge.credential_id, shop_name=shop.name, platform=shop.platform,
                   shop_url=shop.url, hosts=tuple(shop.hosts or ()), holder=shop.member.name,
                   branch_code=badge.branch.code, branch_name=badge.branch.name, log_index=badge.log_index)


def document_of(badge: PublicBadge) -> PublicDocument:
    """Return the public document of a badge computed from its live public view."""
    return PublicDocument(id=badge.id, state=badge.state, valid_from=badge.valid_from, valid_until=badge.valid_until,
                          revoked_at=badge.revoked_at, revocation_reason=badge.revocation_reason,
                          text=document_text(badge_id=badge.id, holder=badge.holder, shop_name=badge.shop_name,
                                             platform=badge.platform, shop_url=badge.shop_url, hosts=badge.hosts,
                                             branch_code=badge.branch_code, branch_name=badge.branch_name,
                                             valid_from=badge.valid_from, valid_until=badge.valid_until,
                                             credential=badge.credential),
                          log_index=badge.log_index)


def _badge_query() -> ClauseElement:
    return (select(Badge.id, Badge.state, Badge.valid_from, Badge.valid_until, Badge.revoked_at,
                   Badge.revocation_reason, Badge.credential, Badge.credential_id, Shop.name, Shop.platform,
                   Shop.url, Shop.hosts, Member.name, Branch.code, Branch.name, Badge.log_index)
            .join(Shop, Shop.id == Badge.shop_id).join(Member, Member.id == Shop.member_id)
            .join(Branch, Branch.id == Badge.branch_id).where(Badge.id == bindparam("key")))


def _document_query() -> ClauseElement:
    # One row, no join: the deciding columns and the document precomputed at write time.
    return (select(Badge.id, Badge.state, Badge.valid_from, Badge.valid_until, Badge.revoked_at,
                   Badge.revocation_reason, Badge.public_doc, Badge.log_index).where(Badge.id == bindparam("key")))


class PublicReader:
    """Reads public records on per-thread autocommit connections (one per serving thread)."""

    def __init__(self, url: str, *, timeouts: Timeouts | None = None) -> None:
        self._engine = make_engine(url, timeouts=timeouts, pool_size=16, max_overflow=48)
        self._sqlite = self._engine.dialect.name == "sqlite"
        # Compiled once by SQLAlchemy for this dialect, then run as plain DBAPI statements.
        self._badge_sql = self._compile(_badge_query())
        self._document_sql = self._compile(_document_query())
        self._list_sql = self._compile(select(StatusList.version).where(StatusList.id == bindparam("key")))
        self._layer_sql = self._compile(select(BadgeImageLayer.data).where(BadgeImageLayer.key == bindparam("key")))
        # The schema, not just the server: a database without our tables is not healthy.
        self._health_sql = "SELECT version_num FROM alembic_version"
        self._positional = bool(self._engine.dialect.positional)
        self._local = threading.local()

    # -- queries ------------------------------------------------------------------------------
    def badge(self, raw_id: str) -> PublicBadge:
        """Return the public view of a badge; MalformedId for a bad id, BadgeNotFound if not public."""
        canonical = parse_badge_id(raw_id)
        row = self._one(self._badge_sql, canonical)
        if row is None or row[1] in _HIDDEN:
            raise BadgeNotFound(f"no badge {format_badge_id(canonical)}", badge_id=format_badge_id(canonical))
        hosts = row[11]
        if isinstance(hosts, str):
            hosts = json.loads(hosts)
        return PublicBadge(id=row[0], state=row[1], valid_from=when(row[2]), valid_until=when(row[3]),
                           revoked_at=when(row[4]) if row[4] is not None else None,
                           revocation_reason=row[5], credential=row[6], credential_id=row[7], shop_name=row[8],
                           platform=row[9], shop_url=row[10], hosts=tuple(hosts or ()), holder=row[12],
                           branch_code=row[13], branch_name=row[14], log_index=row[15])

    def document(self, raw_id: str) -> PublicDocument:
        """Return a badge's deciding columns and public document; MalformedId / BadgeNotFound as ``badge``.

        One indexed row. A badge without a stored document (NULL) is read through the join and
        its document computed from the live rows: slower, never stale.
        """
        canonical = parse_badge_id(raw_id)
        row = self._one(self._document_sql, canonical)
        if row is None or row[1] in _HIDDEN:
            raise BadgeNotFound(f"no badge {format_badge_id(canonical)}", badge_id=format_badge_id(canonical))
        text = row[6]
        if text is None:
            return document_of(self.badge(canonical))
        return PublicDocument(id=row[0], state=row[1], valid_from=when(row[2]), valid_until=when(row[3]),
                              revoked_at=when(row[4]) if row[4] is not None else None,
                              revocation_reason=row[5], text=text, log_index=row[7])

    def status_list_version(self, list_id: str) -> int | None:
        """Return the current version of a status list, or None if there is no such list."""
        row = self._one(self._list_sql, list_id)
        return None if row is None else int(row[0])

    def image_layer(self, key: str) -> bytes | None:
        """Return the kept badge image layer under ``key``, or None when none is kept."""
        row = self._one(self._layer_sql, key)
        return None if row is None else bytes(row[0])

    def ping(self) -> None:
        """Raise OperationalError unless the database answers and holds our schema."""
        self._one(self._health_sql, None)

    def dispose(self) -> None:
        """Close every pooled connection (threads reconnect on their next read)."""
        self._local = threading.local()
        self._engine.dispose()

    # -- plumbing -----------------------------------------------------------------------------
    def _compile(self, query: ClauseElement) -> str:
        return str(query.compile(dialect=self._engine.dialect))

    def _one(self, sql: str, key: str | None) -> Any:
        """Run one read; a broken connection is replaced once, then the failure is a 503."""
        params: Any = () if key is None else ((key,) if self._positional else {"key": key})
        dbapi_error = self._engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            try:
                conn = self._connection()
            except (dbapi_error, DBAPIError) as exc:  # cannot connect at all: cannot verify now
                raise OperationalError(sql, params, getattr(exc, "orig", exc)) from exc
            try:
                cursor = conn.cursor()
                try:
                    cursor.execute(sql, params)
                    return cursor.fetchone()
                finally:
                    cursor.close()
            except dbapi_error as exc:
                retry = attempt == 1 and self._retryable(exc, conn)
                self._drop(conn)
                if not retry:
                    raise OperationalError(sql, params, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _retryable(self, exc: DBAPIModule.Error, conn: Any) -> bool:
        # A dropped connection (the dialect knows the signs) is worth one fresh attempt; nothing else is.
        dialect = self._engine.dialect
        return isinstance(exc, dialect.loaded_dbapi.OperationalError) or dialect.is_disconnect(
            exc, getattr(conn, "dbapi_connection", None), None)

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._engine.raw_connection()
            if not self._sqlite:
                # Autocommit: no BEGIN/ROLLBACK round trips, and every statement sees the latest commit.
                conn.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            self._local.conn = conn
        return conn

    def _drop(self, conn: Any) -> None:
        self._local.conn = None
        with contextlib.suppress(Exception):  # already broken: it is discarded either way
            conn.invalidate()

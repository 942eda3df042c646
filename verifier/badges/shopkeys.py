"""One live badge per shop, held by the database: the shop key every badge carries.

Each badge row carries its shop's key (:func:`verifier.badges.shops.shop_key`), written with
the row. Two partial unique indexes (migration 0011) refuse a second ``active``/``suspended``
badge and a second ``pending`` application for one shop, whatever path writes it (API,
console, CLI, import, approval) and however many instances race. :func:`shop_conflict` turns
the database's refusal into the service's 409; :func:`fill_shop_keys` keys the badges of an
older database (``liang init``); :func:`live_pairs` finds shops with more than one live badge
for ``liang audit verify``.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signer.errors import Conflict
from signer.ids import format_badge_id
from verifier.badges.shops import shop_key
from verifier.storage.engine import IMMEDIATE
from verifier.storage.models import LIVE_STATES, Badge, Shop

_INDEXES = ("uq_badges_live_shop", "uq_badges_pending_shop")
_CHUNK = 1000


def shop_conflict(exc: IntegrityError, *, pending: bool = False) -> Conflict | None:
    """Return the 409 for a write the one-badge-per-shop indexes refused, else None (another constraint).

    PostgreSQL names the index; SQLite names only the column, so the writer says whether it
    was writing an application (``pending``).
    """
    orig = exc.orig
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if name not in _INDEXES and not (name is None and "badges.shop_key" in str(orig)):
        return None
    if name == "uq_badges_pending_shop" or (name is None and pending):
        return Conflict("an application for this shop is already waiting for its branch", reason="shop_has_application")
    return Conflict("this shop already has a badge; renew it instead", reason="shop_has_badge")


def fill_shop_keys(engine: Engine) -> int:
    """Key every badge that has no shop key yet; return how many were keyed.

    Run by ``liang init`` after the migrations (0011 adds the column empty). A chunk at a time,
    each in one write transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL rows locked). Where an
    older database already holds two live badges (or two pending applications) for one shop, the
    one issued first is keyed and the others stay unkeyed, as they are: ``liang audit verify``
    names the pair until an administrator revokes one. Nothing public changes here.
    """
    done = 0
    last = ""
    while True:
        with engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
            query = (select(Badge.id).where(Badge.shop_key.is_(None), Badge.id > last)
                     .order_by(Badge.id).limit(_CHUNK))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            ids = list(conn.execute(query).scalars())
            if not ids:
                return done
            done += _key_chunk(conn, ids)
        last = ids[-1]


def _key_chunk(conn: Connection, ids: list[str]) -> int:
    rows = conn.execute(select(Badge.id, Badge.state, Badge.issued_at, Shop.platform, Shop.url)
                        .join(Shop, Shop.id == Badge.shop_id).where(Badge.id.in_(ids))).all()
    keyed = 0
    # The first issued of a pair keeps the shop (an application, never issued, sorts last).
    for badge_id, state, _issued, platform, url in sorted(rows, key=lambda r: (r[2] is None, str(r[2]), r[0])):
        key = shop_key(platform, url)
        holder = _group(state)
        if holder is not None and conn.execute(
            select(Badge.id).where(Badge.shop_key == key, Badge.state.in_(holder), Badge.id != badge_id).limit(1)
        ).first() is not None:
            continue  # an older database's twin: reported by `liang audit verify`, left as it is
        conn.execute(update(Badge).where(Badge.id == badge_id, Badge.shop_key.is_(None)).values(shop_key=key))
        keyed += 1
    return keyed


def _group(state: str) -> tuple[str, ...] | None:
    """Return the states a badge in ``state`` must be alone among for its shop (None: any number)."""
    if state in LIVE_STATES:
        return LIVE_STATES
    if state == "pending":
        return ("pending",)
    return None


def live_pairs(session: Session) -> Iterator[str]:
    """Yield one line per shop that holds more than one live badge (or pending application), by folded URL.

    The key is computed afresh from each shop's platform and URL, not read from the column, so
    an older database's unkeyed twins are found too.
    """
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for badge_id, state, platform, url in session.execute(
        select(Badge.id, Badge.state, Shop.platform, Shop.url).join(Shop, Shop.id == Badge.shop_id)
        .where(Badge.state.in_((*LIVE_STATES, "pending"))).order_by(Badge.id)
    ):
        group = _group(state)
        assert group is not None  # noqa: S101 - the query selects only grouped states
        groups.setdefault((shop_key(platform, url), group), []).append(format_badge_id(badge_id))
    for (_key, group), ids in groups.items():
        if len(ids) > 1:
            what = "pending applications" if group == ("pending",) else "live badges"
            yield f"one shop, {len(ids)} {what}: {', '.join(ids)} (revoke or reject all but one)"

"""One live badge per shop is held by the database, not only by a look before the write.

The unique indexes of migration 0011 refuse a second live badge (and a second pending
application) for one shop even when the service's early check is bypassed or raced; an older
database's pair is kept as it is, keyed once and named by ``liang audit verify``.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from signer.errors import Conflict
from signer.lifecycle import State
from tests.conftest import COMMITTEE, _pg_schema_url
from verifier import context
from verifier.audit.consistency import check_consistency
from verifier.badges.issuance import Issuance
from verifier.badges.service import IssueRequest
from verifier.badges.shopkeys import fill_shop_keys, live_pairs
from verifier.badges.shops import shop_key
from verifier.storage.db import make_engine
from verifier.storage.migrate import alembic_config
from verifier.storage.models import Badge

SHOP = "https://wangwu.taobao.com/"


def _issue(app, url: str, *, platform: str = "taobao", state: State = State.ACTIVE, holder: str = "王五") -> str:
    with app.app_context():
        context.begin_write()
        badge = context.badge_service().issue(IssueRequest(holder, "王五小店", url, platform, "B01"),
                                              actor=COMMITTEE, state=state)
        context.session().commit()
        return badge.id


@pytest.fixture
def no_early_check(monkeypatch):
    """Bypass the service's look before the write, as a racing second instance effectively does."""
    monkeypatch.setattr(Issuance, "_shops_with_badges", lambda self, shops, **kw: set())


def test_a_new_badge_carries_its_shop_key(app, make_branch):
    make_branch("B01")
    badge_id = _issue(app, SHOP)
    with app.app_context():
        stored = context.session().execute(select(Badge.shop_key).where(Badge.id == badge_id)).scalar_one()
    assert stored == shop_key("taobao", SHOP)


@pytest.mark.parametrize(("variant", "platform"), [
    ("http://www.wangwu.taobao.com./index.htm?spm=a1z10", "taobao"), (SHOP, "tmall"),
    ("https://WANGWU.taobao.com/category.htm", "taobao"),
])
def test_the_database_refuses_a_second_live_badge_even_past_the_early_check(app, make_branch, no_early_check,
                                                                           variant, platform):
    make_branch("B01")
    _issue(app, SHOP)
    with pytest.raises(Conflict, match="already has a badge") as info:
        _issue(app, variant, platform=platform, holder="另一个人")
    assert info.value.reason == "shop_has_badge"
    with app.app_context():
        live = context.session().execute(select(Badge.id).where(Badge.state == "active")).all()
    assert len(live) == 1


def test_the_database_refuses_a_second_pending_application(app, make_branch, no_early_check):
    make_branch("B01")
    _issue(app, SHOP, state=State.PENDING)
    with pytest.raises(Conflict, match="already waiting") as info:
        _issue(app, "http://wangwu.taobao.com", state=State.PENDING, holder="冒名者")
    assert info.value.reason == "shop_has_application"


def test_a_second_application_for_one_shop_is_refused_early(app, make_branch):
    make_branch("B01")
    _issue(app, SHOP, state=State.PENDING)
    with pytest.raises(Conflict, match="already waiting"):
        _issue(app, SHOP, state=State.PENDING, holder="冒名者")


def test_approving_an_application_for_a_shop_that_got_a_badge_meanwhile_is_refused(app, make_branch, act,
                                                                                  no_early_check):
    make_branch("B01")
    application = _issue(app, SHOP, state=State.PENDING)
    _issue(app, "https://wangwu.taobao.com/shop")  # the branch issued directly in the meantime
    with pytest.raises(Conflict, match="already has a badge"):
        act("approve", application)
    with app.app_context():
        state = context.session().execute(select(Badge.state).where(Badge.id == application)).scalar_one()
    assert state == "pending"


def test_a_revoked_badge_frees_its_shop(app, make_branch, act):
    make_branch("B01")
    first = _issue(app, SHOP)
    act("revoke", first, reason="superseded")
    assert _issue(app, SHOP, holder="王五") != first


def test_two_writers_issuing_one_shop_at_once_leave_one_live_badge(app, make_branch, no_early_check):
    """Both pass the (bypassed) early check; the index makes exactly one of them win, on either database."""
    make_branch("B01")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(url: str) -> None:
        with app.app_context():
            context.begin_write() if context.session().bind.dialect.name == "postgresql" else None
            barrier.wait(timeout=30)
            try:
                if context.session().bind.dialect.name != "postgresql":
                    context.begin_write()  # SQLite: writers queue on BEGIN IMMEDIATE
                context.badge_service().issue(IssueRequest("王五", "王五小店", url, "taobao", "B01"), actor=COMMITTEE)
                context.session().commit()
                outcomes.append("issued")
            except Conflict as exc:
                context.session().rollback()
                outcomes.append(exc.reason)

    threads = [threading.Thread(target=write, args=(url,)) for url in (SHOP, "http://www.wangwu.taobao.com")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["issued", "shop_has_badge"]


# -- an older database ------------------------------------------------------------------------------
def _old_pair(url: str):
    """A database at revision 0010 holding two live badges and two applications for one shop."""
    engine = make_engine(url)
    now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0010")
        conn.execute(text("INSERT INTO branches (id, code, name, created_at) VALUES (1, 'B01', '一支部', :t)"),
                     {"t": now})
        conn.execute(text("INSERT INTO members (id, name, branch_id, created_at) VALUES (1, '王五', 1, :t)"),
                     {"t": now})
        for shop_id, shop_url in ((1, "https://wangwu.taobao.com"), (2, "http://www.wangwu.taobao.com/"),
                                  (3, "https://lisi.taobao.com")):
            conn.execute(text("INSERT INTO shops (id, member_id, platform, name, url, url_key, hosts, created_at) "
                              "VALUES (:i, 1, 'taobao', '店', :u, :u, '[]', :t)"), {"i": shop_id, "u": shop_url, "t": now})
        for badge_id, shop_id, state, issued in (("AAAAAAAAAAA1", 2, "active", now.replace(month=3)),
                                                 ("AAAAAAAAAAA2", 1, "active", now.replace(month=2)),
                                                 ("AAAAAAAAAAA3", 3, "pending", None),
                                                 ("AAAAAAAAAAA4", 3, "pending", None),
                                                 ("AAAAAAAAAAA5", 1, "revoked", now)):
            conn.execute(text("INSERT INTO badges (id, shop_id, branch_id, state, valid_from, valid_until, issued_at, "
                              "updated_at) VALUES (:i, :s, 1, :st, :t, :u, :iss, :t)"),
                         {"i": badge_id, "s": shop_id, "st": state, "t": now, "u": now.replace(year=2027),
                          "iss": issued})
        command.upgrade(cfg, "head")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    """An empty database of each kind (PostgreSQL: a schema of its own, when LIANG_TEST_DATABASE_URL is set)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    base = os.environ.get("LIANG_TEST_DATABASE_URL")
    if not base:
        pytest.skip("LIANG_TEST_DATABASE_URL not set: the PostgreSQL variant runs in the PostgreSQL pass")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.database
def test_an_older_databases_pair_is_kept_keyed_once_and_reported(empty_database):
    engine = _old_pair(empty_database)
    assert fill_shop_keys(engine) == 3  # the first issued of the pair, the first application, the revoked one
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT id, shop_key FROM badges")).all())
        states = dict(conn.execute(text("SELECT id, state FROM badges")).all())
    assert keys["AAAAAAAAAAA2"] == shop_key("taobao", "https://wangwu.taobao.com")  # issued first: keyed
    assert keys["AAAAAAAAAAA1"] is None  # its twin: left as it is, unkeyed
    assert [keys["AAAAAAAAAAA3"] is None, keys["AAAAAAAAAAA4"] is None].count(True) == 1
    assert keys["AAAAAAAAAAA5"] is not None
    assert states["AAAAAAAAAAA1"] == states["AAAAAAAAAAA2"] == "active"  # nothing public changed
    assert fill_shop_keys(engine) == 0  # a second `liang init` changes nothing
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        pairs = list(live_pairs(session))
        assert any("AAAA-AAAA-AAA1" in line and "AAAA-AAAA-AAA2" in line and "live badges" in line
                   for line in pairs), pairs
        assert any("pending applications" in line for line in pairs), pairs
        assert any("one shop, 2 live badges" in p for p in check_consistency(session))
    engine.dispose()


def test_audit_verify_names_a_pair_an_older_database_holds(app, make_branch, run_cli):
    make_branch("B01")
    first = _issue(app, SHOP)
    second = _issue(app, "https://lisi.taobao.com/")
    with app.app_context():  # an older release's race: the second badge moved onto the first one's shop
        session = context.session()
        shop_id = session.execute(select(Badge.shop_id).where(Badge.id == first)).scalar_one()
        session.execute(text("UPDATE badges SET shop_id = :s, shop_key = NULL WHERE id = :i"),
                        {"s": shop_id, "i": second})
        session.commit()
    result = run_cli("audit", "verify")
    assert result.exit_code == 1
    assert "one shop, 2 live badges" in result.stdout + result.stderr

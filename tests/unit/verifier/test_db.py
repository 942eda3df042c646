"""Driver-level bulk writes: insert_many stores what the ORM stores, inside the caller's transaction;
reserve_ids hands out ids nothing else will use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from verifier import context
from verifier.storage.db import insert_many, reserve_ids
from verifier.storage.models import Branch, Member, Shop

BEIJING = timezone(timedelta(hours=8))
WHEN = datetime(2026, 11, 25, 18, 30, 5, tzinfo=BEIJING)


@pytest.fixture
def branch_id(app, make_branch):
    make_branch("B01", "第一支部")
    with app.app_context():
        return context.session().execute(select(Branch.id).where(Branch.code == "B01")).scalar_one()


def _raw(session, table, column, row_id):
    """Return a column as the database stores it (text), to compare the two ways of writing."""
    return session.execute(text(f"SELECT CAST({column} AS TEXT) FROM {table} WHERE id = :id"),  # noqa: S608
                           {"id": row_id}).scalar_one()


def test_insert_many_stores_what_an_orm_insert_stores(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        by_orm = Member(name="王 \"小明\" 😀", branch_id=branch_id, contact=None, created_at=WHEN)
        session.add(by_orm)
        session.flush()
        shop_by_orm = Shop(member_id=by_orm.id, platform="jd", name="店", url="https://a.example/",
                           url_key="https://a.example", hosts=["a.example", "例子.example"], created_at=WHEN)
        session.add(shop_by_orm)
        session.flush()
        member_id, shop_id = reserve_ids(session, Member.__table__, 1)[0], reserve_ids(session, Shop.__table__, 1)[0]
        assert insert_many(session, Member.__table__, ("id", "name", "branch_id", "contact", "created_at"),
                           [(member_id, by_orm.name, branch_id, None, WHEN)]) == 1
        assert insert_many(session, Shop.__table__, ("id", "member_id", "platform", "name", "url", "url_key",
                                                     "hosts", "created_at"),
                           [(shop_id, member_id, "jd", "店", "https://a.example/", "https://a.example",
                             ["a.example", "例子.example"],
                             WHEN)]) == 1
        for table, column, orm_id, bulk_id in [("members", "created_at", by_orm.id, member_id),
                                               ("members", "name", by_orm.id, member_id),
                                               ("shops", "hosts", shop_by_orm.id, shop_id),
                                               ("shops", "created_at", shop_by_orm.id, shop_id)]:
            assert _raw(session, table, column, bulk_id) == _raw(session, table, column, orm_id), (table, column)
        session.commit()
        session.expunge_all()
        member = session.get(Member, member_id)
        assert member.created_at == WHEN and member.created_at.tzinfo is not None  # aware UTC back
        assert member.created_at.utcoffset() == timedelta(0)
        assert session.get(Shop, shop_id).hosts == ["a.example", "例子.example"]


@pytest.mark.parametrize("count", [1, 40])  # on PostgreSQL a few rows go in by INSERT, many by COPY
def test_insert_many_stores_a_few_rows_and_many_alike(app, branch_id, count):
    with app.app_context():
        session = context.begin_write()
        member = Member(name="王五", branch_id=branch_id, created_at=WHEN)
        session.add(member)
        session.flush()
        by_orm = Shop(member_id=member.id, platform="jd", name="店 \"一\"", url="https://a.example/",
                      url_key="https://a.example", hosts=["a.example", "例子.example"], created_at=WHEN)
        session.add(by_orm)
        session.flush()
        ids = reserve_ids(session, Shop.__table__, count)
        assert insert_many(session, Shop.__table__, ("id", "member_id", "platform", "name", "url", "url_key",
                                                     "hosts", "created_at"),
                           [(i, member.id, "jd", by_orm.name, by_orm.url, by_orm.url_key, list(by_orm.hosts), WHEN)
                            for i in ids]) == count
        for column in ("name", "hosts", "created_at"):
            assert {_raw(session, "shops", column, i) for i in ids} == {_raw(session, "shops", column, by_orm.id)}
        session.rollback()


def test_insert_many_writes_inside_the_callers_transaction(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        ids = reserve_ids(session, Member.__table__, 3)
        insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"),
                    [(i, f"m{i}", branch_id, WHEN) for i in ids])
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 3
        session.rollback()
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 0


def test_insert_many_with_no_rows_writes_nothing(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        assert insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"), []) == 0
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 0
        session.rollback()


def test_a_refused_row_raises_sqlalchemys_integrity_error(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        with pytest.raises(IntegrityError) as info:
            insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"),
                        [(10_001, "m", branch_id + 999, datetime(2026, 1, 1, tzinfo=UTC))])  # no such branch
        assert info.value.orig is not None  # the driver's own error is kept for the log
        session.rollback()
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 0


def test_reserved_ids_are_fresh_and_never_handed_out_again(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        session.add(Member(name="before", branch_id=branch_id, created_at=WHEN))
        session.flush()
        existing = session.execute(select(func.max(Member.id))).scalar_one()
        reserved = reserve_ids(session, Member.__table__, 5)
        assert len(set(reserved)) == 5 and min(reserved) > existing
        insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"),
                    [(i, f"m{i}", branch_id, WHEN) for i in reserved])
        after = Member(name="after", branch_id=branch_id, created_at=WHEN)
        session.add(after)
        session.flush()  # the ORM's next id does not collide with a reserved one
        assert after.id not in reserved and after.id > existing
        assert reserve_ids(session, Member.__table__, 0) == []
        session.commit()


def test_insert_many_takes_rows_from_a_generator(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        ids = reserve_ids(session, Member.__table__, 50)
        made = insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"),
                           ((i, f"m{i}", branch_id, WHEN) for i in ids))
        assert made == 50
        session.commit()
        assert sorted(session.execute(select(Member.id)).scalars()) == sorted(ids)


def test_a_generator_that_fails_midway_leaves_nothing_after_rollback(app, branch_id):
    def rows(ids):
        for n, i in enumerate(ids):
            if n == 30:
                raise RuntimeError("signing failed")
            yield (i, f"m{i}", branch_id, WHEN)

    with app.app_context():
        session = context.begin_write()
        ids = reserve_ids(session, Member.__table__, 50)
        with pytest.raises(RuntimeError, match="signing failed"):
            insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"), rows(ids))
        session.rollback()
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 0


def test_a_refused_row_among_many_raises_sqlalchemys_integrity_error(app, branch_id):
    # Many rows: on PostgreSQL a COPY, written from psycopg's writer thread.
    with app.app_context():
        session = context.begin_write()
        ids = reserve_ids(session, Member.__table__, 40)
        rows = [(i, f"m{i}", branch_id if n != 25 else branch_id + 999, WHEN) for n, i in enumerate(ids)]
        with pytest.raises(IntegrityError):
            insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"), rows)
        session.rollback()
        assert session.execute(select(func.count()).select_from(Member)).scalar_one() == 0


def test_long_texts_go_to_postgresql_compressed_with_lz4_and_the_setting_is_put_back(app, branch_id):
    with app.app_context():
        session = context.begin_write()
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: SQLite does not compress")
        if not session.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                    "WHERE name = 'default_toast_compression'")).scalar():
            pytest.skip("this PostgreSQL was built without lz4")
        before = session.execute(text("SHOW default_toast_compression")).scalar_one()
        member_id = reserve_ids(session, Member.__table__, 1)[0]
        insert_many(session, Member.__table__, ("id", "name", "branch_id", "created_at"),
                    [(member_id, "王五", branch_id, WHEN)])
        hosts = [f"s{n}.example.com" for n in range(400)]  # compressible, and past PostgreSQL's 2 kB toast threshold
        ids = reserve_ids(session, Shop.__table__, 40)
        insert_many(session, Shop.__table__, ("id", "member_id", "platform", "name", "url", "url_key", "hosts",
                                              "created_at"),
                    [(i, member_id, "jd", "店", f"https://a{i}.example/", f"https://a{i}.example", hosts, WHEN)
                     for i in ids])
        assert session.execute(text("SHOW default_toast_compression")).scalar_one() == before
        stored = session.execute(text("SELECT DISTINCT pg_column_compression(hosts) FROM shops")).scalars().all()
        assert stored == ["lz4"]
        assert [list(h) for h in session.execute(select(Shop.hosts)).scalars()] == [hosts] * 40
        session.rollback()

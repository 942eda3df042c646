"""Migration 0007 adds members.member_ref: existing members keep their rows, numbers are unique when set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from verifier.storage.db import make_engine
from verifier.storage.migrate import alembic_config


def test_upgrade_keeps_members_and_numbers_are_unique_downgrade_drops_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        conn.execute(text("INSERT INTO branches (id, code, name, created_at) VALUES (1, 'B01', '一', :t)"), {"t": now})
        conn.execute(text("INSERT INTO members (id, name, branch_id, created_at) VALUES (1, '王五', 1, :t), "
                          "(2, '王五', 1, :t)"), {"t": now})
        # A shop refers to a member: the migration must not copy and drop the members table.
        conn.execute(text("INSERT INTO shops (id, member_id, platform, name, url, url_key, hosts, created_at) "
                          "VALUES (1, 1, 'taobao', '店', 'https://a.example/', 'https://a.example/', '[]', :t)"),
                     {"t": now})
        command.upgrade(cfg, "0007")
        assert conn.execute(text("SELECT id, name, member_ref FROM members ORDER BY id")).all() == [
            (1, "王五", None), (2, "王五", None)]  # two NULL numbers do not clash
        conn.execute(text("UPDATE members SET member_ref = 'WS-1' WHERE id = 1"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE members SET member_ref = 'WS-1' WHERE id = 2"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
        assert "member_ref" not in {c["name"] for c in inspect(conn).get_columns("members")}
        assert conn.execute(text("SELECT count(*) FROM members")).scalar_one() == 2
        command.upgrade(cfg, "head")
    engine.dispose()

"""Migration 0004 fills shops.url_key from the URLs already stored."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from verifier.badges.shops import url_key
from verifier.storage.db import make_engine
from verifier.storage.migrate import alembic_config


def test_existing_shops_get_their_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        conn.execute(text("INSERT INTO branches (id, code, name, created_at) VALUES (1, 'B01', '一', :t)"), {"t": now})
        conn.execute(text("INSERT INTO members (id, name, branch_id, created_at) VALUES (1, '王五', 1, :t)"),
                     {"t": now})
        conn.execute(text("INSERT INTO shops (id, member_id, platform, name, url, hosts, created_at) "
                          "VALUES (1, 1, 'taobao', '店', 'HTTPS://WangWu.Taobao.com:443/shop/#x', '[]', :t)"),
                     {"t": now})
        command.upgrade(cfg, "head")
        key = conn.execute(text("SELECT url_key FROM shops WHERE id = 1")).scalar_one()
    engine.dispose()
    assert key == url_key("https://wangwu.taobao.com/shop") == "taobao.com/wangwu"  # today's folding

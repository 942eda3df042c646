"""``liang badge issue --member-ref`` and the import's member_ref column: members found by number, never by name."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from verifier import context
from verifier.storage.models import Member, Shop


@pytest.fixture
def branch(run_cli):
    assert run_cli("branch", "add", "B01", "第一支部").exit_code == 0
    return "B01"


def _issue(run_cli, url, *extra, holder="王五"):
    return run_cli("badge", "issue", "--holder", holder, "--shop-name", "店", "--shop-url", url,
                   "--platform", "taobao", "--branch", "B01", "--json", *extra)


def _members(app):
    with app.app_context():
        return sorted(context.session().execute(
            select(Member.name, Member.member_ref, Shop.url).join(Shop, Shop.member_id == Member.id)).all(),
            key=lambda r: r.url)


def test_issue_with_and_without_a_member_ref(app, run_cli, branch):
    assert _issue(run_cli, "https://a.taobao.com/", "--member-ref", "WS-1").exit_code == 0
    assert _issue(run_cli, "https://b.taobao.com/", "--member-ref", "WS-1").exit_code == 0
    assert _issue(run_cli, "https://c.taobao.com/").exit_code == 0
    assert _issue(run_cli, "https://d.taobao.com/").exit_code == 0
    rows = _members(app)
    assert [r.member_ref for r in rows] == ["WS-1", "WS-1", None, None]
    with app.app_context():
        assert len(context.session().execute(select(Member.id)).all()) == 3  # WS-1, and two distinct 王五


def test_a_member_ref_of_someone_else_is_a_one_line_error(app, run_cli, branch):
    assert _issue(run_cli, "https://a.taobao.com/", "--member-ref", "WS-1").exit_code == 0
    result = _issue(run_cli, "https://b.taobao.com/", "--member-ref", "WS-1", holder="王六")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "is not the name of the member" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(_members(app)) == 1


def test_import_with_a_member_ref_column(app, run_cli, branch, tmp_path):
    assert _issue(run_cli, "https://a.taobao.com/", "--member-ref", "WS-1").exit_code == 0
    path = tmp_path / "in.csv"
    path.write_text("holder,shop_name,shop_url,platform,branch,valid_days,hosts,member_ref\n"
                    "王五,店,https://b.taobao.com/,taobao,B01,30,,WS-1\n"
                    "王五,店,https://c.taobao.com/,taobao,B01,30,,\n"
                    "李四,店,https://d.taobao.com/,taobao,B01,30,,WS-2\n", encoding="utf-8")
    result = run_cli("badge", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert [(r.name, r.member_ref) for r in _members(app)] == [
        ("王五", "WS-1"), ("王五", "WS-1"), ("王五", None), ("李四", "WS-2")]


def test_import_refuses_a_member_ref_with_another_name_and_imports_nothing(app, run_cli, branch, tmp_path):
    assert _issue(run_cli, "https://a.taobao.com/", "--member-ref", "WS-1").exit_code == 0
    path = tmp_path / "in.csv"
    path.write_text("holder,shop_name,shop_url,platform,branch,valid_days,member_ref\n"
                    "李四,店,https://d.taobao.com/,taobao,B01,30,WS-2\n"
                    "王六,店,https://b.taobao.com/,taobao,B01,30,WS-1\n", encoding="utf-8")
    result = run_cli("badge", "import", str(path))
    assert result.exit_code == 1
    assert "line 3 (holder)" in result.stderr and "nothing was imported" in result.stderr
    assert len(_members(app)) == 1

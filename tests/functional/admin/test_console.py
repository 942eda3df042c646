"""Console pages: issue and lifecycle with confirmation, scope, renewals, organisation, dashboard, import."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.functional.admin.conftest import csrf_from, post_form
from verifier import context
from verifier.storage.models import Badge, Member, VerificationCount


@pytest.fixture
def org(make_user, make_branch):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")
    make_user("boss", "committee")
    make_user("sec1", "branch", "B01")
    make_user("sec2", "branch", "B02")
    make_user("eye", "auditor")


def _state(client, badge_id):
    return client.get(f"/api/v1/badges/{badge_id}").get_json()["status"]


def test_issue_needs_confirmation(org, login, client, app):
    console = login("sec1")
    form = {"holder": "赵六", "shop_name": "赵六杂货", "shop_url": "https://zl.taobao.com", "platform": "taobao",
            "branch": "B01"}
    refused = post_form(console, "/admin/badges/new", form, page_url="/admin/badges/new")
    assert refused.status_code == 400
    assert "请勾选确认框" in refused.get_data(as_text=True)
    done = post_form(console, "/admin/badges/new", {**form, "confirm": "yes"}, page_url="/admin/badges/new")
    assert done.status_code == 302
    badge_id = done.headers["Location"].rsplit("/", 1)[1]
    assert _state(client, badge_id) == "valid"


def test_lifecycle_actions_follow_public_page(org, login, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    console = login("sec1")
    page = console.get(f"/admin/badges/{badge_id}").get_data(as_text=True)
    assert 'id="act-suspend"' in page and 'id="act-reinstate"' not in page
    for action, extra, expected in [("suspend", {"note": "查"}, "suspended"), ("reinstate", {}, "valid"),
                                    ("renew", {"valid_days": "30"}, "valid"),
                                    ("revoke", {"reason": "misconduct", "note": "私密备注"}, "revoked")]:
        url = f"/admin/badges/{badge_id}/act/{action}"
        response = post_form(console, url, {**extra, "confirm": "yes"}, page_url=url)
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:300])
        assert _state(client, badge_id) == expected
    history = console.get(f"/admin/badges/{badge_id}").get_data(as_text=True)
    # The history says what happened in words, as the audit log does, never the raw action code.
    for words in ("签发徽章", "暂停徽章", "恢复徽章", "续期徽章", "撤销徽章"):
        assert f"<td>{words}</td>" in history
    for code in ("issue", "suspend", "reinstate", "renew", "revoke"):
        assert f"<td>{code}</td>" not in history
    assert f"暂停了徽章 {badge_id}" in history
    assert "私密备注" not in client.get(f"/v/{badge_id}").get_data(as_text=True)


def test_action_without_confirmation_changes_nothing(org, login, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    console = login("sec1")
    url = f"/admin/badges/{badge_id}/act/revoke"
    assert post_form(console, url, {"reason": "misconduct"}, page_url=url).status_code == 400
    assert _state(client, badge_id) == "valid"


def test_unknown_action_is_404(org, login, issue_badge):
    badge_id = issue_badge(branch="B01")
    assert login("boss").get(f"/admin/badges/{badge_id}/act/explode").status_code == 404


def test_foreign_branch_console_is_403_and_unchanged(org, login, client, issue_badge):
    badge_id = issue_badge(branch="B01")
    console = login("sec2")
    assert console.get(f"/admin/badges/{badge_id}").status_code == 403
    url = f"/admin/badges/{badge_id}/act/suspend"
    response = post_form(console, url, {"confirm": "yes"})
    assert response.status_code == 403
    assert "您没有权限执行此操作" in response.get_data(as_text=True)
    assert _state(client, badge_id) == "valid"


def test_badge_list_search_filter_and_scope(org, login, issue_badge):
    issue_badge(branch="B01", shop_name="甲店")
    issue_badge(branch="B01", shop_name="乙店")
    issue_badge(branch="B02", shop_name="丙店")
    boss = login("boss")
    page = boss.get("/admin/badges?q=乙").get_data(as_text=True)
    assert "乙店" in page and "甲店" not in page
    assert "丙店" not in boss.get("/admin/badges?branch=B01").get_data(as_text=True)
    own = login("sec2").get("/admin/badges").get_data(as_text=True)
    assert "丙店" in own and "甲店" not in own
    assert login("sec2").get("/admin/badges?branch=B01").status_code == 403
    assert boss.get("/admin/badges?page=0").status_code == 400


def test_bulk_renewal_renews_all_selected(org, login, client, issue_badge, app):
    ids = [issue_badge(branch="B01", valid_days=10) for _ in range(3)]
    console = login("sec1")
    page = console.get("/admin/").get_data(as_text=True)
    assert all(i in page for i in ids)
    response = console.post("/admin/renewals", data={"badge": ids[:2], "confirm": "yes",
                                                     "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    untils = [client.get(f"/api/v1/badges/{i}").get_json()["valid_until"] for i in ids]
    assert untils[0] == untils[1] != untils[2]


def test_bulk_renewal_with_a_foreign_badge_renews_none(org, login, client, issue_badge):
    own = issue_badge(branch="B01", valid_days=10)
    foreign = issue_badge(branch="B02", valid_days=10)
    console = login("sec1")
    before = [client.get(f"/api/v1/badges/{i}").get_json()["valid_until"] for i in (own, foreign)]
    response = post_form(console, "/admin/renewals", {"badge": [own, foreign], "confirm": "yes"})
    assert response.status_code == 403
    assert [client.get(f"/api/v1/badges/{i}").get_json()["valid_until"] for i in (own, foreign)] == before


def test_dashboard_draws_svg_and_counts_verifications(app_config, org, login, client, issue_badge, app):
    badge_id = issue_badge(branch="B01")
    issue_badge(branch="B02")
    for _ in range(3):
        client.get(f"/v/{badge_id}")
    client.get(f"/api/v1/badges/{badge_id}")
    page = login("boss").get("/admin/").get_data(as_text=True)
    assert page.count("<svg") >= 3 and "<script" not in page and "style=" not in page
    assert "第一支部" in page and "第二支部" in page
    assert "<title>2026-11-25: 4</title>" in page  # counted in memory, shown before any flush
    with app.app_context():  # a GET writes nothing: the counts are still only in memory
        assert context.session().execute(select(func.sum(VerificationCount.count))).scalar_one() is None
    app.extensions["liang.verify_counter"].flush(app.extensions["liang.db"].engine)
    with app.app_context():
        total = context.session().execute(select(func.sum(VerificationCount.count))).scalar_one()
    assert total == 4
    page = login("boss").get("/admin/").get_data(as_text=True)
    assert "<title>2026-11-25: 4</title>" in page  # written once, not counted twice


def test_dashboard_is_scoped_for_branches(org, login, issue_badge):
    issue_badge(branch="B01")
    page = login("sec2").get("/admin/").get_data(as_text=True)
    assert "第二支部" in page and "第一支部" not in page


def test_dashboard_counts_open_complaints_per_branch(org, login, client, issue_badge):
    def tile(user):
        page = login(user).get("/admin/").get_data(as_text=True)
        return re.search(r'<span class="n">([^<]*)</span><span>待处理投诉</span>', page).group(1)

    b01, b02 = issue_badge(branch="B01"), issue_badge(branch="B02")
    for badge_id, address in ((b01, "10.0.0.1"), (b01, "10.0.0.2"), (b02, "10.0.0.3")):
        filed = client.post(f"/api/v1/badges/{badge_id}/complaints", environ_base={"REMOTE_ADDR": address},
                            json={"category": "quality", "description": f"问题 {address}"})
        assert filed.status_code == 201
    assert (tile("boss"), tile("sec1"), tile("sec2")) == ("3", "2", "1")


def test_member_contact_only_for_own_branch_and_committee(org, login, app):
    from verifier.audit.service import SYSTEM, AuditLog
    from verifier.organisation.service import OrgService

    with app.app_context():
        context.begin_write()
        member = OrgService(context.session(), clock=context.clock(), audit=AuditLog(
            context.session(), clock=context.clock())).add_member("钱七", "B01", actor=SYSTEM, contact="13800000000")
        context.session().commit()
        member_id = member.id
    assert "13800000000" in login("boss").get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert "13800000000" in login("sec1").get(f"/admin/members/{member_id}").get_data(as_text=True)
    auditor = login("eye").get(f"/admin/members/{member_id}")
    assert auditor.status_code == 200 and "13800000000" not in auditor.get_data(as_text=True)
    assert login("sec2").get(f"/admin/members/{member_id}").status_code == 403
    assert "钱七" not in login("sec2").get("/admin/members").get_data(as_text=True)


def test_organisation_pages(org, login, app):
    boss = login("boss")
    assert post_form(boss, "/admin/branches", {"code": "B03", "name": "第三支部"}).status_code == 302
    assert post_form(boss, "/admin/groups", {"code": "T-TOY", "name": "玩具党小组", "kind": "trade"}).status_code == 302
    sec = login("sec1")
    assert post_form(sec, "/admin/branches", {"code": "B04", "name": "第四支部"}).status_code == 403
    assert post_form(sec, "/admin/groups", {"code": "T-X", "name": "x", "kind": "trade"}).status_code == 403
    response = post_form(sec, "/admin/members/new", {"name": "孙八", "branch": "B01", "contact": "微信 sun8",
                                                     "groups": "T-TOY"})
    assert response.status_code == 302
    assert post_form(sec, "/admin/members/new", {"name": "周九", "branch": "B02"}).status_code == 403
    with app.app_context():
        member = context.session().execute(select(Member).where(Member.name == "孙八")).scalar_one()
        assert [g.code for g in member.groups] == ["T-TOY"]
        group_id = member.groups[0].id
    other = login("sec2")
    assert post_form(other, f"/admin/groups/{group_id}/members", {"member_id": str(member.id)}).status_code == 403
    page = boss.get("/admin/groups").get_data(as_text=True)
    assert "孙八" in page and "第三支部" in boss.get("/admin/branches").get_data(as_text=True)


def test_audit_page_lists_events(org, login, issue_badge):
    badge_id = issue_badge(branch="B01")
    page = login("eye").get("/admin/audit").get_data(as_text=True)
    assert badge_id in page and "issue" in page


def _csv(rows):
    head = "holder,shop_name,shop_url,platform,branch,valid_days,hosts\n"
    return head + "".join(rows)


def test_console_import_preview_then_commit(org, login, app):
    console = login("sec1")
    good = _csv([f"店主{i},店{i},https://s{i}.taobao.com,taobao,B01,365,\n" for i in range(5)])
    page = console.get("/admin/import").get_data(as_text=True)
    preview = console.post("/admin/import", data={"file": (io.BytesIO(good.encode()), "a.csv"),
                                                  "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "所有行均通过检查" in text
    token = text.split('name="token" value="')[1].split('"')[0]
    with app.app_context():
        assert context.session().execute(select(func.count()).select_from(Badge)).scalar_one() == 0
    done = console.post("/admin/import/commit", data={"token": token, "confirm": "yes", "csrf_token": csrf_from(text)})
    assert done.status_code == 302
    with app.app_context():
        assert context.session().execute(select(func.count()).select_from(Badge)).scalar_one() == 5


def test_console_import_lists_rejected_rows(org, login, app):
    console = login("sec1")
    bad = _csv(["甲,店,https://a.taobao.com,taobao,B01,365,\n", "乙,店,not-a-url,taobao,B01,365,\n",
                "丙,店,https://c.taobao.com,taobao,B02,365,\n"])
    page = console.get("/admin/import").get_data(as_text=True)
    preview = console.post("/admin/import", data={"file": (io.BytesIO(bad.encode()), "a.csv"),
                                                  "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    text = preview.get_data(as_text=True)
    assert "<td>3</td><td><code>shop_url</code></td><td>店铺网址须为带域名的 http:// 或 https:// 网址。</td>" in text
    # branch administrators import into their own branch only
    assert "<td>4</td><td><code>branch</code></td><td>您只能导入到本支部（B01）。</td>" in text
    assert 'name="token"' not in text


def test_auditor_cannot_import(org, login):
    console = login("eye")
    page = console.get("/admin/import").get_data(as_text=True)
    response = console.post("/admin/import", data={"file": (io.BytesIO(b"x"), "a.csv"),
                                                   "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    assert response.status_code == 403

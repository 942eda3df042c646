"""Refusals in words: the console (beside the field, or a flash), the admin API's message, one per failure mode."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.functional.admin.conftest import post_form
from verifier import context
from verifier.storage.models import AuditEvent, Badge, Branch, Member, PartyGroup

NAV = 'href="/admin/badges"'


@pytest.fixture
def org(make_user, make_branch):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    make_user("sec1", "branch", "B01")


def _counts(app):
    with app.app_context():
        s = context.session()
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Badge, Member, Branch, PartyGroup, AuditEvent))


def _beside(page, field):
    match = re.search(rf'<span class="errors field-error" id="{field}-error" role="alert">([^<]*)</span>', page)
    assert match, f"no error beside {field}"
    assert f'aria-describedby="{field}-error"' in page
    return html.unescape(match.group(1))


def _revoked(issue_badge, act):
    badge_id = issue_badge(branch="B01")
    act("revoke", badge_id, reason="misconduct")
    return badge_id


def test_reinstating_a_revoked_badge_flashes_and_changes_nothing(org, login, client, issue_badge, act, app):
    badge_id = _revoked(issue_badge, act)
    console = login("sec1")
    before = _counts(app)
    response = post_form(console, f"/admin/badges/{badge_id}/act/reinstate", {"confirm": "yes"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/badges/{badge_id}")
    page = html.unescape(console.get(response.headers["Location"]).get_data(as_text=True))
    assert '<p class="flash errors" role="alert">这枚徽章当前为“已撤销”，不能恢复。</p>' in page and NAV in page
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "revoked"
    assert _counts(app) == before


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "这枚徽章当前为“已撤销”，不能恢复。"),
    ({"Accept-Language": "en-GB,en;q=0.9"}, 'This badge is now "Revoked": it cannot be changed by "Reinstate".'),
    ({"Accept-Language": "zh-TW"}, "這枚徽章當前為“已撤銷”，不能恢復。"),
])
def test_api_illegal_transition_message_in_the_requests_language(org, make_token, client, issue_badge, act, app,
                                                                  headers, message):
    badge_id = _revoked(issue_badge, act)
    before = _counts(app)
    response = client.post(f"/api/v1/admin/badges/{badge_id}/reinstate", json={},
                           headers={"Authorization": f"Bearer {make_token('boss')}", **headers})
    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "illegal_transition", "message": message}
    assert _counts(app) == before


@pytest.mark.parametrize(("lang", "message"), [("zh-CN", "请填写经营者姓名。"), ("en", "Please fill in: Holder's name.")])
def test_api_missing_holder_says_so_in_the_requests_language(org, make_token, client, app, lang, message):
    before = _counts(app)
    response = client.post("/api/v1/admin/badges", headers={"Authorization": f"Bearer {make_token('boss')}",
                                                            "Accept-Language": lang},
                           json={"holder": " ", "shop_name": "店", "shop_url": "https://x.taobao.com",
                                 "platform": "taobao", "branch": "B01"})
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_request", "message": message, "field": "holder"}
    assert _counts(app) == before


def test_branch_code_taken_is_said_beside_the_code(org, login, app):
    console = login("boss")
    before = _counts(app)
    response = post_form(console, "/admin/branches", {"code": "B01", "name": "另一个第一支部"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NAV in page
    assert _beside(page, "code") == "“B01”已存在。"
    assert 'value="另一个第一支部"' in page
    assert _counts(app) == before


def test_group_with_a_bad_code_keeps_the_form(org, login, app):
    console = login("boss")
    before = _counts(app)
    response = post_form(console, "/admin/groups", {"code": "玩 具", "name": "玩具党小组", "kind": "area"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NAV in page
    assert _beside(page, "code") == "编号只能使用字母、数字、“-”或“_”。"
    assert 'value="玩具党小组"' in page and re.search(r'<option\b[^>]*\bselected\b[^>]*value="area"', page)
    assert _counts(app) == before


def test_member_without_a_name_keeps_the_contact(org, login, app):
    console = login("sec1")
    before = _counts(app)
    response = post_form(console, "/admin/members/new", {"name": "", "branch": "B01", "contact": "138 0000 0000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NAV in page
    assert _beside(page, "name") == "请填写姓名。"
    assert 'value="138 0000 0000"' in page
    assert _counts(app) == before


def test_group_assign_of_an_unknown_member_is_said_beside_the_choice(org, login, app):
    console = login("boss")
    post_form(console, "/admin/groups", {"code": "T1", "name": "玩具", "kind": "trade"})
    post_form(console, "/admin/members/new", {"name": "王五", "branch": "B01"})
    with app.app_context():
        group_id = context.session().execute(select(PartyGroup.id)).scalar_one()
    before = _counts(app)
    response = post_form(console, f"/admin/groups/{group_id}/members", {"member_id": "999999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NAV in page
    assert _beside(page, f"member-for-{group_id}") == "没有 id 为 999999 的党员。"
    assert _counts(app) == before


def test_rejecting_an_application_without_a_reason_keeps_it_pending(org, login, client, app):
    from tests.functional.admin.test_apply import _apply

    _apply(client)
    console = login("sec1")
    page = console.get("/admin/applications").get_data(as_text=True)
    url = [u.split('"')[0] for u in page.split('action="')[1:] if u.split('"')[0].endswith("/reject")][0]
    before = _counts(app)
    response = post_form(console, url, {"reason": "  ", "confirm": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NAV in page
    assert "请填写驳回理由。" in page
    assert _counts(app) == before


def test_renewing_none_flashes_on_the_dashboard(org, login, app):
    console = login("boss")
    before = _counts(app)
    response = post_form(console, "/admin/renewals", {"confirm": "yes"})
    assert response.status_code == 303
    page = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "请至少选择一枚徽章（一次最多 1000 枚）。" in page and NAV in page
    assert _counts(app) == before


def test_shop_urls_read_as_text_with_the_host_in_punycode(org, login, issue_badge):
    badge_id = issue_badge(branch="B01", shop_url="https://xn--fiqs8s.example.com/%E5%BA%97?q=%3Cb%3E")
    page = login("boss").get(f"/admin/badges/{badge_id}").get_data(as_text=True)
    assert '<dd class="url">https://xn--fiqs8s.example.com/店?q=&lt;b&gt;</dd>' in page


@pytest.mark.parametrize(("url", "shown"), [
    ("https://例子.example.com/a", "https://xn--fsqu00a.example.com/a"),
    ("https://shop.jd.com/%E5%BA%97", "https://shop.jd.com/店"),
    ("https://shop.jd.com/a%20b", "https://shop.jd.com/a%20b"),  # a space could disguise the URL
    ("https://shop.jd.com/%E2%80%AEmoc", "https://shop.jd.com/%E2%80%AEmoc"),  # a bidi override stays escaped
    ("https://shop.jd.com/%FF", "https://shop.jd.com/%FF"),  # not UTF-8
])
def test_shop_url_filter(app, url, shown):
    from verifier.console.blueprint import shop_url

    assert shop_url(url) == shown


def test_apply_form_limits_come_from_the_service(org, client):
    page = client.get("/apply").get_data(as_text=True)
    for field, limit in (("holder", 200), ("shop_name", 200), ("shop_url", 2000), ("contact", 200)):
        assert re.search(rf'id="{field}"[^>]*maxlength="{limit}"', page), field


def test_branch_rename_is_audited_and_an_empty_name_is_said_beside_it(org, login, app):
    console = login("boss")
    before = _counts(app)
    refused = post_form(console, "/admin/branches/B01/edit", {"name": " "})
    assert refused.status_code == 400 and NAV in refused.get_data(as_text=True)
    assert _beside(refused.get_data(as_text=True), "name") == "请填写名称。"
    assert _counts(app) == before
    done = post_form(console, "/admin/branches/B01/edit", {"name": "第一支部（城东）"})
    assert done.status_code == 302
    with app.app_context():
        s = context.session()
        assert s.execute(select(Branch.name).where(Branch.code == "B01")).scalar_one() == "第一支部（城东）"
        event = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
        assert (event.action, event.before, event.after) == ("branch_edit", {"name": "第一支部"},
                                                             {"name": "第一支部（城东）"})


def test_group_edit_refuses_an_unknown_kind_beside_it(org, login, app):
    console = login("boss")
    post_form(console, "/admin/groups", {"code": "T1", "name": "玩具", "kind": "trade"})
    before = _counts(app)
    refused = post_form(console, "/admin/groups/T1/edit", {"name": "玩具与文具", "kind": "moon"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and _beside(page, "kind") == "请选择类型。" and 'value="玩具与文具"' in page
    assert _counts(app) == before
    assert post_form(console, "/admin/groups/T1/edit", {"name": "玩具与文具", "kind": "area"}).status_code == 302
    with app.app_context():
        group = context.session().execute(select(PartyGroup)).scalar_one()
        assert (group.name, group.kind) == ("玩具与文具", "area")


def test_member_edit_of_another_branch_is_403_and_too_long_contact_is_kept(org, login, app, make_branch, make_user):
    make_branch("B02", "第二支部")
    make_user("sec2", "branch", "B02")
    boss = login("boss")
    post_form(boss, "/admin/members/new", {"name": "王五", "branch": "B01", "contact": "1"})
    with app.app_context():
        member_id = context.session().execute(select(Member.id)).scalar_one()
    other, own = login("sec2"), login("sec1")  # logins are audited: before counting
    before = _counts(app)
    assert post_form(other, f"/admin/members/{member_id}/edit", {"name": "王六"},
                     page_url="/admin/").status_code == 403
    long = "1" * 201
    refused = post_form(own, f"/admin/members/{member_id}/edit", {"name": "王五", "contact": long})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and _beside(page, "contact") == "联系方式不能超过 200 个字符。"
    assert f'value="{long}"' in page
    assert _counts(app) == before
    done = post_form(own, f"/admin/members/{member_id}/edit", {"name": "王五", "contact": "139"})
    assert done.status_code == 302
    with app.app_context():
        s = context.session()
        assert s.get(Member, member_id).contact == "139"
        event = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
        assert event.action == "member_edit" and "139" not in str(event.after) + str(event.before)

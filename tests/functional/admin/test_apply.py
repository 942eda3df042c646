"""Applications at /apply: pending in the branch's queue, approved or rejected, signed status link."""

from __future__ import annotations

import pytest

from tests.functional.admin.conftest import csrf_from, post_form

FORM = {"holder": "吴十", "branch": "B01", "shop_name": "吴十饰品", "platform": "taobao",
        "shop_url": "https://wushi.taobao.com", "contact": "13900000000"}


@pytest.fixture
def org(make_user, make_branch):
    make_branch("B01", "第一支部")
    make_branch("B02", "第二支部")
    make_user("sec1", "branch", "B01")
    make_user("sec2", "branch", "B02")
    make_user("boss", "committee")


def _apply(client, **overrides):
    page = client.get("/apply").get_data(as_text=True)
    return client.post("/apply", data={**FORM, **overrides, "csrf_token": csrf_from(page)})


def _link(response):
    text = response.get_data(as_text=True)
    return text.split('id="status-link" href="')[1].split('"')[0].replace("http://127.0.0.1:8000", "")


def test_form_lists_branches(org, client):
    page = client.get("/apply").get_data(as_text=True)
    assert "第一支部" in page and "第二支部" in page and 'name="csrf_token"' in page


def test_application_without_csrf_is_refused(org, client):
    client.get("/apply")
    assert client.post("/apply", data=FORM).status_code == 400


def test_application_lands_pending_in_its_branch_queue_only(org, client, login):
    response = _apply(client)
    assert response.status_code == 201
    link = _link(response)
    assert "审核中" in client.get(link).get_data(as_text=True)
    assert "吴十饰品" in login("sec1").get("/admin/applications").get_data(as_text=True)
    assert "吴十饰品" not in login("sec2").get("/admin/applications").get_data(as_text=True)
    assert "吴十饰品" in login("boss").get("/admin/applications").get_data(as_text=True)


def test_pending_badge_is_not_public(org, client, app):
    from sqlalchemy import select

    from verifier import context
    from verifier.storage.models import Badge

    _apply(client)
    with app.app_context():
        badge_id = context.session().execute(select(Badge.id)).scalar_one()
    assert client.get(f"/v/{badge_id}").status_code == 404


def test_approval_issues_the_badge_and_the_link_shows_it(org, client, login, app):
    link = _link(_apply(client))
    console = login("sec1")
    page = console.get("/admin/applications").get_data(as_text=True)
    url = [u.split('"')[0] for u in page.split('action="')[1:] if u.split('"')[0].endswith("/approve")][0]
    badge_id = url.split("/")[-2]
    other = login("sec2")
    assert post_form(other, url, {"confirm": "yes"}).status_code == 403
    assert post_form(console, url, {"confirm": "yes"}).status_code == 302
    status = client.get(link).get_data(as_text=True)
    assert "已通过" in status and f"/v/{badge_id}/kit" in status
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "valid"


def test_rejection_shows_the_reason(org, client, login):
    link = _link(_apply(client))
    console = login("sec1")
    page = console.get("/admin/applications").get_data(as_text=True)
    url = [u for u in page.split('action="')[1:] if u.split('"')[0].endswith("/reject")][0].split('"')[0]
    assert post_form(console, url, {"reason": "未能核实党员身份", "confirm": "yes"}).status_code == 302
    status = client.get(link).get_data(as_text=True)
    assert "未通过" in status and "未能核实党员身份" in status


@pytest.mark.parametrize("token", ["garbage", "eyJiIjoiQUFBQUFBQUFBQUFBIn0.bad"])
def test_tampered_status_link_is_404(org, client, token):
    assert client.get(f"/apply/status/{token}").status_code == 404


def test_link_signed_with_other_salt_is_refused(org, client, app):
    from itsdangerous import URLSafeSerializer

    _apply(client)
    forged = URLSafeSerializer(app.config["SECRET_KEY"], salt="other").dumps({"b": "0000000000AA"})
    assert client.get(f"/apply/status/{forged}").status_code == 404


@pytest.mark.parametrize(("field", "value"), [("shop_url", "javascript:alert(1)"), ("platform", "ebay"),
                                              ("branch", "NOPE"), ("contact", ""), ("holder", "")])
def test_bad_application_is_400(org, client, field, value):
    assert _apply(client, **{field: value}).status_code == 400


@pytest.fixture
def limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_applications_are_rate_limited(limited, org, client):
    statuses = [_apply(client, shop_url=f"https://s{i}.taobao.com").status_code for i in range(6)]
    assert statuses == [201] * 5 + [429]


def _rows(app):
    """Return every member, shop and badge row as plain values, keyed by table."""
    from sqlalchemy import select

    from verifier import context
    from verifier.storage.models import Badge, Member, Shop

    with app.app_context():
        out = {}
        for model in (Member, Shop, Badge):
            table = model.__table__
            out[table.name] = {row[0]: tuple(row) for row in context.session().execute(select(table)).all()}
        return out


def test_an_application_never_rewrites_an_existing_badge_member_or_shop(org, client, app, issue_badge, act):
    # The attacker knows only public facts: holder, branch and shop URL of a revoked badge.
    badge = issue_badge(holder=FORM["holder"], branch="B01", shop_name="吴十饰品", shop_url=FORM["shop_url"])
    act("revoke", badge, reason="misconduct")
    before_rows = _rows(app)
    before_public = [client.get(f"/v/{badge}").get_data(), client.get(f"/api/v1/badges/{badge}").get_json(),
                     client.get(f"/v/{badge}/badge.png?size=m").get_data()]
    response = _apply(client, shop_name="该店已恢复营业·官方认证 请加微信 fake123", platform="jd",
                      contact="wechat:fake123")
    assert response.status_code == 201
    after_rows = _rows(app)
    for table, rows in before_rows.items():
        for key, row in rows.items():
            assert after_rows[table][key] == row, f"{table} row {key} changed"
    after_public = [client.get(f"/v/{badge}").get_data(), client.get(f"/api/v1/badges/{badge}").get_json(),
                    client.get(f"/v/{badge}/badge.png?size=m").get_data()]
    for before_item, after_item in zip(before_public, after_public, strict=True):
        if isinstance(before_item, dict):
            before_item = {k: v for k, v in before_item.items() if k != "checked_at"}
            after_item = {k: v for k, v in after_item.items() if k != "checked_at"}
        assert after_item == before_item
    # The proposal is its own pending member and shop, waiting for the branch.
    new_members = set(after_rows["members"]) - set(before_rows["members"])
    new_shops = set(after_rows["shops"]) - set(before_rows["shops"])
    assert len(new_members) == 1 and len(new_shops) == 1


def test_an_application_is_audited(org, client, app):
    from sqlalchemy import select

    from verifier import context
    from verifier.storage.models import AuditEvent

    _apply(client)
    with app.app_context():
        actions = [(e.action, e.role) for e in context.session().execute(select(AuditEvent)).scalars()]
    assert ("apply", "public") in actions


def test_an_application_for_a_shop_with_a_live_badge_is_refused(org, client, issue_badge):
    issue_badge(holder="别人", branch="B01", shop_url=FORM["shop_url"])
    response = _apply(client)
    assert response.status_code == 409
    assert "这家店铺已有徽章，请为原徽章续期。" in response.get_data(as_text=True)


def test_approval_is_refused_once_the_shop_has_another_live_badge(org, client, login, issue_badge):
    _apply(client)
    issue_badge(holder="另一位党员", branch="B01", shop_url=FORM["shop_url"])  # applications never block issuing
    console = login("sec1")
    page = console.get("/admin/applications").get_data(as_text=True)
    url = [u.split('"')[0] for u in page.split('action="')[1:] if u.split('"')[0].endswith("/approve")][0]
    refused = post_form(console, url, {"confirm": "yes"})
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/admin/applications")
    assert "这家店铺已有徽章，请为原徽章续期。" in console.get("/admin/applications").get_data(as_text=True)

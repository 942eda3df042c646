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

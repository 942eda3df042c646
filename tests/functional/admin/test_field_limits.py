"""One limit per text field: the API and the console refuse limit + 1 with a 4xx naming the field, storing nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.functional.admin.conftest import csrf_from
from verifier import context
from verifier.storage.models import AuditEvent, Badge, Branch, Member, PartyGroup

BODY = {"holder": "李四", "shop_name": "李四小店", "shop_url": "https://lisi.taobao.com", "platform": "taobao",
        "branch": "B01"}


@pytest.fixture
def boss(make_user, make_token, make_branch):
    make_branch("B01", "第一支部")
    make_user("boss", "committee")
    return {"Authorization": f"Bearer {make_token('boss')}"}


def _counts(app):
    with app.app_context():
        s = context.session()
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Badge, Member, Branch, PartyGroup, AuditEvent))


@pytest.mark.parametrize(("field", "at_limit", "over_limit"), [
    ("holder", "王" * 200, "王" * 201),
    ("shop_name", "店" * 200, "店" * 201),
    ("shop_url", "https://lisi.taobao.com/" + "a" * 1976, "https://lisi.taobao.com/" + "a" * 1977),
    ("hosts", [f"h{i}.lisi.taobao.com" for i in range(10)], [f"h{i}.lisi.taobao.com" for i in range(11)]),
    ("member_ref", "N" * 64, "N" * 65),
])
def test_api_issue_refuses_limit_plus_one(boss, client, app, field, at_limit, over_limit):
    before = _counts(app)
    refused = client.post("/api/v1/admin/badges", json={**BODY, field: over_limit}, headers=boss)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == field
    limit = 10 if field == "hosts" else len(at_limit)
    assert str(limit) in refused.get_json()["error"]["message"]  # "…不能超过 200 个字符。", in the request's language
    assert _counts(app) == before
    accepted = client.post("/api/v1/admin/badges", json={**BODY, field: at_limit}, headers=boss)
    assert accepted.status_code == 201, accepted.get_json()


def test_api_note_refuses_limit_plus_one(boss, client, app, issue_badge):
    badge_id = issue_badge(branch="B01")
    before = _counts(app)
    refused = client.post(f"/api/v1/admin/badges/{badge_id}/suspend", json={"note": "查" * 2001}, headers=boss)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "note"
    assert _counts(app) == before
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "valid"
    assert client.post(f"/api/v1/admin/badges/{badge_id}/suspend", json={"note": "查" * 2000},
                       headers=boss).status_code == 200


def _console_post(console, url, data):
    token = csrf_from(console.get(url).get_data(as_text=True))
    return console.post(url, data={**data, "csrf_token": token})


@pytest.mark.parametrize(("url", "data", "field"), [
    ("/admin/members/new", {"name": "王" * 201, "branch": "B01"}, "name"),
    ("/admin/members/new", {"name": "王五", "branch": "B01", "contact": "1" * 201}, "contact"),
    ("/admin/branches", {"code": "B" * 33, "name": "支部"}, "code"),
    ("/admin/branches", {"code": "B09", "name": "支" * 201}, "name"),
    ("/admin/groups", {"code": "G" * 33, "name": "小组", "kind": "trade"}, "code"),
    ("/admin/groups", {"code": "G09", "name": "组" * 201, "kind": "trade"}, "name"),
])
def test_console_organisation_refuses_limit_plus_one(boss, login, app, url, data, field):
    console = login("boss")
    before = _counts(app)
    refused = _console_post(console, url, data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    limit = 32 if field == "code" else 200  # the form comes back, the words beside the field
    assert re.search(rf'aria-describedby="{field}-error"[^>]*id="{field}"[^>]*maxlength="{limit}"', page)
    assert re.search(rf'<span class="errors field-error" id="{field}-error" role="alert">[^<]*不能超过 {limit} 个字符。</span>', page)
    assert 'href="/admin/badges"' in page  # inside the console
    assert _counts(app) == before


@pytest.mark.parametrize(("url", "field", "limit"), [
    ("/admin/members/new", "name", 200), ("/admin/members/new", "contact", 200),
    ("/admin/branches", "code", 32), ("/admin/branches", "name", 200),
])
def test_console_organisation_forms_show_the_service_limit(boss, login, url, field, limit):
    page = login("boss").get(url).get_data(as_text=True)
    assert re.search(rf'<input\b[^>]*\bid="{field}"[^>]*\bmaxlength="{limit}"', page)

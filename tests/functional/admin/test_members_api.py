"""The admin API treats members as people: issue to a member by id or number, list members per branch."""

from __future__ import annotations

import pytest

BODY = {"holder": "王五", "shop_name": "王五小店", "platform": "taobao", "branch": "B01"}
_n = iter(range(10_000))


@pytest.fixture
def tokens(role_tokens):
    return {name: {"Authorization": f"Bearer {token}"} for name, token in role_tokens.items()}


def _issue(client, headers, **extra):
    body = {**BODY, "shop_url": f"https://s{next(_n)}.taobao.com/", **extra}
    return client.post("/api/v1/admin/badges", json=body, headers=headers)


def _members(client, headers, **params):
    response = client.get("/api/v1/admin/members", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_two_wang_wu_stay_two_members_and_a_member_id_picks_one(client, tokens):
    first = _issue(client, tokens["sec1"]).get_json()["id"]
    second = _issue(client, tokens["sec1"]).get_json()["id"]
    listing = _members(client, tokens["boss"])
    assert listing["total"] == 2
    by_badge = {m["badges"][0]: m for m in listing["items"]}
    assert by_badge[first]["id"] != by_badge[second]["id"]
    chosen = by_badge[first]["id"]
    third = _issue(client, tokens["sec1"], member=chosen)
    assert third.status_code == 201
    listing = _members(client, tokens["boss"])
    assert listing["total"] == 2
    assert sorted({m["id"]: m["badges"] for m in listing["items"]}[chosen]) == sorted([first, third.get_json()["id"]])


def test_member_ref_finds_or_creates(client, tokens):
    assert _issue(client, tokens["sec1"], member_ref="WS-0001").status_code == 201
    assert _issue(client, tokens["sec1"], member_ref="WS-0001").status_code == 201
    items = _members(client, tokens["boss"])["items"]
    assert [(m["name"], m["member_ref"], len(m["badges"])) for m in items] == [("王五", "WS-0001", 2)]


@pytest.mark.parametrize("extra,field,message", [
    ({"member": True}, "member", "党员须以其 id（一个正整数）指定。"),
    ({"member": "1"}, "member", "党员须以其 id（一个正整数）指定。"),
    ({"member": 1.5}, "member", "党员须以其 id（一个正整数）指定。"),
    ({"member": 999_999}, "member", "没有 id 为 999999 的党员。"),
    ({"member": 10**30}, "member", "党员须以其 id（一个正整数）指定。"),
    ({"member_ref": 12}, "member_ref", "党员编号须为文字，且不能包含控制字符。"),
    ({"member_ref": ["WS-1"]}, "member_ref", "党员编号须为文字，且不能包含控制字符。"),
    ({"member_ref": "W" * 65}, "member_ref", "党员编号不能超过 64 个字符。"),
    ({"member_ref": "WS-1\u0007"}, "member_ref", "党员编号须为文字，且不能包含控制字符。"),
])
def test_bad_member_choices_are_400_and_nothing_changes(client, tokens, extra, field, message):
    _issue(client, tokens["sec1"], member_ref="WS-1")
    before = (_members(client, tokens["boss"]), client.get("/api/v1/admin/badges", headers=tokens["boss"]).get_json())
    response = _issue(client, tokens["sec1"], **extra)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and error["field"] == field and error["message"] == message
    after = (_members(client, tokens["boss"]), client.get("/api/v1/admin/badges", headers=tokens["boss"]).get_json())
    assert [b["id"] for b in after[1]["items"]] == [b["id"] for b in before[1]["items"]]
    assert after[0] == before[0]


def test_a_member_of_another_branch_cannot_be_chosen(client, tokens):
    _issue(client, tokens["sec2"], branch="B02", member_ref="WS-2")
    theirs = _members(client, tokens["sec2"])["items"][0]["id"]
    by_id = _issue(client, tokens["sec1"], member=theirs)
    by_ref = _issue(client, tokens["sec1"], member_ref="WS-2")
    assert (by_id.status_code, by_ref.status_code) == (400, 400)
    assert by_id.get_json()["error"]["field"] == "member" and by_ref.get_json()["error"]["field"] == "member_ref"
    assert "王五" not in by_id.get_json()["error"]["message"]  # nothing about the other branch's member
    # issuing into the other branch is refused before anything is looked up
    assert _issue(client, tokens["sec1"], branch="B02", member=theirs).status_code == 403
    assert _members(client, tokens["boss"])["total"] == 1


def test_a_holder_that_is_not_the_members_name_is_refused(client, tokens):
    _issue(client, tokens["sec1"], member_ref="WS-3")
    response = _issue(client, tokens["sec1"], holder="王六", member_ref="WS-3")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "holder"


def test_members_list_shape_groups_and_no_private_contact(client, tokens, app):
    from tests.conftest import COMMITTEE
    from verifier import context
    from verifier.audit.service import AuditLog
    from verifier.organisation.service import OrgService
    from verifier.storage.models import Member

    _issue(client, tokens["sec1"], member_ref="WS-4")
    with app.app_context():
        session = context.begin_write()
        org = OrgService(session, clock=context.clock(), audit=AuditLog(session, clock=context.clock()))
        group = org.add_group("G1", "服装", "trade", actor=COMMITTEE)
        member = session.query(Member).one()
        member.contact = "13800000000"
        member.groups.append(group)
        session.commit()
    body = _members(client, tokens["eye"])
    assert set(body) == {"items", "page", "per_page", "total"}
    item = body["items"][0]
    assert set(item) == {"id", "name", "member_ref", "branch", "groups", "badges"}
    assert (item["name"], item["member_ref"], item["branch"], item["groups"]) == ("王五", "WS-4", "B01", ["G1"])
    assert "13800000000" not in str(body)


def test_members_list_paginates_and_searches(client, tokens):
    for i in range(5):
        _issue(client, tokens["sec1"], holder=f"张{i}", member_ref=f"Z-{i}")
    page1 = _members(client, tokens["boss"], per_page=2, page=1)
    page3 = _members(client, tokens["boss"], per_page=2, page=3)
    assert (page1["total"], len(page1["items"]), len(page3["items"])) == (5, 2, 1)
    assert {m["id"] for m in page1["items"]}.isdisjoint({m["id"] for m in page3["items"]})
    assert [m["name"] for m in _members(client, tokens["boss"], q="张3")["items"]] == ["张3"]
    assert [m["member_ref"] for m in _members(client, tokens["boss"], q="Z-4")["items"]] == ["Z-4"]
    for bad in ({"page": "0"}, {"per_page": "101"}, {"page": "x"}, {"q": "a\x00"}):
        assert client.get("/api/v1/admin/members", query_string=bad, headers=tokens["boss"]).status_code == 400


def test_members_list_is_scoped_to_the_branch(client, tokens):
    _issue(client, tokens["sec1"])
    _issue(client, tokens["sec2"], branch="B02", holder="赵六")
    assert [m["branch"] for m in _members(client, tokens["sec1"])["items"]] == ["B01"]
    assert [m["branch"] for m in _members(client, tokens["sec2"])["items"]] == ["B02"]
    assert _members(client, tokens["boss"], branch="B02")["total"] == 1
    assert client.get("/api/v1/admin/members?branch=B02", headers=tokens["sec1"]).status_code == 403
    assert client.get("/api/v1/admin/members").status_code == 401
    assert _members(client, tokens["eye"])["total"] == 2


def test_the_openapi_document_describes_the_members_api(client):
    document = client.get("/openapi.json").get_json()
    assert document["paths"]["/api/v1/admin/members"]["get"]["operationId"] == "adminListMembers"
    issue = document["paths"]["/api/v1/admin/badges"]["post"]["requestBody"]["content"]["application/json"]
    assert {"member", "member_ref"} <= set(issue["schema"]["properties"])

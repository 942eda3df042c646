"""The admin JSON API: bearer tokens, roles, branch scope, the contract's shapes."""

from __future__ import annotations

import pytest

BODY = {"holder": "李四", "shop_name": "李四小店", "shop_url": "https://lisi.taobao.com", "platform": "taobao",
        "branch": "B01"}


@pytest.fixture
def tokens(role_tokens):
    return role_tokens


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_no_token_is_401(client, tokens):
    response = client.get("/api/v1/admin/badges")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer liang_not-a-real-token", "Bearer ", "Basic Ym9zczpwdw==", "liang_x"])
def test_bad_token_is_401(client, tokens, header):
    response = client.get("/api/v1/admin/badges", headers={"Authorization": header})
    assert response.status_code == 401


def test_console_session_does_not_authorise_api(client, tokens, login):
    console = login("boss")
    response = console.post("/api/v1/admin/badges", json=BODY)
    assert response.status_code == 401


def test_issue_returns_201_status(client, tokens):
    response = client.post("/api/v1/admin/badges", json={**BODY, "valid_days": 30}, headers=bearer(tokens["sec1"]))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "valid"
    assert body["branch"]["code"] == "B01"
    assert body["valid_until"] == "2026-12-25T10:00:00Z"


def test_branch_cannot_issue_for_another_branch(client, tokens, issue_badge):
    response = client.post("/api/v1/admin/badges", json=BODY, headers=bearer(tokens["sec2"]))
    assert response.status_code == 403
    listed = client.get("/api/v1/admin/badges", headers=bearer(tokens["boss"])).get_json()
    assert listed["total"] == 0


def test_list_is_paginated_and_scoped(client, tokens, issue_badge):
    for _ in range(3):
        issue_badge(branch="B01")
    issue_badge(branch="B02")
    body = client.get("/api/v1/admin/badges?per_page=2", headers=bearer(tokens["boss"])).get_json()
    assert set(body) == {"items", "page", "per_page", "total"}
    assert (body["page"], body["per_page"], body["total"], len(body["items"])) == (1, 2, 4, 2)
    own = client.get("/api/v1/admin/badges", headers=bearer(tokens["sec2"])).get_json()
    assert own["total"] == 1 and own["items"][0]["branch"]["code"] == "B02"


def test_branch_filter_for_foreign_branch_is_403(client, tokens):
    response = client.get("/api/v1/admin/badges?branch=B01", headers=bearer(tokens["sec2"]))
    assert response.status_code == 403


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=1000", "status=bogus"])
def test_bad_list_arguments_are_400(client, tokens, query):
    response = client.get(f"/api/v1/admin/badges?{query}", headers=bearer(tokens["boss"]))
    assert response.status_code == 400


@pytest.mark.parametrize(("action", "body"), [
    ("revoke", {"reason": "misconduct", "note": "x"}), ("suspend", {}), ("renew", {"valid_days": 10}),
])
def test_foreign_branch_write_is_403_and_changes_nothing(client, tokens, issue_badge, action, body):
    badge_id = issue_badge(branch="B01")
    before = client.get(f"/api/v1/admin/badges/{badge_id}", headers=bearer(tokens["boss"])).get_json()
    response = client.post(f"/api/v1/admin/badges/{badge_id}/{action}", json=body, headers=bearer(tokens["sec2"]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    after = client.get(f"/api/v1/admin/badges/{badge_id}", headers=bearer(tokens["boss"])).get_json()
    assert {k: v for k, v in after.items() if k != "checked_at"} == {k: v for k, v in before.items()
                                                                      if k != "checked_at"}


def test_foreign_branch_read_is_403(client, tokens, issue_badge):
    badge_id = issue_badge(branch="B01")
    assert client.get(f"/api/v1/admin/badges/{badge_id}", headers=bearer(tokens["sec2"])).status_code == 403
    assert client.get(f"/api/v1/admin/badges/{badge_id}", headers=bearer(tokens["sec1"])).status_code == 200


def test_auditor_reads_everything_and_changes_nothing(client, tokens, issue_badge):
    badge_id = issue_badge(branch="B01")
    assert client.get("/api/v1/admin/badges", headers=bearer(tokens["eye"])).get_json()["total"] == 1
    assert client.get("/api/v1/admin/audit", headers=bearer(tokens["eye"])).status_code == 200
    for action, body in [("suspend", {}), ("revoke", {"reason": "misconduct"}), ("renew", {})]:
        response = client.post(f"/api/v1/admin/badges/{badge_id}/{action}", json=body, headers=bearer(tokens["eye"]))
        assert response.status_code == 403
    assert client.post("/api/v1/admin/badges", json=BODY, headers=bearer(tokens["eye"])).status_code == 403
    assert client.get(f"/api/v1/badges/{badge_id}").get_json()["status"] == "valid"


def test_lifecycle_through_api(client, tokens, issue_badge):
    badge_id = issue_badge(branch="B01")
    h = bearer(tokens["sec1"])
    assert client.post(f"/api/v1/admin/badges/{badge_id}/suspend", json={"note": "投诉处理中"},
                       headers=h).get_json()["status"] == "suspended"
    assert client.post(f"/api/v1/admin/badges/{badge_id}/reinstate", headers=h).get_json()["status"] == "valid"
    body = client.post(f"/api/v1/admin/badges/{badge_id}/revoke", json={"reason": "shop_closed"}, headers=h).get_json()
    assert body["status"] == "revoked" and body["revocation"]["reason"] == "shop_closed"


@pytest.mark.parametrize("action", ["reinstate", "renew", "suspend"])
def test_illegal_transition_is_409(client, tokens, issue_badge, act, action):
    badge_id = issue_badge(branch="B01")
    act("revoke", badge_id, reason="misconduct")
    response = client.post(f"/api/v1/admin/badges/{badge_id}/{action}", json={}, headers=bearer(tokens["boss"]))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"


def test_revoke_needs_a_known_reason(client, tokens, issue_badge):
    badge_id = issue_badge(branch="B01")
    response = client.post(f"/api/v1/admin/badges/{badge_id}/revoke", json={"reason": "because"},
                           headers=bearer(tokens["boss"]))
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "reason"


def test_non_json_body_is_refused(client, tokens):
    response = client.post("/api/v1/admin/badges", data="holder=x", headers=bearer(tokens["boss"]),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 415)


def test_audit_records_api_actor_role_and_client(client, tokens, issue_badge):
    badge_id = issue_badge(branch="B01")
    client.post(f"/api/v1/admin/badges/{badge_id}/suspend", json={}, headers=bearer(tokens["sec1"]))
    events = client.get("/api/v1/admin/audit", headers=bearer(tokens["boss"])).get_json()["items"]
    newest = events[0]
    assert (newest["action"], newest["actor"], newest["role"], newest["client"]) == ("suspend", "sec1", "branch",
                                                                                      "127.0.0.1")
    assert newest["before"]["state"] == "active" and newest["after"]["state"] == "suspended"


def test_branch_sees_only_own_audit_events(client, tokens, issue_badge):
    issue_badge(branch="B01")
    issue_badge(branch="B02")
    events = client.get("/api/v1/admin/audit", headers=bearer(tokens["sec2"])).get_json()["items"]
    assert events and {e["branch"] for e in events} == {"B02"}


def test_revoked_token_is_refused(client, tokens, app):
    from sqlalchemy import select

    from verifier import context
    from verifier.accounts.service import hash_token
    from verifier.storage.models import ApiToken

    with app.app_context():
        context.begin_write()
        row = context.session().execute(select(ApiToken).where(ApiToken.token_hash == hash_token(tokens["boss"]))
                                        ).scalar_one()
        row.revoked_at = context.clock()()
        context.session().commit()
    assert client.get("/api/v1/admin/badges", headers=bearer(tokens["boss"])).status_code == 401


def test_openapi_describes_every_admin_endpoint(client, app):
    doc = client.get("/openapi.json").get_json()
    admin_rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/admin")
                   and not r.rule.startswith("/api/v1/admin/complaints")}
    for rule in admin_rules:
        path = rule.replace("<badge_id>", "{badge_id}")
        assert path in doc["paths"], rule
        for method, op in doc["paths"][path].items():
            assert op["security"] == [{"bearer": []}], (path, method)

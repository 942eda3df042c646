"""A flood of complaints meets 429 per client and per badge; verification keeps answering."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

import pytest

from tests.functional.complaints_support import csrf_token, file_json, login, make_admin  # noqa: F401

REDIS_URL = os.environ.get("LIANG_TEST_REDIS_URL")


@dataclass
class Flood:
    """Addresses unique to one test, so parallel workers sharing one Redis never share a counter."""

    net: str = field(default_factory=lambda: f"10.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}")
    badges: list[str] = field(default_factory=list)

    def addr(self, i: int = 0) -> str:
        return f"{self.net}.{i + 1}"


@pytest.fixture(params=["memory", "redis"])
def flood(request, app_config):
    """Rate limiting on, with memory storage or (when LIANG_TEST_REDIS_URL is set) Redis storage."""
    app_config["RATELIMIT_ENABLED"] = True
    state = Flood()
    if request.param == "memory":
        yield state
        return
    if not REDIS_URL:
        pytest.skip("LIANG_TEST_REDIS_URL not set: the Redis variant needs a Redis server")
    app_config["REDIS_URL"] = REDIS_URL
    yield state
    import redis

    # Clean up by this test's own addresses and badges: workers share the Redis database.
    conn = redis.Redis.from_url(REDIS_URL)
    mine = [f"*/{state.net}.*/complaint-*", *(f"*badge:{b.replace('-', '')}/complaint-*" for b in state.badges)]
    for pattern in mine:
        keys = list(conn.scan_iter(pattern, count=1000))
        if keys:
            conn.delete(*keys)
        assert not list(conn.scan_iter(pattern, count=1000))
    conn.close()


@pytest.fixture
def flood_client(flood, app, client):
    client.environ_base["REMOTE_ADDR"] = flood.addr()
    return client


def test_forty_rapid_complaints_meet_429_while_status_answers_200(flood, flood_client, issue_badge):
    client = flood_client
    badges = [issue_badge() for _ in range(4)]
    badge_id = badges[0]
    flood.badges += badges
    statuses = []
    for i in range(40):  # spread over four shops: the per-client allowance is what runs out
        statuses.append(file_json(client, badges[i % 4], description=f"第 {i} 次投诉").status_code)
        assert client.get(f"/api/v1/badges/{badge_id}").status_code == 200
    assert statuses[:10] == [201] * 10
    assert set(statuses[10:]) == {429}
    refused = file_json(client, badge_id, description="又一次")
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "稍后再试" in error["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get(f"/v/{badge_id}").status_code == 200


def test_form_and_json_share_the_per_client_allowance(flood, flood_client, issue_badge):
    client = flood_client
    badge_id, second, third = issue_badge(), issue_badge(), issue_badge()
    flood.badges += [badge_id, second, third]
    token = csrf_token(client, badge_id)
    for i in range(10):
        assert file_json(client, (second, third)[i % 2], description=f"投诉 {i}").status_code == 201
    response = client.post(f"/v/{badge_id}/complain",
                           data={"csrf_token": token, "category": "quality", "description": "x"})
    assert response.status_code == 429
    assert "请求过于频繁" in response.get_data(as_text=True)
    assert client.get(f"/v/{badge_id}/complain").status_code == 200  # reading the form is not limited


def test_junk_from_a_few_addresses_cannot_silence_a_fresh_shopper(flood, flood_client, issue_badge,
                                                                  make_admin):  # noqa: F811
    """Issue 14 item 7: 30 junk complaints from 4 addresses used to exhaust the badge's allowance (429 for all)."""
    client = flood_client
    badge_id, other = issue_badge(branch="B01"), issue_badge(branch="B01")
    flood.badges += [badge_id, other]
    codes = [client.post(f"/api/v1/badges/{badge_id}/complaints", json={"category": "other", "description": f"junk {i}"},
                         environ_base={"REMOTE_ADDR": flood.addr(i % 4 + 1)}).status_code
             for i in range(30)]
    # Each junk address is held to its own per-(badge, client) allowance ...
    assert codes.count(201) == 4 * 5 and set(codes[20:]) == {429}
    # ... and a genuine shopper from a fresh address is still heard.
    fresh = client.post(f"/api/v1/badges/{badge_id}/complaints", json={"category": "refund", "description": "真实投诉"},
                        environ_base={"REMOTE_ADDR": flood.addr(100)})
    assert fresh.status_code == 201, fresh.get_json()
    assert fresh.get_json()["status"] == "received"  # no new public state
    # The junk is held for the branch's review (each address's third and later), not the shopper
    # who comes after it (issue 24 D: the newcomer used to be the one held).
    branch_admin = make_admin("b01-handler", role="branch", branch="B01")
    listed = client.get("/api/v1/admin/complaints?per_page=100", headers=branch_admin.headers).get_json()
    items = listed["items"] if isinstance(listed, dict) else listed
    held = {c["tracking_number"]: c["held_for_review"] for c in items if c["badge_id"] == badge_id}
    fresh_number = fresh.get_json()["tracking_number"]
    assert held[fresh_number] is False
    assert sum(held.values()) == 4 * 3 and len(held) == 21
    # another badge is not affected
    calm = client.post(f"/api/v1/badges/{other}/complaints", json={"category": "other", "description": "ok"},
                       environ_base={"REMOTE_ADDR": flood.addr(200)})
    assert calm.status_code == 201
    listed = client.get("/api/v1/admin/complaints?per_page=100", headers=branch_admin.headers).get_json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [c["held_for_review"] for c in items if c["badge_id"] == other] == [False]
    # ... and in the console: the held complaint is marked in the branch's queue and on its page.
    login(client, branch_admin)
    queue = client.get("/admin/complaints").get_data(as_text=True)
    assert fresh_number in queue and "待复核：集中投诉" in queue
    junk_number = next(number for number, is_held in held.items() if is_held)
    assert "待复核：集中投诉" in client.get(f"/admin/complaints/{junk_number}").get_data(as_text=True)
    assert "待复核：集中投诉" not in client.get(f"/admin/complaints/{fresh_number}").get_data(as_text=True)

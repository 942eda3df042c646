"""A flood of complaints meets 429 per client and per badge; verification keeps answering."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

import pytest

from tests.functional.complaints_support import csrf_token, file_json

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

    # Flask-Limiter keeps the first key prefix it saw for the process, so clean up by our own keys.
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
    badge_id = issue_badge()
    flood.badges.append(badge_id)
    statuses = []
    for i in range(40):
        statuses.append(file_json(client, badge_id, description=f"第 {i} 次投诉").status_code)
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
    badge_id = issue_badge()
    flood.badges.append(badge_id)
    token = csrf_token(client, badge_id)
    for i in range(10):
        assert file_json(client, badge_id, description=f"投诉 {i}").status_code == 201
    response = client.post(f"/v/{badge_id}/complain",
                           data={"csrf_token": token, "category": "quality", "description": "x"})
    assert response.status_code == 429
    assert "请求过于频繁" in response.get_data(as_text=True)
    assert client.get(f"/v/{badge_id}/complain").status_code == 200  # reading the form is not limited


def test_per_badge_limit_holds_across_many_clients(flood, flood_client, issue_badge):
    client = flood_client
    badge_id, other = issue_badge(), issue_badge()
    flood.badges += [badge_id, other]
    codes = [client.post(f"/api/v1/badges/{badge_id}/complaints", json={"category": "other", "description": f"d{i}"},
                         environ_base={"REMOTE_ADDR": flood.addr(i + 1)}).status_code
             for i in range(31)]
    assert codes[:30] == [201] * 30 and codes[30] == 429
    # another badge is not affected
    assert client.post(f"/api/v1/badges/{other}/complaints", json={"category": "other", "description": "ok"},
                       environ_base={"REMOTE_ADDR": flood.addr(200)}).status_code == 201

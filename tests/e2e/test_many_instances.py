"""Two real ``liang serve`` processes on one PostgreSQL (and one Redis): nothing that matters lives in a process."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.conftest import TEST_KEK, LiveServer, start_server
from tests.e2e.helpers import run_liang, status_bit, status_entry

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("LIANG_TEST_DATABASE_URL"),
                       reason="needs PostgreSQL: set LIANG_TEST_DATABASE_URL (SQLite is one machine only)"),
]

PUBLIC_URL = "http://127.0.0.1:8000"  # both instances stand behind one public name


def _env(app_config: dict[str, Any], tmp_path: Any, name: str, **extra: str) -> dict[str, str]:
    return {
        "LIANG_INSTANCE_DIR": str(tmp_path / name),
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_SECRET_KEY": "s" * 48,
        "LIANG_PUBLIC_URL": PUBLIC_URL,
        "LIANG_LOG_FORMAT": "text",
        **extra,
    }


@pytest.fixture
def pair(app: Flask, app_config: dict[str, Any], tmp_path: Any) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Start two instances (the first with two workers) on the test database."""
    first = start_server(_env(app_config, tmp_path, "a"), workers=2)
    try:
        second = start_server(_env(app_config, tmp_path, "b"))
    except BaseException:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def test_revocation_through_one_shows_on_every_instance_at_once(pair: tuple[LiveServer, LiveServer]) -> None:
    first, second = pair
    run_liang(first.env, "branch", "add", "B07", "第七支部")
    issued = json.loads(run_liang(first.env, "badge", "issue", "--holder", "李四", "--shop-name", "李四小商品",
                                  "--shop-url", "https://lisi.taobao.com", "--platform", "taobao",
                                  "--branch", "B07", "--json").stdout)
    badge = issued["id"]
    list_path, index = status_entry(issued["credential"], "revocation")
    for server in pair:  # warm every cache there is
        assert requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=10).json()["status"] == "valid"
        assert requests.get(f"{server.url}/v/{badge}", timeout=10).status_code == 200
        assert status_bit(server.url, list_path, index) is False

    run_liang(second.env, "badge", "revoke", badge, "--reason", "misconduct")

    for server in pair:
        body = requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=10).json()
        assert body["status"] == "revoked", server.url
        assert body["revocation"]["reason"] == "misconduct"
        page = requests.get(f"{server.url}/v/{badge}", timeout=10)
        assert "已撤销" in page.text, server.url
        assert status_bit(server.url, list_path, index) is True, server.url
        verdict = requests.post(f"{server.url}/api/v1/verify", json={"credential": issued["credential"]},
                                timeout=10).json()
        assert verdict["verified"] is False
        assert verdict["status"] == "revoked"


@pytest.mark.skipif(not os.environ.get("LIANG_TEST_REDIS_URL"), reason="needs Redis: set LIANG_TEST_REDIS_URL")
def test_rate_limit_is_shared_through_redis(app: Flask, app_config: dict[str, Any], tmp_path: Any) -> None:
    shared = {"LIANG_REDIS_URL": os.environ["LIANG_TEST_REDIS_URL"], "LIANG_VERIFY_RATE_LIMIT": "4 per minute",
              "LIANG_RATELIMIT_KEY_PREFIX": f"liang-test-{secrets.token_hex(6)}"}
    first = start_server(_env(app_config, tmp_path, "a", **shared))
    second = start_server(_env(app_config, tmp_path, "b", **shared))
    try:
        url = "/api/v1/badges/0000-0000-0000"
        codes = [requests.get(server.url + url, timeout=10).status_code for server in (first, second, first, second)]
        assert codes == [404, 404, 404, 404]
        refused = requests.get(second.url + url, timeout=10)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert requests.get(first.url + url, timeout=10).status_code == 429
    finally:
        first.stop()
        second.stop()

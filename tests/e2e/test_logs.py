"""A real server's stderr: one JSON object per line, a request id on each, no secrets or shopper contact."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask

from tests.conftest import TEST_KEK, free_port, start_server

pytestmark = pytest.mark.e2e

PASSWORD = "Pa55word-never-logged-7731"
BEARER = "liang_tokenneverlogged0123456789abcdef"
METRICS = "metrics-token-never-logged-0123456789"
CONTACT = "13912345678"
EMAIL = "shopper-contact@example.com"


def test_logs_are_json_with_request_ids_and_no_secrets(app: Flask, app_config: dict[str, Any],
                                                        issue_badge: Callable[..., str]) -> None:
    badge = issue_badge()
    port = free_port()
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LIANG_LOG_FORMAT": "json",
        "LIANG_METRICS_TOKEN": METRICS,
    }
    server = start_server(env, port=port)
    try:
        url = server.url
        auth = {"Authorization": f"Bearer {BEARER}"}
        requests.get(f"{url}/v/{badge}?contact={CONTACT}&token={BEARER}", headers={"X-Request-ID": "trace-0001-abcd"},
                     timeout=10)
        requests.get(f"{url}/api/v1/badges/{badge}", headers={**auth, "Cookie": f"liang_session={BEARER}"}, timeout=10)
        requests.post(f"{url}/admin/login", data={"username": "admin", "password": PASSWORD}, timeout=10)
        requests.post(f"{url}/api/v1/admin/badges", json={"holder": "x", "password": PASSWORD}, headers=auth,
                      timeout=10)
        requests.post(f"{url}/api/v1/badges/{badge}/complaints", headers=auth, timeout=10,
                      json={"category": "quality", "description": "货不对板", "contact": f"{CONTACT} {EMAIL}"})
        requests.post(f"{url}/v/{badge}/complain", timeout=10,
                      data={"category": "quality", "description": "货不对板", "contact": EMAIL})
        assert requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS}"}, timeout=10).ok
        requests.post(f"{url}/api/v1/verify", json={"credential": f"{BEARER}.x.y"}, timeout=10)
    finally:
        server.stop()
        output = server.output()

    for secret in (PASSWORD, BEARER, METRICS, CONTACT, EMAIL):
        assert secret not in output, f"{secret!r} leaked into the logs"
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "liang.access"]
    assert len(access) >= 9
    assert all(line["request_id"] for line in access)
    assert all("?" not in line["path"] for line in access)
    traced = [line for line in access if line["request_id"] == "trace-0001-abcd"]
    assert [(t["method"], t["path"], t["status"]) for t in traced] == [("GET", f"/v/{badge}", 200)]
    assert {"ts", "level", "msg", "duration_ms", "endpoint"} <= set(traced[0])

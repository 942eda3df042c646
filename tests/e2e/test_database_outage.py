"""A real server losing its PostgreSQL mid-run answers 503 "cannot verify now", never "valid"."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_KEK, LiveServer, start_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("LIANG_TEST_DATABASE_URL"),
                       reason="needs PostgreSQL: set LIANG_TEST_DATABASE_URL"),
]


@pytest.fixture
def outage(app: Flask, app_config: dict[str, Any], issue_badge: Callable[..., str]
           ) -> Iterator[tuple[LiveServer, str, Callable[[bool], None]]]:
    """Serve through a role of its own; yield (server, badge id, switch(on)) to cut and restore its access."""
    badge = issue_badge()
    role = f"liang_outage_{secrets.token_hex(4)}"
    url = make_url(app_config["DATABASE_URL"])
    schema = url.query["options"].split("search_path=", 1)[1]
    admin = create_engine(os.environ["LIANG_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))

    def switch(on: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER ROLE "{role}" {"LOGIN" if on else "NOLOGIN"}'))
            if not on:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                             {"r": role})

    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "LIANG_DATABASE_URL": url.set(username=role, password=None).render_as_string(hide_password=False),
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": app_config["PUBLIC_URL"],
        "LIANG_LOG_FORMAT": "text",
    }
    server = start_server(env)
    try:
        yield server, badge, switch
    finally:
        server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def test_lost_database_answers_503_never_valid_then_recovers(
        outage: tuple[LiveServer, str, Callable[[bool], None]]) -> None:
    server, badge, switch = outage
    credential = requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=10).json()["credential"]
    assert requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=10).json()["status"] == "valid"

    switch(False)
    api = requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=20)
    page = requests.get(f"{server.url}/v/{badge}", timeout=20)
    verify = requests.post(f"{server.url}/api/v1/verify", json={"credential": credential}, timeout=20)
    health = requests.get(f"{server.url}/healthz", timeout=20)
    assert (api.status_code, page.status_code, verify.status_code, health.status_code) == (503, 503, 503, 503)
    assert api.json()["error"]["code"] == verify.json()["error"]["code"] == "unavailable"
    assert "暂时无法核验" in page.text
    assert "valid" not in api.text.replace("unavailable", "")

    switch(True)
    assert requests.get(f"{server.url}/api/v1/badges/{badge}", timeout=20).json()["status"] == "valid"

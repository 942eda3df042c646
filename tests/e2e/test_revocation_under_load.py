"""Status correctness under load: after a revocation no answer says valid; without a database, 503 and never valid."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import TEST_KEK, _pg_schema_url, free_port, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VERIFICATIONS = 1000
THREADS = 32


def _server_env(instance: str, database_url: str, public_url: str) -> dict[str, str]:
    return {
        "LIANG_INSTANCE_DIR": instance,
        "LIANG_DATABASE_URL": database_url,
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK,
        "LIANG_PUBLIC_URL": public_url,
        "LIANG_LOG_FORMAT": "text",
        # One trusted proxy hop: each simulated shopper comes from its own address
        # (X-Forwarded-For), as behind the production proxy, so per-client rate
        # limits stay on and are not what this test measures.
        "LIANG_TRUSTED_PROXIES": "1",
    }


def _hammer(url: str, badge_id: str, credential: str, count: int) -> tuple[Counter[str], list[str]]:
    """Send ``count`` verifications from THREADS threads with keep-alive sessions; return outcomes."""
    local = threading.local()

    def one(i: int) -> str:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        headers = {"X-Forwarded-For": f"10.{i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"}
        if i % 2:
            response = local.session.get(f"{url}/api/v1/badges/{badge_id}", headers=headers, timeout=30)
            body = response.json()
            said = body.get("status") if response.status_code == 200 else f"http_{response.status_code}"
        else:
            response = local.session.post(f"{url}/api/v1/verify", json={"credential": credential},
                                          headers=headers, timeout=30)
            body = response.json()
            if response.status_code == 200:
                said = "valid" if body["verified"] else (body.get("status") or body.get("reason"))
            else:
                said = f"http_{response.status_code}"
        return f"{'GET' if i % 2 else 'POST'}:{said}"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(one, range(count)))
    return Counter(answers), [a for a in answers if a.endswith(":valid")]


def test_no_answer_says_valid_after_revocation(app, app_config, issue_badge, cli_env):
    badge_id = issue_badge()
    env = _server_env(app_config["INSTANCE_DIR"], app_config["DATABASE_URL"], app_config["PUBLIC_URL"])
    server = start_server(env, port=free_port(), workers=2)
    try:
        credential = requests.get(f"{server.url}/api/v1/badges/{badge_id}", timeout=10).json()["credential"]
        before, _ = _hammer(server.url, badge_id, credential, 64)
        assert before == Counter({"GET:valid": 32, "POST:valid": 32}), before  # the test can tell valid apart
        revoke = subprocess.run(
            [sys.executable, "-m", "verifier", "badge", "revoke", badge_id, "--reason", "misconduct"],
            env={**os.environ, **cli_env}, capture_output=True, text=True, timeout=60)
        assert revoke.returncode == 0, revoke.stderr
        started = time.monotonic()
        answers, valid = _hammer(server.url, badge_id, credential, VERIFICATIONS)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    print(f"\n{VERIFICATIONS} concurrent verifications after revocation ({THREADS} threads, 2 workers, "
          f"{elapsed:.1f} s): {dict(answers)}")
    assert valid == []
    assert answers == Counter({"GET:revoked": VERIFICATIONS // 2, "POST:revoked": VERIFICATIONS // 2})


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def _issue(env: dict[str, str]) -> tuple[str, str]:
    _cli(env, "init")
    _cli(env, "branch", "add", "B01", "第一支部")
    body = json.loads(_cli(env, "badge", "issue", "--holder", "王五", "--shop-name", "五金店", "--shop-url",
                           "https://wujin.example.com", "--platform", "1688", "--branch", "B01", "--json"))
    return body["id"], body["credential"]


def _assert_unavailable(url: str, badge_id: str, credential: str, *, wait_for_workers: bool) -> Counter[str]:
    """Every kind of verification says 503, never valid."""
    if not wait_for_workers:
        return _check_unavailable(url, badge_id, credential)
    # Wait until the old workers (still holding the moved file open) are gone: 20 fresh
    # connections in a row must find no database.
    deadline, streak = time.monotonic() + 30, 0
    while time.monotonic() < deadline and streak < 20:
        streak = streak + 1 if requests.get(f"{url}/healthz", timeout=5).status_code == 503 else 0
        time.sleep(0.05)
    assert streak >= 20, "the server still reaches a database"
    return _check_unavailable(url, badge_id, credential)


def _check_unavailable(url: str, badge_id: str, credential: str) -> Counter[str]:
    answers, valid = _hammer(url, badge_id, credential, 200)
    assert valid == []
    assert set(answers) == {"GET:http_503", "POST:http_503"}, answers
    api = requests.get(f"{url}/api/v1/badges/{badge_id}", timeout=10)
    assert api.json()["error"]["code"] == "unavailable"
    page = requests.get(f"{url}/v/{badge_id}", timeout=10, headers={"Accept": "text/html"})
    assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
    assert "暂时无法核验" in page.text and "有效" not in page.text.replace("“有效”", "")
    return answers


def test_sqlite_gone_means_503_never_valid(tmp_path: Path):
    instance = tmp_path / "instance"
    db = instance / "liang.sqlite3"
    port = free_port()
    env = _server_env(str(instance), f"sqlite:///{db}", f"http://127.0.0.1:{port}")
    badge_id, credential = _issue(env)
    server = start_server(env, port=port, workers=2)
    try:
        assert requests.get(f"{server.url}/api/v1/badges/{badge_id}", timeout=10).json()["status"] == "valid"
        # "Stop" the database: move the file and its WAL/SHM away, put a directory in its place,
        # and reload the workers so that they must open the database afresh.
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{db}{suffix}")
            if source.exists():
                source.rename(tmp_path / f"moved{suffix or '-db'}")
        db.mkdir()
        server.process.send_signal(signal.SIGHUP)
        answers = _assert_unavailable(server.url, badge_id, credential, wait_for_workers=True)
    finally:
        server.stop()
    print(f"\nSQLite unavailable: {dict(answers)}")


@pytest.mark.database
def test_postgresql_schema_dropped_means_503_never_valid(tmp_path: Path):
    base = os.environ.get("LIANG_TEST_DATABASE_URL")
    if not base:
        pytest.skip("set LIANG_TEST_DATABASE_URL to run the PostgreSQL variant")
    schema = f"t_gone_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        port = free_port()
        env = _server_env(str(tmp_path / "instance"), _pg_schema_url(base, schema), f"http://127.0.0.1:{port}")
        badge_id, credential = _issue(env)
        server = start_server(env, port=port, workers=2)
        try:
            assert requests.get(f"{server.url}/api/v1/badges/{badge_id}", timeout=10).json()["status"] == "valid"
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            # Every pooled connection loses the tables at once: no worker reload needed.
            answers = _assert_unavailable(server.url, badge_id, credential, wait_for_workers=False)
        finally:
            server.stop()
        print(f"\nPostgreSQL schema dropped: {dict(answers)}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

"""Accounts that can be taken away (issue 14, item 4), replayed against a real `liang serve`.

An administrator's API token and console session keep working after the committee decides
otherwise — unless `liang admin revoke-tokens|reset-password|disable` ends them at once. Each
step is checked over HTTP against the live server, and each lands in the audit log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests

from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery-9"
NEW_PASSWORD = "another-long-secret-77"


def _liang(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env}, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def _ok(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    r = _liang(env, *args, stdin=stdin)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _api(server: LiveServer, token: str) -> int:
    return requests.get(f"{server.url}/api/v1/admin/badges", headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code


def _console(server: LiveServer, username: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{server.url}/admin/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    browser.post(f"{server.url}/admin/login", data={"username": username, "password": password,
                                                   "csrf_token": csrf.group(1)}, timeout=10, allow_redirects=False)
    return browser


def _signed_in(server: LiveServer, browser: requests.Session) -> bool:
    response = browser.get(f"{server.url}/admin/tokens", timeout=10, allow_redirects=False)
    return response.status_code == 200


@pytest.fixture
def accounts(live_server: LiveServer) -> dict[str, str]:
    env = live_server.env
    _ok(env, "branch", "add", "B01", "第一支部")
    _ok(env, "admin", "create", "boss", "--role", "committee", stdin=PASSWORD + "\n")
    _ok(env, "admin", "create", "sec1", "--role", "branch", "--branch", "B01", stdin=PASSWORD + "\n")
    return {"boss": _ok(env, "admin", "token", "boss").strip()}


def test_revoke_tokens_ends_every_token_at_once(live_server: LiveServer, accounts: dict[str, str]) -> None:
    env = live_server.env
    tokens = [_ok(env, "admin", "token", "sec1").strip() for _ in range(2)]
    assert [_api(live_server, t) for t in tokens] == [200, 200]
    out = _ok(env, "admin", "revoke-tokens", "sec1")
    assert "revoked 2 token(s)" in out
    assert [_api(live_server, t) for t in tokens] == [401, 401]
    assert _api(live_server, _ok(env, "admin", "token", "sec1").strip()) == 200  # a new one works
    assert _api(live_server, accounts["boss"]) == 200  # nobody else's


def test_reset_password_ends_sessions_and_tokens(live_server: LiveServer, accounts: dict[str, str]) -> None:
    env = live_server.env
    token = _ok(env, "admin", "token", "sec1").strip()
    browser = _console(live_server, "sec1", PASSWORD)
    assert _signed_in(live_server, browser) and _api(live_server, token) == 200
    _ok(env, "admin", "reset-password", "sec1", stdin=NEW_PASSWORD + "\n")
    assert not _signed_in(live_server, browser)
    assert _api(live_server, token) == 401
    assert not _signed_in(live_server, _console(live_server, "sec1", PASSWORD))
    assert _signed_in(live_server, _console(live_server, "sec1", NEW_PASSWORD))


def test_disable_and_enable(live_server: LiveServer, accounts: dict[str, str]) -> None:
    env = live_server.env
    token = _ok(env, "admin", "token", "sec1").strip()
    browser = _console(live_server, "sec1", PASSWORD)
    assert _signed_in(live_server, browser)
    _ok(env, "admin", "disable", "sec1")
    assert not _signed_in(live_server, browser) and _api(live_server, token) == 401
    assert not _signed_in(live_server, _console(live_server, "sec1", PASSWORD))
    r = _liang(env, "admin", "token", "sec1")  # a token for a disabled account would not work anyway
    assert _api(live_server, r.stdout.strip()) == 401
    _ok(env, "admin", "enable", "sec1")
    assert _signed_in(live_server, _console(live_server, "sec1", PASSWORD))
    assert _api(live_server, token) == 401  # enabling does not bring old tokens back

    audit = requests.get(f"{live_server.url}/api/v1/admin/audit", timeout=10,
                         headers={"Authorization": f"Bearer {accounts['boss']}"}).json()
    events = [(e.get("action") or e.get("event"), e.get("target")) for e in audit["items"]]
    assert ("user_disable", "sec1") in events and ("user_enable", "sec1") in events


def test_unknown_user_and_last_committee_account(live_server: LiveServer, accounts: dict[str, str]) -> None:
    env = live_server.env
    r = _liang(env, "admin", "disable", "nobody")
    assert r.returncode == 1 and 'User name "nobody" does not exist.' in r.stderr and "Traceback" not in r.stderr
    r = _liang(env, "admin", "disable", "boss")
    assert r.returncode == 1 and "last active committee account" in r.stderr
    assert _api(live_server, accounts["boss"]) == 200

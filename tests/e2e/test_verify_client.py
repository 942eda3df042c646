"""`liang verify` never says VALID on stale or contradicted evidence (issue 14, items 1-3).

Each test replays an attack against a real `liang serve` process: a warm client cache, then a
change on the server (a key withdrawn as compromised, a revocation), then the client's answer
online, offline, and with the server gone. Time is moved with the client's injected clock or
the server's status-list ttl, never by sleeping.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from signer.credentials import BadgeClaims, Issuer, StatusEntry, build_credential, sign_jws
from tests.conftest import TEST_KEK, LiveServer, start_server
from tests.e2e.helpers import jws_payload
from verifier import context
from verifier.verification.client import CANNOT_CHECK, VerifyClient

pytestmark = pytest.mark.e2e


def _liang(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def _ok(env: dict[str, str], *args: str) -> str:
    r = _liang(env, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _issue(env: dict[str, str]) -> dict[str, Any]:
    _ok(env, "branch", "add", "B01", "第一支部")
    out = _ok(env, "badge", "issue", "--holder", "王小明", "--shop-name", "小明杂货",
              "--shop-url", "https://xm.taobao.com", "--platform", "taobao", "--branch", "B01", "--json")
    return json.loads(out)  # type: ignore[no-any-return]


def _kid(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"]).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _verify(env: dict[str, str], server: str, target: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    r = _liang(env, "verify", target, "--server", server, "--json", *extra)
    assert "Traceback" not in r.stderr
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else {}), r.stderr


def _client(server: str, cache: Path, *, offset: list[float], offline: bool = False) -> VerifyClient:
    return VerifyClient(server, offline=offline, cache_dir=cache / "liang", clock=lambda: time.time() + offset[0])


def _stolen_key(app: Flask) -> tuple[str, Any]:
    with app.app_context():
        return context.keyring().signing_key()


def _forge(server: str, kid: str, private_key: Any, entries: list[dict[str, Any]]) -> str:
    """Mint a credential for a badge that does not exist, signed with a stolen (test) key."""
    issuer = Issuer(public_url=server)
    start = datetime.fromtimestamp(time.time(), UTC).replace(microsecond=0) - timedelta(days=1)
    claims = BadgeClaims(
        badge_id="ZZZZ-ZZZZ-ZZZZ", shop_name="假店", shop_url="https://fake.taobao.com",
        platform="taobao", hosts=("fake.taobao.com",), branch_code="B01", branch_name="第一支部",
        valid_from=start, valid_until=start + timedelta(days=365),
        status_entries=tuple(StatusEntry(e["statusPurpose"], e["statusListCredential"], int(e["statusListIndex"]))
                             for e in entries),
    )
    return sign_jws(build_credential(claims, issuer=issuer), kid_url=issuer.kid_url(kid), private_key=private_key)


# -- item 1: a key withdrawn as compromised ----------------------------------------------------
def test_old_jws_of_withdrawn_key_is_not_valid_online_then_offline(live_server: LiveServer, tmp_path: Path) -> None:
    env = {**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    badge = _issue(live_server.env)
    old = badge["credential"]
    code, outcome, _ = _verify(env, live_server.url, old)
    assert (code, outcome["status"]) == (0, "valid")  # the cache is warm: keys and lists
    _ok(live_server.env, "keys", "retire", "--", _kid(old))

    code, outcome, _ = _verify(env, live_server.url, old)
    assert code == 1 and outcome["status"] == "invalid" and outcome["reason"] == "key_withdrawn", outcome
    # the online run refetched the keys, so the offline answer knows the key is gone too
    code, outcome, _ = _verify(env, live_server.url, old, "--offline")
    assert code == 1 and outcome["status"] == "invalid" and outcome["reason"] == "unknown_key", outcome
    # the re-signed credential the server now holds verifies
    code, outcome, _ = _verify(env, live_server.url, badge["id"])
    assert (code, outcome["status"]) == (0, "valid")


def test_old_jws_of_withdrawn_key_offline_past_ttl_cannot_be_checked(live_server: LiveServer,
                                                                       tmp_path: Path) -> None:
    badge = _issue(live_server.env)
    offset = [0.0]
    assert _client(live_server.url, tmp_path, offset=offset).verify(badge["credential"])["valid"]
    _ok(live_server.env, "keys", "retire", "--", _kid(badge["credential"]))
    offset[0] = 301  # past every ttl (the JWKS is served with max-age=60, the status lists 300)
    outcome = _client(live_server.url, tmp_path, offset=offset, offline=True).verify(badge["credential"])
    assert outcome["valid"] is False and outcome["status"] == CANNOT_CHECK
    assert outcome["evidence_age_seconds"] >= 301
    assert any(e["url"].endswith("/.well-known/jwks.json") and e["stale"] for e in outcome["evidence"])


def test_old_jws_of_withdrawn_key_online_with_warm_cache_in_process(live_server: LiveServer, tmp_path: Path) -> None:
    badge = _issue(live_server.env)
    offset = [0.0]
    client = _client(live_server.url, tmp_path, offset=offset)
    assert client.verify(badge["credential"])["valid"]
    _ok(live_server.env, "keys", "retire", "--", _kid(badge["credential"]))
    offset[0] = 20  # within every ttl (JWKS 60 s): the cache alone would still say VALID
    outcome = _client(live_server.url, tmp_path, offset=offset).verify(badge["credential"])
    assert outcome["valid"] is False and outcome["reason"] == "key_withdrawn"


# -- item 2: a forged credential for a badge that does not exist ---------------------------------
def test_forged_credential_for_missing_badge_is_not_valid_before_and_after_retirement(
        app: Flask, live_server: LiveServer, tmp_path: Path) -> None:
    env = {**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    badge = _issue(live_server.env)
    kid, private_key = _stolen_key(app)
    assert kid == _kid(badge["credential"])
    # point at a real badge's (clear) status bits, so the lists alone cannot tell
    payload = jws_payload(badge["credential"])
    forged = _forge(live_server.url, kid, private_key, [payload["revocationStatus"], payload["credentialStatus"]])
    code, outcome, _ = _verify(env, live_server.url, badge["credential"])
    assert code == 0  # warm cache

    code, outcome, _ = _verify(env, live_server.url, forged)
    assert code == 1 and outcome["status"] == "invalid" and outcome["reason"] == "not_found", outcome
    assert outcome["badge_id"] == "ZZZZ-ZZZZ-ZZZZ"

    _ok(live_server.env, "keys", "retire", "--", kid)
    code, outcome, _ = _verify(env, live_server.url, forged)
    assert code == 1 and outcome["status"] == "invalid", outcome
    assert outcome["reason"] in {"not_found", "key_withdrawn"}


# -- item 3: server unreachable, cached status list past its ttl ----------------------------------
@pytest.fixture
def short_ttl_server(app: Flask, app_config: dict[str, Any]) -> Any:
    """A live server (and CLI environment) whose status lists may be cached for 0 s."""
    port = int(app_config["PUBLIC_URL"].rsplit(":", 1)[1])
    env = {
        "LIANG_INSTANCE_DIR": app_config["INSTANCE_DIR"], "LIANG_DATABASE_URL": app_config["DATABASE_URL"],
        "LIANG_KEY_ENCRYPTION_KEY": TEST_KEK, "LIANG_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LIANG_LOG_FORMAT": "text", "LIANG_STATUS_LIST_TTL": "0",
    }
    server = start_server(env, port=port)
    yield server
    server.stop()


def test_unreachable_server_and_stale_status_list_cannot_check(short_ttl_server: LiveServer, tmp_path: Path) -> None:
    server = short_ttl_server
    env = {**server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    badge = _issue(server.env)
    code, outcome, _ = _verify(env, server.url, badge["credential"])
    assert (code, outcome["status"]) == (0, "valid")
    _ok(server.env, "badge", "revoke", badge["id"], "--reason", "misconduct")
    server.stop()

    r = _liang(env, "verify", badge["credential"], "--server", server.url)
    assert r.returncode == 1 and r.stdout.startswith("CANNOT CHECK"), r.stdout + r.stderr
    assert "s old (ttl 0 s)" in r.stdout and "VALID" not in r.stdout.replace("CANNOT CHECK", "")
    code, outcome, _ = _verify(env, server.url, badge["credential"])
    assert code == 1 and outcome["status"] == CANNOT_CHECK and outcome["reason"] == "stale_evidence"
    stale = [e for e in outcome["evidence"] if e["stale"]]
    assert stale and all("/status/" in e["url"] and e["ttl_seconds"] == 0 for e in stale)
    code, outcome, _ = _verify(env, server.url, badge["credential"], "--offline")
    assert code == 1 and outcome["status"] == CANNOT_CHECK


def test_unreachable_server_answers_within_ttl_and_cannot_check_past_it(live_server: LiveServer,
                                                                         tmp_path: Path) -> None:
    badge = _issue(live_server.env)
    offset = [0.0]
    assert _client(live_server.url, tmp_path, offset=offset).verify(badge["credential"])["valid"]
    _ok(live_server.env, "badge", "revoke", badge["id"], "--reason", "misconduct")
    live_server.stop()
    offset[0] = 20  # within every ttl (JWKS 60 s; the CLI runs above take real seconds too): the documented window
    outcome = _client(live_server.url, tmp_path, offset=offset).verify(badge["credential"])
    assert outcome["valid"] is True and outcome["live"] == "unavailable", outcome
    assert any("cannot reach" in line and "s old (ttl 300 s)" in line for line in outcome["lines"])
    offset[0] = 301
    for offline in (False, True):
        outcome = _client(live_server.url, tmp_path, offset=offset, offline=offline).verify(badge["credential"])
        assert outcome["valid"] is False and outcome["status"] == CANNOT_CHECK
        assert 301 <= outcome["evidence_age_seconds"] < 400


# -- contradicted evidence: the live record disagrees with the cached lists ---------------------
def test_live_status_disagreeing_with_cached_lists_refetches_them(live_server: LiveServer, tmp_path: Path) -> None:
    badge = _issue(live_server.env)
    _ok(live_server.env, "badge", "suspend", badge["id"])
    offset = [0.0]
    outcome = _client(live_server.url, tmp_path, offset=offset).verify(badge["credential"])
    assert outcome["status"] == "suspended"  # the cached suspension list now has the bit set
    _ok(live_server.env, "badge", "reinstate", badge["id"])
    outcome = _client(live_server.url, tmp_path, offset=offset).verify(badge["credential"])
    assert outcome["valid"] is True and all(e["source"] == "network" for e in outcome["evidence"]
                                            if "/status/" in e["url"])



"""Issue with the CLI, verify from outside: a real server, the `liang verify` client, a foreign JOSE library."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
import requests
from joserfc import jws
from joserfc.jwk import OKPKey

pytestmark = pytest.mark.e2e


def _liang(env, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60, cwd=cwd)


def _issue(server, tmp_path):
    r = _liang(server.env, "branch", "add", "B01", "第一支部")
    assert r.returncode == 0, r.stderr
    r = _liang(server.env, "badge", "issue", "--holder", "王小明", "--shop-name", "小明杂货",
               "--shop-url", "https://xm.taobao.com", "--platform", "taobao", "--branch", "B01", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# RFC 9864 deprecates the polymorphic "EdDSA" name in favour of "Ed25519"; the contract and
# Open Badges 3.0 still use "EdDSA", so the warning joserfc raises for it is expected here.
@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_issued_badge_verifies_with_foreign_jose_library(live_server, tmp_path):
    badge = _issue(live_server, tmp_path)
    jwks = requests.get(f"{live_server.url}/.well-known/jwks.json", timeout=5).json()
    assert all("d" not in k for k in jwks["keys"])
    # The header kid is a URL that dereferences to one JWK (OB 3.0): fetch it, as any verifier does.
    header = json.loads(base64.urlsafe_b64decode(badge["credential"].split(".")[0] + "=="))
    answer = requests.get(header["kid"], timeout=5)
    assert answer.headers["Content-Type"] == "application/jwk+json"
    kid = answer.json()["kid"]
    assert answer.json() == next(k for k in jwks["keys"] if k["kid"] == kid)
    key = OKPKey.import_key(answer.json())
    result = jws.deserialize_compact(badge["credential"], key, algorithms=["EdDSA"])
    payload = json.loads(result.payload)
    assert "OpenBadgeCredential" in payload["type"]
    for claim in ("iss", "jti", "nbf", "exp", "sub"):
        assert claim in payload
    assert payload["iss"] == f"{live_server.url}/issuer"
    assert result.protected["kid"] == f"{live_server.url}/keys/{kid}"


def test_pyjwt_also_verifies(live_server, tmp_path):
    import jwt

    badge = _issue(live_server, tmp_path)
    client = jwt.PyJWKClient(f"{live_server.url}/.well-known/jwks.json")
    header = jwt.get_unverified_header(badge["credential"])
    kid = header["kid"].rsplit("/", 1)[1]
    key = next(k for k in client.get_signing_keys() if k.key_id == kid)
    claims = jwt.decode(badge["credential"], key.key, algorithms=["EdDSA"],
                        options={"verify_aud": False}, leeway=0)
    assert claims["sub"] == badge["verify_url"]


def test_liang_verify_follows_revocation(live_server, tmp_path):
    badge = _issue(live_server, tmp_path)
    env = {**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for target in (badge["id"], badge["verify_url"], badge["credential"]):
        r = _liang(env, "verify", target, "--server", live_server.url)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.startswith("VALID")
    r = _liang(live_server.env, "badge", "revoke", badge["id"], "--reason", "misconduct", "--note", "PRIVATE-NOTE")
    assert r.returncode == 0, r.stderr
    # the page and the API say so at once
    page = requests.get(badge["verify_url"], timeout=5).text
    assert "已撤销" in page and "PRIVATE-NOTE" not in page
    api = requests.get(f"{live_server.url}/api/v1/badges/{badge['id']}", timeout=5).json()
    assert api["status"] == "revoked" and api["revocation"]["reason"] == "misconduct"
    r = _liang(env, "verify", badge["id"], "--server", live_server.url, "--json")
    assert r.returncode == 1
    outcome = json.loads(r.stdout)
    assert outcome["status"] == "revoked" and outcome["revocation"]["reason"] == "misconduct"
    assert "PRIVATE-NOTE" not in r.stdout


def test_liang_verify_offline_uses_status_list(live_server, tmp_path):
    badge = _issue(live_server, tmp_path)
    _liang(live_server.env, "badge", "suspend", badge["id"])
    env = {**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    # one online run fills the cache with the keys and both status lists ...
    assert _liang(env, "verify", badge["credential"], "--server", live_server.url).returncode == 1
    live_server.stop()
    # ... then, with the server gone, the bits in the signed status list alone say "suspended"
    r = _liang(env, "verify", badge["credential"], "--server", live_server.url, "--offline", "--json")
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["status"] == "suspended"
    # and an offline check of a credential the cache cannot vouch for fails closed
    r = _liang({**env, "XDG_CACHE_HOME": str(tmp_path / "empty")}, "verify", badge["credential"],
               "--server", live_server.url, "--offline")
    assert r.returncode == 1 and "nothing cached" in r.stderr


def test_liang_verify_usage_and_bad_targets(live_server, tmp_path):
    r = _liang(live_server.env, "verify")
    assert r.returncode == 2
    r = _liang(live_server.env, "verify", "https://evil.example/v/7K3M-9QX2-HT4B", "--server", live_server.url)
    assert r.returncode == 1 and "not a verification link" in r.stderr and "Traceback" not in r.stderr
    r = _liang(live_server.env, "verify", "7K3M-9QX2-HT4B", "--server", live_server.url)
    assert r.returncode == 1 and "404" in r.stderr


def test_healthz_and_demo_page_served_by_gunicorn(live_server):
    response = requests.get(f"{live_server.url}/healthz", timeout=5)
    assert response.json() == {"status": "ok"}
    assert "gunicorn" in response.headers.get("Server", "")

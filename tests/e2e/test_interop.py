"""Verifiers we did not write, against a real server: digitalbazaar's vc + eddsa-rdfc-2022, npm jose,
digitalbazaar's status-list package, jsonld.js in safe mode (tests/interop/js/check.mjs), and liang verify
on both credential forms, online and offline, including credentials signed in the earlier form."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from signer.credentials import OB_CONTEXT, VC_CONTEXT, parse_jws, sign_jws
from verifier import context

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

JS = Path(__file__).resolve().parents[1] / "interop" / "js"
NODE = shutil.which("node")


@pytest.fixture(scope="session")
def node_checker() -> list[str]:
    """Return the command that runs check.mjs, installing the npm packages from the lockfile if absent."""
    if NODE is None:
        pytest.skip("node is not installed: the independent JavaScript verifiers cannot run")
    if not (JS / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        npm = shutil.which("npm")
        assert npm, "node without npm: cannot install tests/interop/js"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True, timeout=600)
    return [NODE, str(JS / "check.mjs")]


def _liang(env, *args):
    return subprocess.run([sys.executable, "-m", "verifier", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def _issue(server, branch="B01"):
    assert _liang(server.env, "branch", "add", branch, "第一支部").returncode == 0
    r = _liang(server.env, "badge", "issue", "--holder", "王小明", "--shop-name", "小明杂货",
               "--shop-url", f"https://{branch.lower()}.taobao.com", "--platform", "taobao", "--branch", branch, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _check(node_checker, server, badge_id):
    r = subprocess.run([*node_checker, server.url, badge_id], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_independent_verifiers_accept_both_forms(node_checker, live_server):
    badge = _issue(live_server)
    report = _check(node_checker, live_server, badge["id"])
    assert report["dataIntegrity"] == {"verified": True, "error": None, "statusResult": [{"status": False}]}
    assert report["status"]["revocation"] == {"verified": True, "bit": False, "error": None}
    assert report["status"]["suspension"] == {"verified": True, "bit": False, "error": None}
    for purpose in ("revocation", "suspension"):
        lists = report["statusLists"][purpose]
        assert lists["verified"] and lists["purpose"] == purpose and lists["typ"] == "vc+jwt"
        assert lists["length"] >= 131072 and lists["bit"] is False
    assert report["joseRemoteJwkSet"]["verified"] is True
    assert report["joseSingleKey"] == {"verified": True, "contentType": "application/jwk+json",
                                       "jti": report["joseRemoteJwkSet"]["jti"]}
    assert report["safeExpansion"] == {"credential.json": {"verified": True}, "vc-jwt payload": {"verified": True}}
    assert all(url.startswith(live_server.url) for url in report["fetched"])


def test_independent_verifiers_see_suspension_and_revocation(node_checker, live_server):
    badge = _issue(live_server)
    assert _liang(live_server.env, "badge", "suspend", badge["id"]).returncode == 0
    report = _check(node_checker, live_server, badge["id"])
    assert report["dataIntegrity"]["verified"] is True  # the proof holds; the status says the rest
    assert report["status"]["suspension"]["bit"] is True and report["status"]["revocation"]["bit"] is False
    assert _liang(live_server.env, "badge", "revoke", badge["id"], "--reason", "misconduct").returncode == 0
    report = _check(node_checker, live_server, badge["id"])
    assert report["dataIntegrity"]["statusResult"] == [{"status": True}]  # credentialStatus: revoked
    assert report["status"]["revocation"]["bit"] is True
    assert report["status"]["suspension"]["bit"] is False  # revoked, no longer suspended


def test_liang_verify_takes_the_json_ld_form_online_and_offline(live_server, tmp_path):
    badge = _issue(live_server)
    url = f"{live_server.url}/v/{badge['id']}/credential.json"
    r = _liang({**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "first")}, "verify", url,
               "--server", live_server.url)
    assert r.returncode == 0 and r.stdout.startswith("VALID"), r.stdout + r.stderr
    path = tmp_path / "credential.json"
    path.write_bytes(requests.get(url, timeout=10).content)
    assert _liang(live_server.env, "badge", "suspend", badge["id"]).returncode == 0
    env = {**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert _liang(env, "verify", str(path), "--server", live_server.url).returncode == 1  # fills the cache
    live_server.stop()
    r = _liang(env, "verify", str(path), "--server", live_server.url, "--offline", "--json")
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["status"] == "suspended"


def test_credential_signed_in_the_earlier_form_still_verifies_everywhere(app, live_server, tmp_path):
    """jwks.json#<kid> header, credentialStatus array, holder name: the service and liang verify accept it."""
    badge = _issue(live_server)
    with app.app_context():
        payload = parse_jws(badge["credential"]).payload
        kid, private = context.keyring().signing_key()
        payload["@context"] = [VC_CONTEXT, OB_CONTEXT]
        payload["credentialStatus"] = [payload["credentialStatus"], payload.pop("suspensionStatus")]
        payload["credentialSubject"]["holder"] = {"name": "王小明"}
        token = sign_jws(payload, kid_url=f"{live_server.url}/.well-known/jwks.json#{kid}", private_key=private)
    answer = requests.post(f"{live_server.url}/api/v1/verify", json={"credential": token}, timeout=10).json()
    assert answer["verified"] is True and answer["status"] == "valid"
    r = _liang({**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "first")}, "verify", token,
               "--server", live_server.url)
    assert r.returncode == 0 and r.stdout.startswith("VALID"), r.stdout + r.stderr
    assert _liang(live_server.env, "badge", "suspend", badge["id"]).returncode == 0
    env = {**live_server.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert _liang(env, "verify", token, "--server", live_server.url).returncode == 1
    live_server.stop()
    r = _liang(env, "verify", token, "--server", live_server.url, "--offline", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "suspended"

"""Verifiers we did not write, against a real server: digitalbazaar's vc + eddsa-rdfc-2022 with their stock
status-list package, DCC verifier-core, npm jose, jsonld.js in safe mode (tests/interop/js/check.mjs),
openbadgeslib (JWT-VC and Data Integrity, with status), and liang verify on both credential forms,
online and offline, including credentials signed in earlier forms; every badge state with every verifier."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from signer.credentials import OB_CONTEXT, VC_CONTEXT, parse_jws, sign_jws
from signer.keys import b64url_decode
from tests.testdata import shared_testdata
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


def _shared(name):
    return shared_testdata(name)  # a missing file fails the test with where it looked


def _check(node_checker, server, badge_id):
    schema = _shared("ob3/achievementcredential.schema.json")
    r = subprocess.run([*node_checker, server.url, badge_id, str(schema)], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _openbadgeslib(server, badge_id):
    """openbadgeslib (PyPI, LGPL): its JWT-VC and Data Integrity verifiers with status checks, as documented.

    The only thing handed over is the transport: its default fetcher is HTTPS-only and the test server
    is plain http on loopback, so ``download`` fetches the URL it asks for, nothing else.
    """
    try:
        from openbadgeslib.ob3.ldp import OB3LdpVerifier
        from openbadgeslib.ob3.verifier import OB3Verifier
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise AssertionError("openbadgeslib is missing: pip install -e '.[test]'") from exc
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def download(url, *args, **kwargs):
        assert url.startswith(f"{server.url}/"), f"openbadgeslib asked for {url}: not the service under test"
        return requests.get(url, timeout=10).content

    jws = requests.get(f"{server.url}/v/{badge_id}/credential.jws", timeout=10).text
    jwk = requests.get(parse_jws(jws).header["kid"], timeout=10).json()
    pem = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    report = {}
    for name, run in (("jwt", lambda: OB3Verifier(pem).verify(jws, check_status=True, download=download)),
                      ("ldp", lambda: OB3LdpVerifier(pem).verify(
                          requests.get(f"{server.url}/v/{badge_id}/credential.json", timeout=10).content,
                          check_status=True, download=download, verify_status_list=False))):
        try:
            run()
            report[name] = "valid"
        except Exception as exc:  # noqa: BLE001 - every refusal is a verdict to record
            report[name] = f"refused: {str(exc)[:160]}"
    return report


def test_independent_verifiers_accept_both_forms(node_checker, live_server):
    badge = _issue(live_server)
    report = _check(node_checker, live_server, badge["id"])
    # digitalbazaar, stock: signature, dates, and the status step (the JSON-LD list verified with the same suite)
    assert report["digitalbazaar"] == {"verified": True, "error": None,
                                       "status": [{"purpose": "suspension", "set": False}], "statusError": None}
    assert report["dcc"]["errors"] is None and report["dcc"]["error"] is None, report["dcc"]
    # registered_issuer: whether the issuer is in one of DCC's DID registries (none given): information, not a check
    assert report["dcc"]["log"] == {"valid_signature": True, "suspension_status": True, "expiration": True,
                                    "registered_issuer": False}
    assert report["dcc"]["schema"] == [True]  # the official OB 3.0 schema, run by DCC itself
    assert report["productRevocation"] == {"verified": True, "set": False, "error": None}
    for purpose in ("revocation", "suspension"):
        lists = report["statusLists"][purpose]
        assert lists["jws"] == {"typ": "vc+jwt", "contentType": "application/vc+jwt", "purpose": purpose}
        assert lists["jsonLd"] == {"verified": True, "contentType": "application/vc", "error": None}
        assert lists["sameList"] is True
    assert report["joseRemoteJwkSet"]["verified"] is True
    assert report["joseSingleKey"] == {"verified": True, "contentType": "application/jwk+json",
                                       "jti": report["joseRemoteJwkSet"]["jti"]}
    assert set(report["safeExpansion"]) == {
        "credential.json", "vc-jwt payload", "suspension list (jws payload)", "suspension list (json-ld)",
        "revocation list (jws payload)", "revocation list (json-ld)"}
    assert all(result == {"verified": True} for result in report["safeExpansion"].values()), report["safeExpansion"]
    assert all(url.startswith(live_server.url) for url in report["fetched"])
    libs = _openbadgeslib(live_server, badge["id"])
    assert libs["jwt"] == "valid"
    # Its Data Integrity verifier accepts only the contexts it bundles (never fetched), by design: our /ns/v1
    # terms (shop, badge, revocationStatus, jti) cannot be read by it. Recorded, not hidden.
    assert libs["ldp"].startswith("refused: JSON-LD context") and "/ns/v1" in libs["ldp"]


def _set_dates(app, badge_id, *, start_days, end_days):
    """Move a badge's validity (days from now) and re-sign it: a credential the service itself signed."""
    from sqlalchemy import update

    from signer.ids import parse_badge_id
    from tests.conftest import COMMITTEE
    from verifier.storage.models import Badge

    with app.app_context():
        now = datetime.now(UTC)  # the verifiers' clock, not the test app's frozen one
        context.begin_write()
        context.session().execute(update(Badge).where(Badge.id == parse_badge_id(badge_id)).values(
            valid_from=now + timedelta(days=start_days), valid_until=now + timedelta(days=end_days)))
        context.badge_service().resign(badge_id, actor=COMMITTEE)
        context.session().commit()


def _verdicts(report, libs):
    """One word per verifier: what a person using it would be told."""
    db = report["digitalbazaar"]
    # @digitalbazaar/vc leaves `verified` true when a status bit is set and reports the bit: a caller reads both
    set_purposes = [s["purpose"] for s in (db.get("status") or []) if s["set"]]
    digitalbazaar = (f"not valid: {set_purposes[0]} set" if set_purposes else "valid" if db["verified"] else
                     f"not valid: {db['error'] or db.get('statusError')}")
    dcc = report["dcc"]
    failed = [step for step, ok in (dcc.get("log") or {}).items() if ok is not True and step != "registered_issuer"]
    dcc_word = ("valid" if not dcc.get("errors") and not failed and not dcc.get("error") else
                f"not valid: {', '.join(failed) or '; '.join(dcc.get('errors') or [dcc.get('error')])}")
    return {"digitalbazaar": digitalbazaar, "dcc": dcc_word,
            "openbadgeslib (jwt)": libs["jwt"], "openbadgeslib (ldp)": libs["ldp"],
            "product context": "revoked" if (report["productRevocation"] or {}).get("set") else "not revoked"}


STATES = ("valid", "suspended", "revoked", "expired", "not_yet_valid", "reinstated")


def test_every_state_with_every_independent_verifier(node_checker, live_server, app, capsys):
    """The invariant: a verifier reading only standard terms never calls a badge that is not valid "valid";
    it learns "suspended" for a suspended one and for a revoked one (one credentialStatus object); a verifier
    that knows the product's context learns "revoked". The table printed here is the one in docs/credentials.md."""
    badges = {}
    for n, state in enumerate(STATES):
        badges[state] = _issue(live_server, branch=f"S{n}")["id"]
    assert _liang(live_server.env, "badge", "suspend", badges["suspended"]).returncode == 0
    assert _liang(live_server.env, "badge", "revoke", badges["revoked"], "--reason", "misconduct").returncode == 0
    _set_dates(app, badges["expired"], start_days=-400, end_days=-35)
    _set_dates(app, badges["not_yet_valid"], start_days=10, end_days=375)
    assert _liang(live_server.env, "badge", "suspend", badges["reinstated"]).returncode == 0
    assert _liang(live_server.env, "badge", "reinstate", badges["reinstated"]).returncode == 0
    table = {state: _verdicts(_check(node_checker, live_server, badge_id), _openbadgeslib(live_server, badge_id))
             for state, badge_id in badges.items()}
    with capsys.disabled():
        print("\n" + json.dumps(table, ensure_ascii=False, indent=1))
    for state, verdicts in table.items():
        standard = {k: v for k, v in verdicts.items() if k != "product context"}
        if state in ("valid", "reinstated"):
            assert {k: v for k, v in standard.items() if k != "openbadgeslib (ldp)"} == dict.fromkeys(
                ("digitalbazaar", "dcc", "openbadgeslib (jwt)"), "valid"), (state, verdicts)
        else:
            assert "valid" not in standard.values(), (state, verdicts)  # never "valid" for a badge that is not
    for state in ("suspended", "revoked"):
        assert table[state]["digitalbazaar"] == "not valid: suspension set"
        assert table[state]["dcc"] == "not valid: suspension_status"
        assert "'suspension' is set" in table[state]["openbadgeslib (jwt)"]
    assert table["revoked"]["product context"] == "revoked"
    assert {table[s]["product context"] for s in STATES if s != "revoked"} == {"not revoked"}
    assert "expired" in table["expired"]["openbadgeslib (jwt)"] and "expiration" in table["expired"]["dcc"]


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
        payload["credentialStatus"] = [payload.pop("revocationStatus"), payload["credentialStatus"]]
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

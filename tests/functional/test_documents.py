"""What a credential's URLs dereference to: the JSON-LD credential, keys, context, issuer, achievement, branch."""

from __future__ import annotations

import json

import jsonschema
import pytest
from sqlalchemy import update

from signer import dataintegrity as di
from signer.credentials import parse_jws
from tests.testdata import shared_testdata
from verifier import context
from verifier.storage.models import Badge

PUBLIC = "http://127.0.0.1:8000"


def _schema(name):
    return jsonschema.Draft201909Validator(json.loads(shared_testdata(f"ob3/{name}").read_text(encoding="utf-8")))


def _get(client, url, **kwargs):
    return client.get(url.removeprefix(PUBLIC), **kwargs)


def test_credential_json_is_the_same_credential_with_a_proof(client, issue_badge, app):
    badge_id = issue_badge()
    response = client.get(f"/v/{badge_id}/credential.json")
    assert response.status_code == 200
    assert response.mimetype == "application/vc"  # VC 2.0's registered media type
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for accept in ("application/vc+ld+json", "application/vc", "application/ld+json", "*/*"):
        asked = client.get(f"/v/{badge_id}/credential.json", headers={"Accept": accept})
        assert asked.status_code == 200 and asked.mimetype == "application/vc", accept
    document = response.get_json(force=True)
    jws_payload = parse_jws(client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]).payload
    assert {k: v for k, v in document.items() if k != "proof"} == {
        k: v for k, v in jws_payload.items() if k not in {"iss", "jti", "sub", "nbf", "exp"}}
    _schema("achievementcredential.schema.json").validate(document)
    with app.app_context():
        verified = di.verify(document, issuer=context.issuer(), resolve_key=context.keyring().public_key)
    assert verified.badge_id == badge_id


def test_credential_json_created_on_first_request_when_missing(client, issue_badge, app):
    """Badges signed before the JSON-LD form existed (or bulk-imported) get it on first use, and keep it."""
    badge_id = issue_badge()
    with app.app_context():
        context.begin_write()
        context.session().execute(update(Badge).values(credential_ld=None))
        context.session().commit()
    first = client.get(f"/v/{badge_id}/credential.json")
    assert first.status_code == 200 and first.get_json(force=True)["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    with app.app_context():
        stored = context.session().get(Badge, badge_id.replace("-", "")).credential_ld
    assert json.loads(stored) == first.get_json(force=True)
    assert client.get(f"/v/{badge_id}/credential.json").get_data() == first.get_data()


def test_stale_credential_json_never_served(client, issue_badge, act):
    badge_id = issue_badge()
    before = client.get(f"/v/{badge_id}/credential.json").get_json(force=True)
    act("renew", badge_id, valid_days=30)
    after = client.get(f"/v/{badge_id}/credential.json").get_json(force=True)
    assert after["id"] != before["id"] and after["validUntil"] != before["validUntil"]


@pytest.mark.parametrize("path", ["/v/0000-0000-0000/credential.json", "/v/not-an-id!/credential.json"])
def test_credential_json_of_unknown_badge(client, path):
    response = client.get(path)
    assert response.status_code in {400, 404}
    assert response.get_json()["error"]["code"] in {"not_found", "malformed_id"}


def test_kid_dereferences_to_one_jwk(client, issue_badge):
    badge_id = issue_badge()
    token = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    kid_url = parse_jws(token).header["kid"]
    response = _get(client, kid_url)
    assert response.status_code == 200
    assert response.mimetype == "application/jwk+json"
    jwk = response.get_json()
    assert jwk == next(k for k in client.get("/.well-known/jwks.json").get_json()["keys"] if k["kid"] == jwk["kid"])
    assert kid_url == f"{PUBLIC}/keys/{jwk['kid']}" and "d" not in jwk


@pytest.mark.parametrize("kid", ["nope", "a" * 65, "..%2f..", "k%00"])
def test_unknown_key_is_404(client, kid):
    assert client.get(f"/keys/{kid}").status_code == 404
    assert client.get(f"/keys/{kid}/multikey").status_code == 404


def test_verification_method_dereferences_to_a_multikey_controlled_by_the_issuer(client, issue_badge):
    badge_id = issue_badge()
    proof = client.get(f"/v/{badge_id}/credential.json").get_json(force=True)["proof"][0]
    document = _get(client, proof["verificationMethod"]).get_json()
    assert document["type"] == "Multikey" and document["id"] == proof["verificationMethod"]
    assert document["controller"] == f"{PUBLIC}/issuer"
    issuer = _get(client, document["controller"]).get_json()
    assert proof["verificationMethod"] in issuer["assertionMethod"]


def test_product_context_defines_every_own_term(client):
    response = client.get("/ns/v1")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.get_json() == di.product_context(di.Issuer(public_url=PUBLIC))
    assert {"shop", "badge", "revocationStatus", "suspensionStatus", "jti"} <= set(response.get_json()["@context"])


def test_ids_in_the_credential_answer(client, issue_badge):
    badge_id = issue_badge(branch="B07")
    payload = parse_jws(client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]).payload
    subject = payload["credentialSubject"]
    profile_schema = _schema("profile.schema.json")
    for url, kind in ((payload["issuer"]["id"], "Profile"), (subject["achievement"]["id"], "Achievement"),
                      (subject["source"]["id"], "Profile")):
        response = _get(client, url, headers={"Accept": "application/ld+json"})
        assert response.status_code == 200, url
        assert response.mimetype == "application/ld+json"
        document = response.get_json()
        assert document["id"] == url and kind in document["type"]
        if kind == "Profile":
            profile_schema.validate(document)
    assert _get(client, subject["source"]["id"]).get_json()["name"] == "B07支部"


@pytest.mark.parametrize(("path", "text", "english"), [
    ("/issuer", "发证机构", "Issuer"), ("/achievements/party-member-merchant", "认定标准", "Criteria"),
    ("/branches/B01", "党支部", "Party branch")])
def test_browsers_get_a_page(client, make_branch, path, text, english):
    make_branch()
    response = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert text in response.get_data(as_text=True)
    assert english in client.get(path + "?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/branches/NOPE", "/branches/" + "x" * 40, "/achievements/other"])
def test_unknown_documents_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_public_only_node_serves_stored_credential_json_and_503_when_missing(app_config, issue_badge, client, app):
    from verifier.app import create_app

    badge_id = issue_badge()
    stored = client.get(f"/v/{badge_id}/credential.json").get_data()
    other = issue_badge()
    with app.app_context():
        context.begin_write()
        context.session().execute(update(Badge).where(Badge.id == other.replace("-", "")).values(credential_ld=None))
        context.session().commit()
    public = create_app({**app_config, "PUBLIC_ONLY": True, "KEY_ENCRYPTION_KEY": None})
    try:
        public_client = public.test_client()
        assert public_client.get(f"/v/{badge_id}/credential.json").get_data() == stored
        missing = public_client.get(f"/v/{other}/credential.json")
        assert missing.status_code == 503 and missing.get_json()["error"]["code"] == "key_unavailable"
    finally:
        public.extensions["liang.db"].dispose()


def test_backfill_command_creates_every_missing_json_ld_form(run_cli, issue_badge, app, client):
    badges = [issue_badge() for _ in range(3)]
    with app.app_context():
        context.begin_write()
        context.session().execute(update(Badge).values(credential_ld=None))
        context.session().commit()
    result = run_cli("badge", "backfill-ld")
    assert result.exit_code == 0, result.stderr
    assert "created the JSON-LD form of 3 badge(s)" in result.stdout
    with app.app_context():
        for badge_id in badges:
            text = context.session().get(Badge, badge_id.replace("-", "")).credential_ld
            di.verify(json.loads(text), issuer=context.issuer(), resolve_key=context.keyring().public_key)
    assert "of 0 badge(s)" in run_cli("badge", "backfill-ld").stdout


def test_every_key_document_has_one_cache_lifetime(client, issue_badge):
    """The JWKS, /keys/<id>, its Multikey and the issuer (assertionMethod) leave caches together."""
    badge_id = issue_badge()
    kid_url = parse_jws(client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]).header["kid"]
    lifetimes = {path: client.get(path).headers["Cache-Control"]
                 for path in ("/.well-known/jwks.json", kid_url.removeprefix(PUBLIC), kid_url.removeprefix(PUBLIC)
                              + "/multikey", "/issuer")}
    assert set(lifetimes.values()) == {"public, max-age=60, must-revalidate"}, lifetimes

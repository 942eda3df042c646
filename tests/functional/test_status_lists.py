"""Status lists: random indexes, signed, ttl equal to Cache-Control, bits follow the badge."""

from __future__ import annotations

import json

from signer.credentials import parse_jws, verify_jws
from signer.statuslist import LIST_SIZE, decode_bits, get_bit
from verifier import context


def _entries(client, badge_id):
    token = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    payload = parse_jws(token).payload
    return {e["statusPurpose"]: e for e in (payload["credentialStatus"], payload["suspensionStatus"])}


def _bit(client, entry):
    response = client.get(entry["statusListCredential"].removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    payload = parse_jws(response.get_data(as_text=True)).payload
    return get_bit(decode_bits(payload["credentialSubject"]["encodedList"]), int(entry["statusListIndex"]))


def test_list_served_signed_with_ttl_matching_cache_control(client, app, issue_badge):
    entry = _entries(client, issue_badge())["revocation"]
    response = client.get(entry["statusListCredential"].removeprefix("http://127.0.0.1:8000"))
    assert response.mimetype == "application/vc+jwt"
    max_age = int(response.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    token = response.get_data(as_text=True)
    with app.app_context():
        ring = context.keyring()
        parsed = verify_jws(token, issuer=context.issuer(), resolve_key=ring.public_key)
    assert parsed.payload["credentialSubject"]["ttl"] == max_age * 1000
    # a VC secured with JOSE (VC-JOSE-COSE 3.1.1), as the media type it is served with says
    assert parsed.header["typ"] == "vc+jwt" and parsed.header["cty"] == "vc"
    assert len(decode_bits(parsed.payload["credentialSubject"]["encodedList"])) * 8 >= LIST_SIZE
    assert response.headers["ETag"]


def test_suspend_and_reinstate_flip_the_suspension_bit(client, issue_badge, act):
    badge_id = issue_badge()
    entries = _entries(client, badge_id)
    assert _bit(client, entries["suspension"]) is False
    act("suspend", badge_id)
    assert _bit(client, entries["suspension"]) is True
    assert _bit(client, entries["revocation"]) is False
    act("reinstate", badge_id)
    assert _bit(client, entries["suspension"]) is False


def test_revoking_a_suspended_badge_clears_its_suspension_bit(client, issue_badge, act):
    badge_id = issue_badge()
    entries = _entries(client, badge_id)
    act("suspend", badge_id)
    act("revoke", badge_id, reason="misconduct")
    assert _bit(client, entries["revocation"]) is True
    assert _bit(client, entries["suspension"]) is False


def test_indexes_are_random_not_sequential(client, issue_badge):
    indexes = [int(_entries(client, issue_badge())["revocation"]["statusListIndex"]) for _ in range(12)]
    assert len(set(indexes)) == 12
    assert sorted(indexes) != indexes or max(indexes) - min(indexes) > 1000


def test_etag_304(client, issue_badge):
    entry = _entries(client, issue_badge())["revocation"]
    path = entry["statusListCredential"].removeprefix("http://127.0.0.1:8000")
    etag = client.get(path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_unknown_list_404(client, app):
    assert client.get("/status/doesnotexist").status_code == 404
    assert client.get("/status/../../etc").status_code == 404


def test_every_status_list_and_credential_expands_strictly(client, app, issue_badge):
    """No term that no context defines (pyld with JSON-LD safe mode's rule): lists, VC-JWT payload, JSON-LD."""
    from signer import dataintegrity

    badge_id = issue_badge()
    token = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    linked = json.loads(client.get(f"/v/{badge_id}/credential.json").data)
    # the proof is canonicalised on its own when verified (its options with the document's @context)
    documents = [parse_jws(token).payload, {k: v for k, v in linked.items() if k != "proof"}]
    for entry in _entries(client, badge_id).values():
        path = entry["statusListCredential"].removeprefix("http://127.0.0.1:8000")
        documents.append(parse_jws(client.get(path).get_data(as_text=True)).payload)
    with app.app_context():
        loader = dataintegrity.DocumentLoader(context.issuer())
        for document in documents:
            assert dataintegrity.canonical_nquads(document, loader=loader)

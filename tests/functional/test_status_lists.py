"""Status lists: random indexes, signed, ttl equal to Cache-Control, bits follow the badge."""

from __future__ import annotations

import json

import pytest

from signer.credentials import parse_jws, verify_jws
from signer.statuslist import LIST_SIZE, decode_bits, get_bit
from verifier import context


def _entries(client, badge_id):
    token = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    payload = parse_jws(token).payload
    return {e["statusPurpose"]: e for e in (payload["credentialStatus"], payload["revocationStatus"])}


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


@pytest.mark.parametrize("suspended_first", [False, True])
def test_a_revoked_badge_is_never_valid_to_a_standard_verifier(client, issue_badge, act, suspended_first):
    """credentialStatus (the one entry standard verifiers read) is the suspension entry: set for good on revocation."""
    badge_id = issue_badge()
    token = client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]
    standard = parse_jws(token).payload["credentialStatus"]
    assert standard["statusPurpose"] == "suspension"
    entries = _entries(client, badge_id)
    if suspended_first:
        act("suspend", badge_id)
    act("revoke", badge_id, reason="misconduct")
    assert _bit(client, entries["revocation"]) is True
    assert _bit(client, standard) is True


def test_init_brings_older_credentials_and_revoked_bits_to_the_current_layout(client, app, issue_badge, act, run_cli):
    """Credentials signed with revocation in credentialStatus are re-signed, ids and slots kept; a revoked
    badge whose suspension bit an older release cleared gets it set: then no standard verifier calls it valid."""
    from sqlalchemy import update

    from signer.credentials import sign_jws
    from signer.ids import parse_badge_id
    from verifier.storage.models import Badge

    live, revoked = issue_badge(), issue_badge()
    act("revoke", revoked, reason="misconduct")
    revoked_entries = _entries(client, revoked)
    with app.app_context():
        context.begin_write()
        kid, private = context.keyring().signing_key()
        for badge_id in (live, revoked):
            payload = parse_jws(client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]).payload
            payload["credentialStatus"], payload["suspensionStatus"] = (payload.pop("revocationStatus"),
                                                                        payload["credentialStatus"])
            context.session().execute(update(Badge).where(Badge.id == parse_badge_id(badge_id)).values(
                credential=sign_jws(payload, kid_url=context.issuer().kid_url(kid), private_key=private)))
        context.badge_service().status_lists.set_bit(parse_badge_id(revoked), "suspension", False)
        context.session().commit()
    assert _bit(client, revoked_entries["suspension"]) is False
    assert run_cli("audit", "verify").exit_code == 1  # the cleared bit is reported
    assert run_cli("init").exit_code == 0
    assert _bit(client, revoked_entries["suspension"]) is True
    for badge_id in (live, revoked):
        payload = parse_jws(client.get(f"/api/v1/badges/{badge_id}").get_json()["credential"]).payload
        assert payload["credentialStatus"]["statusPurpose"] == "suspension"
        assert payload["credentialSubject"]["badge"] == badge_id
    assert _entries(client, revoked) == revoked_entries  # the same slots
    body = client.post("/api/v1/verify", json={"credential": client.get(f"/v/{revoked}/credential.json")
                                               .get_json(force=True)}).get_json()
    assert body["status"] == "revoked"
    assert run_cli("audit", "verify").exit_code == 0
    again = run_cli("init")  # nothing left to do: no second re-signing
    assert again.exit_code == 0
    with app.app_context():
        assert context.badge_service().outdated_credentials() == ([], None)


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
        linked_list = json.loads(client.get(path, headers={"Accept": "application/vc"}).data)
        documents.append({k: v for k, v in linked_list.items() if k != "proof"})
    with app.app_context():
        loader = dataintegrity.DocumentLoader(context.issuer())
        for document in documents:
            assert dataintegrity.canonical_nquads(document, loader=loader)


def _path(entry):
    return entry["statusListCredential"].removeprefix("http://127.0.0.1:8000")


@pytest.mark.parametrize("accept", ["application/vc", "application/ld+json", "application/ld+json, application/json",
                                    "application/vc+jwt;q=0.5, application/vc"])
def test_list_as_json_ld_with_a_data_integrity_proof(client, app, issue_badge, act, accept):
    """What stock Bitstring Status List verifiers ask for: the same list, JSON-LD, eddsa-rdfc-2022."""
    from signer import dataintegrity

    badge_id = issue_badge()
    entry = _entries(client, badge_id)["revocation"]
    response = client.get(_path(entry), headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == "application/vc"
    assert "Accept" in response.headers["Vary"] and response.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.data)
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert document["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    with app.app_context():
        listed = dataintegrity.verify_status_list(document, issuer=context.issuer(),
                                                  resolve_key=context.keyring().public_key)
    jws = parse_jws(client.get(_path(entry)).get_data(as_text=True)).payload
    assert listed == {k: v for k, v in jws.items() if k not in {"iss", "sub", "nbf"}}  # the same list, same bits
    assert listed["id"] == entry["statusListCredential"] and listed["credentialSubject"]["statusPurpose"] == "revocation"
    act("revoke", badge_id, reason="misconduct")
    after = json.loads(client.get(_path(entry), headers={"Accept": accept}).data)
    assert get_bit(decode_bits(after["credentialSubject"]["encodedList"]), int(entry["statusListIndex"])) is True


@pytest.mark.parametrize("accept", [None, "*/*", "application/vc+jwt", "application/vc+jwt, application/vc;q=0.5",
                                    "text/html"])
def test_list_stays_a_jws_by_default(client, issue_badge, accept):
    entry = _entries(client, issue_badge())["revocation"]
    response = client.get(_path(entry), headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert parse_jws(response.get_data(as_text=True)).payload["id"] == entry["statusListCredential"]


def test_a_tampered_json_ld_list_does_not_verify(client, app, issue_badge):
    from signer import dataintegrity
    from signer.errors import InvalidCredential

    entry = _entries(client, issue_badge())["revocation"]
    document = json.loads(client.get(_path(entry), headers={"Accept": "application/vc"}).data)
    document["credentialSubject"]["statusPurpose"] = "suspension"
    with app.app_context(), pytest.raises(InvalidCredential):
        dataintegrity.verify_status_list(document, issuer=context.issuer(), resolve_key=context.keyring().public_key)


def test_init_signs_lists_left_without_their_json_ld_form(client, app, issue_badge, run_cli):
    """An upgraded database: lists signed before (no JSON-LD form, a jti in the JWS) are signed again by liang init."""
    from sqlalchemy import update

    from signer.statuslist import sign_list_credential
    from verifier.storage.models import StatusList

    entry = _entries(client, issue_badge())["revocation"]
    list_id = entry["statusListCredential"].rsplit("/", 1)[1]
    with app.app_context():
        kid, private = context.keyring().signing_key()
        old = parse_jws(client.get(_path(entry)).get_data(as_text=True)).payload | {"jti": entry["statusListCredential"]}
        context.begin_write()
        context.session().execute(update(StatusList).where(StatusList.id == list_id).values(
            credential_ld=None, version=StatusList.version + 1,
            credential=sign_list_credential(old, kid_url=context.issuer().kid_url(kid), private_key=private)))
        context.session().commit()
    assert client.get(_path(entry), headers={"Accept": "application/vc"}).status_code == 503
    assert run_cli("init").exit_code == 0
    response = client.get(_path(entry), headers={"Accept": "application/vc"})
    assert response.status_code == 200 and json.loads(response.data)["id"] == entry["statusListCredential"]
    assert "jti" not in parse_jws(client.get(_path(entry)).get_data(as_text=True)).payload

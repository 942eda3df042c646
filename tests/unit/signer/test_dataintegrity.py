"""The JSON-LD form with an embedded Data Integrity proof (eddsa-rdfc-2022), checked against official files."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from signer import dataintegrity as di
from signer.credentials import (
    OB_CONTEXT,
    VC_CONTEXT,
    BadgeClaims,
    Issuer,
    StatusEntry,
    build_credential,
    linked_data_form,
)
from signer.errors import InvalidCredential
from tests.testdata import shared_testdata

ISSUER = Issuer(public_url="https://badge.example.cn")
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def _claims() -> BadgeClaims:
    return BadgeClaims(
        badge_id="7K3M-9QX2-HT4B", shop_name="小明杂货", shop_url="https://x.taobao.com", platform="taobao",
        hosts=("x.taobao.com", "m.x.taobao.com"), branch_code="B01", branch_name="第一支部",
        valid_from=NOW, valid_until=NOW + timedelta(days=365),
        status_entries=(StatusEntry("revocation", "https://badge.example.cn/status/a1", 5),
                        StatusEntry("suspension", "https://badge.example.cn/status/b2", 9)),
    )


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signed(key):
    document = linked_data_form(build_credential(_claims(), issuer=ISSUER))
    return di.sign(document, issuer=ISSUER, kid="K1", private_key=key, created=NOW)


def _resolver(key):
    def resolve(kid):
        if kid != "K1":
            raise InvalidCredential("unknown", reason="unknown_key")
        return key.public_key()
    return resolve


def _official_loader(url, options=None):
    """Serve the official copies, and our own context: what an outside verifier would load."""
    files = {VC_CONTEXT: "credentials-v2.jsonld", OB_CONTEXT: "context-3.0.3.json"}
    if url == ISSUER.context_url:
        document = di.product_context(ISSUER)
    else:
        document = json.loads(shared_testdata(f"ob3/{files[url]}").read_text(encoding="utf-8"))
    return {"contextUrl": None, "documentUrl": url, "document": document}


@pytest.mark.parametrize(("bundled", "official"), [("credentials-v2.json", "credentials-v2.jsonld"),
                                                   ("ob-context-3.0.3.json", "context-3.0.3.json")])
def test_bundled_contexts_are_the_official_ones(bundled, official):
    ours = json.loads((di._CONTEXTS / bundled).read_text(encoding="utf-8"))
    assert ours == json.loads(shared_testdata(f"ob3/{official}").read_text(encoding="utf-8"))


def test_roundtrip(signed, key):
    verified = di.verify(signed, issuer=ISSUER, resolve_key=_resolver(key))
    assert verified.badge_id == "7K3M-9QX2-HT4B" and verified.kid == "K1"
    assert [(e.purpose, e.index) for e in verified.status_entries] == [("suspension", 9), ("revocation", 5)]
    assert signed["proof"][0]["verificationMethod"] == "https://badge.example.cn/keys/K1/multikey"


def test_both_forms_pass_the_official_achievement_credential_schema(signed):
    schema = json.loads(shared_testdata("ob3/achievementcredential.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    assert [e.message for e in validator.iter_errors(signed)] == []
    assert [e.message for e in validator.iter_errors(build_credential(_claims(), issuer=ISSUER))] == []  # VC-JWT


def test_earlier_credential_status_array_fails_the_official_schema():
    """The finding this issue fixes: the schema refuses an array (so the test above can fail)."""
    schema = json.loads(shared_testdata("ob3/achievementcredential.schema.json").read_text(encoding="utf-8"))
    payload = build_credential(_claims(), issuer=ISSUER)
    payload["credentialStatus"] = [payload.pop("revocationStatus"), payload["credentialStatus"]]
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'object'"):
        jsonschema.Draft201909Validator(schema).validate(payload)


@pytest.mark.parametrize("form", ["credential.json", "vc-jwt payload"])
def test_official_contexts_expand_every_term(signed, form):
    """pyld with the official contexts drops nothing (what JSON-LD safe mode demands)."""
    document = signed if form == "credential.json" else build_credential(_claims(), issuer=ISSUER)
    dropped: list[str] = []
    expanded = jsonld.JsonLdProcessor(on_property_dropped=dropped.append).expand(
        document, {"documentLoader": _official_loader})
    assert dropped == []
    assert expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]["@id"].endswith("/v/7K3M-9QX2-HT4B")


def test_earlier_credential_loses_terms_on_expansion():
    """Finding 4: shop, holder, badge were defined by no context (the check above can fail)."""
    payload = build_credential(_claims(), issuer=ISSUER)
    payload["@context"] = [VC_CONTEXT, OB_CONTEXT]
    dropped: list[str] = []
    jsonld.JsonLdProcessor(on_property_dropped=dropped.append).expand(payload, {"documentLoader": _official_loader})
    assert {"shop", "badge", "revocationStatus", "jti"} <= set(dropped)


@pytest.mark.parametrize("change", [
    lambda d: d["credentialSubject"]["shop"].update(name="假店"),
    lambda d: d["credentialSubject"]["shop"]["hosts"].append("evil.example"),
    lambda d: d.update(validUntil="2099-01-01T00:00:00Z"),
    lambda d: d["credentialStatus"].update(statusListIndex="6"),
    lambda d: d["proof"][0].update(created="2026-11-26T10:00:00Z"),
])
def test_tampering_fails(signed, key, change):
    tampered = copy.deepcopy(signed)
    change(tampered)
    with pytest.raises(InvalidCredential, match="signature does not verify") as info:
        di.verify(tampered, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "bad_signature"


def test_other_key_fails(signed):
    with pytest.raises(InvalidCredential, match="signature does not verify"):
        di.verify(signed, issuer=ISSUER, resolve_key=_resolver(Ed25519PrivateKey.generate()))


@pytest.mark.parametrize(("field", "value", "match", "reason"), [
    ("cryptosuite", "ecdsa-rdfc-2019", "eddsa-rdfc-2022", "unsupported_alg"),
    ("type", "Ed25519Signature2020", "DataIntegrityProof", "unsupported_alg"),
    ("proofPurpose", "authentication", "assertionMethod", "claims"),
    ("verificationMethod", "https://evil.example/keys/K1/multikey", "verificationMethod", "unknown_key"),
    ("verificationMethod", "https://badge.example.cn/keys/K1", "verificationMethod", "unknown_key"),
    ("proofValue", "u" + "A" * 86, "base58btc", "malformed"),
    ("proofValue", "z0OIl", "base58btc", "malformed"),
])
def test_proof_fields_refused(signed, key, field, value, match, reason):
    bad = copy.deepcopy(signed)
    bad["proof"][0][field] = value
    with pytest.raises(InvalidCredential, match=match) as info:
        di.verify(bad, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == reason


def test_undefined_term_refused_in_safe_mode(key):
    document = linked_data_form(build_credential(_claims(), issuer=ISSUER))
    document["credentialSubject"]["nickname"] = "x"
    with pytest.raises(InvalidCredential, match="'nickname' is defined by no context"):
        di.sign(document, issuer=ISSUER, kid="K1", private_key=key, created=NOW)


def test_foreign_context_never_loaded(signed, key):
    bad = copy.deepcopy(signed)
    bad["@context"] = [*bad["@context"], "https://evil.example/ctx"]
    with pytest.raises(InvalidCredential, match="unexpected @context"):
        di.verify(bad, issuer=ISSUER, resolve_key=_resolver(key))
    with pytest.raises(InvalidCredential, match="not one this issuer uses"):
        di.canonical_nquads(bad, loader=di.DocumentLoader(ISSUER))


def test_proof_must_be_one(signed, key):
    assert di.verify({**signed, "proof": signed["proof"][0]}, issuer=ISSUER, resolve_key=_resolver(key))
    with pytest.raises(InvalidCredential, match="no single embedded proof"):
        di.verify({**signed, "proof": signed["proof"] * 2}, issuer=ISSUER, resolve_key=_resolver(key))


def test_jwt_claims_refused_in_the_json_ld_form(key):
    document = build_credential(_claims(), issuer=ISSUER)  # with iss, jti, nbf, exp, sub
    signed = di.sign(document, issuer=ISSUER, kid="K1", private_key=key, created=NOW)
    with pytest.raises(InvalidCredential, match="JWT claims belong in the VC-JWT form"):
        di.verify(signed, issuer=ISSUER, resolve_key=_resolver(key))


@pytest.mark.parametrize(("document", "match"), [
    ([], "JSON object"),
    ({"a": "x" * (di.MAX_DOCUMENT_BYTES + 1)}, "too long"),
    ({"a": [{"b": i} for i in range(di.MAX_BLANK_NODES + 1)]}, "too many anonymous nodes"),
    ({"a": {"id": "_:b0"}}, "blank node identifiers"),
    ({"@context": [], "a": {"@context": {"badge2": "https://badge.example.cn/ns/v1#badgeNumber"}}}, "keywords"),
    ({"@context": [], "a": {"@id": "https://x.example"}}, "keywords"),
    ({"@context": [], "@graph": []}, "keywords"),
    (json.loads("[" * 30 + "]" * 30) and {"a": json.loads('{"a":' * 30 + "1" + "}" * 30)}, "nested too deeply"),
])
def test_costly_documents_refused_before_canonicalising(key, document, match):
    with pytest.raises(InvalidCredential, match=match) as info:
        di.verify(document, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "malformed"


def test_multikey_document_names_the_issuer_as_controller():
    raw = bytes(range(32))
    document = di.multikey_document(ISSUER, "K1", raw)
    assert document["controller"] == ISSUER.id and document["type"] == "Multikey"
    assert document["publicKeyMultibase"].startswith("z6Mk")  # every Ed25519 Multikey starts so
    assert di.base58_decode(document["publicKeyMultibase"][1:]) == b"\xed\x01" + raw


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", bytes(range(256))[:64], b"\xff" * 40])
def test_base58_roundtrip(data):
    assert di.base58_decode(di.base58_encode(data)) == data


def test_base58_known_answer():
    # draft-msporny-base58-03, section 5
    assert di.base58_encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert di.base58_encode(b"\0\0\x28\x7f\xb4\xcd") == "11233QC4"

"""VC-JWT signing and verification, with the RFC 8037 known-answer test."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer.credentials import (
    OB_CONTEXT,
    VC_CONTEXT,
    BadgeClaims,
    CredentialEncoder,
    Issuer,
    StatusEntry,
    build_credential,
    parse_jws,
    sign_compact,
    sign_encoded,
    sign_jws,
    verify_credential,
)
from signer.errors import InvalidCredential
from signer.keys import b64url, b64url_decode

# RFC 8037 appendix A.1 / A.4
RFC_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC_JWS = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
           "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")

ISSUER = Issuer(public_url="https://badge.example.cn")
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


def test_rfc8037_a4_known_answer():
    key = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC_D))
    assert sign_compact({"alg": "EdDSA"}, b"Example of Ed25519 signing", private_key=key) == RFC_JWS


def _claims(**overrides) -> BadgeClaims:
    base = dict(
        badge_id="7K3M-9QX2-HT4B", shop_name="小明杂货", shop_url="https://x.taobao.com",
        platform="taobao", hosts=("x.taobao.com",), branch_code="B01", branch_name="第一支部",
        valid_from=NOW, valid_until=NOW + timedelta(days=365),
        status_entries=(StatusEntry("revocation", "https://badge.example.cn/status/a1", 5),
                        StatusEntry("suspension", "https://badge.example.cn/status/b2", 9)),
    )
    base.update(overrides)
    return BadgeClaims(**base)


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signed(key):
    payload = build_credential(_claims(), issuer=ISSUER)
    return sign_jws(payload, kid_url=ISSUER.kid_url("K1"), private_key=key)


def _resolver(key):
    def resolve(kid):
        if kid != "K1":
            raise InvalidCredential("unknown", reason="unknown_key")
        return key.public_key()
    return resolve


def test_credential_is_ob3_shaped(signed):
    parsed = parse_jws(signed)
    assert parsed.header == {"alg": "EdDSA", "kid": "https://badge.example.cn/keys/K1", "typ": "JWT"}
    p = parsed.payload
    assert p["@context"] == [VC_CONTEXT, OB_CONTEXT, "https://badge.example.cn/ns/v1"]
    assert "OpenBadgeCredential" in p["type"]
    assert p["issuer"]["type"] == ["Profile"] and p["iss"] == p["issuer"]["id"]
    assert p["jti"] == p["id"] and p["sub"] == p["credentialSubject"]["id"]
    assert p["nbf"] == int(NOW.timestamp()) and p["exp"] == int((NOW + timedelta(days=365)).timestamp())
    subject = p["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    assert subject["achievement"]["type"] == ["Achievement"]
    assert {"id", "name", "description", "criteria"} <= set(subject["achievement"])
    assert p["credentialStatus"]["type"] == p["revocationStatus"]["type"] == "BitstringStatusListEntry"
    # the one entry standard verifiers read is suspension (its bit also set once revoked); revocation is ours
    assert (p["credentialStatus"]["statusPurpose"], p["revocationStatus"]["statusPurpose"]) == ("suspension",
                                                                                                "revocation")
    assert "suspensionStatus" not in p
    assert "holder" not in subject  # no personal name in a portable credential


def _old_form(key, *, kid_url="https://badge.example.cn/.well-known/jwks.json#K1"):
    """A credential as signed before issue 15: jwks.json#fragment kid, credentialStatus array."""
    payload = build_credential(_claims(), issuer=ISSUER)
    payload["@context"] = [VC_CONTEXT, OB_CONTEXT]
    payload["credentialStatus"] = [payload.pop("revocationStatus"), payload["credentialStatus"]]
    payload["credentialSubject"]["holder"] = {"name": "王小明"}
    return sign_jws(payload, kid_url=kid_url, private_key=key)


def test_credential_signed_in_the_earlier_form_still_verifies(key):
    verified = verify_credential(_old_form(key), issuer=ISSUER, resolve_key=_resolver(key))
    assert verified.kid == "K1"
    assert [(e.purpose, e.index) for e in verified.status_entries] == [("revocation", 5), ("suspension", 9)]


def test_new_form_reports_both_status_entries(signed, key):
    verified = verify_credential(signed, issuer=ISSUER, resolve_key=_resolver(key))
    assert [(e.purpose, e.index) for e in verified.status_entries] == [("suspension", 9), ("revocation", 5)]


def test_credential_signed_in_the_issue_15_form_still_reads_both_entries(key):
    """credentialStatus = revocation, suspensionStatus = suspension (issue 15 to issue 24)."""
    payload = build_credential(_claims(), issuer=ISSUER)
    payload["credentialStatus"], payload["suspensionStatus"] = payload.pop("revocationStatus"), payload["credentialStatus"]
    token = sign_jws(payload, kid_url="https://badge.example.cn/keys/K1", private_key=key)
    verified = verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))
    assert sorted((e.purpose, e.index) for e in verified.status_entries) == [("revocation", 5), ("suspension", 9)]


@pytest.mark.parametrize("kid", ["https://badge.example.cn/keys/", "https://badge.example.cn/keys/K1/multikey",
                                 "https://badge.example.cn/keys/K1#x", "https://badge.example.cn/.well-known/jwks.json#"])
def test_kid_naming_no_single_key_refused(key, kid):
    with pytest.raises(InvalidCredential, match="kid does not name a key") as info:
        verify_credential(_old_form(key, kid_url=kid), issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "unknown_key"


@pytest.mark.parametrize("index", [5, "-5", "5.0", "٥", ""])
def test_status_index_not_a_decimal_string_refused(key, index):
    payload = build_credential(_claims(), issuer=ISSUER)
    payload["credentialStatus"]["statusListIndex"] = index
    token = sign_jws(payload, kid_url=ISSUER.kid_url("K1"), private_key=key)
    with pytest.raises(InvalidCredential, match="statusListIndex"):
        verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))


def test_verify_roundtrip(signed, key):
    verified = verify_credential(signed, issuer=ISSUER, resolve_key=_resolver(key))
    assert verified.badge_id == "7K3M-9QX2-HT4B"
    assert verified.kid == "K1"
    assert [e.index for e in verified.status_entries] == [9, 5]  # credentialStatus (suspension) first


def _tamper_payload(token: str, change) -> str:
    head, body, sig = token.split(".")
    payload = json.loads(b64url_decode(body))
    change(payload)
    return ".".join([head, b64url(json.dumps(payload).encode()), sig])


def test_tampered_payload_fails(signed, key):
    tampered = _tamper_payload(signed, lambda p: p["credentialSubject"]["shop"].update(name="假店"))
    with pytest.raises(InvalidCredential, match="signature does not verify") as info:
        verify_credential(tampered, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "bad_signature"


def test_other_key_under_our_kid_fails(key):
    intruder = Ed25519PrivateKey.generate()
    forged = sign_jws(build_credential(_claims(), issuer=ISSUER), kid_url=ISSUER.kid_url("K1"), private_key=intruder)
    with pytest.raises(InvalidCredential, match="signature") as info:
        verify_credential(forged, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "bad_signature"


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "RS256", "ES256", "eddsa", None])
def test_other_algs_refused(signed, key, alg):
    head, body, _sig = signed.split(".")
    header = json.loads(b64url_decode(head))
    header["alg"] = alg
    token = f"{b64url(json.dumps(header).encode())}.{body}."
    with pytest.raises(InvalidCredential, match="unsupported alg") as info:
        verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "unsupported_alg"


@pytest.mark.parametrize("kid", ["https://evil.example/.well-known/jwks.json#K1", "K1", "", None])
def test_foreign_kid_refused(signed, key, kid):
    head, body, sig = signed.split(".")
    header = json.loads(b64url_decode(head))
    header["kid"] = kid
    token = f"{b64url(json.dumps(header).encode())}.{body}.{sig}"
    with pytest.raises(InvalidCredential, match="kid") as info:
        verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "unknown_key"


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30", "W10.W10.AA", "x" * 70000])
def test_malformed_tokens(token, key):
    with pytest.raises(InvalidCredential) as info:
        verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason in {"malformed", "unsupported_alg"}


def test_crit_header_refused(key):
    payload = build_credential(_claims(), issuer=ISSUER)
    body = json.dumps(payload).encode()
    token = sign_compact({"alg": "EdDSA", "kid": ISSUER.kid_url("K1"), "crit": ["exp"]}, body, private_key=key)
    with pytest.raises(InvalidCredential, match="critical"):
        verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))


@pytest.mark.parametrize("change,message", [
    (lambda p: p.update(iss="https://evil.example/issuer"), "another issuer"),
    (lambda p: p.update(jti="urn:uuid:other"), "jti"),
    (lambda p: p.update(exp=p["exp"] + 86400 * 365), "nbf/exp"),
    (lambda p: p.update(type=["VerifiableCredential"]), "not an OpenBadgeCredential"),
    (lambda p: p.pop("credentialSubject"), "missing required"),
])
def test_inconsistent_claims_refused_even_when_signed(key, change, message):
    payload = build_credential(_claims(), issuer=ISSUER)
    change(payload)
    token = sign_jws(payload, kid_url=ISSUER.kid_url("K1"), private_key=key)
    with pytest.raises(InvalidCredential, match=message) as info:
        verify_credential(token, issuer=ISSUER, resolve_key=_resolver(key))
    assert info.value.reason == "claims"


def test_padding_in_signature_refused(signed, key):
    with pytest.raises(InvalidCredential, match="base64url"):
        verify_credential(signed + "==", issuer=ISSUER, resolve_key=_resolver(key))


def test_standard_base64_alphabet_refused(key):
    # sign until the signature contains a character that differs between the two alphabets
    payload = build_credential(_claims(), issuer=ISSUER)
    for n in range(200):
        payload["name"] = f"n{n}"
        token = sign_jws(payload, kid_url=ISSUER.kid_url("K1"), private_key=key)
        head, body, sig = token.split(".")
        if "-" in sig or "_" in sig:
            break
    std = base64.b64encode(b64url_decode(sig)).decode().rstrip("=")
    assert std != sig
    with pytest.raises(InvalidCredential, match="base64url"):
        verify_credential(f"{head}.{body}.{std}", issuer=ISSUER, resolve_key=_resolver(key))


# -- the fast encoder used by bulk issuance -------------------------------------------------------
def _reference(claims: BadgeClaims, issuer: Issuer, credential_id: str) -> bytes:
    payload = build_credential(claims, issuer=issuer, credential_id=credential_id)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize("overrides", [
    {},
    {"hosts": ()},
    {"hosts": ("a.example", "xn--fsq.example", "b.example")},
    {"badge_id": 'a "quoted" \\ name', "shop_name": "{braces} {0} {x}", "branch_name": "tab\there\nline"},
    {"shop_name": "\u2028\u2029\x7f\x1f 😀", "shop_url": "https://x.example/?q=%7B%7D&a=1#frag"},
    {"status_entries": ()},
    {"valid_from": datetime(2026, 11, 25, 18, tzinfo=timezone(timedelta(hours=8))),  # Beijing time
     "valid_until": datetime(2030, 1, 1)},  # naive: taken as UTC, as build_credential does
])
def test_encoder_gives_the_bytes_build_credential_gives(overrides):
    claims = _claims(**overrides)
    encoder = CredentialEncoder(ISSUER)
    assert encoder.encode(claims, credential_id="urn:uuid:1234") == _reference(claims, ISSUER, "urn:uuid:1234")


@pytest.mark.parametrize("issuer", [
    Issuer(public_url="https://badge.example.cn"),
    Issuer(public_url="http://127.0.0.1:8000", name='委员会 "{名}"'),
])
def test_encoded_and_signed_credential_is_the_one_sign_jws_makes(issuer, key):
    claims = _claims()
    kid_url = issuer.kid_url("K1")
    fast = sign_encoded(CredentialEncoder(issuer).encode(claims, credential_id="urn:uuid:9"), kid_url=kid_url,
                        private_key=key)
    slow = sign_jws(build_credential(claims, issuer=issuer, credential_id="urn:uuid:9"), kid_url=kid_url,
                    private_key=key)
    assert fast == slow  # Ed25519 is deterministic: same bytes in, same token out
    verified = verify_credential(fast, issuer=issuer, resolve_key=_resolver(key))
    assert verified.credential_id == "urn:uuid:9"
    assert verified.badge_id == claims.badge_id


def test_encoder_falls_back_to_the_reference_when_its_template_disagrees(monkeypatch, caplog):
    from signer.credentials import encoder

    original = encoder.build_credential

    def lowercasing(claims, **kwargs):  # a change the template cannot follow: it depends on the value
        return original(replace(claims, shop_url=claims.shop_url.lower()), **kwargs)

    monkeypatch.setattr(encoder, "build_credential", lowercasing)
    encoder = CredentialEncoder(ISSUER)
    assert "disagrees with build_credential" in caplog.text
    claims = _claims(shop_url="https://X.example/A")
    body = encoder.encode(claims, credential_id="urn:uuid:5")
    assert json.loads(body)["credentialSubject"]["shop"]["url"] == "https://x.example/a"
    assert body == json.dumps(lowercasing(claims, issuer=ISSUER, credential_id="urn:uuid:5"), ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8")

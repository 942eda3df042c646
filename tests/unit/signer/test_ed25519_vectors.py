"""Ed25519 known-answer tests through the primitive our JWS verification really runs.

``signer.keys.verify_signature`` is what ``signer.credentials.verify.verify_jws``
calls for every credential and status list, so checking it against the RFC
8032 / SUPERCOP vectors (shipped by ``cryptography-vectors``) and Wycheproof
tests the code path production uses.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signer import credentials
from signer.errors import InvalidCredential
from signer.keys import verify_signature
from tests.testdata import shared_testdata


def _sign_input_vectors() -> list[tuple[bytes, bytes, bytes, bytes]]:
    """Return (secret, public, message, signature) from cryptography-vectors' Ed25519/sign.input."""
    path = resources.files("cryptography_vectors") / "asymmetric" / "Ed25519" / "sign.input"
    vectors = []
    for line in path.read_text(encoding="ascii").splitlines():
        if not line.strip():
            continue
        secret_public, public, message, signed, _ = line.split(":")
        message_bytes = bytes.fromhex(message)
        signed_bytes = bytes.fromhex(signed)
        assert signed_bytes[64:] == message_bytes  # the file stores signature || message
        vectors.append((bytes.fromhex(secret_public)[:32], bytes.fromhex(public), message_bytes, signed_bytes[:64]))
    return vectors


VECTORS = _sign_input_vectors()


def test_vector_file_is_complete():
    assert len(VECTORS) == 1024


def test_rfc8032_test_1_is_the_first_vector():
    secret, public, message, signature = VECTORS[0]
    assert message == b""
    assert public.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert signature.hex().startswith("e5564300c360ac729086e2cc806e828a")


def test_every_vector_verifies_and_every_mutation_fails():
    valid = invalid = 0
    for secret, public, message, signature in VECTORS:
        # our signing side reproduces the known answer (Ed25519 is deterministic)
        private = Ed25519PrivateKey.from_private_bytes(secret)
        raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert raw_public == public
        assert private.sign(message) == signature
        verify_signature(public, message, signature)
        valid += 1
        bad_sig = bytes([signature[0] ^ 0x01]) + signature[1:]
        bad_s = signature[:63] + bytes([signature[63] ^ 0x80])  # S >= L after setting the top bit
        bad_msg = message + b"\x00"
        other_key = VECTORS[(VECTORS.index((secret, public, message, signature)) + 1) % len(VECTORS)][1]
        for args in ((public, message, bad_sig), (public, message, bad_s), (public, bad_msg, signature),
                     (other_key, message, signature), (public, message, signature[:63]),
                     (public, message, signature + b"\x00")):
            with pytest.raises(InvalidCredential) as info:
                verify_signature(*args)
            assert info.value.reason == "bad_signature"
            invalid += 1
    print(f"\nRFC 8032/SUPERCOP Ed25519: {valid} valid verified, {invalid} invalid refused")
    assert (valid, invalid) == (1024, 6 * 1024)


@pytest.mark.parametrize("public", [b"", b"\x00" * 31, b"\x00" * 33, "not bytes"])
def test_public_key_of_wrong_length_is_refused(public):
    with pytest.raises(InvalidCredential, match="32 bytes") as info:
        verify_signature(public, b"m", b"\x00" * 64)  # type: ignore[arg-type]
    assert info.value.reason == "unknown_key"


def test_verify_jws_uses_verify_signature(monkeypatch):
    # guard: if verify_jws stopped calling the primitive, these vectors would test dead code
    calls = []
    monkeypatch.setattr(credentials.verify, "verify_signature", lambda *a: calls.append(a))
    private = Ed25519PrivateKey.generate()
    issuer = credentials.Issuer(public_url="https://example.test")
    token = credentials.sign_jws({"a": 1}, kid_url=issuer.kid_url("k1"), private_key=private)
    credentials.verify_jws(token, issuer=issuer, resolve_key=lambda kid: private.public_key())
    assert len(calls) == 1


def _wycheproof() -> dict:
    return json.loads(shared_testdata("wycheproof/ed25519_test.json").read_text(encoding="utf-8"))


def test_wycheproof_ed25519():
    data = _wycheproof()
    counts = {"valid": 0, "invalid": 0, "acceptable": 0}
    wrong = []
    for group in data["testGroups"]:
        public = bytes.fromhex(group["publicKey"]["pk"])
        for case in group["tests"]:
            message, signature = bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])
            counts[case["result"]] += 1
            try:
                verify_signature(public, message, signature)
                accepted = True
            except InvalidCredential:
                accepted = False
            if case["result"] == "valid" and not accepted:
                wrong.append((case["tcId"], "valid refused"))
            if case["result"] == "invalid" and accepted:
                wrong.append((case["tcId"], "invalid accepted"))
    print(f"\nWycheproof Ed25519: {counts['valid']} valid, {counts['invalid']} invalid, "
          f"{counts['acceptable']} acceptable; {len(wrong)} wrong")
    assert sum(counts.values()) == data["numberOfTests"]
    assert wrong == []
